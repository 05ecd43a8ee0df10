"""What the notebook tool and the notebook tests share: the course's notebooks, their code hash,
their Colab address and run-time budget. No third-party imports beyond the standard library."""

from __future__ import annotations

import ast
import hashlib
import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PART_FOLDERS = ("1_vanishing_gradients", "2_transfer_learning", "3_optimizers", "4_regularization")
# Seconds a notebook may take top to bottom on a 2-core CPU (the issues give these budgets).
BUDGETS_S = {"00_intro.ipynb": 120, "1_vanishing_gradients": 120, "2_transfer_learning": 120,
             "3_optimizers": 120, "4_regularization": 120,
             "4_regularization/05_practical_guidelines.ipynb": 480}
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


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _trainlab_imports(text: str, modules: set[str]) -> set[str]:
    """The trainlab modules that a piece of code names: ``from trainlab import a, b``,
    ``from trainlab.a import ...``, ``import trainlab.a``, ``trainlab.a.f()``, ``from . import a``."""
    found = set(re.findall(r"\btrainlab\.(\w+)", text))
    for names in re.findall(r"from[ \t]+(?:trainlab|\.)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)", text):
        found |= set(re.findall(r"\w+", names))
    found |= set(re.findall(r"from\s+\.(\w+)\s+import", text))
    return found & modules


def trainlab_hash(root: Path = ROOT, nb: dict | None = None) -> str:
    """SHA-256 over the trainlab modules (names and code) that a notebook's code uses, with
    the modules those import in turn and ``__init__``; over every module when ``nb`` is None.
    A change to any of them changes it; a module the notebook never reaches does not."""
    files = {p.stem: p for p in (root / "trainlab").glob("*.py")}
    if nb is None:
        used = set(files)
    else:
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        todo = _trainlab_imports(code, set(files)) | {"__init__"}
        used = set()
        while todo:
            name = todo.pop()
            used.add(name)
            todo |= _trainlab_imports(files[name].read_text(), set(files)) - used
    chosen = sorted(files[name] for name in used)
    return hashlib.sha256(json.dumps([[p.name, _module_hash(p)] for p in chosen]).encode()).hexdigest()


def _module_hash(path: Path) -> str:
    """SHA-256 of a module's code without its comments and docstrings: a reworded docstring
    (the module map in ``__init__``, say) cannot change an output, so it invalidates nothing."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()


def requirements_hash(root: Path = ROOT) -> str:
    """SHA-256 of requirements.txt, the pinned environment."""
    return _file_hash(root / "requirements.txt")


def provenance(nb: dict, root: Path = ROOT) -> dict[str, str]:
    """What produced a notebook's outputs: its code, trainlab's code and the pinned environment."""
    return {"code_sha256": code_hash(nb), "trainlab_sha256": trainlab_hash(root, nb),
            "requirements_sha256": requirements_hash(root)}


def notebook_key(notebook: Path, root: Path = ROOT) -> str:
    """The name a notebook's claims are stored under: its path without '.ipynb'."""
    return notebook.relative_to(root).with_suffix("").as_posix()


REFERENCE_CLAIMS = "trainlab/reference_claims.json"


def merge_reference_values(recorded: dict, keys: list[str], root: Path = ROOT) -> None:
    """Replace the stored reference values of the notebooks ``keys`` with those just recorded."""
    path = root / REFERENCE_CLAIMS
    stored = json.loads(path.read_text()) if path.exists() else {}
    for key in keys:
        stored.pop(key, None)
        if key in recorded:
            stored[key] = recorded[key]
    text = json.dumps(stored, indent=1, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n")


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
