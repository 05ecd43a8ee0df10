"""Lesson checks for part 1, notebooks 01 (the problem) and 02 (initialization).

They re-measure the notebooks' claims on the same configurations, with one seed and fewer images:

- 01: 50 hidden layers of 50 units, standardized Fashion-MNIST pixels, a batch of 256 images.
  Sigmoid + N(0, 1) loses orders of magnitude of gradient norm from the last hidden layer to the
  first (measured about 1e-5), He + ReLU stays within a small factor (about 2), N(0, 3^2) explodes
  (about 1e7), a small scale vanishes even faster, and SGD training stalls at chance.
  At 20 layers of 100 units the same N(0, 1) network is close to critical (ratio about 0.3): the
  claim depends on depth and width, which is why the configuration is fixed here.
- 02: 50 hidden layers of 100 units, forward pass on 512 validation images: He + ReLU,
  LeCun + SELU and Glorot + tanh keep the activation std within a band, RandomNormal(0.05)
  collapses and N(0, 1) blows up; the named Keras initializers are VarianceScaling special cases.
"""

import keras
import numpy as np
import pytest

from trainlab import data, diagnostics, models

SHAPE_01 = {"depth": 50, "width": 50}
SHAPE_02 = {"depth": 50, "width": 100}


@pytest.fixture(scope="module")
def fashion():
    return data.load_fashion_mnist(train_size=2000, valid_size=1000, flatten=True, standardize=True)


def _net(activation, initializer, *, depth, width, seed=0, compile_loss=True):
    keras.utils.set_random_seed(seed)
    model = models.deep_mlp(depth=depth, width=width, activation=activation, kernel_initializer=initializer)
    if compile_loss:
        model.compile(loss="sparse_categorical_crossentropy")
    return model


def _first_last_ratio(model, fashion, depth):
    norms = diagnostics.gradient_norms_per_layer(model, fashion.x_train[:256], fashion.y_train[:256])
    return diagnostics.first_last_ratio(norms), norms


def _activation_stds(activation, initializer, fashion):
    model = _net(activation, initializer, **SHAPE_02, compile_loss=False)
    with np.errstate(over="ignore", invalid="ignore"):  # N(0, 1) + ReLU overflows float32 on purpose
        return np.array([s["std"] for s in diagnostics.activation_stats(model, fashion.x_valid[:512])])


def test_sigmoid_normal_vanishes_while_he_relu_stays_within_a_small_factor(fashion):
    sigmoid_ratio, _ = _first_last_ratio(
        _net("sigmoid", keras.initializers.RandomNormal(stddev=1.0), **SHAPE_01), fashion, 50)
    relu_ratio, relu_norms = _first_last_ratio(_net("relu", keras.initializers.HeNormal(), **SHAPE_01),
                                               fashion, 50)
    assert sigmoid_ratio < 1e-3, sigmoid_ratio  # measured ~1e-5: orders of magnitude lost
    assert 0.1 < relu_ratio < 10, relu_ratio  # measured ~2
    hidden = np.array([relu_norms[f"hidden_{i}"] for i in range(1, 51)])
    assert hidden.max() / hidden.min() < 20, hidden


def test_sigmoid_normal_saturates_and_collapses_the_images(fashion):
    model = _net("sigmoid", keras.initializers.RandomNormal(stddev=1.0), **SHAPE_01, compile_loss=False)
    stats = {s["layer"]: s for s in diagnostics.activation_stats(model, fashion.x_valid[:512])}
    outputs = diagnostics.layer_outputs(model, fashion.x_valid[:512])
    assert stats["hidden_1"]["saturated"] > 0.7, stats["hidden_1"]
    spread_first = outputs["hidden_1"].std(axis=0).mean()
    assert outputs["hidden_30"].std(axis=0).mean() < 1e-3 * spread_first


