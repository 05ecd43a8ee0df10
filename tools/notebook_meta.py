"""What the notebook tool and the notebook tests share: the course's notebooks, their code hash,
their Colab address and run-time budget. No third-party imports beyond the standard library."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PART_FOLDERS = ("1_vanishing_gradients", "2_transfer_learning", "3_optimizers", "4_regularization")
# Seconds a notebook may take top to bottom on a 2-core CPU (the issues give these budgets).
BUDGETS_S = {"00_intro.ipynb": 120, "1_vanishing_gradients": 180}
DEFAULT_BUDGET_S = 300
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
RUNTIMES_BEGIN = "<!-- runtimes:begin (written by tools/run_notebooks.py) -->"
RUNTIMES_END = "<!-- runtimes:end -->"


def course_notebooks(root: Path = ROOT) -> list[Path]:
    """The intro and every notebook of the part folders, in course order."""
    found = [root / "00_intro.ipynb"] if (root / "00_intro.ipynb").exists() else []
    for folder in PART_FOLDERS:
        found += sorted(p for p in (root / folder).glob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return found


def repository_url(root: Path = ROOT) -> str:
    """The course's GitHub address, kept in one place: pyproject.toml [project.urls] Repository."""
    with open(root / "pyproject.toml", "rb") as f:
        url = tomllib.load(f)["project"]["urls"]["Repository"].rstrip("/")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"pyproject.toml's Repository must be https://github.com/OWNER/NAME, got {url}")
    return url


def colab_url(notebook: Path, root: Path = ROOT) -> str:
    """The address that opens this notebook in Colab."""
    github = repository_url(root).removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{github}/blob/main/{notebook.relative_to(root).as_posix()}"


def colab_badge(notebook: Path, root: Path = ROOT) -> str:
    """The Markdown of the notebook's Open-in-Colab badge."""
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({colab_url(notebook, root)})"


def pip_install_line(root: Path = ROOT) -> str:
    """What the Setup cell runs in Colab to install trainlab from the course's repository."""
    return f'%pip install -q "trainlab @ git+{repository_url(root)}"'


def code_hash(nb: dict) -> str:
    """SHA-256 of the code cells' sources: it changes whenever any code changes."""
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
               for c in nb["cells"] if c["cell_type"] == "code"]
    return hashlib.sha256(json.dumps([s.rstrip() for s in sources]).encode()).hexdigest()


def budget_s(notebook: Path, root: Path = ROOT) -> int:
    """The run-time budget of a notebook in seconds."""
    rel = notebook.relative_to(root).as_posix()
    return BUDGETS_S.get(rel, BUDGETS_S.get(rel.split("/")[0], DEFAULT_BUDGET_S))


def summary_line(nb: dict) -> str:
    """The notebook's promise: the first sentence after its H1 title (badges and notes skipped)."""
    first = nb["cells"][0]["source"]
    text = "".join(first) if isinstance(first, list) else first
    for line in text.splitlines()[1:]:
        line = line.strip()
        if line and not line.startswith(("[![", "#", "*Run time", "_Run time", ">")):
            return re.split(r"(?<=[.!?])\s", line, maxsplit=1)[0]
    return ""


def format_seconds(seconds: float) -> str:
    """72.4 -> '1 min 12 s'."""
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def runtime_note(seconds: float) -> str:
    """The line of a notebook's first cell that states its measured run time."""
    return f"*Measured run time: {format_seconds(seconds)} on a 2-core CPU (tools/run_notebooks.py).*"
