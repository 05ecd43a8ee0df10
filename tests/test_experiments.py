"""Tests of trainlab.experiments, on a tiny real subset of Fashion-MNIST."""

import math

import keras
import numpy as np
import pytest

from trainlab import experiments, tracing
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
    assert experiments.mean_std([0.81, 0.83, 0.85]) == "0.830 ± 0.020"  # sample std, ddof=1
    assert experiments.mean_std([0.5, math.nan]) == "0.500 (1 of 2 NaN)"  # one value: no spread
    assert experiments.mean_std([0.4, 0.6, math.nan]) == "0.500 ± 0.141 (1 of 3 NaN)"
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


def bn_dropout_builder():
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32), keras.layers.BatchNormalization(),
                              keras.layers.Activation("relu"), keras.layers.Dropout(0.3),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_a_reused_model_trains_exactly_like_a_fresh_build(tiny, monkeypatch):
    """One traced model per contender: the second and third seeds reuse it, and must end with the
    weights, BN statistics and history of a fresh build with their seed (BN and dropout included)."""
    copies = []
    copy_state = tracing.copy_state
    monkeypatch.setattr(tracing, "copy_state", lambda a, b: copies.append(1) or copy_state(a, b))
    reused = experiments.train_runs({"bn": bn_dropout_builder}, tiny, seeds=(0, 1, 2), epochs=2,
                                    batch_size=64, verbose=False)
    assert len(copies) == 5  # seed 0 kept a copy; seeds 1 and 2 ran on the traced model: state in and out
    copies.clear()
    fresh = experiments.train_runs({"bn": bn_dropout_builder}, tiny, seeds=(0, 1, 2), epochs=2,
                                   batch_size=64, verbose=False, reuse=False)
    assert not copies
    models = {id(r.extras["model"]) for r in reused}
    assert len(models) == 3  # each result still has its own model
    for a, b in zip(reused, fresh):
        np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=1e-5)
        np.testing.assert_allclose(a.history["val_accuracy"], b.history["val_accuracy"])
        for x, y in zip(a.extras["model"].variables, b.extras["model"].variables):
            np.testing.assert_allclose(keras.ops.convert_to_numpy(x), keras.ops.convert_to_numpy(y),
                                       rtol=1e-5, atol=1e-6)
    assert reused[1].history["loss"] != reused[2].history["loss"]


def run(history, first=2.3, peak=2.3, share=0.2):
    return experiments.RunResult("x", 0, history, 1.0, first_loss=first, peak_loss=peak, majority_share=share)


def test_divergence_covers_every_way_a_run_blows_up():
    learning = {"loss": [2.0, 1.0], "val_accuracy": [0.5, 0.7]}
    assert not run(learning).diverged
    stuck = {"loss": [2.303, 2.303], "val_accuracy": [0.1, 0.1]}
    assert not run(stuck, share=1.0).diverged  # stuck at chance is not diverged
    assert run({"loss": [2.0, math.nan], "val_accuracy": [0.3, 0.1]}).diverged
    assert run(learning, peak=math.inf).diverged
    assert run(learning, peak=8e9).diverged  # blew up inside an epoch, then came back
    assert run(stuck, peak=6.0, share=1.0).diverged  # rose, then collapsed to one class
    assert not run(learning, peak=6.0, share=0.3).diverged


def test_summary_table_leaves_diverged_runs_out_of_the_mean():
    results = [experiments.RunResult("a", s, {"loss": [1.0], "val_accuracy": [acc]}, 1.0,
                                     first_loss=2.3, peak_loss=2.3) for s, acc in enumerate([0.6, 0.8])]
    results.append(experiments.RunResult("a", 2, {"loss": [math.nan], "val_accuracy": [0.1]}, 1.0))
    results.append(experiments.RunResult("b", 0, {"loss": [2.3], "val_accuracy": [0.1]}, 1.0,
                                         first_loss=2.3, peak_loss=1e6))
    table = experiments.summary_table(results)
    assert table.loc["a", "diverged"] == "1 of 3" and table.loc["a", "final val acc"] == "0.700 ± 0.141"
    assert table.loc["b", "final val acc"] == "diverged"
    assert experiments.finals(results, "a") == [0.6, 0.8]
    assert len(experiments.finals(results, "a", include_diverged=True)) == 3
    with pytest.raises(ValueError, match="no run named"):
        experiments.finals(results, "c")


