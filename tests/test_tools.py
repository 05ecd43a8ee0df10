"""Tests of the contributor tools and of the promises README.md makes about them and CI."""

import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebook_meta as meta  # noqa: E402
import percent_to_notebook  # noqa: E402
import run_notebooks  # noqa: E402


def test_percent_format_becomes_cells():
    cells = percent_to_notebook.parse("# %% [markdown]\n# # Title\n#\n# Text\n\n# %%\nx = 1\n\n# %%\n\n")
    assert [c.cell_type for c in cells] == ["markdown", "code"]
    assert cells[0].source == "# Title\n\nText" and cells[1].source == "x = 1"


def test_percent_round_trip_keeps_every_cell():
    nb = nbformat.read(ROOT / "1_vanishing_gradients" / "01_the_problem.ipynb", as_version=4)
    cells = percent_to_notebook.parse(percent_to_notebook.to_percent(nb))
    kept = [c for c in nb.cells if c.cell_type == "markdown" or c.source.strip()]
    assert [(c.cell_type, c.source.strip()) for c in cells] == [(c.cell_type, c.source.strip()) for c in kept]


def test_code_hash_sees_code_changes_only():
    cells = [nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("x = 1")]
    nb = nbformat.v4.new_notebook(cells=cells)
    before = meta.code_hash(nb)
    nb.cells[0].source = "# Other title"
    assert meta.code_hash(nb) == before
    nb.cells[1].source = "x = 2"
    assert meta.code_hash(nb) != before


def test_colab_address_uses_the_one_repository_setting():
    url = meta.repository_url()
    path = ROOT / "1_vanishing_gradients" / "x.ipynb"
    assert meta.colab_url(path) == (url.replace("https://github.com/", "https://colab.research.google.com/github/")
                                    + "/blob/main/1_vanishing_gradients/x.ipynb")
    assert url in meta.pip_install_line()


def test_sync_links_rewrites_badge_and_install_line():
    path = ROOT / "00_intro.ipynb"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# T\n\n[![Open In Colab](https://x/badge.svg)](https://old/place)"),
        nbformat.v4.new_code_cell('%pip install -q "trainlab @ git+https://github.com/old/repo"')])
    run_notebooks.sync_links(nb, path)
    assert meta.colab_badge(path) in nb.cells[0].source
    assert nb.cells[1].source == meta.pip_install_line()


def test_provenance_covers_trainlab_and_requirements(tmp_path):
    """Changing a trainlab module or the pinned environment invalidates the notebook's outputs."""
    shutil.copytree(ROOT / "trainlab", tmp_path / "trainlab", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "requirements.txt", tmp_path / "requirements.txt")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("from trainlab import experiments")])
    before = meta.provenance(nb, tmp_path)
    assert before == meta.provenance(nb, ROOT)  # an exact copy: the same provenance
    module = tmp_path / "trainlab" / "experiments.py"
    module.write_text(module.read_text() + "\nCHANGED = 1\n")
    after = meta.provenance(nb, tmp_path)
    assert after["trainlab_sha256"] != before["trainlab_sha256"]
    assert after["code_sha256"] == before["code_sha256"]
    (tmp_path / "requirements.txt").write_text("keras==0.0\n")
    assert meta.provenance(nb, tmp_path)["requirements_sha256"] != before["requirements_sha256"]
    (tmp_path / "trainlab" / "reference_claims.json").write_text("{}")  # data, not code: no change
    assert meta.provenance(nb, tmp_path)["trainlab_sha256"] == after["trainlab_sha256"]


def test_provenance_covers_the_trainlab_modules_a_notebook_reaches(tmp_path):
    """A notebook's trainlab hash follows the modules its code imports and those they import."""
    shutil.copytree(ROOT / "trainlab", tmp_path / "trainlab", ignore=shutil.ignore_patterns("__pycache__"))
    code = "from trainlab import experiments\nx = 1"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    before = meta.trainlab_hash(tmp_path, nb)
    transfer = tmp_path / "trainlab" / "transfer.py"
    transfer.write_text(transfer.read_text() + "\nCHANGED = 1\n")
    assert meta.trainlab_hash(tmp_path, nb) == before  # experiments does not use transfer
    tracing = tmp_path / "trainlab" / "tracing.py"  # experiments imports tracing
    tracing.write_text(tracing.read_text() + "\nCHANGED = 1\n")
    assert meta.trainlab_hash(tmp_path, nb) != before
    assert meta.trainlab_hash(tmp_path) != meta.trainlab_hash(tmp_path, nb)  # all modules vs some
    changed = meta.trainlab_hash(tmp_path, nb)
    init = tmp_path / "trainlab" / "__init__.py"  # reached by every notebook
    init.write_text(init.read_text().replace('"""trainlab:', '"""trainlab (a reworded docstring):', 1))
    assert meta.trainlab_hash(tmp_path, nb) == changed  # docstrings and comments change no output
    init.write_text(init.read_text() + "\nEXTRA = 1\n")
    assert meta.trainlab_hash(tmp_path, nb) != changed


def test_hygiene_test_fails_when_trainlab_changed(tmp_path):
    """The hygiene test itself: a recorded provenance that no longer matches is reported."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.metadata["trainlab"] = {**meta.provenance(nb), "trainlab_sha256": "0" * 64}
    stale = [k for k, v in meta.provenance(nb).items() if nb.metadata["trainlab"][k] != v]
    assert stale == ["trainlab_sha256"]


def test_merge_reference_values(tmp_path):
    (tmp_path / "trainlab").mkdir()
    stored = tmp_path / meta.REFERENCE_CLAIMS
    stored.write_text(json.dumps({"nb": {"old": 1}, "other": {"k": 2}}))
    meta.merge_reference_values({"nb": {"y": 0.25}}, ["nb"], tmp_path)
    assert json.loads(stored.read_text()) == {"nb": {"y": 0.25}, "other": {"k": 2}}
    meta.merge_reference_values({}, ["nb"], tmp_path)  # a notebook that no longer checks claims
    assert json.loads(stored.read_text()) == {"other": {"k": 2}}


def test_budgets_and_formatting():
    assert meta.budget_s(ROOT / "00_intro.ipynb") == 120
    assert meta.budget_s(ROOT / "1_vanishing_gradients" / "any.ipynb") == 120
    assert meta.format_seconds(72.4) == "1 min 12 s" and meta.format_seconds(9.6) == "10 s"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "# T\n\nYou will see X. Then Y.\n[![Open In Colab](a)](b)")])
    assert meta.summary_line(nb) == "You will see X."


def test_readme_runtime_table_is_current():
    readme = (ROOT / "README.md").read_text()
    assert run_notebooks.readme_table() in readme, "run `python tools/run_notebooks.py --readme-only`"


def readme_commands():
    readme = (ROOT / "README.md").read_text()
    blocks = dict(re.findall(r"<!-- (install|test) command -->\s*```(?:bash|sh)?\n(.+?)\n```", readme, re.S))
    assert set(blocks) == {"install", "test"}, "README must mark its install and test commands"
    return blocks


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = readme_commands()["test"].strip()
    assert test_command in ci, f"CI must call README's test command verbatim: {test_command!r}"


@pytest.mark.parametrize("requirement", ["tensorflow==", "keras==", "nbval==", "ruff==", "-e ."])
def test_requirements_pin_the_environment(requirement):
    assert requirement in (ROOT / "requirements.txt").read_text()
