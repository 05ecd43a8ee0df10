"""Hygiene of every committed notebook: what a reader on GitHub sees must be complete, clean and
produced by the code that is committed. (nbval, run by the same pytest command, re-executes them.)"""

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebook_meta as meta  # noqa: E402

NOTEBOOKS = meta.course_notebooks()
MACHINE_PATH = re.compile(r"(/root/|/home/\w+/|/tmp/|/work/|/Users/\w+/|site-packages/|[A-Z]:\\\\Users)")
MAX_BYTES = 1_500_000


def ids(paths):
    return [p.relative_to(ROOT).as_posix() for p in paths]


def test_the_course_has_its_notebooks():
    names = ids(NOTEBOOKS)
    assert "00_intro.ipynb" in names
    assert sum(n.startswith("1_vanishing_gradients/") for n in names) >= 5


@pytest.fixture(params=NOTEBOOKS, ids=ids(NOTEBOOKS))
def notebook(request):
    path = request.param
    return path, nbformat.read(path, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def test_valid_and_small(notebook):
    path, nb = notebook
    nbformat.validate(nb)
    assert path.stat().st_size <= MAX_BYTES, f"{path.stat().st_size / 1e6:.2f} MB: shrink figures or output"


def test_every_code_cell_executed_in_order_from_one(notebook):
    _, nb = notebook
    counts = [c.execution_count for c in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), counts


def test_no_errors_no_stderr_no_machine_paths(notebook):
    _, nb = notebook
    for i, cell in enumerate(code_cells(nb)):
        for out in cell.outputs:
            assert out.output_type != "error", f"code cell {i}: {out.get('ename')}: {out.get('evalue')}"
            is_stderr = out.output_type == "stream" and out.name == "stderr"
            assert not is_stderr, f"code cell {i} writes to stderr: {out.get('text', '')[:200]}"
            text = json.dumps(out.get("text", "")) + json.dumps(out.get("data", {}).get("text/plain", ""))
            text += json.dumps(out.get("data", {}).get("text/html", ""))
            assert not MACHINE_PATH.search(text), f"code cell {i} shows a machine path"


def test_title_badge_and_runtime_line(notebook):
    path, nb = notebook
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "first cell must be an H1 title"
    assert meta.colab_badge(path) in first.source, "Colab badge missing or not pointing at this notebook"
    wall = nb.metadata["trainlab"]["wall_time_s"]
    assert meta.runtime_note(wall) in first.source, "first cell must state the measured run time"
    assert meta.summary_line(nb), "a one-line promise must follow the title"


def test_outputs_come_from_the_committed_code_trainlab_and_environment(notebook):
    path, nb = notebook
    recorded = nb.metadata.get("trainlab", {})
    rerun = f"re-run `python tools/run_notebooks.py {path.relative_to(ROOT).as_posix()}`"
    for what, current in meta.provenance(nb).items():
        changed = what.removesuffix("_sha256")
        assert recorded.get(what) == current, f"{changed} changed after the last execution: {rerun}"


def test_claims_checked_at_the_reference_scale_are_stored(notebook):
    path, nb = notebook
    if not any("claims.Checker(" in c.source for c in code_cells(nb)):
        pytest.skip("this notebook checks no claims")
    stored = json.loads((ROOT / meta.REFERENCE_CLAIMS).read_text())
    assert stored.get(meta.notebook_key(path)), "no reference values stored: re-run it with the tool"
    outputs = "".join(o.get("text", "") for c in code_cells(nb) for o in c.outputs
                      if o.output_type == "stream")
    assert "\n· " not in "\n" + outputs, "a claim reported instead of asserting: not the reference scale"
    for claim in stored[meta.notebook_key(path)]:
        assert f"✓ {claim}:" in outputs, f"stored claim {claim!r} is not checked in the committed outputs"


def test_runs_within_its_budget_on_two_cores(notebook):
    path, nb = notebook
    recorded = nb.metadata["trainlab"]
    assert recorded["cpu_count"] <= 2, "measure run times on a 2-core machine, as README promises"
    assert recorded["wall_time_s"] <= meta.budget_s(path), (
        f"{recorded['wall_time_s']} s is over the {meta.budget_s(path)} s budget")


def test_setup_installs_trainlab_in_colab_from_the_course_repository(notebook):
    _, nb = notebook
    setup = code_cells(nb)[0].source
    assert meta.pip_install_line() in setup and 'if "google.colab" in sys.modules' in setup
    assert "set_random_seed" in setup
    assert "tf.keras" not in "".join(c.source for c in code_cells(nb))
