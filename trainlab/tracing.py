"""Many seeds on one traced model: reseed without clearing TensorFlow's caches, copy a fresh
build's whole state into the model that is already traced, create the training state eagerly.

``experiments.train_runs`` uses these so that a comparison over seeds pays TensorFlow's tracing
once per contender, not once per run. Each function keeps results identical to building and
fitting a fresh model after ``keras.utils.set_random_seed`` (tested in ``tests/test_tracing.py``).
"""

from __future__ import annotations

import random

import keras
import numpy as np

try:  # private: used only to set TensorFlow's global seed without clearing its caches
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils
    from tensorflow.python.eager import context as _tf_context
except ImportError:  # another Keras or TensorFlow layout: fall back to the public call
    _tf_context = None


def reseed(seed: int) -> None:
    """Do what ``keras.utils.set_random_seed(seed)`` does, without clearing TensorFlow's caches.

    ``keras.utils.set_random_seed`` seeds Python, NumPy, Keras' global seed generator and
    TensorFlow (``tf.random.set_seed``). TensorFlow's call also clears the eager context's caches,
    so every traced training step is set up again: about a second per run on a 2-core CPU. This
    sets the same seeds, and TensorFlow's global seed and operation-seed counter the way
    ``tf.random.set_seed`` does, but keeps the caches. Where those private names are missing (a
    different TensorFlow or Keras), it calls ``keras.utils.set_random_seed``.

    One difference remains: an *eager* stateful TensorFlow op such as ``tf.random.uniform``
    without a seed tensor continues its stream instead of restarting it. Keras' initializers,
    random layers (dropout, noise, augmentation) and ``fit``'s shuffling do not use such ops, so a
    Keras model trains exactly as after ``keras.utils.set_random_seed`` (tested).

    Example:
        >>> reseed(0); a = np.random.rand(); reseed(0); a == np.random.rand()
        True
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    context = _tf_context.context() if _tf_context is not None else None
    if context is None or not hasattr(context, "_rng") or not hasattr(context, "_seed"):
        keras.utils.set_random_seed(seed)
        return
    global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)
    context._seed = seed  # what context._set_global_seed does, minus TFE_ContextClearCaches
    context._rng = random.Random(seed)


def same_structure(a: keras.Model, b: keras.Model) -> bool:
    """Whether the state of ``b`` can be copied into ``a`` (same variables, same optimizer)."""
    if a.optimizer is None or b.optimizer is None or type(a.optimizer) is not type(b.optimizer):
        return False
    # Keras names each new optimizer afresh ("adam", "adam_1", ...): the name is not its configuration
    config_a, config_b = ({k: v for k, v in o.get_config().items() if k != "name"}
                          for o in (a.optimizer, b.optimizer))
    if config_a != config_b:
        return False
    pairs = list(zip(a.variables, b.variables)) + list(zip(a.optimizer.variables, b.optimizer.variables))
    return (len(a.variables) == len(b.variables) and len(a.optimizer.variables) == len(b.optimizer.variables)
            and all(tuple(x.shape) == tuple(y.shape) for x, y in pairs))


def copy_state(source: keras.Model, target: keras.Model) -> None:
    """Copy every variable of the model (weights, statistics, seed states) and of its optimizer."""
    for src, dst in zip(source.variables, target.variables):
        dst.assign(src.value)
    for src, dst in zip(source.optimizer.variables, target.optimizer.variables):
        dst.assign(src.value)


def build_training_state(model: keras.Model, x: np.ndarray, y: np.ndarray) -> None:
    """Create the compiled metrics' and the optimizer's variables eagerly, before ``fit``.

    Keras would otherwise create them while TensorFlow traces the first training step, and a
    traced function that creates variables is traced a second time: on a CPU that doubles the
    start-up cost of each run (about a third of a short run). The results are unchanged: these
    variables start at fixed values (zeros, ones) and draw no random numbers. Models without
    known inputs are left alone (Keras builds them at the first batch as usual), and so is data
    that is not an array.
    """
    if not model.built or not getattr(model, "inputs", None) or not isinstance(x, np.ndarray):
        return
    x, y = x[:2], y[:2]
    model.compute_metrics(x, y, model(x, training=False))
    model.reset_metrics()
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
