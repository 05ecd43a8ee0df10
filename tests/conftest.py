"""Shared test set-up: point the loader at the shared, checksummed copy of Fashion-MNIST if the
environment does not name one (CI sets TRAINLAB_DATA_DIR itself)."""

import os
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"

if "TRAINLAB_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["TRAINLAB_DATA_DIR"] = str(SHARED_DATA)

import trainlab  # noqa: E402,F401  (before keras anywhere in the tests: quiet TensorFlow start-up)
