"""Tests of trainlab.transfer on a small real subset of Fashion-MNIST."""

import keras
import numpy as np
import pytest

from trainlab import experiments, transfer
from trainlab.data import load_fashion_mnist


@pytest.fixture(scope="module")
def data():
    return load_fashion_mnist(train_size=2000, valid_size=500, test_size=500, flatten=True)


@pytest.fixture(scope="module")
def tasks(data):
    return transfer.split_tasks(data, b_classes=(0, 2), b_train_size=40, seed=3)


def small_model(n_out, batch_norm=False):
    layers = [keras.Input((784,)), keras.layers.Dense(16, name="hidden_1")]
    if batch_norm:
        layers.append(keras.layers.BatchNormalization(name="bn_1"))
    layers += [keras.layers.Activation("relu"), keras.layers.Dense(n_out, activation="softmax", name="out")]
    return keras.Sequential(layers)


def test_split_tasks_relabels_and_keeps_every_image(data, tasks):
    task_a, task_b = tasks
    assert task_a.classes == (1, 3, 4, 5, 6, 7, 8, 9) and task_b.classes == (0, 2)
    assert task_b.class_names == ["T-shirt/top", "Pullover"]
    assert set(task_a.y_train) == set(range(8)) and set(task_b.y_train) == {0, 1}
    assert np.bincount(task_b.y_train).tolist() == [20, 20]  # balanced label budget
    b_valid = np.isin(data.y_valid, (0, 2))
    assert len(task_a.y_valid) + len(task_b.y_valid) == len(data.y_valid)
    np.testing.assert_array_equal(task_b.x_valid, data.x_valid[b_valid])
    np.testing.assert_array_equal(task_b.y_valid, (data.y_valid[b_valid] == 2).astype(int))
    a_train = ~np.isin(data.y_train, (0, 2))
    np.testing.assert_array_equal(task_a.x_train, data.x_train[a_train])
    # label i of task A is the i-th remaining class
    np.testing.assert_array_equal(np.array(task_a.classes)[task_a.y_train], data.y_train[a_train])


