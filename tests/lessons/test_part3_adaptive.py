"""Lesson checks for 3_optimizers/02_adaptive_methods.ipynb.

Small, seeded versions of the notebook's claims, each run for two seeds (the notebook's first, and
one shifted by 1000 as tools/robustness.py shifts them): Adam's step is invariant to rescaling the
gradient and SGD's is not; AdaGrad's accumulator makes its step size shrink, while RMSprop's recovers;
Keras' Adam is the paper's update with the bias correction folded into the step size and epsilon
outside the uncorrected square root; one learning rate for every optimizer ranks the learning rate
(Adam ahead of SGD at 1e-3, behind it at 1e-1).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from trainlab import data, models, surfaces

SEEDS = [0, 1000]


def start_point(seed: int, around: tuple[float, float], jitter: float = 0.1) -> tuple[float, float]:
    offset = np.random.default_rng(seed).uniform(-jitter, jitter, 2)
    return float(around[0] + offset[0]), float(around[1] + offset[1])


@pytest.mark.parametrize("seed", SEEDS)
def test_adam_step_is_invariant_to_rescaling_the_gradient_sgd_step_is_not(seed):
    f = surfaces.ill_conditioned_quadratic(20.0)
    start = start_point(seed, (-1.5, 1.0))
    on_f = surfaces.optimizer_path(keras.optimizers.Adam(0.1), f, start, 50)
    on_1000f = surfaces.optimizer_path(keras.optimizers.Adam(0.1), lambda p: 1000.0 * f(p), start, 50)
    assert np.abs(on_f - on_1000f).max() < 1e-4  # float32 rounding and epsilon only
    sgd_f = surfaces.optimizer_path(keras.optimizers.SGD(0.01), f, start, 1)
    sgd_1000f = surfaces.optimizer_path(keras.optimizers.SGD(0.01), lambda p: 1000.0 * f(p), start, 1)
    ratio = np.linalg.norm(sgd_1000f[1] - sgd_1000f[0]) / np.linalg.norm(sgd_f[1] - sgd_f[0])
    assert ratio == pytest.approx(1000.0, rel=1e-3)
    # scaled far down, epsilon is no longer small beside sqrt(v): the invariance breaks
    on_tiny = surfaces.optimizer_path(keras.optimizers.Adam(0.1), lambda p: 1e-6 * f(p), start, 50)
    assert np.abs(on_f - on_tiny).max() > 0.1


def step_sizes(optimizer, start, steps, slot):
    """lr / sqrt(s + eps) per coordinate after each step on Rosenbrock, s the optimizer's ``slot``."""
    point = keras.Variable(np.asarray(start, dtype="float32"))
    sizes = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            value = surfaces.rosenbrock(point)
        optimizer.apply_gradients([(tape.gradient(value, point), point)])
        squares = next(v for v in optimizer.variables if v.path.endswith(slot)).numpy()
        rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        sizes.append(rate / np.sqrt(squares + optimizer.epsilon))
    return np.array(sizes)


@pytest.mark.parametrize("seed", SEEDS)
def test_adagrad_accumulator_makes_its_step_shrink(seed):
    start = start_point(seed, (-1.5, 2.0))
    adagrad = step_sizes(keras.optimizers.Adagrad(0.5), start, 200, "accumulator")
    assert np.diff(adagrad, axis=0).max() <= 0  # never grows
    assert adagrad[-1].max() < 0.01 * 0.5 / np.sqrt(0.1)  # under 1% of its size before the first step
    rmsprop = step_sizes(keras.optimizers.RMSprop(0.1), start, 200, "velocity")
    ratios = rmsprop[-1] / rmsprop.min(axis=0)
    assert ratios.min() > 1.5, ratios  # the leaky average forgets: its step size recovers


@pytest.mark.parametrize("seed", SEEDS)
def test_keras_adam_is_the_folded_formula_with_epsilon_outside(seed):
    rng = np.random.default_rng(seed)
    lr, beta_1, beta_2, eps = (float(np.float32(c)) for c in (1e-3, 0.9, 0.999, 1e-7))
    sizes = np.array([1.0, 1e-3, 1e-6, 1e-8])
    theta = keras.Variable(np.zeros(4, dtype="float32"))
    adam = keras.optimizers.Adam(lr, beta_1, beta_2, eps)
    m = v = np.zeros(4)
    for t in range(1, 4):
        g = sizes * rng.uniform(0.5, 1.5, 4) * rng.choice([-1.0, 1.0], 4)
        before = theta.numpy().astype(np.float64)
        adam.apply_gradients([(keras.ops.convert_to_tensor(g.astype("float32")), theta)])
        keras_step = theta.numpy() - before
        m, v = beta_1 * m + (1 - beta_1) * g, beta_2 * v + (1 - beta_2) * g**2
        folded = -lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (np.sqrt(v) + eps)
        paper = -lr * (m / (1 - beta_1**t)) / (np.sqrt(v / (1 - beta_2**t)) + eps)
        np.testing.assert_allclose(keras_step, folded, atol=1e-5 * lr)
        assert abs(paper[-1]) > 2 * abs(keras_step[-1])  # 1e-8 gradient: epsilon decides, and differs
        np.testing.assert_allclose(keras_step[0], paper[0], rtol=1e-4)  # large gradient: no difference


@pytest.fixture(scope="module")
def small_data():
    return data.load_fashion_mnist(train_size=2000, valid_size=500, flatten=True, standardize=True)


def val_accuracy(optimizer, small_data, seed):
    keras.utils.set_random_seed(seed)
    model = models.deep_mlp(depth=6, width=64)
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"], steps_per_execution=16)
    history = model.fit(small_data.x_train, small_data.y_train, epochs=2, batch_size=64, verbose=0,
                        validation_data=(small_data.x_valid, small_data.y_valid))
    return history.history["val_accuracy"][-1]


@pytest.mark.parametrize("seed", SEEDS)
def test_one_learning_rate_for_all_ranks_the_rate_not_the_optimizer(small_data, seed):
    at = {rate: {name: val_accuracy(make(rate), small_data, seed) for name, make in
                 (("sgd", keras.optimizers.SGD), ("adam", keras.optimizers.Adam))} for rate in (1e-3, 1e-1)}
    assert at[1e-3]["adam"] - at[1e-3]["sgd"] > 0.1, at
    assert at[1e-1]["sgd"] - at[1e-1]["adam"] > 0.1, at
