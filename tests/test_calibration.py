"""Tests of trainlab.calibration: each metric against a hand-computed case, temperature scaling
against a known temperature, MC dropout against its definition, and the errors bad input gets."""

import math

import keras
import numpy as np
import pytest

from trainlab import calibration, layers


def test_log_loss_and_brier_by_hand():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.5, 0.25, 0.25]])
    y = np.array([0, 1, 2])
    assert calibration.log_loss(p, y) == pytest.approx(-(math.log(0.7) + math.log(0.1) + math.log(0.25)) / 3)
    by_hand = ((0.3**2 + 0.2**2 + 0.1**2) + (0.1**2 + 0.9**2 + 0.8**2) + (0.5**2 + 0.25**2 + 0.75**2)) / 3
    assert calibration.brier_score(p, y) == pytest.approx(by_hand)
    assert calibration.brier_score(np.eye(3), [0, 1, 2]) == 0.0
    assert calibration.brier_score(np.eye(3), [1, 2, 0]) == pytest.approx(2.0)


def test_log_loss_matches_keras_cross_entropy():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(10), size=200).astype("float32")
    y = rng.integers(0, 10, size=200)
    keras_value = float(keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y, p)))
    assert calibration.log_loss(p, y) == pytest.approx(keras_value, rel=1e-5)


def test_a_confident_mistake_costs_a_finite_clipped_loss():
    assert calibration.log_loss([[1.0, 0.0]], [1]) == pytest.approx(-math.log(calibration.EPSILON))


def test_reliability_bins_and_ece_by_hand():
    # confidences 0.95 (right), 0.92 (wrong), 0.65 (right), 0.55 (wrong), 0.52 (wrong); 10 bins
    p = np.array([[0.95, 0.05], [0.92, 0.08], [0.35, 0.65], [0.55, 0.45], [0.48, 0.52]])
    y = np.array([0, 1, 1, 1, 0])
    table = calibration.reliability_bins(p, y, n_bins=10)
    assert len(table) == 10 and table["count"].sum() == 5
    top = table.iloc[9]
    assert (top["count"], top["confidence"], top["accuracy"]) == (2, pytest.approx(0.935), 0.5)
    assert table.iloc[5]["count"] == 2 and table.iloc[5]["accuracy"] == 0.0  # 0.55 and 0.52
    assert math.isnan(table.iloc[0]["accuracy"])  # an empty bin
    ece = 2 / 5 * abs(0.5 - 0.935) + 2 / 5 * abs(0 - 0.535) + 1 / 5 * abs(1 - 0.65)
    assert calibration.expected_calibration_error(p, y, n_bins=10) == pytest.approx(ece)


def test_a_calibrated_sample_has_a_small_ece_and_an_overconfident_one_a_large_ece():
    rng = np.random.default_rng(1)
    confidence = rng.uniform(0.5, 1.0, size=20_000)
    right = rng.uniform(size=confidence.size) < confidence  # right as often as it is sure
    p = np.stack([confidence, 1 - confidence], axis=1)
    y = np.where(right, 0, 1)
    assert calibration.expected_calibration_error(p, y) < 0.01
    sure = calibration.apply_temperature(p, 0.3)  # sharper, equally often right
    assert calibration.expected_calibration_error(sure, y) > 0.1


def test_temperature_keeps_the_argmax_and_one_is_the_identity():
    rng = np.random.default_rng(2)
    p = rng.dirichlet(np.ones(10), size=50)
    np.testing.assert_allclose(calibration.apply_temperature(p, 1.0), p, atol=1e-12)
    for t in (0.5, 3.0):
        scaled = calibration.apply_temperature(p, t)
        np.testing.assert_array_equal(scaled.argmax(axis=1), p.argmax(axis=1))
        np.testing.assert_allclose(scaled.sum(axis=1), 1.0)


def test_fit_temperature_recovers_the_temperature_that_made_the_data():
    rng = np.random.default_rng(3)
    logits = rng.normal(scale=3.0, size=(20_000, 10))
    true_p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(10, p=row) for row in true_p])
    overconfident = calibration.apply_temperature(true_p, 1 / 2.5)  # logits multiplied by 2.5
    fitted = calibration.fit_temperature(overconfident, y)
    assert fitted == pytest.approx(2.5, rel=0.05)
    assert calibration.log_loss(calibration.apply_temperature(overconfident, fitted), y) < \
        calibration.log_loss(overconfident, y)
    assert calibration.fit_temperature(true_p, y) == pytest.approx(1.0, rel=0.05)


def test_calibration_report_has_the_four_numbers():
    report = calibration.calibration_report([[0.9, 0.1], [0.6, 0.4]], [0, 1])
    assert report == {"accuracy": 0.5, "log_loss": pytest.approx(-(math.log(0.9) + math.log(0.4)) / 2),
                      "brier": pytest.approx((0.02 + 0.72) / 2), "ece": pytest.approx((0.1 + 0.6) / 2)}


@pytest.mark.parametrize("probabilities, labels, message", [
    ([[0.5, 0.5]], [0, 1], "labels must have shape"),
    ([0.5, 0.5], [0], "shape \\(images, classes\\)"),
    ([[2.0, -1.0]], [0], ">= 0"),
    ([[3.0, 1.0]], [0], "sum to 1"),
    ([[0.5, 0.5]], [2], "lie in 0..1"),
    ([[0.5, 0.5]], [0.5], "integer class indices"),
    ([[np.nan, 0.5]], [0], "finite"),
])
def test_bad_input_gets_a_clear_error(probabilities, labels, message):
    with pytest.raises(ValueError, match=message):
        calibration.log_loss(probabilities, labels)


def test_bad_temperature_and_bins_are_refused():
    with pytest.raises(ValueError, match="temperature must be"):
        calibration.apply_temperature([[0.5, 0.5]], 0.0)
    with pytest.raises(ValueError, match="n_bins"):
        calibration.reliability_bins([[0.5, 0.5]], [0], n_bins=0)


def small_mc_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((20,)), keras.layers.Dense(32, activation="relu"),
                             keras.layers.BatchNormalization(), layers.MCDropout(0.5),
                             keras.layers.Dense(3, activation="softmax")])


def test_mc_predict_averages_passes_that_differ():
    model = small_mc_model()
    x = np.random.default_rng(0).normal(size=(64, 20)).astype("float32")
    passes = calibration.mc_predict(model, x, passes=6, return_passes=True)
    assert passes.shape == (6, 64, 3)
    assert np.abs(passes[0] - passes[1]).max() > 1e-3  # dropout stays on in predict
    generator = model.layers[-2].seed_generator  # the dropout's own random stream: rewind it
    start = keras.ops.convert_to_numpy(generator.state)
    mean = calibration.mc_predict(model, x, passes=6)
    generator.state.assign(start)
    again = calibration.mc_predict(model, x, passes=6, return_passes=True).mean(axis=0)
    np.testing.assert_allclose(mean, again, atol=1e-6)
    np.testing.assert_allclose(mean.sum(axis=1), 1.0, atol=1e-5)


def test_mc_predict_refuses_a_model_without_mc_dropout():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.5),
                             keras.layers.Dense(2, activation="softmax")])
    with pytest.raises(ValueError, match="no trainlab.layers.MCDropout"):
        calibration.mc_predict(model, np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="passes"):
        calibration.mc_predict(small_mc_model(), np.zeros((2, 20), "float32"), passes=0)

