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
    name: str | None = None,
) -> keras.Sequential:
    """Build (not compile) a deep MLP classifier with named layers ``hidden_1`` ... ``hidden_N``.

    ``activation`` is a Keras activation name ("relu", "selu", ...) or a function returning a
    layer (``lambda: keras.layers.PReLU()``); a layer goes after a linear ``Dense``.
    ``batch_norm`` is None, "before" (Dense -> BatchNormalization -> activation, the Dense without
    bias since BN's offset replaces it) or "after" (Dense with activation -> BatchNormalization).

    Example:
        >>> model = deep_mlp(depth=3, width=32, activation="selu", kernel_initializer="lecun_normal")
        >>> [layer.name for layer in model.layers][:3]
        ['hidden_1', 'hidden_2', 'hidden_3']
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive int, got {width!r}")
    if batch_norm not in BATCH_NORM_PLACES:
        raise ValueError(f"batch_norm must be one of {BATCH_NORM_PLACES}, got {batch_norm!r}")
    if not (isinstance(activation, str) or callable(activation)):
        raise ValueError(f"activation must be a name or a function returning a layer, got {activation!r}")

    layers: list[keras.layers.Layer] = [keras.Input(shape=input_shape)]
    for i in range(1, depth + 1):
        layers += _hidden_block(i, width, activation, _initializer_for(kernel_initializer, i), batch_norm)
    layers.append(keras.layers.Dense(n_classes, activation="softmax", name="output"))
    return keras.Sequential(layers, name=name)


def _initializer_for(spec: Any, i: int) -> keras.initializers.Initializer:
    """A fresh initializer for hidden layer ``i``. A seeded one gets seed + i: reusing one seed
    would give every layer of the same shape the very same weights."""
    initializer = keras.initializers.get(spec)
    config = initializer.get_config()
    if config.get("seed") is not None:
        config["seed"] = config["seed"] + i
    return initializer.__class__.from_config(config)


def _hidden_block(i, width, activation, initializer, batch_norm) -> list[keras.layers.Layer]:
    """One hidden layer: Dense, its activation, and batch normalization where asked."""
    name = f"hidden_{i}"
    separate_activation = batch_norm == "before" or not isinstance(activation, str)
    dense = keras.layers.Dense(
        width,
        activation=None if separate_activation else activation,
        kernel_initializer=initializer,
        use_bias=batch_norm != "before",
        name=name if not separate_activation else f"dense_{i}",
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
