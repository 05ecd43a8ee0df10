"""Tests of trainlab.schedules: the 1cycle schedule and the LR range test."""

import math

import keras
import numpy as np
import pytest

from trainlab import schedules
from trainlab.data import load_fashion_mnist


def test_one_cycle_values_at_its_key_steps():
    schedule = schedules.OneCycle(max_lr=0.2, total_steps=200, div_factor=20, final_div_factor=50,
                                  cycle_fraction=0.8)
    lr = [float(schedule(s)) for s in range(0, 251)]
    assert lr[0] == pytest.approx(0.01)  # start: max / div
    assert lr[80] == pytest.approx(0.2)  # the peak, half-way through the cycle
    assert max(lr) == pytest.approx(0.2) and int(np.argmax(lr)) == 80
    assert lr[40] == pytest.approx(0.105)  # linear on the way up
    assert lr[160] == pytest.approx(0.01)  # back down at the end of the cycle
    final = pytest.approx(0.01 / 50, rel=1e-5)
    assert lr[200] == final and lr[250] == final  # annealed, then flat
    assert all(a >= b for a, b in zip(lr[80:201], lr[81:201]))
    restored = schedules.OneCycle.from_config(schedule.get_config())
    assert float(restored(123)) == pytest.approx(lr[123])


def test_one_cycle_rejects_bad_arguments():
    for kwargs in ({"max_lr": 0, "total_steps": 10}, {"max_lr": 0.1, "total_steps": 1},
                   {"max_lr": 0.1, "total_steps": 10, "cycle_fraction": 0},
                   {"max_lr": 0.1, "total_steps": 10, "div_factor": 0.5}):
        with pytest.raises(ValueError):
            schedules.OneCycle(**kwargs)


@pytest.fixture(scope="module")
def tiny():
    return load_fashion_mnist(train_size=1280, valid_size=100, flatten=True, standardize=True)


def mlp():
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy")
    return model


def test_range_test_records_each_batch_loss_and_restores_the_model(tiny):
    keras.utils.set_random_seed(0)
    model = mlp()
    before = [keras.ops.convert_to_numpy(v).copy() for v in model.variables]
    finder = schedules.LRRangeTest(1e-4, 10.0, steps=40)
    model.fit(tiny.x_train, tiny.y_train, batch_size=64, epochs=3, callbacks=[finder], verbose=0)
    n = len(finder.losses)
    assert 5 < n <= 40  # stopped once the loss blew up, or after 40 steps
    assert finder.learning_rates[0] == pytest.approx(1e-4)
    assert np.all(np.diff(np.log(finder.learning_rates)) > 0)
    # each recorded loss is a batch's own loss: the running mean of the first k equals Keras' mean
    assert finder.losses[0] == pytest.approx(math.log(10), rel=0.3)
    assert max(finder.losses[-3:]) > 2 * min(finder.losses) or n == 40
    for variable, value in zip(model.variables, before):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), value)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    assert int(model.optimizer.iterations) == 0
    assert 1e-4 / 10 <= finder.suggestion() <= 1.0


def test_range_test_batch_losses_match_a_manual_recording(tiny):
    """The batch losses recovered from the loss tracker equal losses computed batch by batch."""
    keras.utils.set_random_seed(1)
    model = mlp()
    finder = schedules.LRRangeTest(1e-3, 1e-2, steps=10, stop_factor=1e9)
    x, y = tiny.x_train[:640], tiny.y_train[:640]
    manual = []

    class Manual(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            xb, yb = x[batch * 64:(batch + 1) * 64], y[batch * 64:(batch + 1) * 64]
            loss = keras.losses.sparse_categorical_crossentropy(yb, self.model(xb, training=True))
            manual.append(float(keras.ops.mean(loss)))

    model.fit(x, y, batch_size=64, epochs=1, shuffle=False, callbacks=[finder, Manual()], verbose=0)
    np.testing.assert_allclose(finder.losses, manual, rtol=1e-4)
    running = np.cumsum(manual) / np.arange(1, 11)
    assert not np.allclose(running[1:], manual[1:], rtol=1e-3)  # the running mean is not the batch loss


def test_range_test_needs_a_plain_learning_rate():
    model = mlp()
    model.compile(keras.optimizers.SGD(schedules.OneCycle(0.1, 10)), "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="plain number"):
        model.fit(np.zeros((4, 784)), np.zeros(4), callbacks=[schedules.LRRangeTest()], verbose=0)
    with pytest.raises(ValueError, match="start_lr < end_lr"):
        schedules.LRRangeTest(1.0, 0.1)
    with pytest.raises(ValueError, match="run the test first"):
        schedules.LRRangeTest().suggestion()


def test_cycle_momentum_mirrors_the_learning_rate_and_reaches_adam():
    schedule = schedules.OneCycle(max_lr=0.05, total_steps=40)
    callback = schedules.CycleMomentum(schedule, high=0.95, low=0.85)
    assert callback.momentum(0) == pytest.approx(0.95)
    assert callback.momentum(18) == pytest.approx(0.85)  # the learning rate's peak (40 * 0.9 / 2)
    assert callback.momentum(9) == pytest.approx(0.90, abs=1e-6)
    assert callback.momentum(39) == pytest.approx(0.95)  # annealing: back at the top
    # inside fit, Adam's beta_1 follows the cycle batch by batch
    x = np.random.default_rng(0).random((64, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    beta_1 = keras.Variable(0.95, trainable=False)
    model.compile(keras.optimizers.Adam(schedule, beta_1=beta_1), "mse")
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(float(beta_1.numpy()))

    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[callback, Record()])
    assert seen == pytest.approx([callback.momentum(s) for s in range(24)])
    # and it changes the training: a fixed beta_1 of 0.95 ends elsewhere
    keras.utils.set_random_seed(0)
    fixed = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    fixed.compile(keras.optimizers.Adam(schedule, beta_1=0.95), "mse")
    fixed.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert not np.allclose(fixed.get_weights()[0], model.get_weights()[0])


def test_cycle_momentum_explains_what_it_needs():
    schedule = schedules.OneCycle(max_lr=0.05, total_steps=10)
    with pytest.raises(TypeError, match="OneCycle"):
        schedules.CycleMomentum(lambda step: 0.1)
    with pytest.raises(ValueError, match="low"):
        schedules.CycleMomentum(schedule, high=0.8, low=0.9)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(schedule, momentum=0.9), "mse")
    x = np.zeros((8, 3), "float32")
    with pytest.raises(TypeError, match="beta_1 is a keras.Variable"):
        model.fit(x, x[:, :1], epochs=1, verbose=0, callbacks=[schedules.CycleMomentum(schedule)])
