"""Tests of trainlab.gradients: norms against direct computations, and probes without side effects."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from trainlab import gradients
from trainlab.models import deep_mlp


def compiled(model, optimizer=None, **kwargs):
    model.compile(optimizer=optimizer or keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  **kwargs)
    return model


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return rng.random((64, 784), dtype=np.float32), rng.integers(0, 10, 64)


def bn_dropout_net(seed=0):
    """A small net with every kind of non-trainable state: BN statistics and a dropout seed."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(16, name="hidden_1"),
                              keras.layers.BatchNormalization(), keras.layers.Activation("relu"),
                              keras.layers.Dropout(0.3),
                              keras.layers.Dense(16, activation="relu", name="hidden_2"),
                              keras.layers.Dense(10, activation="softmax", name="output")])
    return compiled(model, keras.optimizers.Adam(1e-3))


def numpy_state(model):
    return [keras.ops.convert_to_numpy(v).copy() for v in model.variables]


def test_gradient_norms_match_gradient_tape(batch):
    x, y = batch
    model = compiled(deep_mlp(depth=3, width=8, activation="sigmoid"))
    norms = gradients.gradient_norms_per_layer(model, x, y)
    assert list(norms) == ["hidden_1", "hidden_2", "hidden_3", "output"]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, model(x, training=True)))
    grad = tape.gradient(loss, model.get_layer("hidden_2").kernel.value)
    assert norms["hidden_2"] == pytest.approx(float(tf.norm(grad)), rel=1e-4)


def test_vanishing_gradients_are_visible_with_a_tiny_init(batch):
    x, y = batch
    small = keras.initializers.RandomNormal(stddev=0.01, seed=1)
    model = compiled(deep_mlp(depth=8, width=32, activation="sigmoid", kernel_initializer=small))
    norms = gradients.gradient_norms_per_layer(model, x, y)
    assert gradients.first_last_ratio(norms) < 1e-6


def test_first_last_ratio_leaves_the_output_layer_out():
    norms = {"hidden_1": 1e-6, "hidden_2": 1e-4, "hidden_3": 1e-3, "output": 0.5}
    assert gradients.first_last_ratio(norms) == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="two hidden layers"):
        gradients.first_last_ratio({"hidden_1": 1.0, "output": 1.0})


def test_probes_leave_batch_norm_statistics_and_seeds_untouched(batch):
    x, y = batch
    model = bn_dropout_net()
    before = numpy_state(model)
    gradients.gradient_norms_per_layer(model, x, y)
    gradients.loss_gradients(model, x, y)
    for a, b in zip(before, numpy_state(model)):
        np.testing.assert_array_equal(a, b)
    # and a training-mode call without the guard does change them: the test can fail
    model(x, training=True)
    assert any(not np.array_equal(a, b) for a, b in zip(before, numpy_state(model)))


@pytest.mark.parametrize("steps_per_execution", [1, 4])
def test_a_recorded_run_ends_with_the_same_weights_as_an_unrecorded_one(batch, steps_per_execution):
    x, y = batch
    plain = bn_dropout_net(seed=3)
    plain.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  steps_per_execution=steps_per_execution)
    keras.utils.set_random_seed(3)
    plain.fit(x, y, batch_size=8, epochs=2, verbose=0)
    recorded = bn_dropout_net(seed=3)
    recorded.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                     steps_per_execution=steps_per_execution)
    recorder = gradients.GradientRecorder(x[:16], y[:16], every=2, activations=True)
    keras.utils.set_random_seed(3)
    recorded.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[recorder])
    for a, b in zip(numpy_state(plain), numpy_state(recorded)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert recorder.steps and recorder.steps[0] == 0


def test_recorder_counts_optimizer_steps(batch):
    x, y = batch
    model = compiled(deep_mlp(depth=2, width=8))
    recorder = gradients.GradientRecorder(x[:16], y[:16], every=3, activations=True)
    expected_first = gradients.global_norm(gradients.loss_gradients(model, x[:16], y[:16]))
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[recorder])  # 8 steps
    assert recorder.steps == [0, 3, 6]
    assert recorder.global_norms[0] == pytest.approx(expected_first, rel=1e-4)
    assert set(recorder.gradient_norms) == {"hidden_1", "hidden_2", "output"}
    assert all(len(v) == 3 for v in recorder.update_ratios.values())
    assert all(r > 0 for r in recorder.update_ratios["hidden_1"])
    assert recorder.histograms["hidden_1"][0].sum() == 16 * 8
    # steps_per_execution=4: the callback sees steps 0 and 4 only; records keep the real step numbers
    model = compiled(deep_mlp(depth=2, width=8), steps_per_execution=4)
    every_step = gradients.GradientRecorder(x[:16], y[:16], every=1)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[every_step])
    assert every_step.steps == [0, 4, 8, 12]


def test_errors_are_clear(batch):
    x, y = batch
    with pytest.raises(ValueError, match="compile"):
        gradients.gradient_norms_per_layer(deep_mlp(depth=1, width=4), x, y)
    with pytest.raises(ValueError, match="every"):
        gradients.GradientRecorder(x, y, every=0)
    with pytest.raises(ValueError, match="same length"):
        gradients.GradientRecorder(x, y[:3])
