"""Lesson checks for part 1, notebooks 04 (batch normalization) and 05 (gradient clipping).

Each test re-checks one claim of the notebooks on a small, seeded configuration.
"""

import keras
import numpy as np
import pytest

from trainlab import clipping, data, models


@pytest.fixture(scope="module")
def fashion() -> data.FashionMNIST:
    return data.load_fashion_mnist(train_size=3000, valid_size=1000, flatten=True)


def exploding_net(seed: int = 0, scale: float = 3.0) -> keras.Sequential:
    """The notebook's 16-layer ReLU network with weights of variance scale / fan-in (He: 2)."""
    keras.utils.set_random_seed(seed)
    return models.deep_mlp(depth=16, activation="relu",
                           kernel_initializer=keras.initializers.VarianceScaling(scale=scale))


@pytest.fixture(scope="module")
def raw_gradient(fashion):
    model = exploding_net()
    model.compile(keras.optimizers.SGD(0.03), "sparse_categorical_crossentropy")
    return model, clipping.loss_gradients(model, fashion.x_train[:512], fashion.y_train[:512])


def test_clipping_by_global_norm_keeps_the_direction_and_bounds_the_norm(raw_gradient):
    model, gradients = raw_gradient
    assert clipping.global_norm(gradients) > 10  # the gradient is large: clipping acts
    step = clipping.applied_update(model, gradients, keras.optimizers.SGD(1.0, global_clipnorm=1.0))
    assert clipping.cosine_similarity(step, gradients) > 0.9999
    assert clipping.global_norm(step) == pytest.approx(1.0, rel=1e-4)


def test_clipnorm_keeps_each_variables_direction_and_bounds_its_norm(raw_gradient):
    model, gradients = raw_gradient
    step = clipping.applied_update(model, gradients, keras.optimizers.SGD(1.0, clipnorm=1.0))
    for s, g in zip(step, gradients):
        assert clipping.cosine_similarity(s, g) > 0.9999
        assert np.linalg.norm(s) <= 1.0 + 1e-4
    # ... but the variables are shrunk by different factors, so the whole step turns
    assert clipping.cosine_similarity(step, gradients) < 0.95


def test_clipping_by_value_changes_the_direction(raw_gradient):
    model, gradients = raw_gradient
    step = clipping.applied_update(model, gradients, keras.optimizers.SGD(1.0, clipvalue=0.01))
    assert max(float(np.abs(s).max()) for s in step) <= 0.01 + 1e-6
    assert clipping.cosine_similarity(step, gradients) < 0.8


def test_batch_norm_layer_differs_between_training_and_inference(fashion):
    keras.utils.set_random_seed(0)
    features = keras.ops.convert_to_numpy(keras.layers.Dense(50)(fashion.x_train[:256]))
    layer = keras.layers.BatchNormalization()
    inference = keras.ops.convert_to_numpy(layer(features, training=False))  # before any update
    training = keras.ops.convert_to_numpy(layer(features, training=True))
    assert np.abs(training.mean(axis=0)).max() < 1e-4
    assert np.allclose(training.std(axis=0), 1.0, atol=0.02)
    # the fresh moving statistics (0, 1) leave the input almost as it was
    np.testing.assert_allclose(inference, features / np.sqrt(1 + layer.epsilon), rtol=1e-4, atol=1e-5)
    for _ in range(500):
        layer(features, training=True)
    inference = keras.ops.convert_to_numpy(layer(features, training=False))
    assert np.allclose(inference.std(axis=0), 1.0, atol=0.05)


def train_sigmoid_net(fashion, batch_norm):
    keras.utils.set_random_seed(0)
    model = models.deep_mlp(depth=10, activation="sigmoid", kernel_initializer="glorot_uniform",
                            batch_norm=batch_norm)
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=20)
    history = model.fit(fashion.x_train, fashion.y_train, epochs=2, batch_size=32, verbose=0)
    return history.history


def test_deep_sigmoid_network_learns_only_with_batch_norm(fashion):
    plain = train_sigmoid_net(fashion, None)
    normalized = train_sigmoid_net(fashion, "before")
    assert plain["accuracy"][-1] < 0.2  # chance is 0.1
    assert abs(plain["loss"][-1] - np.log(10)) < 0.1  # a learning network is near 1
    assert normalized["accuracy"][-1] > 0.6
    assert normalized["loss"][-1] < 1.5


@pytest.mark.parametrize("setting", [{}, {"global_clipnorm": 1.0}])
def test_exploding_network_diverges_without_clipping_only(fashion, setting):
    model = exploding_net()
    model.compile(keras.optimizers.SGD(0.03, **setting), "sparse_categorical_crossentropy")
    history = model.fit(fashion.x_train[:1280], fashion.y_train[:1280], epochs=1, batch_size=32, verbose=0,
                        callbacks=[keras.callbacks.TerminateOnNaN()])
    diverged = not np.isfinite(history.history["loss"][-1])
    assert diverged == (not setting)
