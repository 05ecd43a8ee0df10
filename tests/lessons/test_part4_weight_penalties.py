"""Lesson checks for part 4, notebook 01 (weight penalties and weight decay).

Keras' regularizer defaults (L2() is 0.01, L1L2() is no penalty); then, on small seeded
configurations and for two seeds (the notebook's first, and one shifted by 1000 as
tools/robustness.py shifts them): L1 leaves more near-zero first-layer weights than L2 at a similar
weight norm; L2 with factor λ and plain SGD is the same update as weight_decay = 2λ (biases
excluded) to float precision, while with Adam the two differ by as much as the penalty itself moves
the weights; and weight decay shrinks biases and batch-norm parameters unless they are excluded.
"""

import keras
import numpy as np
import pytest

from trainlab import data, models

SEEDS = [0, 1000]
LAMBDA = 1e-3


@pytest.fixture(scope="module")
def small():
    return data.load_fashion_mnist(train_size=1024, valid_size=500, flatten=True, standardize=True)


def test_regularizer_defaults():
    kernel = keras.ops.ones((4, 3))
    assert keras.regularizers.L2().l2 == pytest.approx(0.01)
    assert float(keras.regularizers.L2()(kernel)) == pytest.approx(0.12)  # 0.01 * 12 weights of 1
    assert float(keras.regularizers.L1()(kernel)) == pytest.approx(0.12)
    assert float(keras.regularizers.L1L2()(kernel)) == 0.0  # no penalty at all


def _first_kernel_after(regularizer, data_set, seed):
    keras.utils.set_random_seed(seed)
    model = models.deep_mlp(depth=1, width=256, kernel_regularizer=regularizer)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    model.fit(data_set.x_train, data_set.y_train, batch_size=32, epochs=10, verbose=0)  # 320 steps
    return keras.ops.convert_to_numpy(model.layers[0].kernel)


@pytest.mark.parametrize("seed", SEEDS)
def test_l1_leaves_more_near_zero_weights_than_l2(small, seed):
    l1 = _first_kernel_after(keras.regularizers.L1(1e-4), small, seed)
    l2 = _first_kernel_after(keras.regularizers.L2(1e-3), small, seed)
    near_zero_l1, near_zero_l2 = np.mean(np.abs(l1) < 1e-3), np.mean(np.abs(l2) < 1e-3)
    assert near_zero_l1 > near_zero_l2 + 0.05, (near_zero_l1, near_zero_l2)
    assert 0.6 < np.linalg.norm(l1) / np.linalg.norm(l2) < 1.6  # at a similar overall shrinkage


def _weights_after_steps(data_set, seed, make_optimizer, regularizer=None, decay=None, steps=8):
    keras.utils.set_random_seed(seed)
    model = models.deep_mlp(depth=2, width=64, kernel_regularizer=regularizer)
    optimizer = make_optimizer(weight_decay=decay)
    if decay:
        optimizer.exclude_from_weight_decay(var_names=["bias"])
    model.compile(optimizer, "sparse_categorical_crossentropy")
    for step in range(steps):
        batch = slice(step * 64, (step + 1) * 64)
        model.train_on_batch(data_set.x_train[batch], data_set.y_train[batch])
    return np.concatenate([w.ravel() for w in model.get_weights()])


@pytest.mark.parametrize("seed", SEEDS)
def test_l2_with_sgd_equals_weight_decay_2_lambda_with_adam_it_does_not(small, seed):
    for name, make in (("sgd", lambda **kw: keras.optimizers.SGD(0.1, **kw)),
                       ("adam", lambda **kw: keras.optimizers.Adam(1e-3, **kw))):
        l2 = _weights_after_steps(small, seed, make, regularizer=keras.regularizers.L2(LAMBDA))
        decay = _weights_after_steps(small, seed, make, decay=2 * LAMBDA)
        none = _weights_after_steps(small, seed, make)
        difference, effect = np.abs(l2 - decay).max(), np.abs(l2 - none).max()
        if name == "sgd":
            assert difference < 1e-5 and effect > 100 * difference, (difference, effect)
        else:
            assert difference > 0.5 * effect, (difference, effect)


def test_weight_decay_shrinks_biases_and_bn_unless_excluded():
    def after_zero_gradients(exclude=None):
        net = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, name="dense"),
                                keras.layers.BatchNormalization(name="bn"),
                                keras.layers.Dense(2, name="output")])
        for variable in net.trainable_variables:
            variable.assign(keras.ops.ones(variable.shape))
        optimizer = keras.optimizers.AdamW(0.01, weight_decay=1.0)
        if exclude:
            optimizer.exclude_from_weight_decay(var_names=exclude)
        for _ in range(10):
            optimizer.apply_gradients([(keras.ops.zeros(v.shape), v) for v in net.trainable_variables])
        return {v.path: float(keras.ops.mean(v)) for v in net.trainable_variables}

    default = after_zero_gradients()
    excluded = after_zero_gradients(["bias", "gamma", "beta"])
    assert all(value == pytest.approx(0.99 ** 10, rel=1e-5) for value in default.values())
    for path, value in excluded.items():
        expected = 0.99 ** 10 if path.endswith("kernel") else 1.0
        assert value == pytest.approx(expected, rel=1e-5), path
