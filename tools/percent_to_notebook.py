"""Turn a script in the "percent" format (cells start with `# %%`, Markdown cells with
`# %% [markdown]` and every line commented) into an unexecuted notebook.

    python tools/percent_to_notebook.py draft.py 1_vanishing_gradients/01_the_problem.ipynb
    python tools/percent_to_notebook.py --reverse 1_vanishing_gradients/01_the_problem.ipynb draft.py

Handy for drafting a notebook in an editor; then run tools/run_notebooks.py on the result.
``--reverse`` writes an existing notebook's cells (without outputs) as such a script.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def parse(text: str) -> list:
    """Split percent-format text into notebook cells."""
    cells, kind, lines = [], None, []

    def flush():
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                             for line in body.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(body))
        elif kind == "code" and body.strip():
            cells.append(nbformat.v4.new_code_cell(body))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def to_percent(nb) -> str:
    """The cells of a notebook as percent-format text (outputs are left out); ``parse`` inverts it."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            body = "\n".join(f"# {line}" if line else "#" for line in cell.source.splitlines())
            parts.append(f"# %% [markdown]\n{body}\n")
        elif cell.cell_type == "code":
            parts.append(f"# %%\n{cell.source}\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    reverse = argv[:1] == ["--reverse"]
    argv = argv[1:] if reverse else argv
    if len(argv) != 2:
        print(__doc__)
        return 2
    source, target = map(Path, argv)
    if reverse:
        target.write_text(to_percent(nbformat.read(source, as_version=4)))
        print(f"wrote {target}")
        return 0
    nb = nbformat.v4.new_notebook()
    nb.cells = parse(source.read_text())
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, target)
    print(f"wrote {target} ({len(nb.cells)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
