"""Tests of trainlab.plots: the right lines, colours, scales and errors (drawn off-screen)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from trainlab import plots  # noqa: E402
from trainlab.gradients import GradientRecorder  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_technique_colors_are_stable_and_shared():
    assert plots.technique_color("He") == plots.PALETTE["he"]
    assert plots.technique_color("leaky-ReLU") == plots.PALETTE["leaky_relu"]
    assert plots.technique_color("relu + he") == plots.PALETTE["relu"]
    assert plots.technique_color("something new") == plots.technique_color("something new")


def test_learning_curves_one_colour_per_technique_with_seed_band():
    seeds = [{"accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.5]},
             {"accuracy": [0.6, 0.7], "val_accuracy": [0.5, 0.7]}]
    ax = plots.plot_learning_curves({"relu": seeds, "elu": seeds[0]})
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"relu (validation)", "relu (training)", "elu (validation)", "elu (training)"}
    np.testing.assert_allclose(lines["relu (validation)"].get_ydata(), [0.45, 0.6])
    assert to_hex(lines["elu (training)"].get_color()) == to_hex(plots.PALETTE["elu"])
    assert len(ax.collections) == 2  # min-max bands (validation, training) of the multi-seed one only
    assert ax.get_xlabel() == "epoch" and ax.get_title()


def test_learning_curves_reject_unknown_metric():
    with pytest.raises(ValueError, match="no 'loss'"):
        plots.plot_learning_curves({"a": {"accuracy": [1.0]}}, metric="loss")
    with pytest.raises(ValueError, match="empty"):
        plots.plot_learning_curves({})


def test_gradient_norms_and_layer_curves_use_log_scale():
    ax = plots.plot_gradient_norms({"sigmoid": {"h1": 1e-6, "h2": 1e-3, "out": 1.0}})
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [1, 2, 3])
    assert all(float(t).is_integer() for t in ax.get_xticks())
    ax = plots.plot_layer_curves({"he": [1.0, 0.9]}, ylabel="std", log=True)
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "std"


def test_image_grid_titles_and_wrong_predictions_in_red():
    images = np.zeros((3, 784), dtype=np.float32)
    fig = plots.plot_image_grid(images, [0, 1, 9], predictions=[0, 2, 9], n_cols=2)
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title().split("\n")[0] for ax in titled] == ["T-shirt/top", "Pullover", "Ankle boot"]
    assert titled[1].title.get_color() == "red" and titled[0].title.get_color() == "black"
    with pytest.raises(ValueError, match="as many labels"):
        plots.plot_image_grid(images, [0])


def test_activation_histograms_pick_layers_across_depth():
    outputs = {f"hidden_{i}": np.random.default_rng(i).random((10, 4)) for i in range(1, 11)}
    ax = plots.plot_activation_histograms(outputs, max_layers=3)
    labels = [p.get_label() for p in ax.patches]
    # evenly spaced over indices 0..9: 0, 4.5 -> 4 (Python rounds half to even), 9
    assert labels == ["hidden_1 (layer 1)", "hidden_5 (layer 5)", "hidden_10 (layer 10)"]


def test_recorder_plots_need_a_filled_recorder():
    recorder = GradientRecorder(np.zeros((2, 3)), np.zeros(2), every=1, activations=True)
    with pytest.raises(ValueError, match="recorder"):
        plots.plot_update_ratios(recorder)
    with pytest.raises(ValueError, match="recorder"):
        plots.plot_activation_heatmaps(recorder)
    recorder.steps = [0, 1]
    recorder.histograms = {"hidden_1": [np.ones(4), np.ones(4)]}
    recorder.hist_edges = {"hidden_1": np.linspace(0, 1, 5)}
    recorder.update_ratios = {"hidden_1": [1e-3, 2e-3]}
    fig = plots.plot_activation_heatmaps(recorder)
    assert fig.axes[0].get_title() == "hidden_1"
    ax = plots.plot_update_ratios(recorder)
    assert ax.get_yscale() == "log" and any(line.get_label() == "0.001" for line in ax.get_lines())


def test_reliability_diagram_draws_the_diagonal_and_one_line_per_model_with_its_ece():
    from trainlab import calibration

    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(10) * 0.3, size=500)
    y = rng.integers(0, 10, size=500)
    table = calibration.reliability_bins(p, y)
    ax = plots.plot_reliability_diagram({"single_pass": table, "mc_dropout": table})
    labels = [line.get_label() for line in ax.get_lines()]
    ece = calibration.expected_calibration_error(p, y)
    assert labels == ["perfectly calibrated", f"single_pass (ECE {ece:.3f})", f"mc_dropout (ECE {ece:.3f})"]
    assert to_hex(ax.get_lines()[1].get_color()) == to_hex(plots.technique_color("single_pass"))
    assert ax.get_xlim() == (0, 1) and ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_reliability_diagram_wants_reliability_tables():
    with pytest.raises(ValueError, match="reliability_bins"):
        plots.plot_reliability_diagram({"x": {"accuracy": [1.0]}})
    with pytest.raises(ValueError, match="empty"):
        plots.plot_reliability_diagram({})
