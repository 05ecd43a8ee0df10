"""Lesson checks for part 4, notebook 05 (the capstone: practical guidelines).

The mechanisms the capstone's recipe relies on, on tiny configurations: the default model is the
plain Keras stack the notebook shows; AdamW decays every trainable variable unless told otherwise,
and with ``exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])`` only the kernels, each
by ``weight_decay * learning_rate`` per step (``start_from_epoch`` is checked with notebook 04's
lessons); and callbacks' ``on_train_end``
runs in list order, so a scorer before ``EarlyStopping`` sees the last epoch's weights and one after
it the restored ones. The last check trains for two seeds (the notebook's first and one shifted by
1000, as tools/robustness.py shifts them).
"""

import keras
import numpy as np
import pytest

from trainlab import models

SEEDS = [0, 1000]
EXCLUDED = ["bias", "gamma", "beta"]


def capstone_mlp(width: int = 16) -> keras.Sequential:
    return models.deep_mlp(depth=3, width=width, batch_norm="before", dropout=0.3)


def adamw(learning_rate: float, weight_decay: float, exclude: bool = True) -> keras.optimizers.AdamW:
    optimizer = keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay)
    if exclude:
        optimizer.exclude_from_weight_decay(var_names=EXCLUDED)
    return optimizer


def test_deep_mlp_is_the_plain_stack_the_notebook_shows():
    plain = keras.Sequential([keras.Input(shape=(784,))]
                             + [layer for _ in range(3) for layer in (
                                 keras.layers.Dense(16, use_bias=False, kernel_initializer="he_normal"),
                                 keras.layers.BatchNormalization(), keras.layers.Activation("relu"),
                                 keras.layers.Dropout(0.3))]
                             + [keras.layers.Dense(10, activation="softmax")])
    built = capstone_mlp()
    assert [type(layer) for layer in built.layers] == [type(layer) for layer in plain.layers]
    assert built.count_params() == plain.count_params()


def test_adamw_decays_everything_unless_biases_and_bn_are_excluded():
    model = capstone_mlp()
    variables = model.trainable_variables  # 3 kernels, 3 gammas, 3 betas, output kernel and bias
    assert len(variables) == 11
    assert sum(keras.optimizers.AdamW()._use_weight_decay(v) for v in variables) == 11
    decayed = [v.path for v in variables if adamw(1e-3, 0.05)._use_weight_decay(v)]
    assert len(decayed) == 4 and all(path.endswith("kernel") for path in decayed)


def test_decoupled_decay_shrinks_only_kernels_by_wd_times_lr():
    model = capstone_mlp()
    variables = model.trainable_variables
    before = [np.array(v) + 0.5 for v in variables]  # nonzero everywhere, BN's beta included
    for v, value in zip(variables, before):
        v.assign(value)
    optimizer = adamw(0.1, 0.2)
    optimizer.apply([keras.ops.zeros_like(v) for v in variables], variables)  # Adam's own step is 0 here
    for v, value in zip(variables, before):
        factor = 1 - 0.1 * 0.2 if v.path.endswith("kernel") else 1.0
        np.testing.assert_allclose(np.array(v), value * factor, rtol=1e-6)


class _Score(keras.callbacks.Callback):
    """Keeps the model's weights as they are when training ends (where it sits in the list matters)."""

    def on_train_end(self, logs=None):
        self.weights = [np.array(w) for w in self.model.get_weights()]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_callback_before_early_stopping_sees_the_last_weights(seed):
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(64, 8)).astype("float32"), rng.integers(0, 2, 64)
    model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.5), "sparse_categorical_crossentropy", metrics=["accuracy"])
    first, second = _Score(), _Score()
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)
    history = model.fit(x, y, validation_data=(x[:16], 1 - y[:16]), epochs=6, batch_size=16, verbose=0,
                        callbacks=[first, stopper, second]).history
    assert int(np.argmin(history["val_loss"])) < 5  # the best epoch is not the last one
    assert any(not np.allclose(a, b) for a, b in zip(first.weights, second.weights))  # last vs restored
    for restored, now in zip(second.weights, model.get_weights()):
        np.testing.assert_array_equal(restored, now)
