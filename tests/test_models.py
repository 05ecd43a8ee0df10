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


def test_dropout_regularizer_and_constraint_go_where_the_docstring_says():
    model = deep_mlp(depth=2, width=8, dropout=0.3, kernel_regularizer=keras.regularizers.L2(1e-3),
                     kernel_constraint=keras.constraints.MaxNorm(2.0))
    names = [layer.name for layer in model.layers]
    assert names == ["hidden_1", "dropout_1", "hidden_2", "dropout_2", "output"]
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert len(dense) == 3
    assert all(isinstance(layer.kernel_regularizer, keras.regularizers.L2) for layer in dense)
    assert len({id(layer.kernel_regularizer) for layer in dense}) == 3  # one copy per layer
    assert all(layer.kernel_constraint.max_value == 2.0 for layer in dense)
    assert model.get_layer("dropout_1").rate == 0.3
    model(keras.ops.ones((2, 784)))
    assert len(model.losses) == 3  # one penalty per kernel


def test_dropout_layer_class_is_used_and_no_dropout_by_default():
    model = deep_mlp(depth=2, width=8, activation="selu", dropout=0.1,
                     dropout_layer=keras.layers.AlphaDropout)
    assert isinstance(model.get_layer("dropout_2"), keras.layers.AlphaDropout)
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in deep_mlp(depth=2, width=8).layers)


@pytest.mark.parametrize("kwargs, message", [
    ({"dropout": 1.0}, "dropout must be a rate"),
    ({"dropout": True}, "dropout must be a rate"),
    ({"dropout_layer": "alpha"}, "dropout_layer must be a layer class"),
    ({"kernel_regularizer": 0.01}, "kernel_regularizer must be a Keras regularizer"),
])
def test_bad_regularization_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        deep_mlp(depth=1, width=4, **kwargs)
