"""Lesson checks for part 4, notebook 04 (early stopping).

What Keras 3's EarlyStopping does, driven through a made-up validation curve (no training): it
restores the best epoch's weights at the end of training even when it never stopped the run, and
``start_from_epoch`` skips epochs so that their weights are never kept. Then, on a small seeded
configuration and for two seeds (the notebook's first, and one shifted by 1000 as
tools/robustness.py shifts them): with 30% of the training labels wrong, the validation accuracy
peaks and then falls; after ``fit`` with ``restore_best_weights=True`` the model holds the best
epoch's weights (evaluating it gives the best epoch's validation accuracy); and those weights beat
the last epoch's on the clean test images.
"""

import keras
import numpy as np
import pytest

from trainlab import data

SEEDS = [0, 1000]
EPOCHS, NOISE = 15, 0.3


def replay(curve, **settings):
    """Drive EarlyStopping through ``curve`` (val_accuracy per epoch); the toy model's single
    weight is set to the epoch number, so the weight left at the end names the restored epoch."""
    toy = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, use_bias=False)])
    stopper = keras.callbacks.EarlyStopping("val_accuracy", mode="max", restore_best_weights=True, **settings)
    stopper.set_model(toy)
    toy.stop_training = False
    stopper.on_train_begin()
    for epoch, value in enumerate(curve):
        toy.set_weights([np.full((1, 1), epoch + 1.0)])
        stopper.on_epoch_end(epoch, {"val_accuracy": value})
        if toy.stop_training:
            break
    stopper.on_train_end()
    return epoch + 1, int(toy.get_weights()[0][0, 0])


MADE_UP = [0.70, 0.76, 0.75, 0.78, 0.77, 0.74, 0.73, 0.72]  # best at epoch 4


def test_early_stopping_restores_the_best_epoch_even_without_stopping():
    assert replay(MADE_UP, patience=2) == (6, 4)  # stops two epochs after the best, restores it
    assert replay(MADE_UP, patience=10) == (8, 4)  # never stops, still restores (Keras 3: on_train_end)


def test_start_from_epoch_skips_epochs_entirely():
    assert replay(MADE_UP, patience=10, start_from_epoch=3) == (8, 4)  # epoch 4 is the first watched
    assert replay(MADE_UP, patience=10, start_from_epoch=4) == (8, 5)  # the best epoch was skipped
    assert replay(MADE_UP, patience=2, start_from_epoch=4) == (7, 5)  # patience counts from epoch 5


@pytest.fixture(scope="module")
def noisy():
    clean = data.load_fashion_mnist(train_size=1000, valid_size=1000, test_size=2000, flatten=True,
                                    standardize=True)
    rng = np.random.default_rng(0)
    labels = clean.y_train.copy()
    flipped = rng.choice(len(labels), size=round(NOISE * len(labels)), replace=False)
    labels[flipped] = (labels[flipped] + rng.integers(1, 10, size=len(flipped))) % 10  # another class
    assert np.mean(labels != clean.y_train) == pytest.approx(NOISE)
    return clean, labels


def wide_net() -> keras.Model:
    model = keras.Sequential([keras.Input((784,)),
                              keras.layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
                              keras.layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def accuracy(model, x, y) -> float:
    return float(model.evaluate(x, y, batch_size=128, verbose=0, return_dict=True)["accuracy"])


@pytest.mark.parametrize("seed", SEEDS)
def test_early_stopping_restores_the_best_epochs_weights(noisy, seed):
    clean, labels = noisy
    valid = (clean.x_valid, clean.y_valid)
    # a fixed-length run: the validation accuracy peaks, then falls as the wrong labels are memorized
    keras.utils.set_random_seed(seed)
    fixed = wide_net()
    curve = fixed.fit(clean.x_train, labels, validation_data=valid, epochs=EPOCHS, batch_size=128,
                      verbose=0).history["val_accuracy"]
    assert max(curve) - curve[-1] > 0.03, curve
    assert int(np.argmax(curve)) < EPOCHS - 3, curve
    # the same run with early stopping: after fit, the model holds the best epoch's weights
    keras.utils.set_random_seed(seed)
    model = wide_net()
    stopper = keras.callbacks.EarlyStopping("val_accuracy", patience=3, restore_best_weights=True)
    logged = model.fit(clean.x_train, labels, validation_data=valid, epochs=EPOCHS, batch_size=128,
                       verbose=0, callbacks=[stopper]).history["val_accuracy"]
    assert len(logged) < EPOCHS  # it stopped
    assert stopper.best_epoch == int(np.argmax(logged))
    assert accuracy(model, *valid) == pytest.approx(logged[stopper.best_epoch], abs=1e-6)
    assert accuracy(model, *valid) == pytest.approx(max(logged), abs=1e-6)  # the best of the epochs run
    # the kept weights beat the fixed-length run's last weights on clean test images
    assert accuracy(model, clean.x_test, clean.y_test) > accuracy(fixed, clean.x_test, clean.y_test) + 0.02


@pytest.mark.parametrize("seed", SEEDS[:1])
def test_restored_even_when_the_run_never_stops(noisy, seed):
    clean, labels = noisy
    valid = (clean.x_valid, clean.y_valid)
    keras.utils.set_random_seed(seed)
    model = wide_net()
    stopper = keras.callbacks.EarlyStopping("val_accuracy", patience=EPOCHS, restore_best_weights=True)
    logged = model.fit(clean.x_train, labels, validation_data=valid, epochs=EPOCHS, batch_size=128,
                       verbose=0, callbacks=[stopper]).history["val_accuracy"]
    assert len(logged) == EPOCHS and stopper.stopped_epoch == 0  # ran to the end
    assert accuracy(model, *valid) == pytest.approx(max(logged), abs=1e-6)
