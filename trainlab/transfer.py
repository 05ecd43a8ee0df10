"""Reusing layers: split Fashion-MNIST into a source and a target task, copy a model with its
weights, freeze and unfreeze (batch normalization stays frozen unless you ask), cache features,
start a fine-tune from a trained head."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import keras
import numpy as np

from trainlab.data import CLASS_NAMES, FashionMNIST


@dataclass(frozen=True, eq=False, repr=False)
class Task(FashionMNIST):
    """A classification task cut out of Fashion-MNIST: some of its classes, relabelled 0..k-1.

    ``classes`` are the original Fashion-MNIST class indices, in the order of the new labels
    (label ``i`` is ``CLASS_NAMES[classes[i]]``). It has the splits of ``FashionMNIST`` (and its
    standardization), so ``experiments.train_runs`` takes it as ``data``.
    """

    classes: tuple[int, ...] = ()

    @property
    def class_names(self) -> list[str]:
        return [CLASS_NAMES[c] for c in self.classes]

    def __str__(self) -> str:
        return repr(self)

    def __repr__(self) -> str:
        return (f"Task({', '.join(self.class_names)}: train {len(self.y_train)}, "
                f"valid {len(self.y_valid)}, test {len(self.y_test)})")

    def with_labels(self, n: int, *, seed: int = 0) -> Task:
        """The same task with a class-balanced sample of ``n`` of its training images (a label
        budget). Validation and test splits are unchanged.

        Example:
            >>> task_b.with_labels(20, seed=1).y_train.shape
            (20,)
        """
        n = _positive_int("n", n)
        k = len(self.classes)
        if n < k:
            raise ValueError(f"n={n} gives some class no image: take at least {k}, one per class")
        if n > len(self.y_train):
            raise ValueError(f"n={n} is more than the {len(self.y_train)} training images this task has")
        rng = np.random.default_rng(seed)
        quotas = np.full(k, n // k) + (np.arange(k) < n % k)
        picked = []
        for label, quota in enumerate(quotas):
            candidates = np.flatnonzero(self.y_train == label)
            if quota > len(candidates):
                raise ValueError(f"class {self.class_names[label]!r} has only {len(candidates)} "
                                 f"training images, fewer than the {quota} that n={n} needs")
            picked.append(rng.choice(candidates, size=quota, replace=False))
        order = rng.permutation(np.concatenate(picked))
        return replace(self, x_train=self.x_train[order], y_train=self.y_train[order])


def split_tasks(data: FashionMNIST, b_classes: Sequence[int] = (0, 2), *,
                b_train_size: int | None = 200, seed: int = 0) -> tuple[Task, Task]:
    """Split ``data`` into task A (every class but ``b_classes``) and task B (``b_classes`` only).

    Task A keeps all its images. Task B keeps a class-balanced sample of ``b_train_size`` training
    images (all of them if None): the few labels of the target task. Both keep all their
    validation and test images. Labels are renumbered 0..k-1 in class order (task B: in the order
    of ``b_classes``).

    Example:
        >>> task_a, task_b = split_tasks(data, b_classes=(0, 2), b_train_size=20)
        >>> task_b.class_names
        ['T-shirt/top', 'Pullover']
    """
    b_classes = tuple(int(c) for c in b_classes)
    if len(b_classes) < 2 or len(set(b_classes)) != len(b_classes):
        raise ValueError(f"b_classes must be two or more different classes, got {b_classes}")
    if not all(0 <= c < len(CLASS_NAMES) for c in b_classes):
        raise ValueError(f"b_classes must be class indices 0-{len(CLASS_NAMES) - 1}, got {b_classes}")
    if len(b_classes) > len(CLASS_NAMES) - 2:
        raise ValueError("leave at least two classes for task A")
    a_classes = tuple(c for c in range(len(CLASS_NAMES)) if c not in b_classes)
    task_a, task_b = (task(data, classes) for classes in (a_classes, b_classes))
    if b_train_size is not None:
        task_b = task_b.with_labels(b_train_size, seed=seed)
    return task_a, task_b


def task(data: FashionMNIST, classes: Sequence[int] | None = None) -> Task:
    """The task of telling ``classes`` apart (default: all ten), relabelled 0..k-1 in that order,
    with every image of those classes. ``.with_labels(n)`` then gives a label budget.

    Example:
        >>> task(data).with_labels(100, seed=0).y_train.shape
        (100,)
    """
    classes = tuple(range(len(CLASS_NAMES))) if classes is None else tuple(int(c) for c in classes)
    valid = all(0 <= c < len(CLASS_NAMES) for c in classes)
    if len(classes) < 2 or len(set(classes)) != len(classes) or not valid:
        raise ValueError(f"classes must be two or more different class indices 0-9, got {classes}")
    lookup = np.full(len(CLASS_NAMES), -1)
    lookup[list(classes)] = np.arange(len(classes))
    splits = {}
    for split in ("train", "valid", "test"):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        keep = lookup[y] >= 0
        splits[f"x_{split}"], splits[f"y_{split}"] = x[keep], lookup[y[keep]].astype(np.int64)
    return Task(**splits, mean=data.mean, std=data.std, classes=classes)


def clone_with_weights(model: keras.Model) -> keras.Model:
    """An independent copy of ``model``: same architecture, same weights (batch-norm statistics
    included), no shared variables. Training the copy leaves ``model`` unchanged.

    ``keras.models.clone_model`` alone gives fresh, *re-initialized* weights; reusing the layer
    objects themselves (``model.layers[:-1]``) shares them, so training B changes A.

    Example:
        >>> copy = clone_with_weights(model_a)
        >>> any(v is w for v in copy.weights for w in model_a.weights)
        False
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"clone_with_weights needs a keras.Model, got {type(model).__name__}")
    if not model.built:
        raise ValueError("the model is not built yet: call it on data (or give it an Input) first")
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def all_layers(model_or_layers: keras.Layer | Iterable[keras.Layer]) -> list[keras.Layer]:
    """Every layer inside, nested models opened up (the containers themselves included)."""
    todo = [model_or_layers] if isinstance(model_or_layers, keras.Layer) else list(model_or_layers)
    found: list[keras.Layer] = []
    while todo:
        layer = todo.pop(0)
        if not isinstance(layer, keras.Layer):
            raise ValueError(f"expected Keras layers or models, got {type(layer).__name__}")
        found.append(layer)
        todo = list(getattr(layer, "layers", [])) + todo
    return found


