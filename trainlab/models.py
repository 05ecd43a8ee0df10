"""Model builders shared by the notebooks: deep fully connected networks with every knob exposed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

BATCH_NORM_PLACES = (None, "before", "after")


def deep_mlp(
    *,
    depth: int = 20,
    width: int = 100,
    activation: str | Callable[[], keras.layers.Layer] = "relu",
    kernel_initializer: Any = "he_normal",
    batch_norm: str | None = None,
    input_shape: tuple[int, ...] = (784,),
    n_classes: int = 10,
    dropout: float = 0.0,
    dropout_layer: Callable[..., keras.layers.Layer] | None = None,
    kernel_regularizer: Any = None,
    kernel_constraint: Any = None,
    name: str | None = None,
) -> keras.Sequential:
    """Build (not compile) a deep MLP classifier with named layers ``hidden_1`` ... ``hidden_N``.

    ``activation`` is a Keras activation name ("relu", "selu", ...) or a function returning a
    layer (``lambda: keras.layers.PReLU()``); a layer goes after a linear ``Dense``.
    ``batch_norm`` is None, "before" (Dense -> BatchNormalization -> activation, the Dense without
    bias since BN's offset replaces it) or "after" (Dense with activation -> BatchNormalization).

    Regularization (part 4): ``dropout`` > 0 puts a dropout layer named ``dropout_i`` after each
    hidden layer, made by ``dropout_layer(rate, name=...)``, a layer class: Keras' ``Dropout`` by
    default, ``keras.layers.AlphaDropout`` for SELU networks, ``trainlab.layers.MCDropout`` for MC
    dropout. ``kernel_regularizer`` (e.g. ``keras.regularizers.L2(1e-4)``) and
    ``kernel_constraint`` (e.g. ``keras.constraints.MaxNorm(3)``) go on every Dense kernel, the
    output layer's included; a regularizer is copied per layer from its config.

    Example:
        >>> model = deep_mlp(depth=3, width=32, activation="selu", kernel_initializer="lecun_normal")
        >>> [layer.name for layer in model.layers][:3]
        ['hidden_1', 'hidden_2', 'hidden_3']
        >>> [layer.name for layer in deep_mlp(depth=2, width=32, dropout=0.2).layers]
        ['hidden_1', 'dropout_1', 'hidden_2', 'dropout_2', 'output']
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive int, got {width!r}")
    if batch_norm not in BATCH_NORM_PLACES:
        raise ValueError(f"batch_norm must be one of {BATCH_NORM_PLACES}, got {batch_norm!r}")
    if not (isinstance(activation, str) or callable(activation)):
        raise ValueError(f"activation must be a name or a function returning a layer, got {activation!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a rate in [0, 1), got {dropout!r}")
    if dropout_layer is not None and not callable(dropout_layer):
        raise ValueError("dropout_layer must be a layer class such as keras.layers.AlphaDropout, "
                         f"got {dropout_layer!r}")
    dense_kwargs = {"kernel_regularizer": kernel_regularizer, "kernel_constraint": kernel_constraint}
    for key, value in dense_kwargs.items():
        if value is not None and not isinstance(value, str) and not callable(value):
            raise ValueError(f"{key} must be a Keras {key.split('_')[1]} (or its name), got {value!r}")

    layers: list[keras.layers.Layer] = [keras.Input(shape=input_shape)]
    for i in range(1, depth + 1):
        layers += _hidden_block(i, width, activation, _initializer_for(kernel_initializer, i), batch_norm,
                                _fresh(dense_kwargs))
        if dropout > 0:
            layers.append((dropout_layer or keras.layers.Dropout)(dropout, name=f"dropout_{i}"))
    layers.append(keras.layers.Dense(n_classes, activation="softmax", name="output", **_fresh(dense_kwargs)))
    return keras.Sequential(layers, name=name)


def _initializer_for(spec: Any, i: int) -> keras.initializers.Initializer:
    """A fresh initializer for hidden layer ``i``. A seeded one gets seed + i: reusing one seed
    would give every layer of the same shape the very same weights."""
    initializer = keras.initializers.get(spec)
    config = initializer.get_config()
    if config.get("seed") is not None:
        config["seed"] = config["seed"] + i
    return initializer.__class__.from_config(config)


def _fresh(dense_kwargs: dict[str, Any]) -> dict[str, Any]:
    """One layer's regularizer and constraint: a copy of each, so no two layers share an object."""
    fresh = {}
    for key, value in dense_kwargs.items():
        if value is None or isinstance(value, str):
            fresh[key] = value
        elif hasattr(value, "get_config"):
            fresh[key] = value.__class__.from_config(value.get_config())
        else:
            fresh[key] = value
    return fresh


def _hidden_block(i, width, activation, initializer, batch_norm, dense_kwargs) -> list[keras.layers.Layer]:
    """One hidden layer: Dense, its activation, and batch normalization where asked."""
    name = f"hidden_{i}"
    separate_activation = batch_norm == "before" or not isinstance(activation, str)
    dense = keras.layers.Dense(
        width,
        activation=None if separate_activation else activation,
        kernel_initializer=initializer,
        use_bias=batch_norm != "before",
        name=name if not separate_activation else f"dense_{i}",
        **dense_kwargs,
    )
    block: list[keras.layers.Layer] = [dense]
    if batch_norm == "before":
        block.append(keras.layers.BatchNormalization(name=f"bn_{i}"))
    if separate_activation:
        act = keras.layers.Activation(activation) if isinstance(activation, str) else activation()
        act.name = name  # the layer whose output is the hidden layer's activation
        block.append(act)
    if batch_norm == "after":
        block.append(keras.layers.BatchNormalization(name=f"bn_{i}"))
    return block