def test_label_budgets_are_balanced_seeded_and_checked(tasks):
    _, task_b = tasks
    first, again, other = (task_b.with_labels(10, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(first.x_train, again.x_train)
    assert not np.array_equal(first.x_train, other.x_train)
    assert np.bincount(first.y_train).tolist() == [5, 5]
    np.testing.assert_array_equal(first.x_valid, task_b.x_valid)
    with pytest.raises(ValueError, match="at least 2"):
        task_b.with_labels(1)
    with pytest.raises(ValueError, match="more than the 40"):
        task_b.with_labels(41)
    with pytest.raises(ValueError, match="positive int"):
        task_b.with_labels(2.5)


def test_task_of_all_classes_gives_ten_class_label_budgets(data):
    everything = transfer.task(data)
    assert everything.classes == tuple(range(10)) and len(everything.y_train) == len(data.y_train)
    budget = everything.with_labels(25, seed=0)
    assert sorted(np.bincount(budget.y_train, minlength=10).tolist()) == [2] * 5 + [3] * 5
    with pytest.raises(ValueError, match="classes"):
        transfer.task(data, classes=(3,))


def test_split_tasks_rejects_bad_classes(data):
    for bad in ((0,), (0, 0), (0, 10), tuple(range(9))):
        with pytest.raises(ValueError, match="b_classes|two classes"):
            transfer.split_tasks(data, b_classes=bad)


def test_clone_with_weights_is_independent(tasks):
    task_a, _ = tasks
    keras.utils.set_random_seed(0)
    model_a = small_model(8, batch_norm=True)
    model_a.compile("adam", "sparse_categorical_crossentropy")
    model_a.fit(task_a.x_train[:256], task_a.y_train[:256], epochs=1, verbose=0)
    before = [w.copy() for w in model_a.get_weights()]
    copy = transfer.clone_with_weights(model_a)
    np.testing.assert_allclose(copy.predict(task_a.x_valid, verbose=0),
                               model_a.predict(task_a.x_valid, verbose=0))
    copy.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    copy.fit(task_a.x_train[:256], task_a.y_train[:256], epochs=1, verbose=0)
    for w, b in zip(model_a.get_weights(), before):
        np.testing.assert_array_equal(w, b)  # A is untouched ...
    assert any(not np.array_equal(w, b) for w, b in zip(copy.get_weights(), before))  # ... the copy trained
    with pytest.raises(ValueError, match="keras.Model"):
        transfer.clone_with_weights("model")


def test_freeze_and_unfreeze_keep_batch_norm_frozen():
    inner = small_model(4, batch_norm=True)
    outer = keras.Sequential([inner, keras.layers.Dense(2)])
    transfer.freeze(inner)
    assert all(not layer.trainable for layer in transfer.all_layers(inner))
    transfer.unfreeze(outer)
    bn = inner.get_layer("bn_1")
    assert not bn.trainable and inner.get_layer("hidden_1").trainable and outer.layers[-1].trainable
    transfer.unfreeze(outer, batch_norm=True)
    assert bn.trainable
    with pytest.raises(ValueError, match="Keras layers"):
        transfer.freeze([1, 2])


def test_frozen_layers_do_not_move_while_the_head_trains(tasks):
    task_a, task_b = tasks
    keras.utils.set_random_seed(1)
    base = small_model(8, batch_norm=True)
    base(task_a.x_train[:2])
    model_b = keras.Sequential([*transfer.clone_with_weights(base).layers[:-1],
                                keras.layers.Dense(2, activation="softmax")])
    transfer.freeze(model_b.layers[:-1])
    frozen = [w.copy() for layer in model_b.layers[:-1] for w in layer.get_weights()]
    model_b.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    model_b.fit(task_b.x_train, task_b.y_train, epochs=2, batch_size=8, verbose=0)
    after = [w for layer in model_b.layers[:-1] for w in layer.get_weights()]
    for a, b in zip(after, frozen):
        np.testing.assert_array_equal(a, b)  # the BN moving statistics included


def test_a_head_on_cached_features_equals_a_head_on_the_frozen_base(tasks):
    _, task_b = tasks
    keras.utils.set_random_seed(2)
    base = keras.Sequential([keras.Input((784,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.BatchNormalization()])
    base.predict(task_b.x_train[:2], verbose=0)
    transfer.freeze(base)

    def head():
        return keras.layers.Dense(2, activation="softmax",
                                  kernel_initializer=keras.initializers.GlorotUniform(seed=5))

    through = keras.Sequential([base, head()])
    cached_head = keras.Sequential([keras.Input((16,)), head()])
    features = transfer.extract_features(base, task_b.x_train)
    assert features.shape == (40, 16)
    for model, x in ((through, task_b.x_train), (cached_head, features)):
        model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
        keras.utils.set_random_seed(3)
        model.fit(x, task_b.y_train, epochs=3, batch_size=8, verbose=0)
    np.testing.assert_allclose(through.layers[-1].get_weights()[0], cached_head.layers[-1].get_weights()[0],
                               rtol=1e-4, atol=1e-6)
    inner = transfer.extract_features(base, task_b.x_valid, layer=0)
    assert inner.shape == (len(task_b.y_valid), 16)


def run(name, seed, acc):
    return experiments.RunResult(name, seed, {"val_accuracy": [acc], "loss": [1.0]}, 0.1)


def test_compare_to_baseline_pairs_by_seed():
    results = [run("scratch", s, a) for s, a in enumerate([0.80, 0.82, 0.81, 0.79])]
    results += [run("transfer", s, a) for s, a in enumerate([0.83, 0.84, 0.80, 0.82])]
    table = experiments.compare_to_baseline(results, "scratch")
    row = table.loc["transfer"]
    assert row["seeds"] == 4 and row["wins"] == 3 and row["losses"] == 1
    assert row["gain"] == pytest.approx(0.0175)
    mean, low, high = experiments.mean_ci95([0.03, 0.02, -0.01, 0.03])
    assert (row["gain 95% low"], row["gain 95% high"]) == pytest.approx((low, high))
    assert low < 0 < high  # 3 wins of 4, but not distinguishable from no gain
    assert np.isnan(table.loc["scratch", "gain"])
    with pytest.raises(ValueError, match="no run named"):
        experiments.compare_to_baseline(results, "none")
    with pytest.raises(ValueError, match="metric"):
        experiments.compare_to_baseline(results, "scratch", metric="test_accuracy")


def test_mean_ci95_matches_the_t_table_and_shrinks_with_n():
    _, low, high = experiments.mean_ci95([0.0, 1.0])
    assert high - 0.5 == pytest.approx(12.706 * np.sqrt(0.5) / np.sqrt(2))
    widths = [np.subtract(*experiments.mean_ci95(np.tile([0.0, 1.0], n))[2:0:-1]) for n in (2, 20, 40)]
    assert widths[0] > widths[1] > widths[2] > 0
    with pytest.raises(ValueError, match="two or more"):
        experiments.mean_ci95([1.0])


def test_start_from_copies_the_head_before_training_and_checks_its_arguments(tasks):
    _, task_b = tasks
    keras.utils.set_random_seed(0)

    def small():
        return keras.Sequential([keras.Input((784,)), keras.layers.Dense(8, activation="relu"),
                                 keras.layers.Dense(2, activation="softmax", name="head")])

    probe, model = small(), small()
    seen = {}

    class Look(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.setdefault("head", [w.copy() for w in self.model.get_layer("head").get_weights()])
            seen.setdefault("hidden", self.model.layers[0].get_weights()[0].copy())

    hidden_before = model.layers[0].get_weights()[0].copy()
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    model.fit(task_b.x_train[:64], task_b.y_train[:64], epochs=1, batch_size=32, verbose=0,
              callbacks=[transfer.StartFrom(probe, ["head"]), Look()])
    for got, want in zip(seen["head"], probe.get_layer("head").get_weights()):
        np.testing.assert_array_equal(got, want)  # the head started as the probe's
    np.testing.assert_array_equal(seen["hidden"], hidden_before)  # the other layers were left alone
    with pytest.raises(ValueError, match="layer names"):
        transfer.StartFrom(probe, "head")
