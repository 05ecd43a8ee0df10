"""How far to trust a classifier's probabilities: log-loss, Brier score, expected calibration error,
reliability bins, temperature scaling and Monte Carlo dropout averages.

Every function takes ``probabilities`` of shape (images, classes), rows summing to 1 (what a softmax
output layer predicts), and integer ``labels`` of shape (images,).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

# A probability is clipped to at least this before its log is taken: a confident mistake then costs
# -log(1e-7) = 16.1 nats instead of infinity (the clip Keras' cross-entropy applies, its epsilon).
EPSILON = 1e-7


def _checked(probabilities: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(f"probabilities must have shape (images, classes) with 2 or more classes, "
                         f"got shape {p.shape}")
    if y.shape != (p.shape[0],):
        raise ValueError(f"labels must have shape ({p.shape[0]},), one integer class per row of "
                         f"probabilities, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.equal(np.mod(y, 1), 0)):
            raise ValueError("labels must be integer class indices (not one-hot rows or scores)")
        y = y.astype(np.int64)
    if y.min() < 0 or y.max() >= p.shape[1]:
        raise ValueError(f"labels must lie in 0..{p.shape[1] - 1}, got {y.min()}..{y.max()}")
    if not np.all(np.isfinite(p)) or p.min() < 0:
        raise ValueError("probabilities must be finite and >= 0 (pass the softmax output, not logits)")
    sums = p.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-3):
        worst = float(sums[np.argmax(np.abs(sums - 1))])
        raise ValueError(f"each row of probabilities must sum to 1 (a row sums to {worst:.4g}): pass the "
                         "softmax output, not logits")
    return p, y


def log_loss(probabilities: Any, labels: Any) -> float:
    """Mean negative log-probability of the true class, in nats (the cross-entropy Keras reports).

    Example:
        >>> round(log_loss([[0.5, 0.5], [0.9, 0.1]], [0, 0]), 4)  # (ln 2 + ln(1/0.9)) / 2
        0.3993
    """
    p, y = _checked(probabilities, labels)
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], EPSILON, 1.0))))


def brier_score(probabilities: Any, labels: Any) -> float:
    """Mean squared distance between the probabilities and the one-hot label, summed over classes
    (Brier 1950): 0 for certain and right, 2 for certain and wrong.

    Example:
        >>> brier_score([[1.0, 0.0], [0.5, 0.5]], [0, 1])  # (0 + (0.25 + 0.25)) / 2
        0.25
    """
    p, y = _checked(probabilities, labels)
    one_hot = np.eye(p.shape[1])[y]
    return float(np.mean(np.sum((p - one_hot) ** 2, axis=1)))


def reliability_bins(probabilities: Any, labels: Any, n_bins: int = 15) -> pd.DataFrame:
    """Group the images by confidence (their top probability) into ``n_bins`` equal-width bins of
    [0, 1]; one row per bin: its edges, how many images, their mean confidence and their accuracy
    (NaN for an empty bin). A calibrated model has accuracy = confidence in every bin.

    Example:
        >>> table = reliability_bins([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]], [0, 1, 1], n_bins=5)
        >>> table[["count", "confidence", "accuracy"]].dropna().values.tolist()  # bins (0.6, 0.8], (0.8, 1]
        [[2.0, 0.75, 0.5], [1.0, 0.9, 1.0]]
    """
    p, y = _checked(probabilities, labels)
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive int, got {n_bins!r}")
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bins are (low, high]; a confidence of exactly 0 (impossible for a softmax) joins the first.
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        members = index == b
        count = int(members.sum())
        rows.append({"low": edges[b], "high": edges[b + 1], "count": count,
                     "confidence": float(confidence[members].mean()) if count else math.nan,
                     "accuracy": float(correct[members].mean()) if count else math.nan})
    return pd.DataFrame(rows)


def expected_calibration_error(probabilities: Any, labels: Any, n_bins: int = 15) -> float:
    """Expected calibration error (Guo et al. 2017): the gap |accuracy - confidence| of each
    confidence bin, weighted by the share of images in the bin. 0 means calibrated.

    Example:
        >>> p = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]]
        >>> round(expected_calibration_error(p, [0, 1, 1], n_bins=5), 4)  # 2/3 * 0.25 + 1/3 * 0.1
        0.2
    """
    table = reliability_bins(probabilities, labels, n_bins)
    filled = table[table["count"] > 0]
    weights = filled["count"] / filled["count"].sum()
    return float(np.sum(weights * np.abs(filled["accuracy"] - filled["confidence"])))


def calibration_report(probabilities: Any, labels: Any, n_bins: int = 15) -> dict[str, float]:
    """Accuracy, log-loss, Brier score and ECE of one set of predictions, as a dict (one table row).

    Example:
        >>> calibration_report([[0.9, 0.1], [0.2, 0.8]], [0, 1])["accuracy"]
        1.0
    """
    p, y = _checked(probabilities, labels)
    return {"accuracy": float(np.mean(p.argmax(axis=1) == y)), "log_loss": log_loss(p, y),
            "brier": brier_score(p, y), "ece": expected_calibration_error(p, y, n_bins)}


def apply_temperature(probabilities: Any, temperature: float) -> np.ndarray:
    """Soften (T > 1) or sharpen (T < 1) probabilities: softmax(log(p) / T), the same as dividing
    the logits by T. The predicted class never changes, so neither does the accuracy.

    Example:
        >>> apply_temperature([[0.8, 0.2]], 2.0).round(3).tolist()  # sqrt(0.8) : sqrt(0.2)
        [[0.667, 0.333]]
    """
    if isinstance(temperature, bool) or not math.isfinite(float(temperature)) or float(temperature) <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"probabilities must have shape (images, classes), got shape {p.shape}")
    logits = np.log(np.clip(p, EPSILON, 1.0)) / float(temperature)
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


def _nll_at(log_p: np.ndarray, y: np.ndarray, temperature: float) -> float:
    z = log_p / temperature
    z = z - z.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))


def fit_temperature(probabilities: Any, labels: Any, *, low: float = 0.05, high: float = 20.0) -> float:
    """The temperature T that minimizes the log-loss of ``apply_temperature(probabilities, T)`` on
    held-out data (Guo et al. 2017): fit it on a validation set, then apply it to new predictions.

    The log-loss is convex in 1/T, so a golden-section search over log T in [``low``, ``high``]
    finds the minimum; a T at either end means the search range was too narrow.

    Example:
        >>> probabilities = np.array([[0.99, 0.01]] * 8 + [[0.01, 0.99]] * 2)  # sure, and 20% wrong
        >>> T = fit_temperature(probabilities, np.zeros(10, dtype=int))
        >>> round(T, 3), round(math.log(99) / math.log(4), 3)  # 99 ** (1 / T) = 4 gives 0.99 -> 0.8
        (3.315, 3.315)
        >>> round(float(apply_temperature(probabilities, T)[0, 0]), 3)  # now as sure as it is right
        0.8
    """
    p, y = _checked(probabilities, labels)
    if not 0 < low < high or not math.isfinite(high):
        raise ValueError(f"need 0 < low < high, got low={low!r}, high={high!r}")
    log_p = np.log(np.clip(p, EPSILON, 1.0))
    a, b = math.log(low), math.log(high)
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = _nll_at(log_p, y, math.exp(c)), _nll_at(log_p, y, math.exp(d))
    while b - a > 1e-6:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = _nll_at(log_p, y, math.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = _nll_at(log_p, y, math.exp(d))
    return math.exp((a + b) / 2)


def mc_predict(model: Any, x: Any, passes: int = 30, *, batch_size: int = 1024,
               return_passes: bool = False) -> np.ndarray:
    """Monte Carlo dropout (Gal & Ghahramani 2016): the mean of ``passes`` stochastic predictions.

    The model must hold ``trainlab.layers.MCDropout`` layers, which drop units in ``predict`` too,
    while batch normalization keeps its inference statistics. With ``return_passes`` the array of
    every pass, shape (passes, images, classes), is returned instead of the mean.

    Example:
        >>> mc = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, activation="relu"),
        ...                        layers.MCDropout(0.5), keras.layers.Dense(10, activation="softmax")])
        >>> mc_predict(mc, small.x_valid[:4], passes=5, return_passes=True).shape
        (5, 4, 10)
    """
    from trainlab.layers import MCDropout

    if isinstance(passes, bool) or not isinstance(passes, int) or passes < 1:
        raise ValueError(f"passes must be a positive int, got {passes!r}")
    if not any(isinstance(layer, MCDropout) for layer in model._flatten_layers(include_self=False)):
        raise ValueError("the model has no trainlab.layers.MCDropout layer, so every pass of predict "
                         "would be the same: build it with MCDropout where it has Dropout (Keras' own "
                         "Dropout is switched off by predict)")
    runs = np.stack([model.predict(x, batch_size=batch_size, verbose=0) for _ in range(passes)])
    return runs if return_passes else runs.mean(axis=0)
