"""Lesson checks for part 1, notebooks 01 (the problem) and 02 (initialization).

They re-measure the notebooks' claims on the same configurations, with fewer images, for two seed
sets (the seeds and the seeds shifted by 1000): a claim must hold for both, not for one lucky draw.

- 01: 50 hidden layers of 50 units, standardized Fashion-MNIST pixels, a batch of 256 images.
  Sigmoid + N(0, 1) loses orders of magnitude of gradient norm from the last hidden layer to the
  first (measured about 1e-5), He + ReLU stays within a small factor (about 2), N(0, 3^2) explodes
  (about 1e7), a small scale vanishes even faster, and training with SGD with momentum stalls at
  chance. At 20 layers of 100 units the same N(0, 1) network is close to critical (ratio about
  0.3): the claim depends on depth and width, which is why the configuration is fixed here.
- 02: equal initial weights keep a layer's units identical through training; 50 hidden layers of
  100 units, forward pass on 512 validation images: He + ReLU, LeCun + SELU and Glorot + tanh keep
  the activation std within a band, RandomNormal(0.05) collapses and N(0, 1) blows up; the named
  Keras initializers are VarianceScaling special cases; He's (1 + a^2) correction keeps a leaky
  ReLU network's variance where plain He grows it.
"""

import functools

import keras
import numpy as np
import pytest

from trainlab import data, diagnostics, gradients, models

SHAPE_01 = {"depth": 50, "width": 50}
SHAPE_02 = {"depth": 50, "width": 100}
SEED_SETS = {"seeds": 0, "seeds+1000": 1000}  # each claim must hold for both


@pytest.fixture(scope="module")
def fashion():
    return data.load_fashion_mnist(train_size=2000, valid_size=1000, flatten=True, standardize=True)


@pytest.fixture(params=list(SEED_SETS.values()), ids=list(SEED_SETS))
def seed(request):
    return request.param


def _net(activation, initializer, *, depth, width, seed, compile_loss=True):
    keras.utils.set_random_seed(seed)
    model = models.deep_mlp(depth=depth, width=width, activation=activation, kernel_initializer=initializer)
    if compile_loss:
        model.compile(loss="sparse_categorical_crossentropy")
    return model


def _first_last_ratio(model, fashion):
    norms = gradients.gradient_norms_per_layer(model, fashion.x_train[:256], fashion.y_train[:256])
    return gradients.first_last_ratio(norms), norms


def _activation_stds(activation, initializer, fashion, seed):
    model = _net(activation, initializer, **SHAPE_02, seed=seed, compile_loss=False)
    with np.errstate(over="ignore", invalid="ignore"):  # N(0, 1) + ReLU overflows float32 on purpose
        return np.array([s["std"] for s in diagnostics.activation_stats(model, fashion.x_valid[:512])])


# --- 01: the problem -------------------------------------------------------------------------------

def test_sigmoid_normal_vanishes_while_he_relu_stays_within_a_small_factor(fashion, seed):
    sigmoid_ratio, _ = _first_last_ratio(
        _net("sigmoid", keras.initializers.RandomNormal(stddev=1.0), **SHAPE_01, seed=seed), fashion)
    relu_ratio, relu_norms = _first_last_ratio(
        _net("relu", keras.initializers.HeNormal(), **SHAPE_01, seed=seed), fashion)
    assert sigmoid_ratio < 1e-3, sigmoid_ratio  # measured ~1e-5: orders of magnitude lost
    assert 0.1 < relu_ratio < 10, relu_ratio  # measured ~2
    hidden = np.array([relu_norms[f"hidden_{i}"] for i in range(1, 51)])
    assert hidden.max() / hidden.min() < 20, hidden


def test_sigmoid_normal_saturates_and_collapses_the_images(fashion, seed):
    model = _net("sigmoid", keras.initializers.RandomNormal(stddev=1.0), **SHAPE_01, seed=seed,
                 compile_loss=False)
    stats = {s["layer"]: s for s in diagnostics.activation_stats(model, fashion.x_valid[:512])}
    outputs = diagnostics.layer_outputs(model, fashion.x_valid[:512])
    assert stats["hidden_1"]["saturated"] > 0.7, stats["hidden_1"]
    spread_first = outputs["hidden_1"].std(axis=0).mean()
    assert outputs["hidden_30"].std(axis=0).mean() < 1e-2 * spread_first  # as the notebook claims


def test_large_init_explodes_and_small_init_vanishes_further(fashion, seed):
    def ratio(stddev):
        model = _net("sigmoid", keras.initializers.RandomNormal(stddev=stddev), **SHAPE_01, seed=seed)
        return _first_last_ratio(model, fashion)[0]

    large, small, critical = ratio(3.0), ratio(0.4), ratio(1.5)
    assert large > 1e3, large  # measured ~1e7
    assert small < 1e-9, small  # measured ~1e-14 (or 0: float32 underflow)
    assert 1e-3 < critical < 1e3, critical  # the crossing of 1 is near std 1.5


