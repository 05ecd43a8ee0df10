"""Where a fact about a library lives: the file and line of its installed source that shows it."""

from __future__ import annotations

import inspect
from typing import Any


def source_line(function: Any, text: str, *, n_lines: int = 1, occurrence: int = 1) -> str:
    """'keras/src/<file>, line N: <the line>' for the line of ``function``'s source that contains
    ``text`` (its ``occurrence``-th such line), with the ``n_lines - 1`` lines after it joined on.

    The path starts at the function's top-level package, so it reads the same on every machine;
    a notebook prints it beside a claim about Keras, and a learner with another version of Keras
    sees at once whether the line still says so.

    Example:
        >>> print(source_line(keras.layers.Dropout.call, "if training"))  # doctest: +ELLIPSIS
        keras/src/layers/regularization/dropout.py, line ...: if training and self.rate > 0:
    """
    if not isinstance(text, str) or not text:
        raise ValueError(f"text must be a non-empty string to look for, got {text!r}")
    for name, value in (("n_lines", n_lines), ("occurrence", occurrence)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    function = inspect.unwrap(function)  # past decorators, to the function's own file
    try:
        lines, first = inspect.getsourcelines(function)
        path = inspect.getsourcefile(function)
    except (OSError, TypeError) as error:
        raise ValueError(f"no Python source for {function!r} (a built-in or compiled function?)") from error
    hits = [i for i, line in enumerate(lines) if text in line]
    if len(hits) < occurrence:
        where = getattr(function, "__qualname__", function)
        raise ValueError(f"{text!r} occurs {len(hits)} time(s) in {where} ({path}), not {occurrence}: "
                         "has this version of the library changed?")
    index = hits[occurrence - 1]
    path = (path or "").replace("\\", "/")
    package = (getattr(inspect.getmodule(function), "__name__", "") or "").split(".")[0]
    marker = f"/{package}/" if package else ""
    shown_path = path[path.rindex(marker) + 1:] if marker and marker in path else path.rsplit("/", 1)[-1]
    shown = " ".join(line.strip() for line in lines[index:index + n_lines])
    return f"{shown_path}, line {first + index}: {shown}"
