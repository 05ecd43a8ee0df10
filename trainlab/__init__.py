"""trainlab: the course's helpers. One home per concept:

    data         Fashion-MNIST: checksum-verified files, offline-first, seeded stratified splits
    models       the deep MLP builder (depth, width, init, BN, dropout, penalties, max-norm)
    layers       layers Keras lacks (RReLU, MC dropout that stays on in predict)
    experiments  fair multi-seed runs, divergence, summary tables, gains over a baseline
    tracing      many seeds on one traced model: reseed, copy a fresh build's state
    claims       each part's reference scale; claim checks that assert there and report elsewhere
    gradients    loss gradients and their norms without side effects; the one training recorder
    diagnostics  per-layer activations: statistics, dead and saturated units, weight norms
    clipping     the direction and size of the step an optimizer takes after clipping
    transfer     source and target tasks, label budgets, clone with weights, freeze/unfreeze, features
    schedules    what Keras lacks for learning rates: the 1cycle schedule, the LR range test
    surfaces     functions of two variables and the paths real Keras optimizers take on them
    calibration  log-loss, Brier, ECE, reliability bins, temperature scaling, MC-dropout averages
    sources      the file and line of Keras' installed source behind a claim about Keras
    plots        the course palette and its figures (draws what it is given, trains nothing)

Importing it first keeps notebook outputs clean: it selects the TensorFlow backend for Keras
(unless you chose another one), sets TensorFlow's C++ log level to errors only, and imports
TensorFlow with the few start-up lines it prints regardless of that level filtered out
(HARMLESS_STARTUP_LINES). Every other line TensorFlow writes, an error included, still shows.
"""

import contextlib
import logging
import os
import subprocess
import sys

__version__ = "0.1.0"

# Read once, when TensorFlow is first imported: set them before that happens.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# Parts of the lines TensorFlow's C++ code writes to file descriptor 2 while it starts (before
# its log level applies): informational, and the same on every machine of a kind.
HARMLESS_STARTUP_LINES = (
    "All log messages before absl::InitializeLog() is called are written to STDERR",
    "oneDNN custom operations are on",
    "Could not find cuda drivers on your machine, GPU will not be used",
    "failed call to cuInit",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions:",
)

# A child Python copies its stdin to its stdout (our stderr) line by line, leaving out the
# harmless lines. A separate process: a line written just before a crash still gets through.
_FILTER = f"""
import sys
harmless = {[part.encode() for part in HARMLESS_STARTUP_LINES]!r}
for line in sys.stdin.buffer:
    if not any(part in line for part in harmless):
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
"""


@contextlib.contextmanager
def _filtered_stderr_fd():
    """Pass what is written to file descriptor 2 through the filter above, until the block ends."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some embedded interpreters): no filter
        yield
        return
    try:
        command = [sys.executable, "-I", "-S", "-c", _FILTER]
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=saved)
    except (OSError, ValueError):  # no Python to run it: let every line through
        os.close(saved)
        yield
        return
    os.dup2(child.stdin.fileno(), 2)
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        child.stdin.close()  # the filter reads to the end, then exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=10)


if os.environ["KERAS_BACKEND"] == "tensorflow" and "tensorflow" not in sys.modules:
    # Keras raises a clearer error later if TensorFlow is missing.
    with _filtered_stderr_fd(), contextlib.suppress(ImportError):
        import tensorflow  # noqa: F401  (imported here only to filter its start-up lines)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
