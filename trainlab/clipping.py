"""Gradient clipping, measured: the direction of a clipped step, and the step an optimizer takes.

Gradients themselves (``loss_gradients``, ``global_norm``) live in ``trainlab.gradients``.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from trainlab.gradients import _flat

ArrayLike = np.ndarray | Sequence[np.ndarray]


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


def applied_update(model: keras.Model, gradients: Sequence[np.ndarray],
                   optimizer: keras.optimizers.Optimizer) -> list[np.ndarray]:
    """What ``optimizer`` subtracts from each trainable variable when it applies ``gradients``.

    The optimizer takes one step from the model's current weights; the weights are then put back,
    so the model is unchanged. Returns ``weights_before - weights_after`` per variable: for
    ``SGD(learning_rate=1.0)`` that is the gradient after clipping, exactly what the optimizer
    used. Pass a fresh optimizer (it is built on the model's variables).

    Example:
        >>> step = applied_update(model, gradients, keras.optimizers.SGD(1.0, clipvalue=0.01))
        >>> cosine_similarity(step, gradients) < 1  # clipping by value turned the step
        True
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
