"""Lesson checks for 1_vanishing_gradients/03_nonsaturating_activations.ipynb.

Small, seeded versions of the notebook's claims, each run with two seed sets (the notebook's and a
shifted one, as the robustness check does): SELU keeps a 50-layer network normalized under its
conditions and drifts when they break; Adam at 1e-2 kills ReLU units but not leaky ones, a dead
ReLU unit gets exactly no gradient while Adam gives a stuck leaky unit full-sized steps; RReLU is
random in training and fixed at inference; Keras' two leaky ReLUs have different default slopes.
"""

import keras
import numpy as np
import pytest

from trainlab import claims, data, diagnostics, experiments, gradients, models
from trainlab.layers import RReLU

SELU_DEPTH = 50
DYING_DEPTH = 4
SEED_SETS = [(0, 1), (1000, 1001)]  # the notebook's first seeds, and a shifted set


@pytest.fixture(scope="module")
def fashion():
    return data.load_fashion_mnist(**claims.PART_1.data_kwargs(), flatten=True, standardize=True)


def selu_stds(initializer, x, seed):
    """Std of each layer's activations of an untrained 50 x 100 SELU network."""
    keras.utils.set_random_seed(seed)
    model = models.deep_mlp(depth=SELU_DEPTH, width=100, activation="selu", kernel_initializer=initializer)
    return np.array([s["std"] for s in diagnostics.activation_stats(model, x)])


@pytest.mark.parametrize("seed", [seeds[0] for seeds in SEED_SETS])
def test_selu_stays_normalized_only_under_its_conditions(fashion, seed):
    x = fashion.x_valid[:512]
    keras.utils.set_random_seed(seed)
    model = models.deep_mlp(depth=SELU_DEPTH, width=100, activation="selu", kernel_initializer="lecun_normal")
    stats = diagnostics.activation_stats(model, x)
    assert max(abs(s["mean"]) for s in stats) < 0.25, stats
    assert all(0.8 < s["std"] < 1.25 for s in stats), stats
    assert selu_stds("he_normal", x, seed)[-1] > 5  # twice LeCun's variance: grows at every layer
    assert selu_stds(keras.initializers.RandomNormal(stddev=0.05), x, seed)[-1] < 1e-5  # too small: collapses
    raw_stds = selu_stds("lecun_normal", x * fashion.std + fashion.mean, seed)  # raw pixels: off, recovers
    assert raw_stds[0] < 0.7 and np.all((raw_stds[9:] > 0.8) & (raw_stds[9:] < 1.25)), raw_stds


def dying_builder(activation):
    def build():
        model = models.deep_mlp(depth=DYING_DEPTH, width=100, activation=activation)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model
    return build


@pytest.fixture(scope="module", params=SEED_SETS, ids=lambda seeds: f"seeds{seeds[0]}")
def trained_at_high_lr(fashion, request):
    """ReLU and leaky ReLU (slope 0.2) networks, 4 x 100, after 3 epochs of Adam at 1e-2 (reference scale)."""
    builders = {"relu": dying_builder("relu"), "leaky_relu": dying_builder("leaky_relu")}
    results = experiments.train_runs(builders, fashion, seeds=request.param, epochs=claims.PART_1.epochs,
                                     batch_size=claims.PART_1.batch_size, verbose=False)
    assert not any(r.diverged for r in results)
    return {name: [r.extras["model"] for r in results if r.name == name] for name in ("relu", "leaky_relu")}


def test_high_learning_rate_kills_more_relu_units_than_leaky_ones(fashion, trained_at_high_lr):
    dead = {name: np.mean([[s["dead"] for s in diagnostics.activation_stats(model, fashion.x_valid)]
                           for model in trained]) for name, trained in trained_at_high_lr.items()}
    assert dead["relu"] > 0.08, dead
    assert dead["leaky_relu"] < 0.05, dead
    assert dead["relu"] > dead["leaky_relu"] + 0.06, dead


