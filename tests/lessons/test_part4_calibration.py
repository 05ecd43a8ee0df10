"""Lesson checks for part 4, notebook 03 (MC dropout and calibration).

On a small seeded configuration (an overfit dropout MLP on 1,000 images), for two seeds (the
notebook's first, and one shifted by 1000 as tools/robustness.py shifts them): MC dropout's log-loss
beats a single pass; temperature scaling fitted on one half of held-out images lowers the ECE on the
other half; the ECE written out by hand equals trainlab's. Then the two Keras traps: a model called
with training=True puts batch normalization in batch mode (a batch of one image erases the image, and
the moving statistics move) while MCDropout leaves BN alone; predict switches off a functional model's
construction-time Dropout(training=True), and cannot switch off MCDropout.
"""

import keras
import numpy as np
import pytest

from trainlab import calibration, data, layers, models

SEEDS = [0, 1000]
RATE = 0.2


@pytest.fixture(scope="module")
def small():
    return data.load_fashion_mnist(train_size=1000, valid_size=2000, flatten=True, standardize=True)


def trained_net(small, seed, **kwargs):
    keras.utils.set_random_seed(seed)
    model = models.deep_mlp(depth=2, width=256, dropout=RATE, **kwargs)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    model.fit(small.x_train, small.y_train, epochs=15, batch_size=128, verbose=0)
    return model


@pytest.fixture(scope="module", params=SEEDS)
def overfit(request, small):
    """(seed, network, its MCDropout twin) for one seed."""
    seed = request.param
    net = trained_net(small, seed)
    keras.utils.set_random_seed(seed)
    twin = models.deep_mlp(depth=2, width=256, dropout=RATE, dropout_layer=layers.MCDropout)
    twin.set_weights(net.get_weights())
    return seed, net, twin


def test_mc_dropout_log_loss_beats_a_single_pass(small, overfit):
    _, net, twin = overfit
    single = net.predict(small.x_valid, batch_size=1000, verbose=0)
    mc = calibration.mc_predict(twin, small.x_valid, passes=20)
    assert calibration.log_loss(mc, small.y_valid) < calibration.log_loss(single, small.y_valid) - 0.01


def test_temperature_scaling_lowers_the_ece_on_held_out_data(small, overfit):
    _, net, _ = overfit
    probabilities = net.predict(small.x_valid, batch_size=1000, verbose=0)
    fit, held_out = slice(0, 1000), slice(1000, 2000)  # never fit and score on the same images
    temperature = calibration.fit_temperature(probabilities[fit], small.y_valid[fit])
    assert temperature > 1  # overconfident: the fit softens it
    before = calibration.expected_calibration_error(probabilities[held_out], small.y_valid[held_out])
    tempered = calibration.apply_temperature(probabilities[held_out], temperature)
    after = calibration.expected_calibration_error(tempered, small.y_valid[held_out])
    assert after < before - 0.01, (before, after)


def test_ece_by_hand_matches_trainlab(small, overfit):
    _, net, _ = overfit
    p = net.predict(small.x_valid, batch_size=1000, verbose=0).astype(np.float64)
    confidence, correct = p.max(axis=1), p.argmax(axis=1) == small.y_valid
    bin_of = np.digitize(confidence, np.linspace(0, 1, 16)[1:-1], right=True)
    by_hand = sum((bin_of == b).mean() * abs(correct[bin_of == b].mean() - confidence[bin_of == b].mean())
                  for b in range(15) if (bin_of == b).any())
    assert by_hand == pytest.approx(calibration.expected_calibration_error(p, small.y_valid), abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_training_true_puts_batch_norm_in_batch_mode_and_mc_dropout_does_not(small, seed):
    net = trained_net(small, seed, batch_norm="before")
    state = net.get_weights()
    moving_mean = net.get_layer("bn_1").moving_mean.numpy().copy()
    plain = models.deep_mlp(depth=2, width=256, batch_norm="before")  # no dropout: BN alone
    plain.set_weights(state)
    images = small.x_valid[:8]
    one_at_a_time = np.concatenate([keras.ops.convert_to_numpy(plain(images[i:i + 1], training=True))
                                    for i in range(8)])
    assert np.abs(one_at_a_time - one_at_a_time[0]).max() < 1e-5  # a batch of one: every image looks the same
    net(images, training=True)
    assert np.abs(net.get_layer("bn_1").moving_mean.numpy() - moving_mean).max() > 1e-4  # and the stats moved
    keras.utils.set_random_seed(seed)
    twin = models.deep_mlp(depth=2, width=256, batch_norm="before", dropout=RATE,
                           dropout_layer=layers.MCDropout)
    twin.set_weights(state)
    calibration.mc_predict(twin, images, passes=5)
    assert np.array_equal(twin.get_layer("bn_1").moving_mean.numpy(), moving_mean)


def test_predict_switches_off_construction_time_dropout_but_not_mc_dropout(small):
    keras.utils.set_random_seed(SEEDS[0])
    inputs = keras.Input(shape=(784,))
    hidden = keras.layers.Dropout(0.5)(keras.layers.Dense(64, activation="relu")(inputs), training=True)
    functional = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(hidden))
    x = small.x_valid[:64]
    assert np.array_equal(functional.predict(x, verbose=0), functional.predict(x, verbose=0))
    called = [keras.ops.convert_to_numpy(functional(x)) for _ in range(2)]
    assert np.abs(called[0] - called[1]).max() > 0.01  # called directly, the stored training=True holds
    mc = keras.Sequential([keras.Input((784,)), keras.layers.Dense(64, activation="relu"),
                           layers.MCDropout(0.5), keras.layers.Dense(10, activation="softmax")])
    assert np.abs(mc.predict(x, verbose=0) - mc.predict(x, verbose=0)).max() > 0.01
