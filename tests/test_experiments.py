"""Tests of trainlab.experiments, on a tiny real subset of Fashion-MNIST."""

import math

import keras
import numpy as np
import pytest

from trainlab import experiments
from trainlab.data import load_fashion_mnist
from trainlab.models import deep_mlp


@pytest.fixture(scope="module")
def tiny():
    return load_fashion_mnist(train_size=500, valid_size=200, test_size=200, flatten=True)


def builder(width):
    def build():
        model = deep_mlp(depth=1, width=width)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model
    return build


def test_train_runs_is_reproducible_per_seed_and_fair(tiny, capsys):
    results = experiments.train_runs({"a": builder(8), "b": builder(16)}, tiny, seeds=(0, 1),
                                     epochs=2, batch_size=64, evaluate_test=True)
    assert [(r.name, r.seed) for r in results] == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert all(len(r.history["val_accuracy"]) == 2 for r in results)
    assert all(0.0 <= r.test_accuracy <= 1.0 and r.seconds_per_epoch > 0 for r in results)
    again = experiments.train_runs({"a": builder(8)}, tiny, seeds=(0,), epochs=2, batch_size=64,
                                   verbose=False)
    assert np.allclose(again[0].history["loss"], results[0].history["loss"], rtol=1e-4)
    assert results[0].history["loss"] != results[1].history["loss"]  # the seed matters
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 4 and "seed 0" in printed[0] and "val acc" in printed[0]


def test_summary_table_reports_mean_and_std(tiny):
    results = experiments.train_runs({"a": builder(8)}, tiny, seeds=(0, 1), epochs=1, verbose=False)
    table = experiments.summary_table(results)
    assert list(table.index) == ["a"]
    assert table.loc["a", "seeds"] == 2
    finals = [r.final_val_accuracy for r in results]
    assert table.loc["a", "final val acc"] == experiments.mean_std(finals)
    assert set(experiments.histories_by_name(results)) == {"a"}


def test_mean_std_formats_and_flags_nans():
    assert experiments.mean_std([0.81, 0.83, 0.85]) == "0.830 ± 0.016"
    assert experiments.mean_std([0.5, math.nan]) == "0.500 ± 0.000 (1 of 2 NaN)"
    assert experiments.mean_std([math.nan]) == "diverged (NaN)"
    with pytest.raises(ValueError, match="at least one"):
        experiments.mean_std([])


def test_run_result_accuracies():
    result = experiments.RunResult("x", 0, {"val_accuracy": [0.2, 0.6, 0.5]}, 1.0)
    assert result.final_val_accuracy == 0.5 and result.best_val_accuracy == 0.6
    assert math.isnan(experiments.RunResult("x", 0, {}, 1.0).final_val_accuracy)


def test_bad_arguments(tiny):
    with pytest.raises(ValueError, match="empty"):
        experiments.train_runs({}, tiny)
    with pytest.raises(ValueError, match="seeds"):
        experiments.train_runs({"a": builder(8)}, tiny, seeds=())
    with pytest.raises(ValueError, match="epochs"):
        experiments.train_runs({"a": builder(8)}, tiny, epochs=0)
    with pytest.raises(ValueError, match="not compiled"):
        experiments.train_runs({"a": lambda: deep_mlp(depth=1, width=4)}, tiny, epochs=1)
    with pytest.raises(ValueError, match="at least one"):
        experiments.summary_table([])
    keras.backend.clear_session()


def test_prebuilding_the_training_state_changes_no_result(tiny):
    """train_runs creates optimizer and metric variables before fit (to trace once): same numbers."""
    result = experiments.train_runs({"a": builder(8)}, tiny, seeds=(3,), epochs=2, batch_size=64,
                                    verbose=False)[0]
    keras.utils.set_random_seed(3)
    model = builder(8)()
    history = model.fit(tiny.x_train, tiny.y_train, validation_data=(tiny.x_valid, tiny.y_valid),
                        epochs=2, batch_size=64, verbose=0)
    np.testing.assert_allclose(result.history["loss"], history.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(result.history["val_accuracy"], history.history["val_accuracy"])
    assert result.extras["model"].optimizer.built
