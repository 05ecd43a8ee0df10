"""Tests of trainlab.diagnostics: the numbers are checked against direct computations."""

import keras
import numpy as np
import pytest

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


def test_errors_are_clear(batch):
    x, _ = batch
    linear = keras.Sequential([keras.Input((784,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="no hidden layer"):
        diagnostics.activation_stats(linear, x)
