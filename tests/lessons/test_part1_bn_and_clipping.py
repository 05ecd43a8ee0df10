"""Lesson checks for part 1, notebooks 04 (batch normalization) and 05 (gradient clipping).

Each test re-checks one claim of the notebooks on a small, seeded configuration, for two seed sets
(the notebooks' first seed, and one shifted by 1000 as tools/robustness.py shifts them): a claim
that holds for one seed only is luck. Divergence is `trainlab.experiments`' definition
(`RunResult.diverged`), which also catches a loss that blows up and then comes back to a finite
value.
"""

import keras
import numpy as np
import pytest

from trainlab import clipping, data, experiments, gradients, models

SEEDS = [0, 1000]


@pytest.fixture(scope="module")
def fashion() -> data.FashionMNIST:
    """04's checks: the raw pixels, as in the original batch-norm experiment."""
    return data.load_fashion_mnist(train_size=3000, valid_size=1000, flatten=True)


@pytest.fixture(scope="module")
def standardized() -> data.FashionMNIST:
    """05's checks: standardized inputs, as at part 1's reference scale."""
    return data.load_fashion_mnist(train_size=1280, valid_size=500, flatten=True, standardize=True)


def exploding_net(seed: int | None = None, scale: float = 3.0) -> keras.Sequential:
    """05's 16-layer ReLU network with weights of variance scale / fan-in (He: 2); seeded if given."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return models.deep_mlp(depth=16, activation="relu",
                           kernel_initializer=keras.initializers.VarianceScaling(scale=scale))


def reference_sgd(**clip) -> keras.optimizers.SGD:
    """Part 1's reference optimizer, SGD with momentum, with optional clipping."""
    return keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, **clip)


@pytest.fixture(scope="module", params=SEEDS)
def raw_gradient(request, standardized):
    model = exploding_net(request.param)
    model.compile(reference_sgd(), "sparse_categorical_crossentropy")
    return model, gradients.loss_gradients(model, standardized.x_train[:512], standardized.y_train[:512])


def test_clipping_by_global_norm_keeps_the_direction_and_bounds_the_norm(raw_gradient):
    model, raw = raw_gradient
    assert gradients.global_norm(raw) > 10  # the gradient is large: clipping acts
    step = clipping.applied_update(model, raw, keras.optimizers.SGD(1.0, global_clipnorm=1.0))
    assert clipping.cosine_similarity(step, raw) > 0.9999
    assert gradients.global_norm(step) == pytest.approx(1.0, rel=1e-4)


def test_clipnorm_keeps_each_variables_direction_and_bounds_its_norm(raw_gradient):
    model, raw = raw_gradient
    step = clipping.applied_update(model, raw, keras.optimizers.SGD(1.0, clipnorm=1.0))
    for s, g in zip(step, raw):
        assert clipping.cosine_similarity(s, g) > 0.9999
        assert np.linalg.norm(s) <= 1.0 + 1e-4
    # ... but the variables are shrunk by different factors, so the whole step turns
    assert clipping.cosine_similarity(step, raw) < 0.9


def test_clipnorm_turns_the_step_by_giving_the_small_bias_vectors_a_full_share(raw_gradient):
    model, raw = raw_gradient
    step = clipping.applied_update(model, raw, keras.optimizers.SGD(1.0, clipnorm=1.0))
    is_kernel = ["kernel" in v.path for v in model.trainable_variables]

    def bias_share(vectors):
        """Share of the squared length that lies in the bias vectors."""
        biases = [v for v, k in zip(vectors, is_kernel) if not k]
        return gradients.global_norm(biases) ** 2 / gradients.global_norm(vectors) ** 2

    assert bias_share(raw) < 0.01 and bias_share(step) > 0.3
    kernels = [i for i, k in enumerate(is_kernel) if k]
    assert clipping.cosine_similarity([step[i] for i in kernels], [raw[i] for i in kernels]) > 0.9


def test_clipping_by_value_changes_the_direction(raw_gradient):
    model, raw = raw_gradient
    step = clipping.applied_update(model, raw, keras.optimizers.SGD(1.0, clipvalue=0.01))
    assert max(float(np.abs(s).max()) for s in step) <= 0.01 + 1e-6
    assert clipping.cosine_similarity(step, raw) < 0.8


def test_clipping_by_global_norm_spreads_a_nan_to_every_weight(raw_gradient):
    model, raw = raw_gradient
    with_nan = [g.copy() for g in raw]
    with_nan[0][0, 0] = np.nan
    step = clipping.applied_update(model, with_nan, keras.optimizers.SGD(1.0, global_clipnorm=1.0))
    assert all(np.isnan(s).all() for s in step)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("setting", [{}, {"global_clipnorm": 1.0}], ids=["no_clipping", "global_clipnorm"])
def test_exploding_network_diverges_without_clipping_only(standardized, setting, seed):
    builder = {"run": lambda: _compiled(exploding_net(), reference_sgd(**setting))}  # train_runs seeds it
    (result,) = experiments.train_runs(builder, standardized, seeds=(seed,), epochs=3, batch_size=128,
                                       verbose=False)  # 30 steps, as many as the notebook's first epoch
    assert result.diverged == (not setting), (result.first_loss, result.peak_loss, result.history)


def _compiled(model, optimizer):
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_norm_layer_differs_between_training_and_inference(fashion, seed):
    keras.utils.set_random_seed(seed)
    features = keras.ops.convert_to_numpy(keras.layers.Dense(50)(fashion.x_train[:256]))
    layer = keras.layers.BatchNormalization()
    inference = keras.ops.convert_to_numpy(layer(features, training=False))  # before any update
    training = keras.ops.convert_to_numpy(layer(features, training=True))
    assert np.abs(training.mean(axis=0)).max() < 1e-4
    assert np.allclose(training.std(axis=0), 1.0, atol=0.02)
    # the fresh moving statistics (0, 1) leave the input almost as it was
    np.testing.assert_allclose(inference, features / np.sqrt(1 + layer.epsilon), rtol=1e-4, atol=1e-5)
    for _ in range(1000):  # Keras' momentum 0.99: 0.99 ** 1000 < 1e-4 of the initial statistics remain
        layer(features, training=True)
    # the moving statistics have converged to the batch's: inference now normalizes as training does
    inference = keras.ops.convert_to_numpy(layer(features, training=False))
    assert np.abs(inference - training).max() < 0.05


def train_sigmoid_net(fashion, batch_norm, seed):
    keras.utils.set_random_seed(seed)
    model = models.deep_mlp(depth=10, activation="sigmoid", kernel_initializer="glorot_uniform",
                            batch_norm=batch_norm)
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=20)
    history = model.fit(fashion.x_train, fashion.y_train, epochs=2, batch_size=32, verbose=0)
    return history.history


@pytest.mark.parametrize("seed", SEEDS)
def test_deep_sigmoid_network_learns_only_with_batch_norm(fashion, seed):
    plain = train_sigmoid_net(fashion, None, seed)
    normalized = train_sigmoid_net(fashion, "before", seed)
    assert plain["accuracy"][-1] < 0.2  # chance is 0.1
    # stuck at chance (loss ln 10), neither learning (a learning network is near 1) nor diverged
    assert abs(plain["loss"][-1] - np.log(10)) < 0.1
    assert normalized["accuracy"][-1] > 0.6
    assert normalized["loss"][-1] < 1.5
