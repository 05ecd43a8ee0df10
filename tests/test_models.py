"""Tests of trainlab.models."""

import keras
import pytest

from trainlab.models import deep_mlp


def test_deep_mlp_names_hidden_layers_and_counts_parameters():
    model = deep_mlp(depth=3, width=16)
    assert [layer.name for layer in model.layers] == ["hidden_1", "hidden_2", "hidden_3", "output"]
    expected = (784 * 16 + 16) + 2 * (16 * 16 + 16) + (16 * 10 + 10)
    assert model.count_params() == expected


def test_batch_norm_before_drops_dense_bias_and_puts_activation_last():
    model = deep_mlp(depth=2, width=8, batch_norm="before", activation="elu")
    names = [layer.name for layer in model.layers]
    assert names == ["dense_1", "bn_1", "hidden_1", "dense_2", "bn_2", "hidden_2", "output"]
    assert not model.get_layer("dense_1").use_bias
    assert isinstance(model.get_layer("hidden_1"), keras.layers.Activation)


def test_batch_norm_after_follows_the_activation():
    model = deep_mlp(depth=1, width=8, batch_norm="after")
    assert [layer.name for layer in model.layers] == ["hidden_1", "bn_1", "output"]


def test_activation_layer_factory_and_independent_initializers():
    model = deep_mlp(depth=2, width=8, activation=lambda: keras.layers.PReLU(),
                     kernel_initializer=keras.initializers.RandomNormal(stddev=1.0, seed=3))
    assert isinstance(model.get_layer("hidden_2"), keras.layers.PReLU)
    first = keras.ops.convert_to_numpy(model.get_layer("dense_2").kernel)
    second = keras.ops.convert_to_numpy(model.layers[0].kernel)[:8, :8]
    assert (first != second).any()  # a seeded initializer is cloned, not reused identically
    assert 0.8 < first.std() < 1.2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"depth": 0}, "depth"), ({"width": -1}, "width"), ({"depth": True}, "depth"),
     ({"batch_norm": "middle"}, "batch_norm"), ({"activation": 3}, "activation")],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        deep_mlp(**kwargs)
