"""Lesson check for 00_intro.ipynb: the same 20-layer network fails with the naive recipe (sigmoid,
N(0, 0.05²) weights, plain SGD) and learns with the fixed one (He, ELU, batch norm, Nadam).

Small, seeded configurations of the notebook's experiment, with margins wide enough to hold across
seeds and thread counts, and tight enough to fail if the lesson were wrong.
"""

import keras
import numpy as np
import pytest

from trainlab import data, diagnostics, experiments, models

DEPTH, WIDTH = 20, 100


def build_naive() -> keras.Model:
    model = models.deep_mlp(depth=DEPTH, width=WIDTH, activation="sigmoid",
                            kernel_initializer=keras.initializers.RandomNormal(stddev=0.05))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_fixed() -> keras.Model:
    model = models.deep_mlp(depth=DEPTH, width=WIDTH, activation="elu",
                            kernel_initializer="he_normal", batch_norm="before")
    model.compile(optimizer=keras.optimizers.Nadam(),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def fashion():
    return data.load_fashion_mnist(train_size=3000, valid_size=1000, flatten=True)


def test_naive_gradient_vanishes_at_initialization_fixed_stays_flat(fashion):
    x_batch, y_batch = fashion.x_train[:256], fashion.y_train[:256]
    for seed in (0, 1):
        keras.utils.set_random_seed(seed)
        naive_norms = diagnostics.gradient_norms_per_layer(build_naive(), x_batch, y_batch)
        naive = diagnostics.first_last_ratio(naive_norms)
        keras.utils.set_random_seed(seed)
        fixed_norms = diagnostics.gradient_norms_per_layer(build_fixed(), x_batch, y_batch)
        fixed = diagnostics.first_last_ratio(fixed_norms)
        # naive: about 1e-17, a factor of about 1/4 * 0.05 * sqrt(100) = 1/8 per layer
        assert naive < 1e-13, (seed, naive)
        assert 0.08 < naive ** (1 / (DEPTH - 1)) < 0.2, (seed, naive)
        # fixed: within a small factor (about 4; the first layer has 784 inputs, not 100)
        assert 0.5 < fixed < 20, (seed, fixed)


def test_naive_stays_at_chance_fixed_learns(fashion):
    # batches of 32: enough steps in 2 epochs for batch norm's moving statistics to settle
    results = experiments.train_runs({"naive": build_naive, "fixed": build_fixed}, fashion,
                                     seeds=(0,), epochs=2, batch_size=32, verbose=False)
    by_name = {r.name: r for r in results}
    naive, fixed = by_name["naive"], by_name["fixed"]
    assert max(naive.history["val_accuracy"]) < 0.15, naive.history
    assert abs(naive.history["val_loss"][-1] - np.log(10)) < 0.01, naive.history  # uniform guess
    assert fixed.final_val_accuracy > 0.55, fixed.history  # measured about 0.7 (seeds 0-2)
    # training does not repair the naive network's gradient
    after = diagnostics.gradient_norms_per_layer(naive.extras["model"], fashion.x_train[:256],
                                                 fashion.y_train[:256])
    assert diagnostics.first_last_ratio(after) < 1e-13, after