def freeze(model_or_layers: keras.Layer | Iterable[keras.Layer]) -> None:
    """Make the layers non-trainable (a frozen BatchNormalization also runs in inference mode).
    Recompile the model afterwards: ``compile`` fixes which weights the optimizer updates."""
    for layer in all_layers(model_or_layers):
        layer.trainable = False


def unfreeze(model_or_layers: keras.Layer | Iterable[keras.Layer], *, batch_norm: bool = False) -> None:
    """Make the layers trainable again, except batch normalization unless ``batch_norm=True``.

    A trainable BatchNormalization normalizes with the statistics of each fine-tuning batch and
    overwrites its moving statistics with them: on a small target dataset that undoes what it
    learned on the source task. In Keras 3 a ``training=False`` given when the base was called
    does not prevent it (the ``training`` of the outer call wins), so the rule lives here.
    Recompile the model afterwards.
    """
    for layer in all_layers(model_or_layers):
        layer.trainable = batch_norm or not isinstance(layer, keras.layers.BatchNormalization)


def extract_features(model: keras.Model, x: np.ndarray, *, layer: str | int | None = None,
                     batch_size: int = 512) -> np.ndarray:
    """The outputs of ``layer`` (a name, or an index into ``model.layers``; default: the model's
    own output) for the images ``x``, computed once in inference mode.

    Training a head on these cached features gives the same head as training it on top of the
    frozen base (tested), without running the base again every epoch.

    Example:
        >>> features = extract_features(model_a, task_b.x_train, layer=-2)
        >>> features.shape == (len(task_b.x_train), model_a.layers[-2].units)
        True
    """
    if layer is None:
        extractor = model
    else:
        if not getattr(model, "inputs", None):
            raise ValueError("the model has no known inputs: build it with keras.Input first")
        target = model.layers[layer] if isinstance(layer, int) else model.get_layer(layer)
        extractor = keras.Model(model.inputs, target.output)
    return np.asarray(extractor.predict(x, batch_size=_positive_int("batch_size", batch_size), verbose=0))


class StartFrom(keras.callbacks.Callback):
    """Before training starts, copy the weights of the named layers from ``source`` into the
    model being trained: e.g. start a fine-tune from a trained linear probe's head (LP-FT,
    Kumar et al. 2022). The layers must have the same names and weight shapes in both models.

    Example:
        >>> start = StartFrom(probe, layers=["output"])  # the probe's head, copied when fit starts
        >>> history = model.fit(x, y, epochs=1, callbacks=[start], verbose=0)
    """

    def __init__(self, source: keras.Model, layers: Sequence[str]):
        super().__init__()
        if isinstance(layers, str) or not layers:
            raise ValueError(f"layers must be a non-empty list of layer names, got {layers!r}")
        self.source, self.layers = source, list(layers)

    def on_train_begin(self, logs=None):
        for name in self.layers:
            self.model.get_layer(name).set_weights(self.source.get_layer(name).get_weights())


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)