def unit_norms(model, x, y):
    """Per hidden unit: gradient norm of its incoming weights, norm of Adam's m / sqrt(v), stuck or not."""
    kernels = [layer.kernel for layer in diagnostics.kernel_layers(model)[:-1]]
    grads = dict(zip((v.path for v in model.trainable_variables), gradients.loss_gradients(model, x, y)))
    slots = {v.name: keras.ops.convert_to_numpy(v) for v in model.optimizer.variables}
    norms, steps = [], []
    for kernel in kernels:
        layer_name = kernel.path.split("/")[-2]
        m = next(a for n, a in slots.items() if n.endswith(f"_{layer_name}_kernel_momentum"))
        v = next(a for n, a in slots.items() if n.endswith(f"_{layer_name}_kernel_velocity"))
        norms.append(np.linalg.norm(grads[kernel.path], axis=0))
        steps.append(np.linalg.norm(m / (np.sqrt(v) + model.optimizer.epsilon), axis=0))
    stuck = [np.all(a <= 0, axis=0) for a in diagnostics.layer_outputs(model, x).values()]
    return np.concatenate(norms), np.concatenate(steps), np.concatenate(stuck)


def test_dead_relu_units_get_no_gradient_stuck_leaky_units_still_move(fashion, trained_at_high_lr):
    x, y = fashion.x_valid, fashion.y_valid
    pooled = {name: [np.concatenate(parts) for parts in zip(*(unit_norms(model, x, y) for model in trained))]
              for name, trained in trained_at_high_lr.items()}  # over the seeds
    norms, _, stuck = pooled["relu"]
    assert stuck.sum() > 20 and norms[stuck].max() == 0.0  # exactly no gradient: nothing can move them
    norms, steps, stuck = pooled["leaky_relu"]
    assert stuck.any(), "no stuck leaky unit to look at"
    assert np.median(norms[stuck]) > 0.05 * np.median(norms[~stuck])  # a smaller, but real gradient
    assert np.median(steps[stuck]) > 0.3 * np.median(steps[~stuck])  # which Adam turns into sizeable steps


@pytest.mark.parametrize("seed", [seeds[0] for seeds in SEED_SETS])
def test_rrelu_is_random_in_training_and_fixed_at_inference_inside_a_model(seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((100,)), RReLU(lower=0.1, upper=0.3)])
    x = np.concatenate([-np.ones((64, 100)), np.ones((64, 100))]).astype("float32")
    trained = keras.ops.convert_to_numpy(model(x, training=True))
    slopes = -trained[:64]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.04  # uniform: std 0.2/sqrt(12)
    assert np.unique(slopes).size > 0.95 * slopes.size  # (nearly) every element draws its own slope
    np.testing.assert_array_equal(trained[64:], 1.0)  # positive part is the identity
    predicted = model.predict(x, verbose=0)
    np.testing.assert_allclose(predicted[:64], -0.2, rtol=1e-6)  # the average slope, every time
    np.testing.assert_array_equal(predicted, model.predict(x, verbose=0))


def test_keras_leaky_relu_layer_and_function_have_different_default_slopes():
    minus_one = np.array([-1.0], dtype="float32")
    layer = keras.ops.convert_to_numpy(keras.layers.LeakyReLU()(minus_one))
    function = keras.ops.convert_to_numpy(keras.activations.leaky_relu(minus_one))
    np.testing.assert_allclose([layer[0], function[0]], [-0.3, -0.2], rtol=1e-6)  # Keras 3.15's defaults


@pytest.mark.parametrize("seed", [seeds[0] for seeds in SEED_SETS])
def test_gelus_own_gain_inflates_its_signal_where_he_does_not(fashion, seed):
    x = fashion.x_valid[:512]
    ratios = {}
    own_gain = keras.initializers.VarianceScaling(scale=1 / 0.426)  # 1 / E[gelu(z)^2], z ~ N(0, 1)
    for name, initializer in {"he": "he_normal", "own": own_gain}.items():
        keras.utils.set_random_seed(seed)
        model = models.deep_mlp(depth=20, width=50, activation="gelu", kernel_initializer=initializer)
        stats = diagnostics.activation_stats(model, x)
        ratios[name] = stats[-1]["std"] / stats[0]["std"]
    assert ratios["own"] > 2 * ratios["he"], ratios
