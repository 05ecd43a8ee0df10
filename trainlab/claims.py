"""The reference scale of each part, and claim checks that assert there and report anywhere else.

A notebook states its claims as checks. At the *reference scale* (the data size, batch size,
epochs and seeds the committed notebook ran with, on a CPU) a check asserts, so CI catches a claim
that stops holding. Anywhere else (more data, more epochs, other seeds, a GPU) a claim may well
change, so a check never fails there: it prints your number beside the reference run's number and
says what to look for.

Two environment variables serve the course's robustness check (``tools/robustness.py``):
``TRAINLAB_SEED_OFFSET`` shifts every seed of the scale (claims still assert: they must hold for
any seeds), and ``TRAINLAB_SCALE`` overrides sizes (``"train_size=None,epochs=10"``; claims then
report instead of asserting). ``TRAINLAB_RECORD_CLAIMS`` names a JSON file to which each check
appends its measured value; ``tools/run_notebooks.py`` uses it to store the reference values.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

REFERENCE_FILE = Path(__file__).with_name("reference_claims.json")
SEED_OFFSET_VAR = "TRAINLAB_SEED_OFFSET"
SCALE_VAR = "TRAINLAB_SCALE"
RECORD_VAR = "TRAINLAB_RECORD_CLAIMS"


@dataclasses.dataclass(frozen=True)
class Scale:
    """How big an experiment is: training and validation images, batch size, epochs and seeds.

    ``train_size=None`` means the full 55,000 training images. ``seeds`` are the seeds every
    contender is trained with; ``seed`` (the first one) drives single-run experiments.

    Example:
        >>> PART_1.replace(train_size=None, epochs=20).epochs
        20
    """

    train_size: int | None
    valid_size: int
    batch_size: int
    epochs: int
    seeds: tuple[int, ...]

    def __post_init__(self):
        for name in ("valid_size", "batch_size", "epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Scale.{name} must be a positive int, got {value!r}")
        if self.train_size is not None and (isinstance(self.train_size, bool)
                                            or not isinstance(self.train_size, int) or self.train_size < 1):
            raise ValueError(f"Scale.train_size must be a positive int or None, got {self.train_size!r}")
        if not self.seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in self.seeds):
            raise ValueError(f"Scale.seeds must be a non-empty tuple of ints, got {self.seeds!r}")
        object.__setattr__(self, "seeds", tuple(self.seeds))

    @property
    def seed(self) -> int:
        """The seed of single-run experiments: the first of ``seeds``."""
        return self.seeds[0]

    def replace(self, **changes: Any) -> Scale:
        """A copy with some fields changed (``seeds`` may be given as any sequence)."""
        return dataclasses.replace(self, **changes)

    def data_kwargs(self) -> dict[str, Any]:
        """The arguments of ``data.load_fashion_mnist`` that this scale sets."""
        return {"train_size": self.train_size, "valid_size": self.valid_size}

    def describe(self) -> str:
        images = "all 55,000" if self.train_size is None else f"{self.train_size:,}"
        return (f"{images} training images, {self.valid_size:,} for validation, batches of "
                f"{self.batch_size}, {self.epochs} epochs, seeds {list(self.seeds)}")


# The reference scales: small enough to run live on a 2-core CPU. Part 1's reference optimizer is
# SGD with momentum 0.9 at learning rate 0.01: plain enough that initialization and activations
# decide the outcome (a notebook that needs another says why).
INTRO = Scale(train_size=10_000, valid_size=5000, batch_size=128, epochs=5, seeds=(0, 1, 2))
PART_1 = Scale(train_size=5000, valid_size=2000, batch_size=128, epochs=3, seeds=(0, 1, 2))
# Part 2 trains a source model once on the 8 classes of task A (from these 10,000 images), then
# many small target models on task B's few labels: batch 32 and 20 epochs are for task B, and
# 10 seeds because a transfer gain is small beside the spread between seeds. Its reference
# optimizer is Adam at 1e-3 (1e-4 for fine-tuning).
PART_2 = Scale(train_size=10_000, valid_size=5000, batch_size=32, epochs=20, seeds=tuple(range(10)))
# Part 3 compares optimizers and schedules on one deep MLP (10 hidden layers of 100 ReLU units,
# He init, no batch norm, so that the optimizer has work to do): 10 epochs reach the point where
# the optimizers differ, and 3 seeds fit many contenders in a live class. Each optimizer gets its
# own learning rate; there is no single reference optimizer in this part.
PART_3 = Scale(train_size=10_000, valid_size=5000, batch_size=128, epochs=10, seeds=(0, 1, 2))
# Part 4 needs a model that overfits, so that a regularizer has something to fix: 2,000 training
# images and a wide MLP (2 hidden layers of 512 ReLU units, He init) reach about 98% training and
# 81% validation accuracy in 20 epochs of Adam at 1e-3, its reference optimizer. 5,000 validation
# images keep calibration bins populated. The capstone alone trains on all the data.
PART_4 = Scale(train_size=2000, valid_size=5000, batch_size=128, epochs=20, seeds=(0, 1, 2))


def _seed_offset() -> int:
    text = os.environ.get(SEED_OFFSET_VAR, "0").strip() or "0"
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{SEED_OFFSET_VAR} must be an integer, got {text!r}") from None


def _parse_overrides(text: str) -> dict[str, Any]:
    """'train_size=None,epochs=10,seeds=0:1:2' -> {'train_size': None, 'epochs': 10, 'seeds': (0, 1, 2)}."""
    fields = {f.name for f in dataclasses.fields(Scale)}
    overrides: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if name not in fields or not value:
            raise ValueError(f"{SCALE_VAR}: cannot read {item!r}; write e.g. 'train_size=None,epochs=10' "
                             f"with fields from {sorted(fields)}")
        if name == "seeds":
            overrides[name] = tuple(int(s) for s in value.split(":"))
        else:
            overrides[name] = None if value == "None" else int(value)
    return overrides


def current(reference: Scale, **changes: Any) -> Scale:
    """The scale to run: ``reference`` with your ``changes``, then the environment's overrides.

    Example:
        >>> current(PART_1).train_size  # nothing changed, no override set
        5000
        >>> current(PART_1, epochs=20).epochs  # scaling up: claims will report, not assert
        20
    """
    scale = reference.replace(**changes)
    overrides = _parse_overrides(os.environ.get(SCALE_VAR, ""))
    if overrides:
        scale = scale.replace(**overrides)
    offset = _seed_offset()
    if offset:
        scale = scale.replace(seeds=tuple(s + offset for s in scale.seeds))
    return scale


def _on_gpu() -> bool:
    try:
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    except Exception:  # another backend, or TensorFlow missing: treat as CPU
        return False


def _reference_values() -> dict[str, dict[str, Any]]:
    try:
        return json.loads(REFERENCE_FILE.read_text())
    except (OSError, ValueError):
        return {}


def _format(value: Any) -> str:
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # a numpy scalar
        value = value.item()
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (int, float)):
        value = float(value)
        if value == 0 or not math.isfinite(value):
            return str(value)
        return f"{value:.3g}" if (abs(value) < 1e-2 or abs(value) >= 1e4) else f"{value:.3f}"
    return str(value)


class Checker:
    """Check a notebook's claims: assert at the reference scale, report at any other.

    ``notebook`` names the notebook (e.g. ``"1_vanishing_gradients/02_initialization"``); the
    reference run's values are stored under that name. ``scale`` is what the notebook runs
    (``current(reference)``); the checks assert only when its sizes and epochs equal the
    reference's, its seeds are the reference seeds (shifted by ``TRAINLAB_SEED_OFFSET`` at most)
    and no GPU is in use.

    Example:
        >>> check = Checker("demo", current(PART_1), PART_1)
        >>> check("He is ahead of Glorot by more than 0.1", 0.35, above=0.1)
        ✓ He is ahead of Glorot by more than 0.1: 0.350 (claim: > 0.1)
        True
    """

    def __init__(self, notebook: str, scale: Scale, reference: Scale):
        self.notebook, self.scale, self.reference = notebook, scale, reference
        offset = _seed_offset()
        shifted = tuple(s + offset for s in reference.seeds)
        same_size = dataclasses.replace(scale, seeds=reference.seeds) == reference
        self.at_reference = same_size and scale.seeds == shifted and not _on_gpu()
        self._stored = _reference_values().get(notebook, {})
        self.measured: dict[str, Any] = {}

    def __call__(self, claim: str, value: Any, *, above: float | None = None, below: float | None = None,
                 look_for: str = "") -> bool:
        """Check one claim about ``value``: ``above < value < below`` (either bound optional), or
        ``value`` itself is true when no bound is given. Returns whether the claim holds."""
        if above is None and below is None:
            holds = bool(value)
            rule = "holds"
        else:
            number = float(value)
            holds = (math.isfinite(number) and (above is None or number > above)
                     and (below is None or number < below))
            rule = " and ".join(part for part in (f"> {float(above):g}" if above is not None else "",
                                                  f"< {float(below):g}" if below is not None else "") if part)
        if hasattr(value, "item") and getattr(value, "shape", None) == ():  # a numpy scalar
            value = value.item()
        self.measured[claim] = value if isinstance(value, (bool, int, float, str)) else str(value)
        self._record(claim)
        shown = _format(value) if (above is not None or below is not None) else ("yes" if holds else "no")
        if self.at_reference:
            if not holds:
                raise AssertionError(f"claim does not hold at the reference scale: {claim}: "
                                     f"measured {shown}, claimed {rule}")
            print(f"✓ {claim}: {shown} (claim: {rule})")
        else:
            stored = self._stored.get(claim)
            reference = f"reference run: {_format(stored) if stored is not None else 'not recorded'}"
            verdict = "holds here too" if holds else "does not hold at your scale"
            print(f"· {claim}: yours {shown}, {reference}; the reference claim ({rule}) {verdict}."
                  + (f" Look for: {look_for}" if look_for else ""))
        return holds

    def _record(self, claim: str) -> None:
        target = os.environ.get(RECORD_VAR)
        if not target or not self.at_reference:
            return
        path = Path(target)
        try:
            recorded = json.loads(path.read_text())
        except (OSError, ValueError):
            recorded = {}
        recorded.setdefault(self.notebook, {})[claim] = self.measured[claim]
        path.write_text(json.dumps(recorded, indent=1, sort_keys=True))

    def explain(self) -> None:
        """Print once, in the Setup cell, whether claims will assert or report."""
        if self.at_reference:
            print(f"Reference scale ({self.scale.describe()}): the claim checks assert.")
        else:
            print(f"Your scale: {self.scale.describe()}.\nReference: {self.reference.describe()}.\n"
                  "Claim checks print your numbers beside the reference run's instead of asserting.")
