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

from trainlab import tracing


# A run has diverged when its training loss left the finite numbers, or climbed this many times
# above its first batch's loss (a cross-entropy that starts near ln 10 = 2.3 and reaches 23 is no
# longer learning, even if it comes back down later).
BLOWUP_FACTOR = 10.0
# ...or when, after its loss rose above twice its start, it predicts one class for (nearly) every
# validation image: the blow-up killed the network and the loss returned to a constant guess.
COLLAPSE_FACTOR, COLLAPSE_SHARE = 2.0, 0.99


@dataclass
class RunResult:
    """One training run: which contender, which seed, its per-epoch history and timings.

    ``first_loss`` and ``peak_loss`` are the first and the largest running training loss seen
    after any batch; ``majority_share`` is the share of validation images given the most common
    predicted class at the end. ``diverged`` reads them (see ``BLOWUP_FACTOR``).
    """

    name: str
    seed: int
    history: dict[str, list[float]]
    seconds_per_epoch: float
    test_accuracy: float | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    first_loss: float = math.nan
    peak_loss: float = math.nan
    majority_share: float = math.nan

    @property
    def diverged(self) -> bool:
        """True if the loss became NaN/inf, blew up, or collapsed to a constant prediction after
        rising. A network that never learns (stuck at chance, loss flat) has *not* diverged."""
        losses = self.history.get("loss", []) + self.history.get("val_loss", [])
        if any(not math.isfinite(v) for v in losses) or (
                not math.isnan(self.peak_loss) and not math.isfinite(self.peak_loss)):
            return True
        if math.isfinite(self.first_loss) and math.isfinite(self.peak_loss) and self.first_loss > 0:
            rise = self.peak_loss / self.first_loss
            if rise > BLOWUP_FACTOR:
                return True
            if rise > COLLAPSE_FACTOR and self.majority_share >= COLLAPSE_SHARE:
                return True
        return False

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


class _LossWatch(keras.callbacks.Callback):
    """Keep the first and the largest running training loss of a fit (for ``RunResult.diverged``)."""

    def __init__(self):
        super().__init__()
        self.first = self.peak = math.nan

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isnan(self.first):
            self.first = loss
        if not math.isfinite(loss):
            self.peak = math.inf
        elif math.isnan(self.peak) or loss > self.peak:
            self.peak = loss


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
    reuse: bool | dict[str, keras.Model] = True,
    validation: str = "epoch",
    validation_batch_size: int | None = None,
) -> list[RunResult]:
    """Train each contender once per seed on ``data`` and return one RunResult per run.

    ``builders`` maps a contender's name to a function returning a *compiled* model; the seed is
    set right before each build, as ``keras.utils.set_random_seed`` sets it (``tracing.reseed``),
    so weights, shuffling and dropout masks depend on the seed alone. ``data`` has
    ``x_train, y_train, x_valid, y_valid`` (and ``x_test, y_test`` when ``evaluate_test``),
    e.g. ``trainlab.data.load_fashion_mnist()``.
    Prints one line per run unless ``verbose`` is False.

    With ``reuse`` (the default), each contender's model is traced once: for every further seed
    a fresh model is built (cheap, untraced) and its whole state (weights, batch-norm statistics,
    random-layer seeds, the optimizer's slots and step count) is copied into the traced one, which
    then trains exactly as the fresh model would have. Each result's ``extras["model"]`` is its own
    model holding that run's final weights. Pass a dict as ``reuse`` to keep the traced models in
    it, by contender name, for later calls (e.g. one call per label budget).

    ``data`` may also be a function of the seed that returns the data for that seed (a different
    label sample per seed, say). ``validation="end"`` validates once, after the last epoch, instead
    of after each: the training images are then repeated ``epochs`` times and passed as one Keras
    epoch (a Keras epoch costs a data iterator and a validation pass, which can cost more than
    training a few hundred images), so the history holds one value per metric.
    ``validation_batch_size`` is the batch size of the validation passes (Keras' default: ``batch_size``).

    Example:
        >>> results = train_runs({"relu": build_relu, "elu": build_elu}, data, seeds=(0, 1), epochs=3,
        ...                      verbose=False)
        >>> [(r.name, r.seed, len(r.history["val_accuracy"])) for r in results]
        [('relu', 0, 3), ('relu', 1, 3), ('elu', 0, 3), ('elu', 1, 3)]
        >>> list(summary_table(results).index)
        ['relu', 'elu']
    """
    if not builders:
        raise ValueError("builders is empty: give at least one contender")
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if validation not in ("epoch", "end"):
        raise ValueError(f"validation must be 'epoch' or 'end', got {validation!r}")
    eval_batch = validation_batch_size or batch_size
    predict_batch = max(eval_batch, 512)
    results = []
    store = reuse if isinstance(reuse, dict) else {}
    for name, build in builders.items():
        for seed in seeds:
            seed_data = data(seed) if callable(data) else data
            x, y = seed_data.x_train, seed_data.y_train
            if validation == "end":  # all epochs as one pass over repeated images
                x, y = np.concatenate([x] * epochs), np.concatenate([y] * epochs)
            tracing.reseed(seed)
            model = build()
            if not getattr(model, "compiled", False):
                raise ValueError(f"the builder for {name!r} returned a model that is not compiled")
            tracing.build_training_state(model, x, y)
            traced = store.get(name)
            if reuse is not False and traced is not None and tracing.same_structure(traced, model):
                tracing.copy_state(model, traced)
                runner = traced
            else:
                runner = store[name] = model
            watch = _LossWatch()
            extra_callbacks = callbacks(name, seed) if callbacks else []
            start = time.perf_counter()
            valid = (seed_data.x_valid, seed_data.y_valid)
            history = runner.fit(
                x, y, validation_data=valid if validation == "epoch" else None,
                epochs=epochs if validation == "epoch" else 1, batch_size=batch_size,
                validation_batch_size=validation_batch_size, verbose=0, callbacks=[*extra_callbacks, watch],
            ).history
            if validation == "end":
                scores = runner.evaluate(*valid, batch_size=eval_batch, verbose=0, return_dict=True)
                history.update({f"val_{k}": [v] for k, v in scores.items()})
            # per epoch actually run: a callback such as EarlyStopping may end the fit early
            ran = len(history.get("loss", [])) if validation == "epoch" else epochs
            seconds = (time.perf_counter() - start) / max(ran, 1)
            if runner is not model:
                tracing.copy_state(runner, model)
            elif reuse is not False and (len(seeds) > 1 or store is reuse):  # it goes on: keep a copy
                model = build()
                tracing.build_training_state(model, x, y)
                tracing.copy_state(runner, model)
            result = RunResult(name, seed, {k: [float(v) for v in vs] for k, vs in history.items()},
                               seconds, first_loss=watch.first, peak_loss=watch.peak)
            if watch.peak > COLLAPSE_FACTOR * watch.first:  # rose: did it collapse to one class?
                result.majority_share = _majority_share(runner, seed_data.x_valid, predict_batch)
            if evaluate_test:
                result.test_accuracy = _accuracy(runner, seed_data.x_test, seed_data.y_test, predict_batch)
            result.extras["model"] = model
            results.append(result)
            if verbose:
                test = f", test acc {result.test_accuracy:.3f}" if evaluate_test else ""
                flag = "  DIVERGED" if result.diverged else ""
                print(f"{name:<22} seed {seed}: val acc {result.final_val_accuracy:.3f}{test}"
                      f"  ({seconds:.2f} s/epoch){flag}")
    return results


