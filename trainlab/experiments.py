"""Fair comparisons: train every contender on the same data, epochs and seeds, then tabulate."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import pandas as pd


@dataclass
class RunResult:
    """One training run: which contender, which seed, its per-epoch history and timings."""

    name: str
    seed: int
    history: dict[str, list[float]]
    seconds_per_epoch: float
    test_accuracy: float | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def final_val_accuracy(self) -> float:
        """Validation accuracy after the last epoch (NaN if the run has none)."""
        values = self.history.get("val_accuracy", [])
        return float(values[-1]) if values else math.nan

    @property
    def best_val_accuracy(self) -> float:
        """Best validation accuracy over all epochs (NaN if the run has none)."""
        values = [v for v in self.history.get("val_accuracy", []) if not math.isnan(v)]
        return float(max(values)) if values else math.nan


def train_runs(
    builders: Mapping[str, Callable[[], keras.Model]],
    data: Any,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    epochs: int = 5,
    batch_size: int = 128,
    evaluate_test: bool = False,
    callbacks: Callable[[str, int], list[keras.callbacks.Callback]] | None = None,
    verbose: bool = True,
) -> list[RunResult]:
    """Train each contender once per seed on ``data`` and return one RunResult per run.

    ``builders`` maps a contender's name to a function returning a *compiled* model; the seed is
    set with ``keras.utils.set_random_seed`` right before each build, so weights, shuffling and
    dropout masks depend on the seed alone. ``data`` has ``x_train, y_train, x_valid, y_valid``
    (and ``x_test, y_test`` when ``evaluate_test``), e.g. ``trainlab.data.load_fashion_mnist()``.
    Prints one line per run unless ``verbose`` is False.

    Example:
        >>> results = train_runs({"relu": build_relu, "elu": build_elu}, data, seeds=(0, 1), epochs=3)
        >>> summary_table(results)
    """
    if not builders:
        raise ValueError("builders is empty: give at least one contender")
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    results = []
    for name, build in builders.items():
        for seed in seeds:
            keras.utils.set_random_seed(seed)
            model = build()
            if not getattr(model, "compiled", False):
                raise ValueError(f"the builder for {name!r} returned a model that is not compiled")
            _build_training_state(model, data.x_train, data.y_train)
            extra_callbacks = callbacks(name, seed) if callbacks else []
            start = time.perf_counter()
            history = model.fit(
                data.x_train, data.y_train,
                validation_data=(data.x_valid, data.y_valid),
                epochs=epochs, batch_size=batch_size, verbose=0, callbacks=extra_callbacks,
            )
            seconds = (time.perf_counter() - start) / epochs
            result = RunResult(name, seed, {k: [float(v) for v in vs] for k, vs in history.history.items()},
                               seconds)
            if evaluate_test:
                result.test_accuracy = _accuracy(model, data.x_test, data.y_test, batch_size)
            result.extras["model"] = model
            results.append(result)
            if verbose:
                test = f", test acc {result.test_accuracy:.3f}" if evaluate_test else ""
                print(f"{name:<22} seed {seed}: val acc {result.final_val_accuracy:.3f}{test}"
                      f"  ({seconds:.2f} s/epoch)")
    return results


def _build_training_state(model: keras.Model, x: np.ndarray, y: np.ndarray) -> None:
    """Create the compiled metrics' and the optimizer's variables eagerly, before ``fit``.

    Keras would otherwise create them while TensorFlow traces the first training step, and a
    traced function that creates variables is traced a second time: on a CPU that doubles the
    start-up cost of each run (about a third of a short run). The results are unchanged: these
    variables start at fixed values (zeros, ones) and draw no random numbers. Models without
    known inputs are left alone (Keras builds them at the first batch as usual), and so is data
    that is not an array.
    """
    if not model.built or not getattr(model, "inputs", None) or not isinstance(x, np.ndarray):
        return
    x, y = x[:2], y[:2]
    model.compute_metrics(x, y, model(x, training=False))
    model.reset_metrics()
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def _accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    """Top-1 accuracy of a classifier that outputs class probabilities."""
    probabilities = model.predict(x, batch_size=max(batch_size, 512), verbose=0)
    return float(np.mean(np.argmax(probabilities, axis=1) == y))


def mean_std(values: Sequence[float], digits: int = 3) -> str:
    """Format values as 'mean ± std' (population std over seeds); NaNs count as failures.

    Example:
        >>> mean_std([0.81, 0.83, 0.85])
        '0.830 ± 0.016'
    """
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        raise ValueError("mean_std needs at least one value")
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return "diverged (NaN)"
    text = f"{finite.mean():.{digits}f} ± {finite.std():.{digits}f}"
    if finite.size < array.size:
        text += f" ({array.size - finite.size} of {array.size} NaN)"
    return text


def summary_table(results: Sequence[RunResult], *, digits: int = 3) -> pd.DataFrame:
    """One row per contender: final and best validation accuracy (mean ± std over seeds), time.

    Example:
        >>> summary_table(results)  # doctest: +SKIP
    """
    if not results:
        raise ValueError("summary_table needs at least one RunResult")
    rows = []
    for name in dict.fromkeys(r.name for r in results):
        runs = [r for r in results if r.name == name]
        row = {
            "technique": name,
            "seeds": len(runs),
            "final val acc": mean_std([r.final_val_accuracy for r in runs], digits),
            "best val acc": mean_std([r.best_val_accuracy for r in runs], digits),
        }
        if all(r.test_accuracy is not None for r in runs):
            row["test acc"] = mean_std([r.test_accuracy for r in runs], digits)
        row["s/epoch"] = f"{np.mean([r.seconds_per_epoch for r in runs]):.2f}"
        rows.append(row)
    return pd.DataFrame(rows).set_index("technique")


def histories_by_name(results: Sequence[RunResult]) -> dict[str, list[dict[str, list[float]]]]:
    """Group the runs' histories by contender, ready for ``plots.plot_learning_curves``."""
    grouped: dict[str, list[dict[str, list[float]]]] = {}
    for r in results:
        grouped.setdefault(r.name, []).append(r.history)
    return grouped
