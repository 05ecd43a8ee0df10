"""Layers the course needs that Keras does not ship: the randomized leaky ReLU (RReLU) and Monte
Carlo dropout (MCDropout), which stays on when the model predicts."""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import keras


@keras.saving.register_keras_serializable(package="trainlab")
class RReLU(keras.layers.Layer):
    """Randomized leaky ReLU (Xu et al. 2015): a leaky ReLU whose negative slope is random in training.

    ``f(x) = x`` for ``x >= 0`` and ``f(x) = a * x`` for ``x < 0``. In training, ``a`` is drawn
    uniformly from ``[lower, upper]``, afresh for every element of every batch; at inference it is
    fixed to the average ``(lower + upper) / 2``, so predictions are deterministic. The noise on
    the negative side acts as a mild regularizer, and no unit can die: a negative input always
    passes a gradient of at least ``lower``.

    Xu et al. write the negative part as ``x / a`` with ``a ~ U(3, 8)``; like PyTorch's
    ``nn.RReLU``, this layer draws the slope itself, hence the defaults ``1/8`` and ``1/3``.

    Args:
        lower: smallest negative slope, >= 0.
        upper: largest negative slope, >= ``lower`` (``lower == upper`` is a plain leaky ReLU).
        seed: seed of the layer's own random stream (``None``: derived from the global seed set
            by ``keras.utils.set_random_seed``).

    Example:
        >>> layer = RReLU(lower=0.1, upper=0.3, seed=0)
        >>> x = keras.ops.convert_to_tensor([[-2.0, 3.0]])
        >>> [round(float(v), 3) for v in layer(x, training=False)[0]]  # slope 0.2 at inference
        [-0.4, 3.0]
        >>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(100), RReLU()])
    """

    activation_name = "rrelu"  # what trainlab.diagnostics.activation_name reports for this layer

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for label, value in (("lower", lower), ("upper", upper)):
            if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
                raise ValueError(f"RReLU: {label} must be a finite number, got {value!r}")
            if value < 0:
                raise ValueError(f"RReLU: {label} must be >= 0 (a negative slope flips the sign of "
                                 f"negative inputs), got {value!r}")
        if lower > upper:
            raise ValueError(f"RReLU: lower must be <= upper, got lower={lower!r} > upper={upper!r}")
        self.lower = float(lower)
        self.upper = float(upper)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if training:
            slope = keras.random.uniform(keras.ops.shape(inputs), minval=self.lower, maxval=self.upper,
                                         dtype=self.compute_dtype, seed=self.seed_generator)
        else:
            slope = keras.ops.cast((self.lower + self.upper) / 2, self.compute_dtype)
        return keras.ops.where(inputs >= 0, inputs, slope * inputs)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"lower": self.lower, "upper": self.upper, "seed": self.seed})
        return config


@keras.saving.register_keras_serializable(package="trainlab")
class MCDropout(keras.layers.Dropout):
    """Dropout that stays on at inference, for Monte Carlo dropout (Gal & Ghahramani 2016).

    Keras' ``Dropout`` drops units only when called with ``training=True``; ``predict`` and
    ``evaluate`` call the model with ``training=False``, and that wins even over a
    ``Dropout(...)(x, training=True)`` written into a functional model. Calling the whole model with
    ``training=True`` instead would also switch batch normalization to the batch's statistics (and
    update its moving statistics). This layer ignores ``training`` and always drops, so ``predict``
    gives a different sample on every call while every other layer keeps its inference behaviour.
    It drops in ``evaluate`` and in ``fit``'s validation too, so those scores are one random pass:
    train with Keras' ``Dropout``, then copy the weights into a twin built with ``MCDropout``
    (the two have the same weights). Its arguments are Keras' ``Dropout``'s (rate, noise_shape, seed).

    Example:
        >>> layer = MCDropout(0.5, seed=0)
        >>> x = keras.ops.ones((1, 1000))
        >>> kept = float(keras.ops.mean(keras.ops.cast(layer(x, training=False) > 0, "float32")))
        >>> 0.4 < kept < 0.6, float(keras.ops.max(layer(x)))  # half dropped; the rest scaled by 1/(1-0.5)
        (True, 2.0)
    """

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        return super().call(inputs, training=True)
