"""Lesson checks for 1_vanishing_gradients/03_nonsaturating_activations.ipynb.

Small, seeded versions of the notebook's claims: SELU keeps a 50-layer network normalized under its
conditions and drifts when they break; a too-high learning rate kills ReLU units but not leaky ones
(and a dead ReLU unit gets exactly no gradient); RReLU is random in training, fixed at inference.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from trainlab import data, diagnostics, models
from trainlab.layers import RReLU

SELU_DEPTH = 50
DYING_DEPTH = 4


@pytest.fixture(scope="module")
def fashion():
    return data.load_fashion_mnist(train_size=2560, valid_size=1024, flatten=True, standardize=True)


def selu_mean_std(initializer, x, seed=0):
    """Mean and std of each layer's activations of an untrained 50 x 100 SELU network."""
    keras.utils.set_random_seed(seed)
    model = models.deep_mlp(depth=SELU_DEPTH, width=100, activation="selu", kernel_initializer=initializer)
    stats = diagnostics.activation_stats(model, x)
    return np.array([s["mean"] for s in stats]), np.array([s["std"] for s in stats])


@pytest.mark.parametrize("seed", [0, 1])
def test_selu_stays_normalized_with_standardized_inputs_and_lecun_normal(fashion, seed):
    means, stds = selu_mean_std("lecun_normal", fashion.x_valid[:512], seed)
    assert np.abs(means).max() < 0.25, means
    assert stds.min() > 0.8 and stds.max() < 1.25, stds


def test_selu_drifts_when_its_conditions_break(fashion):
    x = fashion.x_valid[:512]
    _, he_stds = selu_mean_std("he_normal", x)  # twice LeCun's variance: grows at every layer
    assert he_stds[-1] > 5, he_stds
    _, small_stds = selu_mean_std(keras.initializers.RandomNormal(stddev=0.05), x)  # too small: collapses
    assert small_stds[-1] < 1e-3, small_stds
    raw_pixels = x * fashion.std + fashion.mean  # not standardized: starts off-target, then recovers
    _, raw_stds = selu_mean_std("lecun_normal", raw_pixels)
    assert raw_stds[0] < 0.7 and 0.8 < raw_stds[-1] < 1.25, raw_stds


@pytest.fixture(scope="module")
def trained_at_high_lr(fashion):
    """ReLU and leaky ReLU (slope 0.2) networks, 4 x 100, after 2 epochs of Adam at 1e-2, seeds 0 and 1."""
    trained = {}
    for activation in ("relu", "leaky_relu"):
        for seed in (0, 1):
            keras.utils.set_random_seed(seed)
            model = models.deep_mlp(depth=DYING_DEPTH, width=100, activation=activation)
            model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
            model.fit(fashion.x_train, fashion.y_train, epochs=2, batch_size=128, verbose=0)
            trained[activation, seed] = model
    return trained


def test_high_learning_rate_kills_more_relu_units_than_leaky_ones(fashion, trained_at_high_lr):
    dead = {key: np.mean([s["dead"] for s in diagnostics.activation_stats(model, fashion.x_valid)])
            for key, model in trained_at_high_lr.items()}
    relu = np.mean([dead["relu", seed] for seed in (0, 1)])
    leaky = np.mean([dead["leaky_relu", seed] for seed in (0, 1)])
    assert relu > 0.12, dead
    assert leaky < 0.08, dead
    assert relu > leaky + 0.08, dead


def test_dead_relu_units_get_no_gradient_stuck_leaky_units_do(fashion, trained_at_high_lr):
    x, y = fashion.x_valid, fashion.y_valid
    for activation in ("relu", "leaky_relu"):
        model = trained_at_high_lr[activation, 0]
        layers = [model.get_layer(f"hidden_{i}") for i in range(1, DYING_DEPTH + 1)]
        with tf.GradientTape() as tape:
            loss = keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y, model(x)))
        gradients = tape.gradient(loss, [layer.kernel.value for layer in layers])
        outputs = diagnostics.layer_outputs(model, x)
        norms = np.concatenate([np.linalg.norm(g.numpy(), axis=0) for g in gradients])
        stuck = np.concatenate([np.all(outputs[layer.name] <= 0, axis=0) for layer in layers])
        assert stuck.any(), activation
        if activation == "relu":
            assert norms[stuck].max() == 0.0
        else:
            assert np.median(norms[stuck]) > 0.1 * np.median(norms[~stuck])


def test_rrelu_is_random_in_training_and_fixed_at_inference_inside_a_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((100,)), RReLU(lower=0.1, upper=0.3)])
    x = np.concatenate([-np.ones((64, 100)), np.ones((64, 100))]).astype("float32")
    trained = keras.ops.convert_to_numpy(model(x, training=True))
    slopes = -trained[:64]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.04  # uniform: std 0.2/sqrt(12)
    np.testing.assert_array_equal(trained[64:], 1.0)  # positive part is the identity
    predicted = model.predict(x, verbose=0)
    np.testing.assert_allclose(predicted[:64], -0.2, rtol=1e-6)  # the average slope, every time
    np.testing.assert_array_equal(predicted, model.predict(x, verbose=0))