def test_wider_shallower_sigmoid_normal_is_near_critical(fashion, seed):
    ratio, _ = _first_last_ratio(
        _net("sigmoid", keras.initializers.RandomNormal(stddev=1.0), depth=20, width=100, seed=seed), fashion)
    assert 0.01 < ratio < 10, ratio  # measured ~0.3


def test_sgd_training_of_the_vanishing_network_stalls(fashion, seed):
    model = _net("sigmoid", keras.initializers.RandomNormal(stddev=1.0), **SHAPE_01, seed=seed,
                 compile_loss=False)
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


# --- 02: initialization ----------------------------------------------------------------------------

def test_equal_initial_weights_keep_the_units_identical(fashion, seed):
    keras.utils.set_random_seed(seed)
    equal = keras.initializers.Constant(0.01)
    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(16, activation="relu", kernel_initializer=equal),
                              keras.layers.Dense(16, activation="relu", kernel_initializer=equal),
                              keras.layers.Dense(10, activation="softmax", kernel_initializer=equal)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    model.fit(fashion.x_train, fashion.y_train, epochs=1, batch_size=128, verbose=0)
    for layer in model.layers[:2]:
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        moved = np.abs(kernel - 0.01).max()
        assert moved > 1e-4, moved  # it trained...
        assert np.abs(kernel - kernel[:, :1]).max() <= 1e-4 * moved  # ...and every unit moved like the first


def test_matched_pairings_keep_activation_std_in_a_band(fashion, seed):
    he_relu = _activation_stds("relu", keras.initializers.HeNormal(), fashion, seed)
    lecun_selu = _activation_stds("selu", keras.initializers.LecunNormal(), fashion, seed)
    glorot_tanh = _activation_stds("tanh", keras.initializers.GlorotNormal(), fashion, seed)
    # He + ReLU wanders with the draw (finite width): a spread of ~2-9 over seeds, vs ~1e7 for Glorot + ReLU.
    assert he_relu.max() / he_relu.min() < 15, he_relu
    assert lecun_selu.max() / lecun_selu.min() < 1.5, lecun_selu
    assert glorot_tanh.max() / glorot_tanh.min() < 15 and glorot_tanh.min() > 0.02, glorot_tanh


def test_naive_inits_collapse_or_blow_up(fashion, seed):
    small = _activation_stds("relu", keras.initializers.RandomNormal(stddev=0.05), fashion, seed)
    large = _activation_stds("relu", keras.initializers.RandomNormal(stddev=1.0), fashion, seed)
    glorot_relu = _activation_stds("relu", keras.initializers.GlorotNormal(), fashion, seed)
    assert small[-1] < 1e-6 * small[0], small  # measured ~1e-23
    assert not np.isfinite(large[-1]) or large[-1] > 1e20, large  # overflows float32 near layer 43
    assert glorot_relu[-1] < 1e-5 * glorot_relu[0], glorot_relu  # halves the variance per layer


def test_he_correction_keeps_the_variance_of_a_leaky_relu_network(fashion, seed):
    slope = 0.3
    corrected = functools.partial(keras.initializers.VarianceScaling, scale=2 / (1 + slope**2), mode="fan_in",
                                  distribution="truncated_normal")
    kernel = keras.ops.convert_to_numpy(corrected(seed=seed)((784, 100)))
    assert kernel.std() == pytest.approx(np.sqrt(2 / ((1 + slope**2) * 784)), rel=0.02)
    gains = {}
    for name, make in {"he": keras.initializers.HeNormal, "corrected": corrected}.items():
        logs = []
        for net in range(3):  # three networks: a single one wanders too much (finite width)
            a, stds = fashion.x_valid[:512], []
            for i in range(1, 51):
                w = keras.ops.convert_to_numpy(make(seed=1000 * (seed + net) + i)((a.shape[1], 100)))
                a = keras.ops.convert_to_numpy(keras.activations.leaky_relu(a @ w, negative_slope=slope))
                stds.append(a.std(dtype=np.float64))
            logs.append(np.log(stds[-1] / stds[0]) * 2 / 49)
        gains[name] = np.exp(np.mean(logs))
    assert gains["he"] > 1.04, gains  # predicted 1 + a^2 = 1.09 per layer
    assert 0.95 < gains["corrected"] < 1.04, gains  # predicted 1


@pytest.mark.parametrize("initializer_class, scale, mode", [
    (keras.initializers.GlorotUniform, 1.0, "fan_avg"),
    (keras.initializers.GlorotNormal, 1.0, "fan_avg"),
    (keras.initializers.HeNormal, 2.0, "fan_in"),
    (keras.initializers.LecunNormal, 1.0, "fan_in"),
])
def test_named_initializers_are_variance_scaling_with_the_formula_std(initializer_class, scale, mode, seed):
    initializer = initializer_class(seed=seed)
    assert isinstance(initializer, keras.initializers.VarianceScaling)
    assert (initializer.scale, initializer.mode) == (scale, mode)
    n = {"fan_in": 784, "fan_avg": (784 + 100) / 2}[mode]
    weights = keras.ops.convert_to_numpy(initializer((784, 100)))
    assert weights.std() == pytest.approx(np.sqrt(scale / n), rel=0.02)
