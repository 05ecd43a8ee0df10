"""Tests of trainlab.diagnostics: the numbers are checked against direct computations."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from trainlab import diagnostics
from trainlab.models import deep_mlp


def compiled(model):
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    return model


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return rng.random((64, 784), dtype=np.float32), rng.integers(0, 10, 64)


def test_activation_name_covers_layers_and_functions():
    assert diagnostics.activation_name(keras.layers.Dense(2, activation="tanh")) == "tanh"
    assert diagnostics.activation_name(keras.layers.Dense(2)) is None
    assert diagnostics.activation_name(keras.layers.LeakyReLU()) == "leaky_relu"
    assert diagnostics.activation_name(keras.layers.Activation("selu")) == "selu"
    assert diagnostics.activation_name(keras.layers.BatchNormalization()) is None


def test_probed_layers_are_the_hidden_activations():
    model = deep_mlp(depth=3, width=8, batch_norm="before")
    assert [layer.name for layer in diagnostics.probed_layers(model)] == ["hidden_1", "hidden_2", "hidden_3"]


def test_stats_of_saturation_and_dead_units():
    sigmoid_out = np.array([[0.001, 0.5, 0.999, 0.3]])
    stats = diagnostics.stats_of("s", "sigmoid", sigmoid_out)
    assert stats["saturated"] == pytest.approx(0.5) and np.isnan(stats["dead"])
    relu_out = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])  # unit 0 is zero for every example
    stats = diagnostics.stats_of("r", "relu", relu_out)
    assert stats["dead"] == pytest.approx(1 / 3) and np.isnan(stats["saturated"])
    assert stats["mean"] == pytest.approx(0.5)


def test_layer_outputs_match_a_manual_forward_pass(batch):
    x, _ = batch
    model = deep_mlp(depth=2, width=8, activation="tanh")
    outputs = diagnostics.layer_outputs(model, x)
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in model.get_layer("hidden_1").weights)
    np.testing.assert_allclose(outputs["hidden_1"], np.tanh(x @ kernel + bias), rtol=1e-4, atol=1e-5)
    stats = diagnostics.activation_stats(model, x)
    assert [s["layer"] for s in stats] == ["hidden_1", "hidden_2"]
    assert stats[0]["std"] == pytest.approx(outputs["hidden_1"].std(), rel=1e-5)


def test_gradient_norms_match_gradient_tape(batch):
    x, y = batch
    model = compiled(deep_mlp(depth=3, width=8, activation="sigmoid"))
    norms = diagnostics.gradient_norms_per_layer(model, x, y)
    assert list(norms) == ["hidden_1", "hidden_2", "hidden_3", "output"]
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(y, model(x, training=True))
        loss = tf.reduce_mean(loss)
    grad = tape.gradient(loss, model.get_layer("hidden_2").kernel.value)
    assert norms["hidden_2"] == pytest.approx(float(tf.norm(grad)), rel=1e-4)


def test_vanishing_gradients_are_visible_with_a_tiny_init(batch):
    x, y = batch
    small = keras.initializers.RandomNormal(stddev=0.01, seed=1)
    model = compiled(deep_mlp(depth=8, width=32, activation="sigmoid", kernel_initializer=small))
    norms = list(diagnostics.gradient_norms_per_layer(model, x, y).values())
    assert norms[0] < 1e-6 * norms[-2]


def test_errors_are_clear(batch):
    x, y = batch
    with pytest.raises(ValueError, match="compile"):
        diagnostics.gradient_norms_per_layer(deep_mlp(depth=1, width=4), x, y)
    linear = keras.Sequential([keras.Input((784,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="no hidden layer"):
        diagnostics.activation_stats(linear, x)
    with pytest.raises(ValueError, match="every"):
        diagnostics.DiagnosticsRecorder(x, y, every=0)
    with pytest.raises(ValueError, match="same length"):
        diagnostics.DiagnosticsRecorder(x, y[:3])


def test_recorder_records_every_n_steps(batch):
    x, y = batch
    model = compiled(deep_mlp(depth=2, width=8))
    weights_before = keras.ops.convert_to_numpy(model.get_layer("hidden_1").kernel).copy()
    recorder = diagnostics.DiagnosticsRecorder(x[:16], y[:16], every=3)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[recorder])  # 8 steps
    assert recorder.steps == [0, 3, 6]
    assert set(recorder.gradient_norms) == {"hidden_1", "hidden_2", "output"}
    assert all(len(v) == 3 for v in recorder.update_ratios.values())
    assert recorder.histograms["hidden_1"][0].sum() == 16 * 8  # every value falls in a bin or edge
    assert recorder.stats["hidden_2"][0]["layer"] == "hidden_2"
    assert all(r > 0 for r in recorder.update_ratios["hidden_1"])
    assert (keras.ops.convert_to_numpy(model.get_layer("hidden_1").kernel) != weights_before).any()


def test_first_last_ratio_leaves_the_output_layer_out():
    norms = {"hidden_1": 1e-6, "hidden_2": 1e-4, "hidden_3": 1e-3, "output": 0.5}
    assert diagnostics.first_last_ratio(norms) == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="two hidden layers"):
        diagnostics.first_last_ratio({"hidden_1": 1.0, "output": 1.0})
