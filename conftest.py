"""Shared pytest set-up for the tests, the notebooks and trainlab's docstring examples.

- Point the loader at the shared, checksummed copy of Fashion-MNIST if the environment does not
  name one (CI sets TRAINLAB_DATA_DIR itself).
- Give trainlab's docstring examples the names they use (a small model, a slice of the data, a
  fitted gradient recorder), so that every example runs for real as a doctest.
"""

import functools
import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data" / "fashion-mnist"

if "TRAINLAB_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["TRAINLAB_DATA_DIR"] = str(SHARED_DATA)

import trainlab  # noqa: E402,F401  (before keras anywhere: quiet TensorFlow start-up)


@functools.cache
def _doctest_names() -> dict:
    import math

    import keras
    import matplotlib
    import numpy as np
    import pandas as pd

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from trainlab import data as data_module
    from trainlab import calibration, diagnostics, experiments, gradients, layers, models, transfer

    data = data_module.load_fashion_mnist(train_size=512, valid_size=1000, flatten=True)

    def builder(activation):
        def build():
            model = models.deep_mlp(depth=3, width=16, activation=activation)
            model.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
            return model
        return build

    keras.utils.set_random_seed(0)
    model, sigmoid = builder("relu")(), builder("sigmoid")()
    x, y = data.x_train[:128], data.y_train[:128]
    recorder = gradients.GradientRecorder(x, y, every=2, activations=True)
    builder("relu")().fit(data.x_train, data.y_train, epochs=1, batch_size=128, callbacks=[recorder],
                          verbose=0)
    results = experiments.train_runs({"scratch": builder("relu"), "he": builder("elu")}, data, seeds=(0, 1),
                                     epochs=1, verbose=False)
    task_a, task_b = transfer.split_tasks(data, b_classes=(0, 2), b_train_size=20)
    probabilities = model.predict(data.x_valid[:200], verbose=0)
    return {
        "calibration": calibration, "layers": layers, "math": math, "small": data,
        "probabilities": probabilities, "labels": data.y_valid[:200],
        "results": results, "task_a": task_a, "task_b": task_b, "model_a": model, "probe": builder("relu")(),
        "y": y, "layer_outputs": diagnostics.layer_outputs,
        "keras": keras, "np": np, "pd": pd, "plt": plt, "data": data, "model": model, "x": x,
        "gradients": gradients.loss_gradients(model, x, y), "recorder": recorder,
        "build_relu": builder("relu"), "build_elu": builder("elu"),
        "norms_relu": gradients.gradient_norms_per_layer(model, x, y),
        "norms_sigmoid": gradients.gradient_norms_per_layer(sigmoid, x, y),
        "stds_he": [1.0, 0.98, 0.97], "stds_glorot": [1.0, 0.71, 0.5],
        "history_relu": {"loss": [1.2, 0.8, 0.6]},
        "h0": {"loss": [1.3, 0.9]}, "h1": {"loss": [1.1, 0.8]}, "h2": {"loss": [1.2, 0.7]},
    }


@pytest.fixture(autouse=True)
def _names_for_docstring_examples(request):
    if isinstance(request.node, pytest.DoctestItem):
        request.getfixturevalue("doctest_namespace").update(_doctest_names())
    yield
    if isinstance(request.node, pytest.DoctestItem):
        import matplotlib.pyplot as plt
        plt.close("all")
