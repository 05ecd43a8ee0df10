"""Gradient clipping, measured: global gradient norms, directions, and the step an optimizer takes."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

ArrayLike = np.ndarray | Sequence[np.ndarray]


def _flat(values: ArrayLike) -> np.ndarray:
    """One float64 vector from an array or a list of arrays (a gradient per variable)."""
    if isinstance(values, np.ndarray):
        return values.astype(np.float64).ravel()
    parts = [np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float64).ravel() for v in values]
    if not parts:
        raise ValueError("got an empty list of arrays")
    return np.concatenate(parts)


def global_norm(values: ArrayLike) -> float:
    """L2 norm of all values together, as if concatenated into one vector.

    This is the norm ``global_clipnorm`` compares with its threshold.

    Example:
        >>> global_norm([np.array([3.0]), np.array([[4.0]])])
        5.0
    """
    return float(np.linalg.norm(_flat(values)))


def cosine_similarity(a: ArrayLike, b: ArrayLike) -> float:
    """Cosine of the angle between two vectors (lists of arrays are concatenated first).

    1 means the same direction; NaN if either vector is zero or not finite.

    Example:
        >>> cosine_similarity(np.array([1.0, 0.0]), np.array([2.0, 0.0]))
        1.0
    """
    a, b = _flat(a), _flat(b)
    if a.shape != b.shape:
        raise ValueError(f"the vectors differ in size: {a.size} and {b.size}")
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    if not np.isfinite(norms) or norms == 0.0:
        return float("nan")
    return float(np.clip(a @ b / norms, -1.0, 1.0))


def loss_gradients(model: keras.Model, x: np.ndarray, y: np.ndarray, training: bool = True
                   ) -> list[np.ndarray]:
    """Gradient of the compiled loss on (x, y) w.r.t. each trainable variable, as numpy arrays.

    In the order of ``model.trainable_variables``. With ``training=True``, batch normalization
    layers normalize with the batch's statistics (and update their moving averages).

    Example:
        >>> gradients = loss_gradients(model, data.x_train[:512], data.y_train[:512])
        >>> global_norm(gradients)
    """
    if not getattr(model, "compiled", False) or model.loss is None:
        raise ValueError("compile the model with a loss first: the gradient is of the compiled loss")
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        y_pred = model(x, training=training)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=training)
    gradients = tape.gradient(loss, model.trainable_variables)
    return [np.zeros(v.shape, dtype=np.float32) if g is None else keras.ops.convert_to_numpy(g)
            for v, g in zip(model.trainable_variables, gradients)]


def applied_update(model: keras.Model, gradients: Sequence[np.ndarray],
                   optimizer: keras.optimizers.Optimizer) -> list[np.ndarray]:
    """What ``optimizer`` subtracts from each trainable variable when it applies ``gradients``.

    The optimizer takes one step from the model's current weights; the weights are then put back,
    so the model is unchanged. Returns ``weights_before - weights_after`` per variable: for
    ``SGD(learning_rate=1.0)`` that is the gradient after clipping, exactly what the optimizer
    used. Pass a fresh optimizer (it is built on the model's variables).

    Example:
        >>> step = applied_update(model, gradients, keras.optimizers.SGD(1.0, clipvalue=0.01))
        >>> cosine_similarity(step, gradients)  # < 1: clipping by value turned the step
    """
    variables = model.trainable_variables
    if len(gradients) != len(variables):
        raise ValueError(f"got {len(gradients)} gradients for {len(variables)} trainable variables")
    before = [keras.ops.convert_to_numpy(v).copy() for v in variables]
    try:
        optimizer.apply([keras.ops.convert_to_tensor(g) for g in gradients], variables)
        after = [keras.ops.convert_to_numpy(v).copy() for v in variables]
    finally:
        for variable, value in zip(variables, before):
            variable.assign(value)
    return [b - a for b, a in zip(before, after)]


class GradientNormRecorder(keras.callbacks.Callback):
    """Record the global norm of the loss gradient, on a fixed probe batch, before training steps.

    Every ``every`` calls of ``on_train_batch_begin`` (each training step, unless the model was
    compiled with ``steps_per_execution`` > 1) it computes the gradient of the compiled loss on
    ``(x_probe, y_probe)`` at the current weights, with ``training=True``, and appends its global
    norm (all trainable variables together, as ``global_clipnorm`` sees it) to ``norms`` and the
    optimizer's step count to ``steps``. The norm is the raw one: clipping acts later, inside the
    optimizer. A diverged run records ``inf`` or ``nan``.

    Example:
        >>> recorder = GradientNormRecorder(data.x_train[:256], data.y_train[:256])
        >>> model.fit(data.x_train, data.y_train, epochs=2, callbacks=[recorder], verbose=0)
        >>> plt.semilogy(recorder.steps, recorder.norms)
    """

    def __init__(self, x_probe: np.ndarray, y_probe: np.ndarray, every: int = 1):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int (calls between records), got {every!r}")
        if len(x_probe) != len(y_probe) or len(x_probe) == 0:
            raise ValueError("x_probe and y_probe must be non-empty and of the same length")
        self.x_probe = tf.convert_to_tensor(x_probe)
        self.y_probe = tf.convert_to_tensor(y_probe)
        self.every = every
        self.steps: list[int] = []
        self.norms: list[float] = []
        self._calls = 0
        self._norm_function = None

    def on_train_begin(self, logs=None):
        model = self.model
        if not getattr(model, "compiled", False) or model.loss is None:
            raise ValueError("compile the model with a loss first: the gradient is of the compiled loss")

        @tf.function
        def probe_norm():
            with tf.GradientTape() as tape:
                y_pred = model(self.x_probe, training=True)
                loss = model.compute_loss(x=self.x_probe, y=self.y_probe, y_pred=y_pred, training=True)
            gradients = tape.gradient(loss, model.trainable_variables)
            return tf.linalg.global_norm([g for g in gradients if g is not None])

        self._norm_function = probe_norm

    def on_train_batch_begin(self, batch, logs=None):
        if self._calls % self.every == 0:
            self.steps.append(int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)))
            self.norms.append(float(self._norm_function()))
        self._calls += 1
