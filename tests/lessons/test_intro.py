"""Lesson check for 00_intro.ipynb: the same 20-layer network fails with the naive recipe (sigmoid,
N(0, 0.05²) weights, plain SGD) and learns with the fixed one (He, ELU, batch norm, Nadam).

Small configurations of the notebook's experiment (fewer images, 2 epochs), each run for two seed
sets: a claim must hold for both, not for one lucky draw. The margins are wide enough to hold across
seeds, thread counts and oneDNN on or off, and tight enough to fail if the lesson were wrong.
"""

import keras
import numpy as np
import pytest

from trainlab import data, experiments, gradients, models

DEPTH, WIDTH = 20, 100
SEED_SETS = {"seeds 0-2": (0, 1, 2), "seeds 100-102": (100, 101, 102)}  # each claim must hold for both


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
    return data.load_fashion_mnist(train_size=2000, valid_size=1000, flatten=True)


@pytest.fixture(params=list(SEED_SETS.values()), ids=list(SEED_SETS))
def seeds(request):
    return request.param


def _ratio(model, fashion):
    return gradients.first_last_ratio(
        gradients.gradient_norms_per_layer(model, fashion.x_train[:256], fashion.y_train[:256]))


def test_naive_gradient_vanishes_at_initialization_fixed_stays_flat(fashion, seeds):
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        naive = _ratio(build_naive(), fashion)
        keras.utils.set_random_seed(seed)
        fixed = _ratio(build_fixed(), fashion)
        # naive: about 1e-17, a factor of about 1/4 * 0.05 * sqrt(100) = 1/8 per layer
        assert naive < 1e-13, (seed, naive)
        assert 0.08 < naive ** (1 / (DEPTH - 1)) < 0.2, (seed, naive)
        # fixed: within a small factor (about 4; the first layer has 784 inputs, not 100)
        assert 0.5 < fixed < 20, (seed, fixed)


def test_naive_stays_at_chance_fixed_learns(fashion, seeds):
    # batches of 32: enough steps in 2 epochs for batch norm's moving statistics to settle;
    # two seeds of each set keep the test short (each run costs a few seconds on 2 cores)
    results = experiments.train_runs({"naive": build_naive, "fixed": build_fixed}, fashion,
                                     seeds=seeds[:2], epochs=2, batch_size=32, verbose=False)
    for r in results:
        assert not r.diverged, (r.name, r.seed, r.history)  # stuck at chance is not a blow-up
        if r.name == "naive":
            assert max(r.history["val_accuracy"]) < 0.15, (r.seed, r.history)
            assert abs(r.history["val_loss"][-1] - np.log(10)) < 0.01, (r.seed, r.history)  # uniform guess
            # training does not repair the naive network's gradient
            assert _ratio(r.extras["model"], fashion) < 1e-13, r.seed
        else:
            assert r.final_val_accuracy > 0.55, (r.seed, r.history)  # measured 0.71 to 0.75
