"""Figures of the course: learning curves, image grids and the per-layer diagnostic plots."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

# One colour per technique, the same in every notebook (Okabe-Ito and tab10 shades).
PALETTE: dict[str, str] = {
    # the intro's two contenders
    "naive": "#999999", "fixed": "#0072B2",
    # activations
    "sigmoid": "#7f7f7f", "tanh": "#8c564b", "relu": "#0072B2", "leaky_relu": "#56B4E9",
    "prelu": "#009E73", "rrelu": "#66c2a5", "elu": "#E69F00", "selu": "#D55E00",
    "gelu": "#CC79A7", "silu": "#9467bd", "swish": "#9467bd", "mish": "#bcbd22",
    # initializers
    "random_normal": "#999999", "glorot": "#E69F00", "he": "#0072B2", "lecun": "#D55E00",
    # batch normalization
    "no_bn": "#999999", "bn": "#009E73", "bn_before": "#009E73", "bn_after": "#CC79A7",
    # gradient clipping
    "no_clipping": "#999999", "clipnorm": "#0072B2", "global_clipnorm": "#009E73",
    "clipvalue": "#D55E00",
    # transfer learning and pretraining (part 2): scratch is the black baseline
    "scratch": "#000000", "linear_probe": "#56B4E9", "lp_ft": "#009E73", "ft_same_lr": "#0072B2",
    "ft_low_lr": "#CC79A7", "frozen_layers": "#E69F00", "trap": "#D55E00", "fix": "#009E73",
    "autoencoder_finetune": "#0072B2", "autoencoder_probe": "#56B4E9", "random_probe": "#999999",
    "pca_probe": "#E69F00", "pixels_probe": "#7f7f7f", "rotation_finetune": "#D55E00",
    "rotation_probe": "#F0A582",
    # optimizers (part 3): the SGD family in blues, adaptive methods in warm shades
    "sgd": "#999999", "momentum": "#56B4E9", "nesterov": "#0072B2", "adagrad": "#8c564b",
    "rmsprop": "#E69F00", "adam": "#D55E00", "adamax": "#bcbd22", "nadam": "#CC79A7",
    "adamw": "#009E73", "lion": "#9467bd", "muon": "#17becf", "ema": "#009E73", "no_ema": "#999999",
    # learning-rate schedules (part 3): the constant rate is the grey baseline
    "constant": "#999999", "inverse_time": "#8c564b", "exponential": "#E69F00", "piecewise": "#56B4E9",
    "plateau": "#CC79A7", "cosine_warmup": "#0072B2", "one_cycle": "#D55E00",
    # regularization and uncertainty (part 4): no regularization is the grey baseline
    "no_reg": "#999999", "l1": "#E69F00", "l2": "#0072B2", "l1_l2": "#8c564b",
    "weight_decay": "#009E73", "adam_l2": "#D55E00", "dropout": "#56B4E9", "alpha_dropout": "#F0A582",
    "max_norm": "#CC79A7", "dropout_max_norm": "#9467bd", "single_pass": "#999999",
    "mc_dropout": "#56B4E9", "temperature": "#009E73", "ensemble": "#D55E00",
    "early_stopping": "#009E73", "fixed_epochs": "#999999", "val_loss": "#0072B2",
    "val_accuracy": "#E69F00", "default": "#0072B2", "self_normalizing": "#D55E00", "cnn": "#000000",
}
_FALLBACK = list(plt.get_cmap("tab10").colors)


def _key(name: str) -> str:
    return name.lower().strip().replace(" ", "_").replace("-", "_").replace("+", "_")


def technique_color(name: str) -> Any:
    """The course-wide colour of a technique; unknown names get a stable colour from their name.

    Example:
        >>> technique_color("He")
        '#0072B2'
    """
    key = _key(name)
    if key in PALETTE:
        return PALETTE[key]
    for known, colour in PALETTE.items():  # "relu + he" -> the first known word
        if key.startswith(known + "_"):
            return colour
    return _FALLBACK[zlib.crc32(key.encode()) % len(_FALLBACK)]


def _as_history(run: Any) -> Mapping[str, Sequence[float]]:
    history = getattr(run, "history", run)
    if not isinstance(history, Mapping):
        raise ValueError(f"expected a keras History or a dict of metric lists, got {type(run).__name__}")
    return history


def plot_learning_curves(histories: Mapping[str, Any], metric: str = "accuracy", ax=None,
                         title: str | None = None, show_train: bool = True):
    """Plot validation (solid) and training (dashed) curves of several techniques on one axes.

    ``histories`` maps a technique to a Keras ``History``, a ``history.history`` dict, or a list
    of them (several seeds): then the mean is drawn with a band from the minimum to the maximum.

    Example:
        >>> ax = plot_learning_curves({"relu": history_relu, "elu": [h0, h1, h2]}, metric="loss")
    """
    if not histories:
        raise ValueError("histories is empty")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    for name, runs in histories.items():
        runs = runs if isinstance(runs, (list, tuple)) else [runs]
        runs = [_as_history(r) for r in runs]
        for prefix, style in (("val_", "-"), ("", "--")):
            if prefix == "" and not show_train:
                continue
            key = prefix + metric
            if not all(key in r for r in runs):
                if prefix == "val_":
                    continue
                raise ValueError(f"no {key!r} in the history of {name!r}; it has {sorted(runs[0])}")
            curves = np.array([r[key] for r in runs], dtype=float)
            epochs = np.arange(1, curves.shape[1] + 1)
            label = f"{name} ({'validation' if prefix else 'training'})"
            ax.plot(epochs, curves.mean(axis=0), style, color=technique_color(name), label=label)
            if len(runs) > 1:
                ax.fill_between(epochs, curves.min(axis=0), curves.max(axis=0),
                                color=technique_color(name), alpha=0.15, linewidth=0)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric} per epoch")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def plot_image_grid(images: np.ndarray, labels: Sequence[int], class_names: Sequence[str] | None = None,
                    n_cols: int = 8, predictions: Sequence[int] | None = None, title: str | None = None):
    """Show images in a grid titled with their class names (and predictions, red when wrong).

    Example:
        >>> fig = plot_image_grid(data.x_train[:16], data.y_train[:16])
    """
    from trainlab.data import CLASS_NAMES

    names = list(class_names or CLASS_NAMES)
    count = len(images)
    if count == 0 or count != len(labels):
        raise ValueError(f"need as many labels as images (and at least one), got {count} and {len(labels)}")
    n_rows = int(np.ceil(count / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.3 * n_cols, 1.5 * n_rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= count:
            continue
        ax.imshow(np.asarray(images[i]).reshape(28, 28), cmap="binary")
        text, colour = names[labels[i]], "black"
        if predictions is not None:
            text = f"{names[predictions[i]]}\n(true: {names[labels[i]]})"
            colour = "black" if predictions[i] == labels[i] else "red"
        ax.set_title(text, fontsize=7, color=colour)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_gradient_norms(norms: Mapping[str, Mapping[str, float]], ax=None, title: str | None = None):
    """Gradient norm per layer (log scale), one line per technique, input layer on the left.

    ``norms`` maps a technique to ``gradients.gradient_norms_per_layer(...)``'s result.

    Example:
        >>> ax = plot_gradient_norms({"sigmoid": norms_sigmoid, "relu": norms_relu})
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    for name, per_layer in norms.items():
        values = np.array(list(per_layer.values()), dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, "o-", markersize=3,
                color=technique_color(name), label=name)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # layers are counted
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel("‖∂loss/∂W‖ (log scale)")
    ax.set_title(title or "gradient norm per layer")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_layer_curves(values: Mapping[str, Sequence[float]], ylabel: str, ax=None,
                      title: str | None = None, log: bool = False):
    """Any per-layer quantity (activation std, fraction dead...) against depth, one line each.

    Example:
        >>> ax = plot_layer_curves({"he": stds_he, "glorot": stds_glorot}, ylabel="activation std")
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    for name, per_layer in values.items():
        per_layer = np.asarray(list(per_layer), dtype=float)
        ax.plot(np.arange(1, len(per_layer) + 1), per_layer, "o-", markersize=3,
                color=technique_color(name), label=name)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel(ylabel)
    ax.set_title(title or f"{ylabel} per layer")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_activation_histograms(outputs: Mapping[str, np.ndarray], bins: int = 50,
                               value_range: tuple[float, float] | None = None, ax=None,
                               title: str | None = None, max_layers: int = 6):
    """Overlaid histograms of each hidden layer's activations, darker = deeper.

    ``outputs`` is ``diagnostics.layer_outputs(model, x)``; at most ``max_layers`` layers evenly
    spread over the depth are drawn.

    Example:
        >>> ax = plot_activation_histograms(layer_outputs(model, data.x_valid[:1000]))
    """
    if not outputs:
        raise ValueError("outputs is empty")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    names = list(outputs)
    chosen = sorted({round(i) for i in np.linspace(0, len(names) - 1, min(max_layers, len(names)))})
    colours = plt.get_cmap("viridis_r")(np.linspace(0.15, 1.0, len(chosen)))
    for colour, index in zip(colours, chosen):
        values = np.asarray(outputs[names[index]]).ravel()
        counts, edges = np.histogram(values, bins=bins, range=value_range)
        ax.stairs(counts / counts.sum(), edges, color=colour, label=f"{names[index]} (layer {index + 1})")
    ax.set_xlabel("activation value")
    ax.set_ylabel("fraction of values")
    ax.set_title(title or "activation histograms per layer")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return ax


def plot_activation_heatmaps(recorder: Any, layers: Sequence[str] | None = None, max_layers: int = 4,
                             title: str | None = None):
    """The "colorful dimension": each layer's activation histogram (y) over training steps (x).

    Colour is log(1 + count). A bright band stuck at the bottom edge means many zero (dead) or
    saturated units; a spread-out, stable band means healthy activations.

    Example:
        >>> fig = plot_activation_heatmaps(recorder)  # a GradientRecorder(..., activations=True), fitted
    """
    names = list(layers or recorder.histograms)
    if not names or not recorder.steps:
        raise ValueError("the recorder holds no histograms: pass it to model.fit(callbacks=[...]) first")
    if layers is None:
        names = [names[round(i)] for i in np.linspace(0, len(names) - 1, min(max_layers, len(names)))]
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        counts = np.array(recorder.histograms[name]).T  # (bins, records)
        edges = recorder.hist_edges[name]
        ax.imshow(np.log1p(counts), origin="lower", aspect="auto", cmap="viridis",
                  extent=(recorder.steps[0], recorder.steps[-1], edges[0], edges[-1]))
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("training step")
    axes[0][0].set_ylabel("activation value")
    fig.suptitle(title or "activation histograms over training (colour: log(1 + count))", fontsize=10)
    fig.tight_layout()
    return fig


def plot_over_training(per_layer: Mapping[str, Sequence[float]], steps: Sequence[int], ylabel: str,
                       ax=None, title: str | None = None, log: bool = True,
                       reference: float | None = None):
    """A per-layer quantity recorded during training (gradient norm, update ratio) against step.

    ``reference`` draws a dashed horizontal line, e.g. 1e-3 for the update-to-weight ratio
    (Karpathy's rule of thumb: healthy layers update by about a thousandth of their size per step).

    Example:
        >>> ax = plot_over_training(recorder.update_ratios, recorder.steps, "update / weight", reference=1e-3)
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    colours = plt.get_cmap("viridis_r")(np.linspace(0.15, 1.0, len(per_layer)))
    for colour, (name, values) in zip(colours, per_layer.items()):
        ax.plot(steps, values, color=colour, label=name, linewidth=1)
    if reference is not None:
        ax.axhline(reference, color="black", linestyle="--", linewidth=1, label=f"{reference:g}")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    ax.set_title(title or f"{ylabel} during training")
    if len(per_layer) <= 12:
        ax.legend(fontsize=6, ncol=2)
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_update_ratios(recorder: Any, ax=None, title: str | None = None):
    """Update-to-weight ratio of each layer over training (log scale), with the 1e-3 guide line.

    Example:
        >>> ax = plot_update_ratios(recorder)
    """
    if not recorder.steps:
        raise ValueError("the recorder is empty: pass it to model.fit(callbacks=[...]) first")
    return plot_over_training(recorder.update_ratios, recorder.steps, "‖ΔW‖ / ‖W‖ per step", ax=ax,
                              title=title or "update-to-weight ratio per layer", reference=1e-3)


def plot_reliability_diagram(tables: Mapping[str, Any], ax=None, title: str | None = None):
    """Accuracy against confidence per bin, one line per model, beside the diagonal of perfect
    calibration; below the diagonal a model is overconfident. The marker area grows with the bin's
    share of images, and the legend gives each model's expected calibration error.

    ``tables`` maps a name to the DataFrame of ``trainlab.calibration.reliability_bins``.

    Example:
        >>> table = calibration.reliability_bins(probabilities, labels)
        >>> ax = plot_reliability_diagram({"single_pass": table})
    """
    if not tables:
        raise ValueError("tables is empty")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], ":", color="#444444", label="perfectly calibrated")
    for name, table in tables.items():
        missing = {"count", "confidence", "accuracy"} - set(getattr(table, "columns", []))
        if missing:
            raise ValueError(f"the table for {name!r} lacks {sorted(missing)}: pass "
                             "trainlab.calibration.reliability_bins(probabilities, labels)")
        filled = table[table["count"] > 0]
        share = filled["count"] / filled["count"].sum()
        ece = float((share * (filled["accuracy"] - filled["confidence"]).abs()).sum())
        colour = technique_color(name)
        ax.plot(filled["confidence"], filled["accuracy"], "-", color=colour, label=f"{name} (ECE {ece:.3f})")
        ax.scatter(filled["confidence"], filled["accuracy"], s=10 + 300 * share, color=colour, alpha=0.7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("accuracy in the bin")
    ax.set_title(title or "Reliability diagram")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return ax
