"""Re-execute notebooks with other seeds and perturbed numerics: every claim must still hold.

A claim checked on one CPU with one set of seeds may be luck. Each variant runs the notebook top to
bottom in a fresh kernel, without writing it back, with:

- ``seeds+1000, oneDNN off``: every seed of the notebook's scale shifted by 1000, and TensorFlow's
  oneDNN kernels switched off (other kernels, another order of floating-point reductions);
- ``seeds+2000, 1 thread``: seeds shifted by 2000, TensorFlow and OpenMP on one thread (another
  order of reductions again, as on another CPU).

The claim checks still assert under these variants (``trainlab.claims``), so a notebook passes only
if every claim holds. ``--scale`` adds a scaled-up run (``TRAINLAB_SCALE``, e.g.
``"train_size=20000,epochs=6"``) in which the checks report instead of asserting: it must run to the
end, printing the learner's numbers beside the reference ones.

    python tools/robustness.py 1_vanishing_gradients/02_initialization.ipynb
    python tools/robustness.py --variants "seeds+1000, oneDNN off" 00_intro.ipynb
    python tools/robustness.py --scale "train_size=None,epochs=6" --variants none 00_intro.ipynb

Set TRAINLAB_DATA_DIR (or fill data/fashion-mnist/) first if you are offline.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

VARIANTS: dict[str, dict[str, str]] = {
    "seeds+1000, oneDNN off": {"TRAINLAB_SEED_OFFSET": "1000", "TF_ENABLE_ONEDNN_OPTS": "0"},
    "seeds+2000, 1 thread": {"TRAINLAB_SEED_OFFSET": "2000", "TF_NUM_INTRAOP_THREADS": "1",
                             "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"},
}


def run_variant(path: Path, env: dict[str, str], timeout: int = 900) -> dict:
    """Execute a copy of the notebook with ``env`` added; return what happened (nothing is written)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)  # the kernel inherits the environment when it starts
    try:
        start = time.perf_counter()
        client.execute()
        wall = time.perf_counter() - start
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    errors, asserted, reported = [], 0, 0
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                message = out.evalue.splitlines()[0] if out.evalue else ""
                errors.append(f"cell {index}: {out.ename}: {message}")
            elif out.output_type == "stream" and out.name == "stdout":
                lines = out.text.splitlines()
                asserted += sum(line.startswith("✓ ") for line in lines)
                reported += sum(line.startswith("· ") for line in lines)
    return {"wall": wall, "errors": errors, "asserted": asserted, "reported": reported,
            "report_lines": [line for cell in nb.cells for out in cell.get("outputs", [])
                             if out.output_type == "stream" for line in out.text.splitlines()
                             if line.startswith("· ")]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--variants", default="all",
                        help=f"comma-free choice: 'all', 'none', or one of {list(VARIANTS)}")
    parser.add_argument("--scale", help="also run scaled up, e.g. 'train_size=None,epochs=6'")
    parser.add_argument("--show-reports", action="store_true", help="print the scaled run's claim lines")
    args = parser.parse_args(argv)
    chosen = (dict(VARIANTS) if args.variants == "all" else {} if args.variants == "none"
              else {args.variants: VARIANTS[args.variants]})
    if args.scale:
        chosen[f"scaled: {args.scale}"] = {"TRAINLAB_SCALE": args.scale}
    failures = 0
    print("| notebook | variant | result | claims asserted | claims reported | wall |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    for path in args.notebooks:
        if not path.exists():
            parser.error(f"no such notebook: {path}")
        for name, env in chosen.items():
            outcome = run_variant(path.resolve(), env)
            result = "pass" if not outcome["errors"] else "FAIL: " + "; ".join(outcome["errors"])
            failures += bool(outcome["errors"])
            print(f"| {path.as_posix()} | {name} | {result} | {outcome['asserted']} | {outcome['reported']} "
                  f"| {outcome['wall']:.0f} s |", flush=True)
            if args.show_reports and name.startswith("scaled"):
                for line in outcome["report_lines"]:
                    print(f"    {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
