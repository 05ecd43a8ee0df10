"""Tests of trainlab.layers: the randomized leaky ReLU (RReLU)."""

import keras
import numpy as np
import pytest

from trainlab import diagnostics, models
from trainlab.layers import RReLU


def negative_slopes(layer: RReLU, training: bool, shape=(64, 50)) -> np.ndarray:
    """The slope the layer applied to each element of a batch of -1s."""
    x = -np.ones(shape, dtype="float32")
    return -keras.ops.convert_to_numpy(layer(x, training=training))


def test_positive_inputs_pass_unchanged_in_training_and_inference():
    x = np.linspace(0.0, 5.0, 200, dtype="float32").reshape(4, 50)
    layer = RReLU(seed=0)
    for training in (True, False):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=training)), x)


def test_training_slopes_are_random_within_bounds_and_per_element():
    layer = RReLU(lower=0.1, upper=0.4, seed=1)
    slopes = negative_slopes(layer, training=True, shape=(200, 100))
    assert slopes.min() >= 0.1 and slopes.max() <= 0.4
    assert np.unique(slopes).size > 1000  # one draw per element, not one per batch
    assert abs(slopes.mean() - 0.25) < 0.01  # uniform on [0.1, 0.4]
    assert abs(slopes.std() - 0.3 / np.sqrt(12)) < 0.01
    assert not np.array_equal(slopes, negative_slopes(layer, training=True, shape=(200, 100)))


def test_inference_uses_the_average_slope_deterministically():
    layer = RReLU(lower=0.1, upper=0.4, seed=1)
    slopes = negative_slopes(layer, training=False)
    np.testing.assert_allclose(slopes, 0.25, rtol=1e-6)
    np.testing.assert_array_equal(slopes, negative_slopes(layer, training=False))
    assert negative_slopes(RReLU(), training=False)[0, 0] == pytest.approx((1 / 8 + 1 / 3) / 2)


def test_seed_makes_training_noise_reproducible():
    first = negative_slopes(RReLU(seed=7), training=True)
    again = negative_slopes(RReLU(seed=7), training=True)
    other = negative_slopes(RReLU(seed=8), training=True)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_equal_bounds_give_a_plain_leaky_relu():
    layer = RReLU(lower=0.2, upper=0.2)
    x = np.array([[-3.0, -0.5, 0.0, 2.0]], dtype="float32")
    expected = keras.ops.convert_to_numpy(keras.layers.LeakyReLU(negative_slope=0.2)(x))
    for training in (True, False):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x, training=training)), expected)


def test_config_round_trip_and_saving(tmp_path):
    layer = RReLU(lower=0.05, upper=0.5, seed=3, name="noisy")
    clone = RReLU.from_config(layer.get_config())
    assert (clone.lower, clone.upper, clone.seed, clone.name) == (0.05, 0.5, 3, "noisy")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), RReLU(lower=0.05, upper=0.5)])
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.layers[-1], RReLU) and loaded.layers[-1].upper == 0.5
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_trains_in_sequential_and_is_recognised_by_diagnostics():
    keras.utils.set_random_seed(0)
    model = models.deep_mlp(depth=2, width=8, activation=lambda: RReLU(), input_shape=(5,), n_classes=3)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    history = model.fit(rng.normal(size=(64, 5)).astype("float32"), rng.integers(0, 3, 64),
                        epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert diagnostics.activation_name(model.get_layer("hidden_1")) == "rrelu"
    stats = diagnostics.activation_stats(model, rng.normal(size=(32, 5)).astype("float32"))
    assert [s["activation"] for s in stats] == ["rrelu", "rrelu"]
    assert all(0.0 <= s["dead"] <= 1.0 for s in stats)


def test_gradient_of_negative_inputs_is_the_slope():
    import tensorflow as tf

    layer = RReLU(lower=0.1, upper=0.3)
    x = tf.constant([[-2.0, -1.0, 1.0, 2.0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=False)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [[0.2, 0.2, 1.0, 1.0]], rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lower": 0.5, "upper": 0.1}, "lower must be <= upper"),
        ({"lower": -0.1}, "lower must be >= 0"),
        ({"lower": -0.3, "upper": -0.1}, "lower must be >= 0"),
        ({"upper": float("nan")}, "upper must be a finite number"),
        ({"lower": "0.1"}, "lower must be a finite number"),
        ({"upper": True}, "upper must be a finite number"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RReLU(**kwargs)


def test_mc_dropout_drops_in_predict_and_scales_the_kept_units():
    from trainlab.layers import MCDropout

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2000,)), MCDropout(0.25)])
    x = np.ones((4, 2000), dtype="float32")
    first, second = model.predict(x, verbose=0), model.predict(x, verbose=0)
    assert not np.array_equal(first, second)  # a new mask on every predict
    assert set(np.unique(first)) == {0.0, np.float32(1 / 0.75)}  # inverted dropout's scaling
    assert abs((first == 0).mean() - 0.25) < 0.02
    assert abs(first.mean() - 1.0) < 0.03  # the mean is kept


def test_mc_dropout_leaves_batch_norm_in_inference_mode():
    from trainlab.layers import MCDropout

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.BatchNormalization(), MCDropout(0.0)])
    x = np.random.default_rng(0).normal(loc=5.0, size=(16, 8)).astype("float32")
    # moving statistics are mean 0, variance 1: inference-mode BN leaves x (almost) unchanged,
    # training-mode BN would standardize the batch
    np.testing.assert_allclose(model.predict(x, verbose=0), x / np.sqrt(1 + 1e-3), rtol=1e-5)
    assert abs(keras.ops.convert_to_numpy(model(x, training=True)).mean()) < 1e-4


def test_mc_dropout_round_trips_through_a_saved_model(tmp_path):
    from trainlab.layers import MCDropout

    model = keras.Sequential([keras.Input((3,)), MCDropout(0.3, seed=1)])
    path = tmp_path / "mc.keras"
    model.save(path)
    layer = keras.models.load_model(path).layers[0]
    assert isinstance(layer, MCDropout) and layer.rate == 0.3
