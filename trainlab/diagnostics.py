"""Look inside a network: per-layer activations (statistics, dead and saturated units), weight norms.

Gradients and the recorder that follows them during training live in ``trainlab.gradients``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

# Activations whose output is bounded, with the interval inside which a unit is *not* saturated.
SATURATING = {"sigmoid": (0.0, 1.0), "hard_sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
# Activations for which "negative (or zero) for every example" is worth counting.
RELU_FAMILY = {"relu", "relu6", "leaky_relu", "prelu", "elu", "selu", "gelu", "silu", "swish",
               "mish", "rrelu"}
_LAYER_ACTIVATIONS = {
    "ReLU": "relu", "LeakyReLU": "leaky_relu", "PReLU": "prelu", "ELU": "elu", "Softmax": "softmax",
}


def activation_name(layer: keras.layers.Layer) -> str | None:
    """The name of the non-linearity a layer applies last, or None if its output is linear.

    Example:
        >>> activation_name(keras.layers.Dense(3, activation="tanh"))
        'tanh'
    """
    class_name = type(layer).__name__
    if class_name in _LAYER_ACTIVATIONS:
        return _LAYER_ACTIVATIONS[class_name]
    if getattr(layer, "activation_name", None):  # layers of the course's own (e.g. RReLU)
        return str(layer.activation_name)
    function = getattr(layer, "activation", None)
    if function is None:
        return None
    name = keras.activations.serialize(function)
    if not isinstance(name, str):
        name = getattr(function, "__name__", "custom")
    return None if name == "linear" else name


def probed_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The hidden layers whose outputs are activations: non-linear and not the softmax output."""
    return [layer for layer in model.layers if activation_name(layer) not in (None, "softmax")]


def _check_built(model: keras.Model) -> None:
    if not isinstance(model, keras.Model) or not model.built or not getattr(model, "inputs", None):
        raise ValueError(
            "the model needs known inputs: build it with keras.Input(...) as its first layer "
            "(Sequential) or as a functional model before asking for per-layer diagnostics"
        )


class _ActivationProbe:
    """A model that returns the outputs of the chosen layers (built once, reused)."""

    def __init__(self, model: keras.Model, layers: Sequence[keras.layers.Layer] | None = None):
        _check_built(model)
        self.layers = list(layers) if layers is not None else probed_layers(model)
        if not self.layers:
            raise ValueError("the model has no hidden layer with a non-linear activation to probe")
        self.names = [layer.name for layer in self.layers]
        self.activations = [activation_name(layer) for layer in self.layers]
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        self._probe = keras.Model(inputs, [layer.output for layer in self.layers])

    def __call__(self, x: np.ndarray, training: bool = False) -> dict[str, np.ndarray]:
        outputs = self._probe(x, training=training)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return {name: keras.ops.convert_to_numpy(out) for name, out in zip(self.names, outputs)}


def layer_outputs(model: keras.Model, x: np.ndarray, layers=None, training: bool = False
                  ) -> dict[str, np.ndarray]:
    """Each hidden layer's activations for the batch ``x``, keyed by layer name, in depth order.

    Example:
        >>> outputs = layer_outputs(model, data.x_valid[:512])
        >>> list(outputs)[:2]
        ['hidden_1', 'hidden_2']
    """
    return _ActivationProbe(model, layers)(x, training)


def stats_of(name: str, activation: str | None, values: np.ndarray, margin: float = 0.01
             ) -> dict[str, Any]:
    """Mean, std, fraction saturated and fraction dead of one layer's activations (batch, units).

    Saturated: within ``margin`` of a bound of a bounded activation (sigmoid, tanh), where the
    derivative is nearly zero; NaN for unbounded activations. Dead: fraction of units whose output
    is <= 0 for *every* example of the batch (ReLU family only, else NaN). For ReLU such a unit
    gets no gradient at all; leaky variants still pass a small one.
    """
    values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    saturated = dead = float("nan")
    if activation in SATURATING:
        low, high = SATURATING[activation]
        span = (high - low) * margin
        saturated = float(np.mean((values <= low + span) | (values >= high - span)))
    if activation in RELU_FAMILY:
        dead = float(np.mean(np.all(values <= 0.0, axis=0)))
    return {"layer": name, "activation": activation, "mean": float(values.mean()),
            "std": float(values.std()), "saturated": saturated, "dead": dead}


def activation_stats(model: keras.Model, x: np.ndarray, layers=None, training: bool = False,
                     margin: float = 0.01) -> list[dict[str, Any]]:
    """Per hidden layer: mean, std, fraction saturated and fraction dead for the batch ``x``.

    Returns a list of dicts (one per layer, input to output): ``pandas.DataFrame(stats)`` makes
    it a table. See ``stats_of`` for the definitions.

    Example:
        >>> import pandas as pd
        >>> table = pd.DataFrame(activation_stats(model, data.x_valid[:1000]))
        >>> list(table.columns)
        ['layer', 'activation', 'mean', 'std', 'saturated', 'dead']
    """
    probe = _ActivationProbe(model, layers)
    outputs = probe(x, training)
    return [stats_of(name, act, outputs[name], margin)
            for name, act in zip(probe.names, probe.activations)]


def kernel_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers that own a weight matrix ``kernel`` (Dense, Conv...), input to output."""
    return [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]


def weight_norms_per_layer(model: keras.Model) -> dict[str, float]:
    """L2 (Frobenius) norm of each layer's kernel, input to output."""
    return {layer.name: float(np.linalg.norm(keras.ops.convert_to_numpy(layer.kernel)))
            for layer in kernel_layers(model)}


def _default_range(activation: str | None) -> tuple[float, float]:
    """A histogram range that suits the activation's output."""
    if activation in SATURATING:
        return SATURATING[activation]
    if activation in ("selu", "elu", "gelu", "silu", "swish", "mish", "leaky_relu", "prelu"):
        return (-2.0, 6.0)
    return (0.0, 6.0)