def _majority_share(model: keras.Model, x: np.ndarray, batch_size: int) -> float:
    """Share of the images given the most common predicted class."""
    probabilities = model.predict(x, batch_size=batch_size, verbose=0)
    if not np.all(np.isfinite(probabilities)):
        return 1.0
    counts = np.bincount(np.argmax(probabilities, axis=1))
    return float(counts.max() / counts.sum())


def _accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    """Top-1 accuracy of a classifier that outputs class probabilities."""
    probabilities = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(probabilities, axis=1) == y))


def mean_std(values: Sequence[float], digits: int = 3) -> str:
    """Format values as 'mean ± std', the sample standard deviation (ddof=1) over the values.

    One value gets no ± (a spread needs two). NaNs are left out and counted.

    Example:
        >>> mean_std([0.81, 0.83, 0.85])
        '0.830 ± 0.020'
    """
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        raise ValueError("mean_std needs at least one value")
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return "diverged (NaN)"
    text = f"{finite.mean():.{digits}f}"
    if finite.size > 1:
        text += f" ± {finite.std(ddof=1):.{digits}f}"
    if finite.size < array.size:
        text += f" ({array.size - finite.size} of {array.size} NaN)"
    return text


def summary_table(results: Sequence[RunResult], *, digits: int = 3) -> pd.DataFrame:
    """One row per contender: how many runs diverged, then the final and best validation accuracy
    (mean ± sample std over the runs that did *not* diverge), test accuracy if measured, time.

    A diverged run's accuracy is never averaged in: a net that blew up and predicts one class
    scores 0.100, which would read like a net stuck at chance. Contenders whose every run diverged
    show "diverged".

    Example:
        >>> list(summary_table(results).columns)
        ['seeds', 'diverged', 'final val acc', 'best val acc', 's/epoch']
    """
    if not results:
        raise ValueError("summary_table needs at least one RunResult")
    rows = []
    for name in dict.fromkeys(r.name for r in results):
        runs = [r for r in results if r.name == name]
        kept = [r for r in runs if not r.diverged]
        row = {"technique": name, "seeds": len(runs), "diverged": f"{len(runs) - len(kept)} of {len(runs)}"}
        for column, value in (("final val acc", lambda r: r.final_val_accuracy),
                              ("best val acc", lambda r: r.best_val_accuracy)):
            row[column] = mean_std([value(r) for r in kept], digits) if kept else "diverged"
        if all(r.test_accuracy is not None for r in runs):
            row["test acc"] = mean_std([r.test_accuracy for r in kept], digits) if kept else "diverged"
        row["s/epoch"] = f"{np.mean([r.seconds_per_epoch for r in runs]):.2f}"
        rows.append(row)
    return pd.DataFrame(rows).set_index("technique")


