"""Tests of trainlab.sources: the file and line of a fact in Keras' installed source."""

import inspect

import keras
import pytest

from trainlab.sources import source_line


def test_the_line_number_points_at_the_line_shown():
    text = source_line(keras.layers.Dropout.call, "if training")
    path, rest = text.split(", line ")
    number, shown = rest.split(": ", 1)
    assert path == "keras/src/layers/regularization/dropout.py"
    real = inspect.getsourcefile(keras.layers.Dropout.call)
    with open(real) as f:
        assert f.read().splitlines()[int(number) - 1].strip() == shown


def test_more_lines_and_later_occurrences():
    one = source_line(keras.layers.BatchNormalization.call, "self.moving_mean.assign")
    two = source_line(keras.layers.BatchNormalization.call, "self.moving_mean.assign", n_lines=2)
    assert two.startswith(one) and len(two) > len(one)
    first = source_line(keras.callbacks.EarlyStopping.on_epoch_end, "self.")
    second = source_line(keras.callbacks.EarlyStopping.on_epoch_end, "self.", occurrence=2)
    assert int(second.split(", line ")[1].split(":")[0]) > int(first.split(", line ")[1].split(":")[0])


def test_decorated_functions_are_unwrapped_to_their_own_file():
    assert source_line(keras.ops.relu, "def relu").startswith("keras/src/ops/nn.py")


def test_missing_text_and_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="occurs 0 time"):
        source_line(keras.layers.Dropout.call, "no such text anywhere")
    with pytest.raises(ValueError, match="n_lines"):
        source_line(keras.layers.Dropout.call, "if", n_lines=0)
    with pytest.raises(ValueError, match="no Python source"):
        source_line(len, "x")
