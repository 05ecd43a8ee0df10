"""Execute course notebooks in place, top to bottom in a fresh kernel, and record the evidence.

For each notebook: the Colab badge and install line are synced with pyproject.toml's Repository;
the notebook runs in a fresh kernel in its own folder; its metadata gets the hash of its code cells
and of everything else that produced the outputs (trainlab's modules, requirements.txt: the tests
fail if any of them changes after this run), its wall time, and the versions and CPU count the
kernel itself saw; the values of its claim checks go to trainlab/reference_claims.json (what a
learner at another scale sees beside their own); finally the run-time table in README.md is
rewritten.

    python tools/run_notebooks.py                          # every notebook of the course
    python tools/run_notebooks.py 1_vanishing_gradients/02_initialization.ipynb
    python tools/run_notebooks.py --readme-only            # only rewrite README's table

Set TRAINLAB_DATA_DIR (or fill data/fashion-mnist/) first if you are offline.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import notebook_meta as meta  # noqa: E402

BADGE_RE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")
PIP_RE = re.compile(r'%pip install -q "trainlab @ git\+[^"]*"')
RUNTIME_RE = re.compile(r"\*Measured run time:[^*]*\*")


def sync_links(nb, path: Path) -> None:
    """Point the badge and the Colab install line at the repository named in pyproject.toml."""
    first = nb.cells[0]
    if first.cell_type == "markdown" and BADGE_RE.search(first.source):
        first.source = BADGE_RE.sub(lambda _: meta.colab_badge(path), first.source)
    for cell in nb.cells:
        if cell.cell_type == "code" and PIP_RE.search(cell.source):
            cell.source = PIP_RE.sub(lambda _: meta.pip_install_line(), cell.source)


# Appended to the notebook for the run, then removed: what the kernel itself ran with.
ENVIRONMENT_PROBE = """import json as _json, os as _os, platform as _platform
from importlib.metadata import version as _version
print("__TRAINLAB_ENV__" + _json.dumps({
    "python": _platform.python_version(), "tensorflow": _version("tensorflow"), "keras": _version("keras"),
    "numpy": _version("numpy"), "cpu_count": len(_os.sched_getaffinity(0)),
    "onednn": _os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default")}))"""
REFERENCE_ONLY = ("TRAINLAB_SEED_OFFSET", "TRAINLAB_SCALE")


def execute(path: Path, timeout: int) -> float:
    """Run one notebook in place at the reference scale; return its wall time in seconds."""
    for name in REFERENCE_ONLY:
        if os.environ.get(name):
            raise SystemExit(f"{name} is set: committed notebooks run at the reference scale. Unset it "
                             "(tools/robustness.py runs the shifted and scaled variants).")
    nb = nbformat.read(path, as_version=4)
    sync_links(nb, path)
    nb.cells.append(nbformat.v4.new_code_cell(ENVIRONMENT_PROBE))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    with tempfile.TemporaryDirectory() as folder:
        record = Path(folder) / "claims.json"
        os.environ["TRAINLAB_RECORD_CLAIMS"] = str(record)  # the kernel inherits it
        try:
            start = time.perf_counter()
            client.execute()
            wall = time.perf_counter() - start
        finally:
            del os.environ["TRAINLAB_RECORD_CLAIMS"]
        recorded = json.loads(record.read_text()) if record.exists() else {}
    probe = nb.cells.pop()
    environment = json.loads(next(o.text for o in probe.outputs if o.output_type == "stream")
                             .split("__TRAINLAB_ENV__", 1)[1])
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata["trainlab"] = {
        **meta.provenance(nb),
        "wall_time_s": round(wall, 1),
        "cpu_count": environment.pop("cpu_count"),
        "executed_with": environment,
    }
    first = nb.cells[0]
    if first.cell_type == "markdown":
        first.source = RUNTIME_RE.sub(lambda _: meta.runtime_note(round(wall, 1)), first.source)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    meta.merge_reference_values(recorded, [meta.notebook_key(path)])
    return wall


def readme_table(root: Path = meta.ROOT) -> str:
    """The Markdown table of notebooks, their promise and their measured run time."""
    rows = ["| notebook | what it shows | run time (2-core CPU) |", "| --- | --- | --- |"]
    for path in meta.course_notebooks(root):
        nb = nbformat.read(path, as_version=4)
        rel = path.relative_to(root).as_posix()
        wall = nb.metadata.get("trainlab", {}).get("wall_time_s")
        shown = meta.format_seconds(wall) if wall is not None else "not yet executed"
        rows.append(f"| [{rel}]({rel}) | {meta.summary_line(nb)} | {shown} |")
    return "\n".join(rows)


def write_readme_table(root: Path = meta.ROOT) -> None:
    readme = root / "README.md"
    text = readme.read_text()
    begin, end = text.index(meta.RUNTIMES_BEGIN), text.index(meta.RUNTIMES_END)
    text = text[: begin + len(meta.RUNTIMES_BEGIN)] + "\n" + readme_table(root) + "\n" + text[end:]
    readme.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every course notebook")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    parser.add_argument("--readme-only", action="store_true", help="only rewrite README's table")
    args = parser.parse_args(argv)
    if not args.readme_only:
        paths = [p.resolve() for p in args.notebooks] or meta.course_notebooks()
        for path in paths:
            if not path.exists():
                parser.error(f"no such notebook: {path}")
            print(f"executing {path.relative_to(meta.ROOT)} ...", flush=True)
            wall = execute(path, args.timeout)
            budget = meta.budget_s(path)
            flag = "" if wall <= budget else f"  OVER its {budget} s budget"
            print(f"  done in {meta.format_seconds(wall)}{flag}", flush=True)
    write_readme_table()
    print("README.md run-time table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
