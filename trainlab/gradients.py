"""Loss gradients, measured without side effects: per-layer and global norms, and the one recorder.

Every probe here calls the model in training mode (batch norm uses the batch's statistics, dropout
and RReLU draw noise), as a training step does, and then puts back the model's non-trainable state:
batch-norm moving statistics and the random layers' seed states. A probe therefore never changes
the run it measures.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from trainlab import diagnostics

ArrayLike = np.ndarray | Sequence[np.ndarray]


@contextlib.contextmanager
def preserved_state(model: keras.Model):
    """Within this block the model may be called in training mode: its non-trainable state
    (batch-norm moving statistics, seed states of dropout and other random layers) is restored
    on exit.

    Example:
        >>> with preserved_state(model):
        ...     outputs = model(x, training=True)  # moving statistics change here, and are put back after
    """
    variables = list(model.non_trainable_variables)
    saved = [keras.ops.convert_to_numpy(v.value).copy() for v in variables]
    try:
        yield
    finally:
        for variable, value in zip(variables, saved):
            variable.assign(value)


def _check_compiled(model: keras.Model) -> None:
    if not getattr(model, "compiled", False) or model.loss is None:
        raise ValueError("compile the model with a loss first: the gradient is of the compiled loss")


def _loss_and_tape(model, x, y, training):
    with tf.GradientTape() as tape:
        y_pred = model(x, training=training)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=training)
    return loss, tape


def loss_gradients(model: keras.Model, x: np.ndarray, y: np.ndarray, training: bool = True
                   ) -> list[np.ndarray]:
    """Gradient of the compiled loss on (x, y) w.r.t. each trainable variable, as numpy arrays.

    In the order of ``model.trainable_variables``. With ``training=True`` (the default) batch
    normalization uses the batch's statistics, as in a training step; the model's state is put
    back afterwards (see ``preserved_state``).

    Example:
        >>> gradients = loss_gradients(model, data.x_train[:512], data.y_train[:512])
        >>> len(gradients) == len(model.trainable_variables)
        True
        >>> global_norm(gradients) > 0
        True
    """
    _check_compiled(model)
    with preserved_state(model):
        loss, tape = _loss_and_tape(model, tf.convert_to_tensor(x), y, training)
        gradients = tape.gradient(loss, model.trainable_variables)
        return [np.zeros(v.shape, dtype=np.float32) if g is None else keras.ops.convert_to_numpy(g)
                for v, g in zip(model.trainable_variables, gradients)]


def gradient_norms_per_layer(model: keras.Model, x: np.ndarray, y: np.ndarray,
                             training: bool = True) -> dict[str, float]:
    """L2 norm of the gradient of the compiled loss w.r.t. each layer's kernel, for one batch.

    The loss is the one given to ``model.compile`` (plus any regularization losses). Layers come
    input to output, keyed by name. Norms are computed in float64: squaring float32 values below
    about 1e-19 underflows to 0. The model's state is left as it was.

    Example:
        >>> norms = gradient_norms_per_layer(model, data.x_train[:256], data.y_train[:256])
        >>> list(norms)[:2]
        ['hidden_1', 'hidden_2']
        >>> first_last_ratio(norms) > 0
        True
    """
    _check_compiled(model)
    layers = diagnostics.kernel_layers(model)
    if not layers:
        raise ValueError("the model has no layer with a kernel (Dense, Conv...) to measure")
    with preserved_state(model):
        loss, tape = _loss_and_tape(model, tf.convert_to_tensor(x), y, training)
        gradients = tape.gradient(loss, [layer.kernel.value for layer in layers])
    return {layer.name: global_norm([g]) if g is not None else float("nan")
            for layer, g in zip(layers, gradients)}


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


def _flat(values: ArrayLike) -> np.ndarray:
    """One float64 vector from an array or a list of arrays (a gradient per variable)."""
    if isinstance(values, np.ndarray):
        return values.astype(np.float64).ravel()
    parts = [np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float64).ravel() for v in values]
    if not parts:
        raise ValueError("got an empty list of arrays")
    return np.concatenate(parts)


def global_norm(values: ArrayLike) -> float:
    """L2 norm of all values together, as if concatenated into one vector (in float64).

    This is the norm ``global_clipnorm`` compares with its threshold.

    Example:
        >>> global_norm([np.array([3.0]), np.array([[4.0]])])
        5.0
    """
    return float(np.linalg.norm(_flat(values)))


class GradientRecorder(keras.callbacks.Callback):
    """Record gradient diagnostics on a fixed probe batch while ``fit`` trains.

    Every ``every`` optimizer steps (counted from ``optimizer.iterations``, so it stays right
    with ``steps_per_execution`` > 1) and before the step, it records at the current weights:
    ``global_norms`` (the raw gradient's global norm, as ``global_clipnorm`` sees it, before any
    clipping), ``gradient_norms`` (per layer kernel) and the step number in ``steps``. With
    ``activations=True`` it also records per hidden layer ``stats`` (mean, std, saturated, dead)
    and ``histograms`` (counts in ``hist_edges``), and ``update_ratios``: ||W_after - W_before|| /
    ||W_before|| of each kernel over the step(s) that follow (one ``steps_per_execution`` block).
    The probes leave the run untouched (see ``preserved_state``). A diverged run records inf/nan.

    Example:
        >>> recorder = GradientRecorder(data.x_train[:256], data.y_train[:256], every=10)
        >>> history = model.fit(data.x_train, data.y_train, epochs=2, callbacks=[recorder], verbose=0)
        >>> recorder.steps  # 512 images in batches of 32: 32 steps
        [0, 10, 20, 30]
        >>> lines = plt.semilogy(recorder.steps, recorder.global_norms)
    """

    def __init__(self, x_probe: np.ndarray, y_probe: np.ndarray, every: int = 10, activations: bool = False,
                 bins: np.ndarray | None = None, bins_count: int = 60):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int (optimizer steps between records), got {every!r}")
        if len(x_probe) != len(y_probe) or len(x_probe) == 0:
            raise ValueError("x_probe and y_probe must be non-empty and of the same length")
        self.x_probe, self.y_probe = tf.convert_to_tensor(x_probe), tf.convert_to_tensor(y_probe)
        self.every, self.activations = every, activations
        self.bins, self.bins_count = bins, bins_count
        self.steps: list[int] = []
        self.global_norms: list[float] = []
        self.gradient_norms: dict[str, list[float]] = {}
        self.update_ratios: dict[str, list[float]] = {}
        self.stats: dict[str, list[dict[str, Any]]] = {}
        self.histograms: dict[str, list[np.ndarray]] = {}
        self.hist_edges: dict[str, np.ndarray] = {}
        self._next = 0
        self._before: dict[str, np.ndarray] | None = None
        self._function = None
        self._probe = None

    def on_train_begin(self, logs=None):
        model = self.model
        _check_compiled(model)
        layers = diagnostics.kernel_layers(model)
        self._layers = layers
        x, y = self.x_probe, self.y_probe

        @tf.function
        def gradients():
            loss, tape = _loss_and_tape(model, x, y, True)
            return tape.gradient(loss, model.trainable_variables)

        kernel_ids = {id(layer.kernel): layer.name for layer in layers}
        self._kernel_index = {kernel_ids[id(v)]: i for i, v in enumerate(model.trainable_variables)
                              if id(v) in kernel_ids}
        self._function = gradients
        if self.activations:
            self._probe = diagnostics._ActivationProbe(model)
            for name, act in zip(self._probe.names, self._probe.activations):
                self.hist_edges.setdefault(name, self.bins if self.bins is not None else np.linspace(
                    *diagnostics._default_range(act), self.bins_count + 1))
        self._next = int(keras.ops.convert_to_numpy(model.optimizer.iterations))

    def on_train_batch_begin(self, batch, logs=None):
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        if step < self._next:
            return
        self._next = step + self.every
        self.steps.append(step)
        with preserved_state(self.model):
            grads = self._function()
        present = [g for g in grads if g is not None]
        self.global_norms.append(float(tf.linalg.global_norm(present).numpy()) if present else float("nan"))
        for name, index in self._kernel_index.items():
            norm = global_norm([grads[index]]) if grads[index] is not None else float("nan")
            self.gradient_norms.setdefault(name, []).append(norm)
        if self.activations:
            outputs = self._probe(self.x_probe)
            for name, act in zip(self._probe.names, self._probe.activations):
                self.stats.setdefault(name, []).append(diagnostics.stats_of(name, act, outputs[name]))
                counts, _ = np.histogram(outputs[name], bins=self.hist_edges[name])
                self.histograms.setdefault(name, []).append(counts)
            self._before = {layer.name: keras.ops.convert_to_numpy(layer.kernel).copy()
                            for layer in self._layers}

    def on_train_batch_end(self, batch, logs=None):
        if self._before is None:
            return
        for layer in self._layers:
            before = self._before[layer.name]
            after = keras.ops.convert_to_numpy(layer.kernel)
            ratio = np.linalg.norm(after - before) / max(np.linalg.norm(before), 1e-12)
            self.update_ratios.setdefault(layer.name, []).append(float(ratio))
        self._before = None
