"""trainlab: the course's helpers (data, models, layers, experiments, diagnostics, clipping, plots).

Importing it first keeps notebook outputs clean: it silences TensorFlow's C++ start-up log lines
(including the ones TensorFlow writes before its logger is configured) and selects the TensorFlow
backend for Keras unless you chose another one.
"""

import contextlib
import logging
import os
import sys

__version__ = "0.1.0"

# Read once, when TensorFlow is first imported: set them before that happens.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@contextlib.contextmanager
def _silenced_stderr_fd():
    """Send file descriptor 2 to /dev/null: TensorFlow's C++ code writes there directly."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


if os.environ["KERAS_BACKEND"] == "tensorflow" and "tensorflow" not in sys.modules:
    # Keras raises a clearer error later if TensorFlow is missing.
    with _silenced_stderr_fd(), contextlib.suppress(ImportError):
        import tensorflow  # noqa: F401  (imported here only to swallow its start-up chatter)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
