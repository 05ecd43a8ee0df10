"""Execute course notebooks in place, top to bottom in a fresh kernel, and record the evidence.

For each notebook: the Colab badge and install line are synced with pyproject.toml's Repository;
the notebook runs in a fresh kernel in its own folder; its metadata gets the hash of its code cells
(the tests fail if the code changes after this run), its wall time and the versions it ran with;
finally the run-time table in README.md is rewritten.

    python tools/run_notebooks.py                          # every notebook of the course
    python tools/run_notebooks.py 1_vanishing_gradients/02_initialization.ipynb
    python tools/run_notebooks.py --readme-only            # only rewrite README's table

Set TRAINLAB_DATA_DIR (or fill data/fashion-mnist/) first if you are offline.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from importlib.metadata import version
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


def execute(path: Path, timeout: int) -> float:
    """Run one notebook in place; return its wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    sync_links(nb, path)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata["trainlab"] = {
        "code_sha256": meta.code_hash(nb),
        "wall_time_s": round(wall, 1),
        "cpu_count": os.cpu_count(),
        "executed_with": {"python": platform.python_version(), "tensorflow": version("tensorflow"),
                          "keras": version("keras")},
    }
    first = nb.cells[0]
    if first.cell_type == "markdown":
        first.source = RUNTIME_RE.sub(lambda _: meta.runtime_note(wall), first.source)
    nbformat.validate(nb)
    nbformat.write(nb, path)
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
