"""Functions of two variables to watch optimizers on, and the paths real Keras optimizers take."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf  # for tf.GradientTape


def ill_conditioned_quadratic(condition: float = 20.0) -> Callable:
    """f(x, y) = (x² + condition·y²) / 2: a ravine whose curvature differs by ``condition``
    between the two directions. Minimum 0 at the origin. Works on arrays and tensors alike.

    Example:
        >>> f = ill_conditioned_quadratic(10.0)
        >>> float(f(np.array([1.0, 1.0])))
        5.5
    """
    if not condition >= 1:
        raise ValueError(f"condition must be at least 1, got {condition!r}")

    def f(point):
        return 0.5 * (point[0] ** 2 + condition * point[1] ** 2)
    return f


def rosenbrock(point):
    """Rosenbrock's banana valley, f(x, y) = (1 − x)² + 100 (y − x²)², minimum 0 at (1, 1).

    Example:
        >>> float(rosenbrock(np.array([1.0, 1.0])))
        0.0
    """
    return (1 - point[0]) ** 2 + 100 * (point[1] - point[0] ** 2) ** 2


def optimizer_path(optimizer: keras.optimizers.Optimizer, f: Callable, start: Sequence[float],
                   steps: int) -> np.ndarray:
    """Run a Keras optimizer for ``steps`` steps on ``f`` from ``start``; return the (steps + 1, 2)
    array of points it visits. Nothing is re-implemented: each step is the optimizer's own
    ``apply_gradients`` on a ``keras.Variable`` holding the point.

    Example:
        >>> path = optimizer_path(keras.optimizers.SGD(0.1), ill_conditioned_quadratic(), (1.0, 1.0), 5)
        >>> path.shape
        (6, 2)
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    start = np.asarray(start, dtype="float32")
    if start.shape != (2,):
        raise ValueError(f"start must be a point (x, y), got shape {start.shape}")
    point = keras.Variable(start, name="point")
    path = [start.copy()]
    for _ in range(steps):
        with tf.GradientTape() as tape:
            value = f(point)
        optimizer.apply_gradients([(tape.gradient(value, point), point)])
        path.append(keras.ops.convert_to_numpy(point).copy())
    return np.array(path)


def steps_to_reach(path: np.ndarray, f: Callable, tolerance: float) -> int | None:
    """The first step at which f falls below ``tolerance`` (None if it never does).

    Example:
        >>> steps_to_reach(np.array([[1.0, 1.0], [0.1, 0.0]]), ill_conditioned_quadratic(), 0.01)
        1
    """
    values = np.array([float(f(p)) for p in np.asarray(path, dtype=float)])
    below = np.flatnonzero(values < tolerance)
    return int(below[0]) if below.size else None
