"""Lesson checks for part 3, notebook 03 (learning-rate schedules).

The schedules' values at their key steps, computed the way the notebook computes them (steps, not
epochs: 10,000 images in batches of 128 are 79 steps per epoch): the piecewise boundaries, the end
of CosineDecay's warmup and what its decay_steps counts, the peak of 1cycle and its momentum. Then,
on a small seeded configuration and for two seeds (the notebook's first, and one shifted by 1000
as tools/robustness.py shifts them): Keras' logs["loss"] lags the batch loss in a range test, and
the range test's suggestion lies within an order of magnitude of the best rate of a small sweep.
"""

import math

import keras
import numpy as np
import pytest

from trainlab import data, schedules

STEPS_PER_EPOCH, EPOCHS, PEAK = math.ceil(10_000 / 128), 10, 1e-3
TOTAL_STEPS = STEPS_PER_EPOCH * EPOCHS  # 790
SEEDS = [0, 1000]
decays = keras.optimizers.schedules


def rate(schedule, step: int) -> float:
    return float(schedule(step))


def test_decays_end_where_the_notebook_says():
    inverse_time = decays.InverseTimeDecay(PEAK, decay_steps=STEPS_PER_EPOCH, decay_rate=0.9)
    exponential = decays.ExponentialDecay(PEAK, decay_steps=TOTAL_STEPS, decay_rate=0.1)
    assert rate(inverse_time, 0) == pytest.approx(PEAK)
    assert rate(inverse_time, TOTAL_STEPS) == pytest.approx(PEAK / 10)
    assert rate(exponential, TOTAL_STEPS // 2) == pytest.approx(PEAK / math.sqrt(10), rel=1e-3)
    assert rate(exponential, TOTAL_STEPS) == pytest.approx(PEAK / 10)


def test_piecewise_boundaries_are_optimizer_steps():
    values = [PEAK, PEAK / 10, PEAK / 100]
    in_steps = decays.PiecewiseConstantDecay([5 * STEPS_PER_EPOCH, 8 * STEPS_PER_EPOCH], values)
    in_epochs = decays.PiecewiseConstantDecay([5, 8], values)  # the mistake
    assert rate(in_steps, 5 * STEPS_PER_EPOCH - 1) == pytest.approx(PEAK)  # all of epoch 5 at the peak
    assert rate(in_steps, 5 * STEPS_PER_EPOCH) == pytest.approx(PEAK)  # step <= boundary: one step late
    assert rate(in_steps, 5 * STEPS_PER_EPOCH + 1) == pytest.approx(PEAK / 10)
    assert rate(in_steps, TOTAL_STEPS - 1) == pytest.approx(PEAK / 100)
    assert rate(in_epochs, STEPS_PER_EPOCH - 1) == pytest.approx(PEAK / 100)  # both drops inside epoch 1


def test_cosine_decay_steps_count_the_steps_after_the_warmup():
    warmup = STEPS_PER_EPOCH
    right = decays.CosineDecay(0.0, decay_steps=TOTAL_STEPS - warmup, warmup_target=PEAK, warmup_steps=warmup)
    too_long = decays.CosineDecay(0.0, decay_steps=TOTAL_STEPS, warmup_target=PEAK, warmup_steps=warmup)
    assert rate(right, 0) == 0.0
    assert rate(right, warmup // 2) == pytest.approx(PEAK * (warmup // 2) / warmup)  # linear warmup
    assert rate(right, warmup) == pytest.approx(PEAK)  # the warmup end is the peak
    values = np.array([rate(right, s) for s in range(TOTAL_STEPS)])  # every step, the warmup end included
    assert int(np.argmax(values)) == warmup  # the peak is step 79, the warmup's end
    assert values.max() <= PEAK * (1 + 1e-6)
    assert rate(right, warmup + (TOTAL_STEPS - warmup) // 2) == pytest.approx(PEAK / 2, rel=1e-2)
    assert rate(right, TOTAL_STEPS) == pytest.approx(0.0, abs=1e-12)  # ends after warmup + decay_steps
    assert rate(too_long, TOTAL_STEPS) > 0.01 * PEAK  # decay_steps = all steps: still decaying
    assert rate(too_long, TOTAL_STEPS + warmup) == pytest.approx(0.0, abs=1e-12)


def test_one_cycle_peak_and_momentum():
    schedule = schedules.OneCycle(max_lr=PEAK, total_steps=TOTAL_STEPS)
    momentum = schedules.CycleMomentum(schedule, high=0.95, low=0.85)
    values = np.array([rate(schedule, s) for s in range(TOTAL_STEPS)])
    assert values[0] == pytest.approx(PEAK / 10)
    assert int(np.argmax(values)) in (355, 356)  # the peak, 0.9 * 790 / 2 = 355.5
    assert values.max() == pytest.approx(PEAK, rel=2e-3)
    assert rate(schedule, 711) == pytest.approx(PEAK / 10)  # end of the cycle
    assert rate(schedule, TOTAL_STEPS) == pytest.approx(PEAK / 1000, rel=1e-4)
    assert momentum.momentum(356) == pytest.approx(0.85, abs=1e-3)  # least momentum at the peak
    assert momentum.momentum(0) == momentum.momentum(TOTAL_STEPS - 1) == pytest.approx(0.95)


@pytest.fixture(scope="module")
def small():
    return data.load_fashion_mnist(train_size=2048, valid_size=1000, flatten=True, standardize=True)


def small_net(learning_rate: float) -> keras.Model:
    model = keras.Sequential([keras.Input((784,))]
                             + [keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal")
                                for _ in range(4)]
                             + [keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class LogsLoss(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))


@pytest.mark.parametrize("seed", SEEDS)
def test_range_test_suggestion_within_10x_of_the_sweep(small, seed):
    keras.utils.set_random_seed(seed)
    model = small_net(1e-3)
    finder, naive = schedules.LRRangeTest(1e-5, 1.0, steps=64), LogsLoss()
    # as in the notebook: the images twice over as one epoch, so no epoch boundary inside the test
    x_twice, y_twice = np.concatenate([small.x_train] * 2), np.concatenate([small.y_train] * 2)
    model.fit(x_twice, y_twice, batch_size=64, epochs=1, verbose=0, callbacks=[finder, naive])
    # at the blow-up the running mean still averages the good batches before it
    assert finder.losses[-1] > 1.2 * naive.losses[-1]
    sweep = {}
    for learning_rate in (1e-4, 1e-3, 1e-2, 1e-1):
        keras.utils.set_random_seed(seed)
        history = small_net(learning_rate).fit(small.x_train, small.y_train, batch_size=64, epochs=4,
                                               validation_data=(small.x_valid, small.y_valid), verbose=0)
        sweep[learning_rate] = history.history["val_accuracy"][-1]
    best = max(sweep, key=sweep.get)
    assert 0.1 < finder.suggestion() / best < 10, (finder.suggestion(), sweep)
