"""Tests of trainlab.surfaces: real Keras optimizers on functions of two variables."""

import keras
import numpy as np
import pytest

from trainlab import surfaces


def test_sgd_path_is_gradient_descent():
    f = surfaces.ill_conditioned_quadratic(10.0)
    path = surfaces.optimizer_path(keras.optimizers.SGD(0.05), f, (1.0, 1.0), 3)
    expected = [np.array([1.0, 1.0])]
    for _ in range(3):  # gradient (x, 10 y)
        x, y = expected[-1]
        expected.append(np.array([x - 0.05 * x, y - 0.05 * 10 * y]))
    np.testing.assert_allclose(path, expected, rtol=1e-6)


def test_momentum_reaches_the_ravines_bottom_sooner_than_sgd():
    f = surfaces.ill_conditioned_quadratic(50.0)
    runs = {name: surfaces.optimizer_path(opt, f, (1.0, 1.0), 400)
            for name, opt in (("sgd", keras.optimizers.SGD(0.02)),
                              ("momentum", keras.optimizers.SGD(0.02, momentum=0.9)))}
    steps = {name: surfaces.steps_to_reach(path, f, 1e-4) for name, path in runs.items()}
    assert steps["momentum"] is not None and steps["sgd"] is not None
    assert steps["momentum"] < steps["sgd"] / 2


def test_rosenbrock_and_bad_arguments():
    assert float(surfaces.rosenbrock(np.array([1.0, 1.0]))) == 0.0
    assert float(surfaces.rosenbrock(np.array([0.0, 0.0]))) == 1.0
    assert surfaces.steps_to_reach(np.array([[1.0, 1.0]]), surfaces.rosenbrock, -1.0) is None
    with pytest.raises(ValueError, match="positive int"):
        surfaces.optimizer_path(keras.optimizers.SGD(), surfaces.rosenbrock, (0.0, 0.0), 0)
    with pytest.raises(ValueError, match="point"):
        surfaces.optimizer_path(keras.optimizers.SGD(), surfaces.rosenbrock, (0.0, 0.0, 0.0), 2)
    with pytest.raises(ValueError, match="condition"):
        surfaces.ill_conditioned_quadratic(0.5)
