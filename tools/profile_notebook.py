"""Where a notebook's wall time goes: kernel start, imports, data, model build, first-call overhead
(tracing), training, evaluation and probes, plotting.

The notebook runs top to bottom in a fresh kernel, as `run_notebooks.py` runs it, but nothing is
written back. Before its first cell, the kernel gets a few timers wrapped around the functions
that do each kind of work (exclusive time: a probe called inside `fit` counts as a probe, not as
training). First-call overhead is the first training (and validation) batch of each `fit` minus
that fit's median batch: mostly the tracing of the train and test functions, plus the start of
the data pipeline. Whatever no timer covers is reported as "other".

    python tools/profile_notebook.py 1_vanishing_gradients/04_batch_normalization.ipynb
    python tools/profile_notebook.py --json profile.json 00_intro.ipynb 1_vanishing_gradients/*.ipynb

Set TRAINLAB_DATA_DIR (or fill data/fashion-mnist/) first if you are offline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CATEGORIES = ("kernel start", "imports", "data", "model build", "first-call overhead", "training",
              "evaluation and probes", "plotting", "other")

# Runs in the notebook's kernel before its first cell. Kept as source text: the kernel is another
# process. Times are exclusive: a timed call nested in another counts only for itself.
INSTRUMENT = r'''
import functools as _ft, time as _time, statistics as _st
_PROFILE = {"data": 0.0, "model build": 0.0, "first-call overhead": 0.0, "training": 0.0,
            "evaluation and probes": 0.0, "plotting": 0.0}
_STACK = []

def _timed(category, function):
    @_ft.wraps(function)
    def wrapper(*args, **kwargs):
        _STACK.append([category, _time.perf_counter(), 0.0])
        try:
            return function(*args, **kwargs)
        finally:
            cat, start, children = _STACK.pop()
            total = _time.perf_counter() - start
            _PROFILE[cat] += total - children
            if _STACK:
                _STACK[-1][2] += total
    wrapper._profiled = True
    return wrapper

def _wrap(owner, name, category):
    function = getattr(owner, name, None)
    if function is not None and not getattr(function, "_profiled", False):
        setattr(owner, name, _timed(category, function))

import keras as _keras

class _FirstBatch(_keras.callbacks.Callback):
    """Per fit: first batch minus the median batch, for training and for validation."""
    def __init__(self):
        super().__init__()
        self.train, self.test, self._t = [], [], None
    def on_train_batch_begin(self, batch, logs=None): self._t = _time.perf_counter()
    def on_train_batch_end(self, batch, logs=None): self.train.append(_time.perf_counter() - self._t)
    def on_test_batch_begin(self, batch, logs=None): self._t = _time.perf_counter()
    def on_test_batch_end(self, batch, logs=None): self.test.append(_time.perf_counter() - self._t)
    def overhead(self):
        extra = 0.0
        for times in (self.train, self.test[: max(1, len(self.test) // max(1, self._epochs))]):
            if len(times) >= 2:
                extra += max(0.0, times[0] - _st.median(times[1:]))
        return extra

_original_fit = getattr(_keras.Model.fit, "_original", _keras.Model.fit)

def _profiled_fit(self, *args, **kwargs):
    probe = _FirstBatch()
    probe._epochs = kwargs.get("epochs", 1)
    kwargs["callbacks"] = list(kwargs.get("callbacks") or []) + [probe]
    _STACK.append(["training", _time.perf_counter(), 0.0])
    try:
        return _original_fit(self, *args, **kwargs)
    finally:
        cat, start, children = _STACK.pop()
        total = _time.perf_counter() - start
        overhead = min(probe.overhead(), total - children)
        _PROFILE["first-call overhead"] += overhead
        _PROFILE["training"] += total - children - overhead
        if _STACK:
            _STACK[-1][2] += total
_profiled_fit._profiled = True
_profiled_fit._original = _original_fit
_keras.Model.fit = _profiled_fit

for _name in ("evaluate", "predict", "train_on_batch", "test_on_batch", "predict_on_batch"):
    _wrap(_keras.Model, _name, "evaluation and probes")
_wrap(_keras.Model, "compile", "model build")

import trainlab as _tl
import importlib as _il
_PROBES = "evaluation and probes"
for _module_name, _category in (("data", "data"), ("models", "model build"), ("diagnostics", _PROBES),
                                ("gradients", _PROBES), ("clipping", _PROBES), ("plots", "plotting")):
    try:
        _module = _il.import_module("trainlab." + _module_name)
    except ImportError:
        continue
    for _name in dir(_module):
        _object = getattr(_module, _name)
        if _name.startswith("_") or getattr(_object, "__module__", None) != _module.__name__:
            continue
        if isinstance(_object, type):
            for _method in ("_record", "on_train_batch_begin", "on_train_batch_end"):
                if _method in vars(_object):
                    _wrap(_object, _method, "evaluation and probes")
        elif callable(_object) and _name not in ("Dataset",):
            _loader = _module_name == "data" and _name.startswith("load")
            _wrap(_module, _name, "data" if _loader else _category)

import matplotlib_inline.backend_inline as _inline
_inline.flush_figures = _timed("plotting", _inline.flush_figures)  # registered when pyplot is imported
import IPython as _ip
_events = _ip.get_ipython().events
for _callback in list(_events.callbacks["post_execute"]):
    if getattr(_callback, "__name__", "") == "flush_figures":  # the inline backend draws here
        _events.unregister("post_execute", _callback)
        _events.register("post_execute", _timed("plotting", _callback))
'''

REPORT = 'import json as _json; print("__PROFILE__" + _json.dumps(_PROFILE))'


def profile(path: Path, timeout: int = 900) -> dict[str, float]:
    """Execute one notebook with timers; return seconds per category (and 'total')."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    probe_cell, report = nbformat.v4.new_code_cell(INSTRUMENT), nbformat.v4.new_code_cell(REPORT)
    nb.cells = [probe_cell] + nb.cells + [report]
    wall_start = time.perf_counter()
    with client.setup_kernel():
        kernel_start = time.perf_counter() - wall_start
        t0 = time.perf_counter()
        client.execute_cell(probe_cell, 0)
        instrument_s = time.perf_counter() - t0
        cell_times, failed = [], []
        for index, cell in enumerate(nb.cells[1:-1], start=1):
            if cell.cell_type != "code":
                continue
            t0 = time.perf_counter()
            client.execute_cell(cell, index)
            cell_times.append(time.perf_counter() - t0)
            for out in cell.outputs:
                if out.output_type == "error":  # timed all the same; reported beside the numbers
                    failed.append(f"cell {index}: {out.ename}")
        client.execute_cell(report, len(nb.cells) - 1)
    measured = json.loads(next(o.text for o in report.outputs if o.output_type == "stream"
                               and "__PROFILE__" in o.text).split("__PROFILE__", 1)[1])
    first_cell = cell_times[0] if cell_times else 0.0
    result = {"kernel start": kernel_start,
              # trainlab, keras and TensorFlow are imported by the timers' set-up: count that here.
              "imports": instrument_s + max(0.0, first_cell - measured["data"])}
    result.update({k: measured[k] for k in CATEGORIES if k in measured})
    result["total"] = time.perf_counter() - wall_start
    timed = sum(v for k, v in result.items() if k != "total")
    # the setup cell's data time is inside first_cell; avoid counting it twice
    result["other"] = max(0.0, result["total"] - timed)
    if failed:
        print(f"{path.name}: errors in {', '.join(failed)}", file=sys.stderr)
    return result


def table(profiles: dict[str, dict[str, float]]) -> str:
    """A Markdown table: one row per notebook, one column per category, seconds."""
    lines = ["| notebook | " + " | ".join(CATEGORIES) + " | total |",
             "| --- |" + " ---: |" * (len(CATEGORIES) + 1)]
    for name, row in profiles.items():
        lines.append(f"| {name} | " + " | ".join(f"{row.get(c, 0.0):.1f}" for c in CATEGORIES)
                     + f" | {row['total']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    profiles = {}
    for path in args.notebooks:
        if not path.exists():
            parser.error(f"no such notebook: {path}")
        profiles[path.as_posix()] = profile(path.resolve())
        print(f"{path}: {profiles[path.as_posix()]['total']:.1f} s", file=sys.stderr, flush=True)
        if args.json:
            args.json.write_text(json.dumps(profiles, indent=1))
    print(table(profiles))
    if args.json:
        args.json.write_text(json.dumps(profiles, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
