"""Lesson checks for part 3, notebook 04 (averaging, large batches and many devices).

Each test re-checks one claim of the notebook on a small, seeded configuration, for two seeds (the
notebook's first seed, and one shifted by 1000 as tools/robustness.py shifts them): Keras' weight
EMA follows m * average + (1 - m) * weights, starting from the weights after the first step;
with ``SwapEMAWeights`` the validation score is the averaged weights' score, and ``fit`` leaves the
average in the model; ``PolynomialDecay`` with ``power=1`` and a higher end rate is a linear warmup
to a constant; one data-parallel step over two logical CPU devices equals the single-device step at
the same global batch.
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from trainlab import data, models

SEEDS = [0, 1000]


@pytest.fixture(scope="module")
def fashion():
    return data.load_fashion_mnist(train_size=1000, valid_size=500, flatten=True, standardize=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_ema_follows_the_formula_from_the_first_step(seed):
    keras.utils.set_random_seed(seed)
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    optimizer = keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.8)
    by_hand = None
    for _ in range(4):
        gradients = [keras.random.normal(v.shape) for v in layer.trainable_variables]
        optimizer.apply_gradients(zip(gradients, layer.trainable_variables))
        weights = layer.kernel.numpy().copy()
        by_hand = weights if by_hand is None else 0.8 * by_hand + 0.2 * weights
    np.testing.assert_allclose(optimizer._model_variables_moving_average[0].numpy(), by_hand, atol=1e-6)


def fit_with_ema(seed, fashion, callbacks):
    """Last epoch's val accuracy, post-fit evaluate accuracy, and the model, for one seeded EMA fit."""
    keras.utils.set_random_seed(seed)
    model = models.deep_mlp(depth=2, width=32)
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9, use_ema=True), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(fashion.x_train, fashion.y_train, validation_data=(fashion.x_valid, fashion.y_valid),
                        epochs=2, batch_size=64, verbose=0, callbacks=callbacks)
    after = model.evaluate(fashion.x_valid, fashion.y_valid, verbose=0)[1]
    return history.history["val_accuracy"][-1], after, model


@pytest.mark.parametrize("seed", SEEDS)
def test_swap_ema_weights_validates_the_average_and_fit_keeps_it(seed, fashion):
    last_val, after, model = fit_with_ema(seed, fashion, [keras.callbacks.SwapEMAWeights()])
    average = [v.numpy() for v in model.optimizer._model_variables_moving_average]
    for variable, value in zip(model.trainable_variables, average):  # fit copied the average into the model
        np.testing.assert_allclose(variable.numpy(), value, atol=1e-6)
    assert abs(last_val - after) <= 1 / 500 + 1e-9  # at most one image apart
    # Control: without the callback, validation scores the raw weights while evaluate after fit scores the
    # average, so the two differ by more than one image: the agreement above is the callback's doing.
    control_val, control_after, _ = fit_with_ema(seed, fashion, [])
    assert abs(control_val - control_after) > 1 / 500


def test_polynomial_decay_with_power_one_is_a_linear_warmup_to_a_constant():
    base, k, warmup = 0.005, 8, 20
    schedule = keras.optimizers.schedules.PolynomialDecay(base, decay_steps=warmup,
                                                          end_learning_rate=k * base, power=1.0)
    values = [float(schedule(step)) for step in (0, warmup // 2, warmup, 5 * warmup)]
    np.testing.assert_allclose(values, [base, (base + k * base) / 2, k * base, k * base], rtol=1e-6)


DATA_PARALLEL_SCRIPT = textwrap.dedent("""
    import json, sys
    from trainlab import models
    import keras
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]  # before TensorFlow initializes its devices
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

    def build():
        model = models.deep_mlp(depth=3, width=32)
        model.compile(keras.optimizers.SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy")
        return model

    def one_step(model, x, y):
        model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
        return model.get_weights()

    results = {}
    for seed in json.loads(sys.argv[1]):
        keras.utils.set_random_seed(seed)
        x = np.random.normal(size=(256, 784)).astype("float32")
        y = np.random.randint(0, 10, size=256)
        single = build()
        start = single.get_weights()
        with strategy.scope():
            mirrored = build()
        mirrored.set_weights(start)
        half = build()
        half.set_weights(start)
        a, b, c = one_step(single, x, y), one_step(mirrored, x, y), one_step(half, x[:128], y[:128])
        results[seed] = {"replicas": strategy.num_replicas_in_sync,
                         "step": max(float(np.abs(u - s).max()) for u, s in zip(a, start)),
                         "mismatch": max(float(np.abs(u - v).max()) for u, v in zip(a, b)),
                         "half": max(float(np.abs(u - v).max()) for u, v in zip(a, c))}
    print("RESULT " + json.dumps(results))
""")


@pytest.fixture(scope="module")
def data_parallel_steps():
    """Run in a fresh process: logical devices can only be set before TensorFlow initializes them,
    and the test session has initialized them already."""
    done = subprocess.run([sys.executable, "-c", DATA_PARALLEL_SCRIPT, json.dumps(SEEDS)],
                          capture_output=True, text=True, timeout=300, env=os.environ.copy())
    line = next((text for text in done.stdout.splitlines() if text.startswith("RESULT ")), None)
    assert line is not None, done.stderr[-2000:]
    return {int(seed): values for seed, values in json.loads(line[len("RESULT "):]).items()}


@pytest.mark.parametrize("seed", SEEDS)
def test_data_parallel_step_equals_single_device_step(seed, data_parallel_steps):
    result = data_parallel_steps[seed]
    assert result["replicas"] == 2
    assert result["step"] > 1e-3  # the step did move the weights
    assert result["mismatch"] < 1e-6  # the same update, up to float rounding
    assert result["half"] > 1e-4  # while a step on one replica's share alone is another update
