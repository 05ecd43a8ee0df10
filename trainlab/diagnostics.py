"""Look inside a network: per-layer activation statistics, gradient norms and update ratios."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

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
        >>> {name: a.std() for name, a in outputs.items()}
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
        >>> pd.DataFrame(activation_stats(model, data.x_valid[:1000])).round(3)
    """
    probe = _ActivationProbe(model, layers)
    outputs = probe(x, training)
    return [stats_of(name, act, outputs[name], margin)
            for name, act in zip(probe.names, probe.activations)]


def kernel_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers that own a weight matrix ``kernel`` (Dense, Conv...), input to output."""
    return [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]


def gradient_norms_per_layer(model: keras.Model, x: np.ndarray, y: np.ndarray,
                             training: bool = True) -> dict[str, float]:
    """L2 norm of the gradient of the compiled loss w.r.t. each layer's kernel, for one batch.

    The loss is the one given to ``model.compile`` (plus any regularization losses). Layers come
    input to output, keyed by name.

    Example:
        >>> norms = gradient_norms_per_layer(model, data.x_train[:256], data.y_train[:256])
        >>> first, last = list(norms.values())[0], list(norms.values())[-2]
    """
    if not getattr(model, "compiled", False) or model.loss is None:
        raise ValueError("compile the model with a loss first: the gradient is of the compiled loss")
    layers = kernel_layers(model)
    if not layers:
        raise ValueError("the model has no layer with a kernel (Dense, Conv...) to measure")
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        y_pred = model(x, training=training)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=training)
    gradients = tape.gradient(loss, [layer.kernel.value for layer in layers])
    return {layer.name: _l2_norm(g) if g is not None else float("nan")
            for layer, g in zip(layers, gradients)}


def _l2_norm(tensor: Any) -> float:
    """L2 norm computed in float64: squaring float32 values below ~1e-19 underflows to 0."""
    return float(np.linalg.norm(np.asarray(keras.ops.convert_to_numpy(tensor), dtype=np.float64)))


def first_last_ratio(norms: Mapping[str, float]) -> float:
    """The first hidden layer's gradient norm divided by the last hidden layer's.

    ``norms`` is ``gradient_norms_per_layer``'s result (input to output, the output layer last,
    which is left out). Far below 1: the gradient vanishes on its way down; far above 1: it explodes.

    Example:
        >>> first_last_ratio({"hidden_1": 1e-6, "hidden_2": 1e-3, "output": 0.5})
        0.001
    """
    values = list(norms.values())
    if len(values) < 3:
        raise ValueError(f"need at least two hidden layers and the output layer, got {list(norms)}")
    return values[0] / values[-2]


def weight_norms_per_layer(model: keras.Model) -> dict[str, float]:
    """L2 (Frobenius) norm of each layer's kernel, input to output."""
    return {layer.name: float(np.linalg.norm(keras.ops.convert_to_numpy(layer.kernel)))
            for layer in kernel_layers(model)}


class DiagnosticsRecorder(keras.callbacks.Callback):
    """Record per-layer diagnostics on a fixed probe batch every ``every`` training steps.

    Recorded per layer (dicts keyed by layer name, one list entry per recorded step):
    ``gradient_norms`` (kernel gradients of the loss), ``update_ratios`` (||W_after - W_before|| /
    ||W_before|| over that step, the update-to-weight ratio), ``stats`` (activation mean, std,
    saturated, dead) and ``histograms`` (counts of activation values in ``bins``).
    ``steps`` holds the global step numbers. Plot them with ``trainlab.plots``.

    Example:
        >>> recorder = DiagnosticsRecorder(data.x_train[:256], data.y_train[:256], every=20)
        >>> model.fit(data.x_train, data.y_train, epochs=2, callbacks=[recorder], verbose=0)
        >>> recorder.gradient_norms["hidden_1"][:3]
    """

    def __init__(self, x_probe: np.ndarray, y_probe: np.ndarray, every: int = 10,
                 bins: np.ndarray | None = None, bins_count: int = 60):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int (steps between records), got {every!r}")
        if len(x_probe) != len(y_probe) or len(x_probe) == 0:
            raise ValueError("x_probe and y_probe must be non-empty and of the same length")
        self.x_probe, self.y_probe, self.every = x_probe, y_probe, every
        self.bins, self.bins_count = bins, bins_count
        self.steps: list[int] = []
        self.gradient_norms: dict[str, list[float]] = {}
        self.update_ratios: dict[str, list[float]] = {}
        self.stats: dict[str, list[dict[str, Any]]] = {}
        self.histograms: dict[str, list[np.ndarray]] = {}
        self.hist_edges: dict[str, np.ndarray] = {}
        self._step = 0
        self._probe: _ActivationProbe | None = None
        self._before: dict[str, np.ndarray] = {}

    def on_train_begin(self, logs=None):
        self._probe = _ActivationProbe(self.model)
        for name, act in zip(self._probe.names, self._probe.activations):
            self.hist_edges[name] = self.bins if self.bins is not None else np.linspace(
                *_default_range(act), self.bins_count + 1)

    def on_train_batch_begin(self, batch, logs=None):
        if self._step % self.every == 0:
            self._before = {layer.name: keras.ops.convert_to_numpy(layer.kernel).copy()
                            for layer in kernel_layers(self.model)}

    def on_train_batch_end(self, batch, logs=None):
        if self._step % self.every == 0:
            self._record()
        self._step += 1

    def _record(self) -> None:
        self.steps.append(self._step)
        for layer in kernel_layers(self.model):
            before = self._before[layer.name]
            after = keras.ops.convert_to_numpy(layer.kernel)
            ratio = np.linalg.norm(after - before) / max(np.linalg.norm(before), 1e-12)
            self.update_ratios.setdefault(layer.name, []).append(float(ratio))
        norms = gradient_norms_per_layer(self.model, self.x_probe, self.y_probe)
        for name, norm in norms.items():
            self.gradient_norms.setdefault(name, []).append(norm)
        outputs = self._probe(self.x_probe)
        for name, act in zip(self._probe.names, self._probe.activations):
            self.stats.setdefault(name, []).append(stats_of(name, act, outputs[name]))
            counts, _ = np.histogram(outputs[name], bins=self.hist_edges[name])
            self.histograms.setdefault(name, []).append(counts)


def _default_range(activation: str | None) -> tuple[float, float]:
    """A histogram range that suits the activation's output."""
    if activation in SATURATING:
        return SATURATING[activation]
    if activation in ("selu", "elu", "gelu", "silu", "swish", "mish", "leaky_relu", "prelu"):
        return (-2.0, 6.0)
    return (0.0, 6.0)
