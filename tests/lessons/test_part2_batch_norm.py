"""Lesson checks for part 2, notebook 02 (batch normalization when fine-tuning).

Each test re-checks one claim of the notebook on a small, seeded configuration, for two seed sets
(the notebook's first seed, and one shifted by 1000 as tools/robustness.py shifts them): in Keras 3
a frozen BN layer runs in inference mode whatever ``training`` says; a ``training=False`` given when
the base was called does not stop ``fit`` from moving the statistics of an unfrozen base (the
trap); ``transfer.unfreeze(..., batch_norm=False)`` does (the fix).
"""

import keras
import numpy as np
import pytest

from trainlab import data, models, transfer

SEEDS = [0, 1000]


@pytest.fixture(scope="module")
def tasks() -> tuple[transfer.Task, transfer.Task]:
    fashion = data.load_fashion_mnist(train_size=2000, valid_size=500, flatten=True, standardize=True)
    return transfer.split_tasks(fashion, (0, 2), b_train_size=64)


@pytest.fixture(scope="module", params=SEEDS)
def model_a(request, tasks) -> keras.Model:
    """A small BN network trained briefly on task A: its moving statistics are task A's."""
    task_a, _ = tasks
    keras.utils.set_random_seed(request.param)
    model = models.deep_mlp(depth=2, width=32, batch_norm="before", n_classes=8)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    model.fit(task_a.x_train, task_a.y_train, epochs=1, batch_size=64, verbose=0)
    return model


def bn_layers(model: keras.Layer) -> list[keras.layers.BatchNormalization]:
    return [layer for layer in transfer.all_layers(model)
            if isinstance(layer, keras.layers.BatchNormalization)]


def model_b_from(model_a: keras.Model) -> tuple[keras.Model, keras.Model]:
    """The notebook's model B: model A's layers but its output, called with training=False."""
    copy = transfer.clone_with_weights(model_a)
    base = keras.Sequential([keras.Input(shape=(784,)), *copy.layers[:-1]], name="base")
    inputs = keras.Input(shape=(784,))
    outputs = keras.layers.Dense(2, activation="softmax")(base(inputs, training=False))
    return keras.Model(inputs, outputs), base


def fine_tune(model: keras.Model, task_b: transfer.Task) -> None:
    model.compile(keras.optimizers.Adam(1e-4), "sparse_categorical_crossentropy")
    model.fit(task_b.x_train, task_b.y_train, epochs=1, batch_size=16, verbose=0)  # 4 steps


def statistics(model: keras.Layer) -> list[np.ndarray]:
    return [v.numpy().copy() for layer in bn_layers(model)
            for v in (layer.moving_mean, layer.moving_variance)]


def test_frozen_batch_norm_layer_ignores_training(model_a, tasks):
    _, task_b = tasks
    layer = bn_layers(transfer.clone_with_weights(model_a))[0]
    z = keras.ops.convert_to_numpy(model_a.get_layer("dense_1")(task_b.x_train[:16]))
    before = [layer.moving_mean.numpy().copy(), layer.moving_variance.numpy().copy()]
    # trainable: training=True normalizes with the batch and updates the moving statistics
    batch, moving = (keras.ops.convert_to_numpy(layer(z, training=mode)) for mode in (True, False))
    assert np.abs(batch - moving).max() > 0.05
    assert np.abs(layer.moving_mean.numpy() - before[0]).max() > 1e-4
    layer.moving_mean.assign(before[0])
    layer.moving_variance.assign(before[1])
    # frozen: the same output for training=True and training=False, and no update
    layer.trainable = False
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(z, training=True)),
                                  keras.ops.convert_to_numpy(layer(z, training=False)))
    np.testing.assert_array_equal(layer.moving_mean.numpy(), before[0])
    np.testing.assert_array_equal(layer.moving_variance.numpy(), before[1])


def test_construction_time_training_false_holds_only_without_an_outer_training(model_a, tasks):
    _, task_b = tasks
    model_b, _ = model_b_from(model_a)
    x = task_b.x_train[:16]
    inference = keras.ops.convert_to_numpy(model_b(x, training=False))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model_b(x)), inference)
    assert np.abs(keras.ops.convert_to_numpy(model_b(x, training=True)) - inference).max() > 1e-3


def test_trap_unfrozen_base_moves_its_statistics_despite_training_false(model_a, tasks):
    _, task_b = tasks
    model_b, base = model_b_from(model_a)
    base.trainable = True  # BN included
    start = statistics(base)
    np.testing.assert_array_equal(start[0], bn_layers(model_a)[0].moving_mean.numpy())  # task A's
    fine_tune(model_b, task_b)
    shifts = [np.abs(after - before).max() for after, before in zip(statistics(base), start)]
    assert min(shifts) > 1e-4, shifts  # every moving mean and variance moved


def test_fix_unfreeze_without_batch_norm_keeps_the_statistics(model_a, tasks):
    _, task_b = tasks
    model_b, base = model_b_from(model_a)
    transfer.unfreeze(base, batch_norm=False)
    start, kernel = statistics(base), base.get_layer("dense_1").kernel.numpy().copy()
    gammas = [layer.gamma.numpy().copy() for layer in bn_layers(base)]
    fine_tune(model_b, task_b)
    for after, before in zip(statistics(base), start):
        np.testing.assert_array_equal(after, before)
    for layer, gamma in zip(bn_layers(base), gammas):
        np.testing.assert_array_equal(layer.gamma.numpy(), gamma)
    assert np.abs(base.get_layer("dense_1").kernel.numpy() - kernel).max() > 0  # the rest did fine-tune
