"""Tests of `import trainlab`: TensorFlow's harmless start-up lines are dropped, nothing else."""

import os
import subprocess
import sys
from pathlib import Path

import trainlab

REPO = Path(__file__).resolve().parents[1]
ABSL_LINE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


def import_trainlab(env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`import trainlab` in a fresh interpreter, as a notebook's first cell does."""
    return subprocess.run(
        [sys.executable, "-c", "import trainlab"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def fake_tensorflow(folder: Path, body: str) -> dict[str, str]:
    """An environment where `import tensorflow` runs `body` (cheap, and able to crash on demand)."""
    folder.mkdir(exist_ok=True)
    (folder / "tensorflow.py").write_text("import os\n" + body)
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL")}
    return {**env, "PYTHONPATH": str(folder)}


def test_filter_drops_the_harmless_lines_and_passes_any_other() -> None:
    harmless = [
        ABSL_LINE,
        "I0000 00:00:1795642560.214989    5307 port.cc:153] oneDNN custom operations are on. You may see...",
        "I0000 00:00:1795642560.215297    5307 cudart_stub.cc:31] Could not find cuda drivers on your "
        "machine, GPU will not be used.",
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.",
    ]
    unknown = ["E0000 something.cc:1] a real problem", "plain text, no newline at the end"]
    lines = [harmless[0], unknown[0], *harmless[1:], unknown[1]]
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", trainlab._FILTER],
        input="\n".join(lines),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == "\n".join(unknown)


def test_import_prints_nothing_to_stderr() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL")}
    result = import_trainlab(env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == ""


def test_other_start_up_lines_still_reach_stderr(tmp_path: Path) -> None:
    body = f"os.write(2, b'{ABSL_LINE}\\nTensorFlow: something went wrong\\n')\n"
    result = import_trainlab(fake_tensorflow(tmp_path, body))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "TensorFlow: something went wrong\n"


def test_the_last_words_before_a_crash_reach_stderr(tmp_path: Path) -> None:
    body = "os.write(2, b'F cpu_feature_guard.cc] this CPU lacks AVX\\n')\nos.abort()\n"
    result = import_trainlab(fake_tensorflow(tmp_path, body))
    assert result.returncode != 0
    assert "this CPU lacks AVX" in result.stderr


def test_python_errors_during_the_import_are_not_hidden(tmp_path: Path) -> None:
    body = "import warnings\nwarnings.warn('a warning from tensorflow')\nraise RuntimeError('broken')\n"
    result = import_trainlab(fake_tensorflow(tmp_path, body))
    assert "a warning from tensorflow" in result.stderr
    assert "RuntimeError: broken" in result.stderr
