"""Lesson checks for part 3, notebook 01 (momentum and Nesterov).

Each test re-checks one claim of the notebook on a small, seeded configuration, for two seed sets
(the notebook's first seed, and one shifted by 1000 as tools/robustness.py shifts them): on the
ill-conditioned quadratic, momentum at its best rate of a small grid reaches the tolerance in fewer
steps than SGD at its best; Keras' velocity is the leaky sum -lr * sum(beta^k g_(t-k)), which settles
at lr g / (1 - beta) under a constant gradient; across the ravine momentum's steps shrink while
along it they grow; Keras' Nesterov iterate is Sutskever et al.'s look-ahead point; and on real data
momentum at the same learning rate as SGD trains faster.
"""

import keras
import numpy as np
import pytest

from trainlab import data, models, surfaces

SEEDS = [0, 1000]
CONDITION = 100.0


def random_start(seed: int) -> tuple[float, float]:
    """A start on the ravine's far side: |x| in [0.5, 1], |y| in [0.2, 0.5], random signs."""
    rng = np.random.default_rng(seed)
    return (float(rng.choice([-1, 1]) * rng.uniform(0.5, 1.0)),
            float(rng.choice([-1, 1]) * rng.uniform(0.2, 0.5)))


def best_steps(make, f, start, rates, steps, tolerance):
    """Fewest steps to the tolerance over the rates (None if no rate reaches it)."""
    counts = [surfaces.steps_to_reach(surfaces.optimizer_path(make(lr), f, start, steps), f, tolerance)
              for lr in rates]
    reached = [c for c in counts if c is not None]
    return min(reached) if reached else None


@pytest.mark.parametrize("seed", SEEDS)
def test_momentum_reaches_the_tolerance_in_fewer_steps_than_sgd(seed):
    f, start = surfaces.ill_conditioned_quadratic(CONDITION), random_start(seed)
    rates, steps = (0.004, 0.008, 0.016), 300
    sgd = best_steps(lambda lr: keras.optimizers.SGD(lr), f, start, rates, steps, 1e-4)
    momentum = best_steps(lambda lr: keras.optimizers.SGD(lr, momentum=0.9), f, start, rates, steps, 1e-4)
    assert momentum is not None
    assert sgd is None or momentum < sgd / 2  # the notebook: 64 against 265 steps


def keras_velocities(gradients, beta, lr=0.01):
    weight = keras.Variable([0.0])
    optimizer = keras.optimizers.SGD(lr, momentum=beta)
    out = []
    for g in gradients:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor([g], dtype="float32"), weight)])
        out.append(float(optimizer.momentums[0].numpy()[0]))
    return np.array(out)


@pytest.mark.parametrize("seed", SEEDS)
def test_velocity_is_a_leaky_sum_of_the_gradients(seed):
    beta, lr = 0.9, 0.01
    gradients = np.random.default_rng(seed).normal(size=40)
    expected = [-lr * sum(beta ** k * gradients[t - k] for k in range(t + 1)) for t in range(40)]
    np.testing.assert_allclose(keras_velocities(gradients, beta, lr), expected, rtol=1e-4, atol=1e-7)
    constant = keras_velocities([1.0] * 200, beta, lr)
    assert constant[-1] == pytest.approx(-lr / (1 - beta), rel=1e-4)  # the horizon 1 / (1 - beta) = 10


@pytest.mark.parametrize("seed", SEEDS)
def test_momentum_accumulates_along_the_ravine_and_cancels_across(seed):
    lr = 0.016  # SGD's best rate on the notebook's grid
    ravine = surfaces.ill_conditioned_quadratic(CONDITION)
    momentum = keras.optimizers.SGD(lr, momentum=0.9)
    path = surfaces.optimizer_path(momentum, ravine, random_start(seed), 50).astype(float)
    gradient = path[:-1] * np.array([1.0, CONDITION])
    gain = np.median(np.abs(np.diff(path, axis=0)) / (lr * np.abs(gradient)), axis=0)
    assert gain[0] > 5 and gain[1] < 1  # the notebook: 8.61 and 0.79


@pytest.mark.parametrize("seed", SEEDS)
def test_keras_nesterov_is_sutskevers_lookahead(seed):
    lr, beta, steps, start = 0.008, 0.9, 30, random_start(seed)
    w, v = np.array(start), np.zeros(2)
    lookahead = [w + beta * v]
    for _ in range(steps):
        v = beta * v - lr * (w + beta * v) * np.array([1.0, CONDITION])
        w = w + v
        lookahead.append(w + beta * v)
    path = surfaces.optimizer_path(keras.optimizers.SGD(lr, momentum=beta, nesterov=True),
                                   surfaces.ill_conditioned_quadratic(CONDITION), start, steps)
    np.testing.assert_allclose(path, lookahead, atol=1e-5)


@pytest.fixture(scope="module")
def fashion() -> data.FashionMNIST:
    return data.load_fashion_mnist(train_size=1280, valid_size=500, flatten=True, standardize=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_momentum_at_the_same_rate_trains_faster_than_sgd(fashion, seed):
    losses = {}
    for name, momentum in (("sgd", 0.0), ("momentum", 0.9)):
        keras.utils.set_random_seed(seed)
        model = models.deep_mlp(depth=4, width=32)
        model.compile(keras.optimizers.SGD(0.005, momentum=momentum), "sparse_categorical_crossentropy")
        history = model.fit(fashion.x_train, fashion.y_train, epochs=2, batch_size=64, verbose=0)
        losses[name] = history.history["loss"][-1]
    assert losses["momentum"] < losses["sgd"] - 0.1
