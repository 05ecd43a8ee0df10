"""Unit tests of trainlab.clipping on tiny models (no data files needed)."""

import keras
import numpy as np
import pytest

from trainlab import clipping, gradients


def tiny_model(seed: int = 0, compiled: bool = True) -> keras.Sequential:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh"),
                              keras.layers.Dense(2, activation="softmax")])
    if compiled:
        model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    return model


def tiny_batch(n: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 2, size=n)


def test_global_norm_concatenates_arrays():
    assert gradients.global_norm([np.array([3.0]), np.array([[4.0]])]) == pytest.approx(5.0)
    assert gradients.global_norm(np.array([1.0, 2.0, 2.0])) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="empty"):
        gradients.global_norm([])


def test_cosine_similarity():
    assert clipping.cosine_similarity(np.array([1.0, 0.0]), np.array([2.0, 0.0])) == pytest.approx(1.0)
    assert clipping.cosine_similarity(np.array([1.0, 0.0]), np.array([0.0, 5.0])) == pytest.approx(0.0)
    assert clipping.cosine_similarity([np.array([1.0]), np.array([1.0])],
                                      [np.array([-1.0]), np.array([-1.0])]) == pytest.approx(-1.0)
    assert np.isnan(clipping.cosine_similarity(np.zeros(3), np.ones(3)))
    assert np.isnan(clipping.cosine_similarity(np.array([np.inf, 1.0]), np.ones(2)))
    with pytest.raises(ValueError, match="size"):
        clipping.cosine_similarity(np.ones(2), np.ones(3))


def test_loss_gradients_match_a_finite_difference():
    model = tiny_model()
    x, y = tiny_batch()
    grads = gradients.loss_gradients(model, x, y)
    assert [g.shape for g in grads] == [tuple(v.shape) for v in model.trainable_variables]
    bias = model.layers[-1].bias  # d loss / d bias_0 by central differences
    loss = lambda: float(model.compute_loss(x=x, y=y, y_pred=model(x)))
    original = bias.numpy().copy()
    eps = 1e-2
    bias.assign(original + [eps, 0.0])
    up = loss()
    bias.assign(original - [eps, 0.0])
    down = loss()
    bias.assign(original)
    assert grads[-1][0] == pytest.approx((up - down) / (2 * eps), rel=1e-2, abs=1e-4)


def test_loss_gradients_need_a_compiled_model():
    x, y = tiny_batch()
    with pytest.raises(ValueError, match="compile"):
        gradients.loss_gradients(tiny_model(compiled=False), x, y)


def test_applied_update_is_the_clipped_gradient_and_restores_weights():
    model = tiny_model()
    x, y = tiny_batch()
    grads = gradients.loss_gradients(model, x, y)
    weights = [w.copy() for w in model.get_weights()]

    plain = clipping.applied_update(model, grads, keras.optimizers.SGD(learning_rate=1.0))
    for step, gradient in zip(plain, grads):
        np.testing.assert_allclose(step, gradient, atol=1e-6)

    threshold = 0.5 * gradients.global_norm(grads)
    scaled = clipping.applied_update(model, grads,
                                     keras.optimizers.SGD(learning_rate=1.0, global_clipnorm=threshold))
    assert gradients.global_norm(scaled) == pytest.approx(threshold, rel=1e-4)
    assert clipping.cosine_similarity(scaled, grads) == pytest.approx(1.0, abs=1e-5)

    value = float(np.median(np.abs(np.concatenate([g.ravel() for g in grads]))))
    by_value = clipping.applied_update(model, grads, keras.optimizers.SGD(1.0, clipvalue=value))
    assert max(float(np.abs(s).max()) for s in by_value) <= value * (1 + 1e-5)
    assert clipping.cosine_similarity(by_value, grads) < 0.999

    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    with pytest.raises(ValueError, match="gradients"):
        clipping.applied_update(model, grads[:-1], keras.optimizers.SGD(1.0))