def test_large_init_explodes_and_small_init_vanishes_further(fashion):
    large, _ = _first_last_ratio(_net("sigmoid", keras.initializers.RandomNormal(stddev=3.0), **SHAPE_01),
                                 fashion, 50)
    small, _ = _first_last_ratio(_net("sigmoid", keras.initializers.RandomNormal(stddev=0.4), **SHAPE_01),
                                 fashion, 50)
    critical, _ = _first_last_ratio(_net("sigmoid", keras.initializers.RandomNormal(stddev=1.5), **SHAPE_01),
                                    fashion, 50)
    assert large > 1e3, large  # measured ~1e7
    assert small < 1e-9, small  # measured ~1e-14 (or 0: float32 underflow)
    assert 1e-3 < critical < 1e3, critical  # the crossing of 1 is near std 1.5


def test_wider_shallower_sigmoid_normal_is_near_critical(fashion):
    ratio, _ = _first_last_ratio(
        _net("sigmoid", keras.initializers.RandomNormal(stddev=1.0), depth=20, width=100), fashion, 20)
    assert 0.01 < ratio < 10, ratio  # measured ~0.3


def test_sgd_training_of_the_vanishing_network_stalls(fashion):
    model = _net("sigmoid", keras.initializers.RandomNormal(stddev=1.0), **SHAPE_01, compile_loss=False)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=False)
    before = {name: keras.ops.convert_to_numpy(model.get_layer(name).kernel).copy()
              for name in ("hidden_1", "output")}
    history = model.fit(fashion.x_train, fashion.y_train, validation_data=(fashion.x_valid, fashion.y_valid),
                        epochs=1, batch_size=128, verbose=0)
    moved = {name: np.linalg.norm(keras.ops.convert_to_numpy(model.get_layer(name).kernel) - w)
             / np.linalg.norm(w) for name, w in before.items()}
    assert history.history["val_accuracy"][-1] < 0.13, history.history
    assert moved["hidden_1"] < 1e-6, moved  # measured ~1e-10 per step
    assert moved["output"] > 1e3 * moved["hidden_1"], moved


def test_matched_pairings_keep_activation_std_in_a_band(fashion):
    he_relu = _activation_stds("relu", keras.initializers.HeNormal(), fashion)
    lecun_selu = _activation_stds("selu", keras.initializers.LecunNormal(), fashion)
    glorot_tanh = _activation_stds("tanh", keras.initializers.GlorotNormal(), fashion)
    # He + ReLU wanders with the draw (finite width): a spread of ~2-9 over seeds, vs ~1e8 for Glorot + ReLU.
    assert he_relu.max() / he_relu.min() < 15, he_relu
    assert lecun_selu.max() / lecun_selu.min() < 1.5, lecun_selu
    assert glorot_tanh.max() / glorot_tanh.min() < 15 and glorot_tanh.min() > 0.05, glorot_tanh


def test_naive_inits_collapse_or_blow_up(fashion):
    small = _activation_stds("relu", keras.initializers.RandomNormal(stddev=0.05), fashion)
    large = _activation_stds("relu", keras.initializers.RandomNormal(stddev=1.0), fashion)
    glorot_relu = _activation_stds("relu", keras.initializers.GlorotNormal(), fashion)
    assert small[-1] < 1e-6 * small[0], small  # measured ~1e-23
    assert not np.isfinite(large[-1]) or large[-1] > 1e20, large  # overflows float32 near layer 43
    assert glorot_relu[-1] < 1e-5 * glorot_relu[0], glorot_relu  # halves the variance per layer


@pytest.mark.parametrize("initializer_class, scale, mode", [
    (keras.initializers.GlorotUniform, 1.0, "fan_avg"),
    (keras.initializers.GlorotNormal, 1.0, "fan_avg"),
    (keras.initializers.HeNormal, 2.0, "fan_in"),
    (keras.initializers.LecunNormal, 1.0, "fan_in"),
])
def test_named_initializers_are_variance_scaling_with_the_formula_std(initializer_class, scale, mode):
    initializer = initializer_class(seed=0)
    assert isinstance(initializer, keras.initializers.VarianceScaling)
    assert (initializer.scale, initializer.mode) == (scale, mode)
    n = {"fan_in": 784, "fan_avg": (784 + 100) / 2}[mode]
    weights = keras.ops.convert_to_numpy(initializer((784, 100)))
    assert weights.std() == pytest.approx(np.sqrt(scale / n), rel=0.02)
