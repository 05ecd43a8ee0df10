"""Tests of the contributor tools and of the promises README.md makes about them and CI."""

import re
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


def test_budgets_and_formatting():
    assert meta.budget_s(ROOT / "00_intro.ipynb") == 120
    assert meta.budget_s(ROOT / "1_vanishing_gradients" / "any.ipynb") == 180
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