def finals(results: Sequence[RunResult], name: str, *, include_diverged: bool = False) -> list[float]:
    """The final validation accuracies of one contender's runs (diverged runs left out by default).

    Example:
        >>> len(finals(results, "he"))  # one per seed
        2
    """
    runs = [r for r in results if r.name == name]
    if not runs:
        raise ValueError(f"no run named {name!r}; the names are {sorted({r.name for r in results})}")
    return [r.final_val_accuracy for r in runs if include_diverged or not r.diverged]


def histories_by_name(results: Sequence[RunResult]) -> dict[str, list[dict[str, list[float]]]]:
    """Group the runs' histories by contender, ready for ``plots.plot_learning_curves``."""
    grouped: dict[str, list[dict[str, list[float]]]] = {}
    for r in results:
        grouped.setdefault(r.name, []).append(r.history)
    return grouped


# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom (any statistics table).
_T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
          2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
          2.052, 2.048, 2.045, 2.042)


def mean_ci95(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and two-sided 95% confidence interval of the mean (Student's t, sample std).

    Example:
        >>> [round(v, 3) for v in mean_ci95([0.01, 0.03, 0.02, 0.04])]
        [0.025, 0.004, 0.046]
    """
    array = np.asarray(values, dtype=float)
    if array.size < 2 or not np.all(np.isfinite(array)):
        raise ValueError(f"a confidence interval needs two or more finite values, got {list(values)}")
    df = array.size - 1
    z = 1.959964
    t = _T_975[df - 1] if df <= len(_T_975) else z + (z**3 + z) / (4 * df)
    half = t * array.std(ddof=1) / math.sqrt(array.size)
    return float(array.mean()), float(array.mean() - half), float(array.mean() + half)


def compare_to_baseline(results: Sequence[RunResult], baseline: str, *,
                        metric: str = "final_val_accuracy") -> pd.DataFrame:
    """Each contender against ``baseline``, paired by seed: the metric's mean and sample std, the
    mean gain over the baseline with its 95% confidence interval (t over the seeds), and on how
    many seeds the contender won, lost or tied. Diverged runs leave their seed out of the pair.

    ``metric`` is a RunResult attribute: "final_val_accuracy", "best_val_accuracy" or
    "test_accuracy". A gain whose interval contains 0 is not distinguishable from no gain here.

    Example:
        >>> table = compare_to_baseline(results, "scratch")
        >>> table.loc["he", ["seeds", "wins", "losses"]].sum()  # each seed is won, lost or tied
        np.float64(4.0)
    """
    by_name: dict[str, dict[int, float]] = {}
    for r in results:
        value = getattr(r, metric, None)
        if value is None or callable(value):
            raise ValueError(f"metric {metric!r} is not a number on the runs: use final_val_accuracy, "
                             "best_val_accuracy or test_accuracy (evaluate_test=True)")
        by_name.setdefault(r.name, {})[r.seed] = math.nan if r.diverged else float(value)
    if baseline not in by_name:
        raise ValueError(f"no run named {baseline!r}; the names are {list(by_name)}")
    rows = []
    for name, values in by_name.items():
        seeds = [s for s in values if s in by_name[baseline]
                 and math.isfinite(values[s]) and math.isfinite(by_name[baseline][s])]
        mine = np.array([values[s] for s in seeds])
        gains = mine - np.array([by_name[baseline][s] for s in seeds])
        row = {"technique": name, "seeds": len(seeds), "mean": mine.mean() if seeds else math.nan,
               "std": mine.std(ddof=1) if len(seeds) > 1 else math.nan}
        if name != baseline:
            low = high = math.nan
            if len(seeds) > 1:
                _, low, high = mean_ci95(gains)
            row.update({"gain": gains.mean() if seeds else math.nan, "gain 95% low": low,
                        "gain 95% high": high, "wins": int((gains > 0).sum()),
                        "losses": int((gains < 0).sum())})
        rows.append(row)
    return pd.DataFrame(rows).set_index("technique")