def test_a_real_explosion_is_reported_as_diverged(tiny):
    def exploding():
        model = deep_mlp(depth=6, width=64, kernel_initializer=keras.initializers.RandomNormal(stddev=1.0))
        model.compile(optimizer=keras.optimizers.SGD(1.0), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model
    [result] = experiments.train_runs({"boom": exploding}, tiny, seeds=(0,), epochs=1, verbose=False)
    assert result.diverged and "1 of 1" in experiments.summary_table([result]).loc["boom", "diverged"]


def test_callbacks_are_called_per_run(tiny):
    seen = []

    class Count(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(epoch)

    experiments.train_runs({"a": builder(8)}, tiny, seeds=(0, 1), epochs=2, verbose=False,
                           callbacks=lambda name, seed: [Count()])
    assert seen == [0, 1, 0, 1]


def test_per_seed_data_and_validation_at_the_end(tiny):
    """``data`` as a function of the seed; ``validation="end"``: one pass over the repeated images,
    then one evaluation, equal to doing it by hand."""
    from trainlab import transfer

    samples = {}

    def per_seed(seed):
        samples[seed] = transfer.task(tiny).with_labels(50, seed=seed)
        return samples[seed]

    def build():
        model = deep_mlp(depth=1, width=8)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    results = experiments.train_runs({"a": build}, per_seed, seeds=(0, 1), epochs=3, batch_size=16,
                                     validation="end", validation_batch_size=100, verbose=False)
    assert sorted(samples) == [0, 1]
    assert not np.array_equal(samples[0].y_train, samples[1].y_train) or not np.array_equal(
        samples[0].x_train, samples[1].x_train)  # each seed had its own sample
    for result in results:
        assert len(result.history["val_accuracy"]) == 1 and len(result.history["loss"]) == 1
        sample = samples[result.seed]
        tracing.reseed(result.seed)
        model = build()
        model.fit(np.concatenate([sample.x_train] * 3), np.concatenate([sample.y_train] * 3),
                  epochs=1, batch_size=16, verbose=0)
        _, accuracy = model.evaluate(sample.x_valid, sample.y_valid, batch_size=100, verbose=0)
        assert result.history["val_accuracy"][0] == pytest.approx(accuracy, abs=1e-6)
        for x, y in zip(result.extras["model"].get_weights(), model.get_weights()):
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="validation"):
        experiments.train_runs({"a": build}, tiny, validation="never")


def test_a_reuse_dict_keeps_the_traced_model_across_calls(tiny):
    store = {}
    first = experiments.train_runs({"bn": bn_dropout_builder}, tiny, seeds=(0,), epochs=1, batch_size=64,
                                   verbose=False, reuse=store)
    traced = store["bn"]
    assert first[0].extras["model"] is not traced  # the result keeps its own copy
    again = experiments.train_runs({"bn": bn_dropout_builder}, tiny, seeds=(1,), epochs=1, batch_size=64,
                                   verbose=False, reuse=store)
    assert store["bn"] is traced  # no second trace
    fresh = experiments.train_runs({"bn": bn_dropout_builder}, tiny, seeds=(1,), epochs=1, batch_size=64,
                                   verbose=False, reuse=False)
    np.testing.assert_allclose(again[0].history["loss"], fresh[0].history["loss"], rtol=1e-5)
    for x, y in zip(again[0].extras["model"].get_weights(), fresh[0].extras["model"].get_weights()):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def test_an_early_stop_is_timed_per_epoch_actually_run(tiny, monkeypatch):
    clock = iter(float(t) for t in range(0, 1000, 6))  # every perf_counter call advances 6 s
    monkeypatch.setattr(experiments.time, "perf_counter", lambda: next(clock))

    class StopAfterTwo(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    results = experiments.train_runs({"a": builder(8)}, tiny, seeds=(0,), epochs=10, verbose=False,
                                     callbacks=lambda name, seed: [StopAfterTwo()])
    assert len(results[0].history["loss"]) == 2
    assert results[0].seconds_per_epoch == pytest.approx(6 / 2)  # 6 s over 2 epochs, not over 10
