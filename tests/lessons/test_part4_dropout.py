"""Lesson checks for part 4, notebook 02 (dropout, alpha dropout and max-norm).

Keras' Dropout is inverted dropout (survivors times 1 / (1 - rate), the mean kept, the identity at
inference); max-norm bounds each unit's incoming weight vector (the columns of a Dense kernel),
also after training at a learning rate that is too high; alpha dropout keeps a SELU network's
activations near mean 0 and std 1 where plain dropout raises the std; and on a small training set
that the network memorizes, dropout lowers the final validation loss. Seeded, on tiny
configurations, for the notebook's first seed and one shifted by 1000 (as tools/robustness.py
shifts them).
"""

import keras
import numpy as np
import pytest

from trainlab import data, diagnostics, models

SEEDS = [0, 1000]


@pytest.fixture(scope="module")
def small():
    return data.load_fashion_mnist(train_size=1000, valid_size=1000, flatten=True, standardize=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_inverted_dropout_scales_the_survivors_and_keeps_the_mean(small, seed):
    x = np.abs(small.x_valid[:500]).astype("float32")
    layer = keras.layers.Dropout(0.5, seed=seed)
    out = keras.ops.convert_to_numpy(layer(x, training=True))
    nonzero = x != 0
    kept = (out != 0) & nonzero
    np.testing.assert_allclose(out[kept], 2 * x[kept], rtol=1e-6)  # 1 / (1 - 0.5)
    assert 0.48 < np.mean(out[nonzero] == 0) < 0.52
    assert abs(out.mean() / x.mean() - 1) < 0.02
    assert np.array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)  # inference: identity


def test_max_norm_bounds_the_row_norms():
    # the paper's rows of W (in W x) are the columns of a Keras Dense kernel, shape (inputs, units)
    kernel = 2.1 * keras.ops.convert_to_numpy(keras.initializers.HeNormal(seed=0)((784, 512)))
    clipped = keras.ops.convert_to_numpy(keras.constraints.MaxNorm(3)(kernel))
    before, after = np.linalg.norm(kernel, axis=0), np.linalg.norm(clipped, axis=0)
    assert (before > 3).mean() > 0.2  # the test has columns to clip
    assert after.max() <= 3 + 1e-5
    np.testing.assert_allclose(after[before > 3], 3, rtol=1e-5)
    np.testing.assert_allclose(clipped[:, before <= 3], kernel[:, before <= 3])  # short columns untouched
    assert keras.constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}  # Keras 3 defaults


@pytest.mark.parametrize("seed", SEEDS)
def test_max_norm_holds_after_training_at_a_high_rate(small, seed):
    keras.utils.set_random_seed(seed)
    model = models.deep_mlp(depth=2, width=128, dropout=0.5, kernel_constraint=keras.constraints.MaxNorm(1))
    model.compile(keras.optimizers.SGD(0.3, momentum=0.9), "sparse_categorical_crossentropy")
    history = model.fit(small.x_train, small.y_train, batch_size=128, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    for layer in diagnostics.kernel_layers(model):
        assert np.linalg.norm(keras.ops.convert_to_numpy(layer.kernel), axis=0).max() <= 1 + 1e-4


@pytest.mark.parametrize("seed", SEEDS)
def test_alpha_dropout_keeps_a_selu_network_normalized(small, seed):
    stds = {}
    for name, layer_class in (("dropout", keras.layers.Dropout), ("alpha", keras.layers.AlphaDropout)):
        keras.utils.set_random_seed(seed)
        model = models.deep_mlp(depth=12, width=100, activation="selu", kernel_initializer="lecun_normal",
                                dropout=0.2, dropout_layer=layer_class)
        stats = diagnostics.activation_stats(model, small.x_valid, training=True)[6:]  # layers 7 to 12
        stds[name] = [s["std"] for s in stats]
        if name == "alpha":
            assert max(abs(s["mean"]) for s in stats) < 0.1
    assert max(abs(s - 1) for s in stds["alpha"]) < 0.1
    assert min(stds["dropout"]) > 1.25


@pytest.mark.parametrize("seed", SEEDS)
def test_dropout_lowers_the_validation_loss_where_the_model_overfits(small, seed):
    losses = {}
    for rate in (0.0, 0.5):
        keras.utils.set_random_seed(seed)
        model = models.deep_mlp(depth=2, width=512, dropout=rate)
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
        model.fit(small.x_train, small.y_train, batch_size=128, epochs=30, verbose=0)
        losses[rate] = model.evaluate(small.x_valid, small.y_valid, batch_size=1000, verbose=0)
    assert losses[0.0] - losses[0.5] > 0.05, losses
