"""Tests of trainlab.data on the real Fashion-MNIST files, offline (local servers only)."""

import ast
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from trainlab import data

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def source_dir() -> Path:
    """The folder of real files the tests copy from, found the loader's way but never downloading
    (CI and conftest.py name the shared copy in TRAINLAB_DATA_DIR). Without one, the tests skip."""
    try:
        paths = data.locate_files(download=False)
    except FileNotFoundError as exc:
        pytest.skip(
            "no Fashion-MNIST files on this machine (run `python -m trainlab.data download` to test "
            f"against them): {str(exc).splitlines()[0]}"
        )
    return next(iter(paths.values())).parent


LABEL_FILE = "t10k-labels-idx1-ubyte.gz"


@pytest.fixture(autouse=True)
def shared_files(source_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test starts from the real files, with no proxy in the way of local servers."""
    monkeypatch.setenv("TRAINLAB_DATA_DIR", str(source_dir))
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return source_dir


@pytest.fixture(scope="module")
def default_split(source_dir: Path) -> data.FashionMNIST:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("TRAINLAB_DATA_DIR", str(source_dir))
        return data.load_fashion_mnist()


@pytest.fixture
def copy_files(shared_files: Path) -> Callable[[Path], Path]:
    """A function that copies the four real files into a folder and returns the folder."""

    def copy(dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        for name in data.FILES:
            shutil.copyfile(shared_files / name, dest / name)
        return dest

    return copy


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty course checkout (a folder with pyproject.toml), made the working directory."""
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "pyproject.toml").write_text("[project]\nname = 'course'\n")
    monkeypatch.chdir(folder)
    return folder


def class_counts_balanced(labels: np.ndarray) -> bool:
    counts = np.bincount(labels, minlength=len(data.CLASS_NAMES))
    return int(counts.max() - counts.min()) <= 1


@pytest.fixture
def no_files_anywhere(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No TRAINLAB_DATA_DIR, an empty course checkout and an empty Keras cache, offline."""
    monkeypatch.delenv("TRAINLAB_DATA_DIR")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(data, "ORIGIN", "http://127.0.0.1:9/")  # closed port: fails at once
    return tmp_path


@pytest.fixture
def serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy_files: Callable[[Path], Path]
) -> Iterator[Path]:
    """A local HTTP server of a folder of copies; ORIGIN points at it. Yields the folder."""
    root = copy_files(tmp_path / "served")

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setattr(data, "ORIGIN", f"http://127.0.0.1:{server.server_address[1]}/")
    try:
        yield root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --------------------------------------------------------------------------- constants


def test_constants() -> None:
    assert len(data.CLASS_NAMES) == 10
    assert data.CLASS_NAMES[0] == "T-shirt/top"
    assert data.CLASS_NAMES[9] == "Ankle boot"
    assert set(data.FILES) == {
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    }
    assert data.ORIGIN.endswith("/tf-keras-datasets/")


def test_import_does_not_need_keras() -> None:
    """The module itself imports neither Keras nor TensorFlow when it loads (any import statement
    that runs at import time, however it is written); functions may import them when called."""
    tree = ast.parse(Path(data.__file__).read_text())
    module_level = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                    and not any(node in ast.walk(f) for f in tree.body
                                if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))]
    names = [alias.name for node in module_level for alias in node.names]
    names += [node.module for node in module_level if isinstance(node, ast.ImportFrom) and node.module]
    assert names and not any(n.split(".")[0] in ("keras", "tensorflow") for n in names), names


# --------------------------------------------------------------------------- the data folder


def test_data_dir_is_found_from_the_working_directory_not_from_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO / "1_vanishing_gradients")  # where a notebook's kernel starts
    assert data.data_dir() == REPO / "data" / "fashion-mnist"


def test_data_dir_of_a_pip_installed_course(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lesson = project / "lesson"
    lesson.mkdir()
    monkeypatch.chdir(lesson)
    assert data.data_dir() == project / "data" / "fashion-mnist"  # not in site-packages
    (lesson / "data" / "fashion-mnist").mkdir(parents=True)
    assert data.data_dir() == lesson / "data" / "fashion-mnist"  # the nearest existing one wins


def test_data_dir_outside_any_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ancestors = [tmp_path, *tmp_path.parents]
    if any((a / m).exists() for a in ancestors for m in ("pyproject.toml", ".git", "data/fashion-mnist")):
        pytest.skip(f"{tmp_path} lies inside a project")
    monkeypatch.chdir(tmp_path)
    assert data.data_dir() == tmp_path.resolve() / "data" / "fashion-mnist"


# --------------------------------------------------------------------------- loading


def test_default_shapes_dtypes_and_ranges(default_split: data.FashionMNIST) -> None:
    d = default_split
    assert d.x_train.shape == (55000, 28, 28)
    assert d.x_valid.shape == (5000, 28, 28)
    assert d.x_test.shape == (10000, 28, 28)
    assert d.y_train.shape == (55000,)
    assert d.y_valid.shape == (5000,)
    assert d.y_test.shape == (10000,)
    for x in (d.x_train, d.x_valid, d.x_test):
        assert x.dtype == np.float32
        assert x.min() == 0.0
        assert x.max() == 1.0
    for y in (d.y_train, d.y_valid, d.y_test):
        assert y.dtype == np.int64
        assert set(np.unique(y)) == set(range(10))
    assert d.mean is None
    assert d.std is None
    # the full test set keeps its official order: test[0] is an ankle boot
    assert data.CLASS_NAMES[d.y_test[0]] == "Ankle boot"


def test_default_split_is_stratified(default_split: data.FashionMNIST) -> None:
    assert np.bincount(default_split.y_valid).tolist() == [500] * 10
    assert np.bincount(default_split.y_train).tolist() == [5500] * 10
    assert np.bincount(default_split.y_test).tolist() == [1000] * 10


def test_train_and_valid_are_disjoint_and_cover_the_training_set(
    default_split: data.FashionMNIST,
) -> None:
    d = default_split
    train_rows = {row.tobytes() for row in (d.x_train.reshape(len(d.x_train), -1) * 255)}
    valid_rows = {row.tobytes() for row in (d.x_valid.reshape(len(d.x_valid), -1) * 255)}
    assert train_rows.isdisjoint(valid_rows)
    # (Fashion-MNIST has a few duplicate images, so count rows, not unique images)
    assert len(d.x_train) + len(d.x_valid) == 60000


@pytest.mark.parametrize(
    ("train_size", "valid_size", "test_size"),
    [(1000, 5000, 500), (1003, 1001, 77), (7, 13, 3), (54999, 5001, 9999)],
)
def test_subsets_are_stratified(train_size: int, valid_size: int, test_size: int) -> None:
    d = data.load_fashion_mnist(train_size=train_size, valid_size=valid_size, test_size=test_size)
    assert len(d.y_train) == len(d.x_train) == train_size
    assert len(d.y_valid) == len(d.x_valid) == valid_size
    assert len(d.y_test) == len(d.x_test) == test_size
    for labels in (d.y_train, d.y_valid, d.y_test):
        assert class_counts_balanced(labels)


def test_all_remaining_training_images_can_be_requested() -> None:
    d = data.load_fashion_mnist(train_size=59000, valid_size=1000)
    assert len(d.y_train) == 59000
    assert np.bincount(d.y_train).tolist() == [5900] * 10


def test_same_seed_same_split_different_seed_different_split() -> None:
    kwargs = {"train_size": 2000, "valid_size": 1000, "test_size": 500}
    a = data.load_fashion_mnist(seed=1, **kwargs)
    b = data.load_fashion_mnist(seed=1, **kwargs)
    c = data.load_fashion_mnist(seed=2, **kwargs)
    for name in ("x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.x_train, c.x_train)
    assert not np.array_equal(a.x_valid, c.x_valid)
    assert not np.array_equal(a.x_test, c.x_test)


def test_validation_split_does_not_depend_on_train_size() -> None:
    small = data.load_fashion_mnist(train_size=100, valid_size=1000)
    large = data.load_fashion_mnist(train_size=5000, valid_size=1000)
    np.testing.assert_array_equal(small.x_valid, large.x_valid)


def test_flatten() -> None:
    d = data.load_fashion_mnist(train_size=100, valid_size=50, test_size=20, flatten=True)
    assert d.x_train.shape == (100, 784)
    assert d.x_valid.shape == (50, 784)
    assert d.x_test.shape == (20, 784)
    assert d.x_train.dtype == np.float32


def test_standardize_uses_training_statistics() -> None:
    plain = data.load_fashion_mnist(train_size=3000, valid_size=1000, test_size=1000)
    std = data.load_fashion_mnist(
        train_size=3000, valid_size=1000, test_size=1000, standardize=True
    )
    assert abs(float(std.x_train.mean())) < 1e-5
    assert abs(float(std.x_train.std()) - 1.0) < 1e-5
    assert std.mean == pytest.approx(float(plain.x_train.mean(dtype=np.float64)))
    assert std.std == pytest.approx(float(plain.x_train.std(dtype=np.float64)))
    assert 0.2 < std.mean < 0.4
    for name in ("x_train", "x_valid", "x_test"):
        expected = (getattr(plain, name) - std.mean) / std.std
        np.testing.assert_allclose(getattr(std, name), expected, atol=1e-5)
        assert getattr(std, name).dtype == np.float32


def test_dataclass_is_frozen_and_prints_no_paths(
    default_split: data.FashionMNIST, capsys: pytest.CaptureFixture[str], shared_files: Path
) -> None:
    with pytest.raises(AttributeError):
        default_split.x_train = None  # type: ignore[misc]
    text = repr(default_split)
    assert "(55000, 28, 28)" in text
    default_split.summary()
    printed = capsys.readouterr().out
    assert "(55000, 28, 28)" in printed
    assert "(5000, 28, 28)" in printed
    assert "(10000, 28, 28)" in printed
    for output in (text, printed, str(default_split)):
        assert "/" not in output.replace("T-shirt/top", "")
        assert str(shared_files) not in output


def test_repeated_loads_are_cached() -> None:
    data.load_fashion_mnist(train_size=10)
    first = data._load_raw()
    second = data._load_raw()
    assert all(a is b for a, b in zip(first, second, strict=True))
    assert not first[0].flags.writeable


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"valid_size": 0}, r"valid_size must be a positive int, got 0"),
        ({"valid_size": -5}, r"valid_size must be a positive int, got -5"),
        ({"valid_size": 60000}, r"valid_size=60000 is too large.*less than the 60000"),
        ({"valid_size": 5000.0}, r"valid_size must be an int, got 5000\.0 \(float\)"),
        ({"valid_size": True}, r"valid_size must be an int, got True \(bool\)"),
        ({"train_size": 0}, r"train_size must be a positive int, got 0"),
        ({"train_size": -1}, r"train_size must be a positive int"),
        ({"train_size": "100"}, r"train_size must be an int, got '100' \(str\)"),
        ({"train_size": False}, r"train_size must be an int, got False \(bool\)"),
        ({"train_size": 55001}, r"train_size=55001 is too large: only 55000 training images"),
        (
            {"train_size": 50001, "valid_size": 10000},
            r"only 50000 training images remain after taking valid_size=10000",
        ),
        ({"test_size": 10001}, r"test_size=10001 is too large: there are only 10000 test"),
        ({"test_size": 0}, r"test_size must be a positive int, got 0"),
        ({"test_size": 2.5}, r"test_size must be an int, got 2\.5 \(float\)"),
        ({"seed": -1}, r"seed must be a non-negative int, got -1"),
        ({"seed": None}, r"seed must be an int, got None"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        data.load_fashion_mnist(**kwargs)  # type: ignore[arg-type]


def test_numpy_integer_sizes_are_accepted() -> None:
    d = data.load_fashion_mnist(train_size=np.int64(20), valid_size=np.int32(10))
    assert len(d.y_train) == 20
    assert len(d.y_valid) == 10


# --------------------------------------------------------------------------- integrity


def test_truncated_file_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy_files: Callable[[Path], Path]
) -> None:
    folder = copy_files(tmp_path / "copy")
    broken = folder / "train-images-idx3-ubyte.gz"
    with broken.open("r+b") as stream:
        stream.truncate(1234)
    monkeypatch.setenv("TRAINLAB_DATA_DIR", str(folder))
    with pytest.raises(data.DatasetIntegrityError) as info:
        data.load_fashion_mnist()
    message = str(info.value)
    assert str(broken) in message
    assert "is 1234 bytes, expected 26421880 (truncated?)" in message
    assert "delete" in message
    assert "python -m trainlab.data download" in message
    assert isinstance(info.value, ValueError)


def test_corrupted_file_of_the_right_size_fails_the_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy_files: Callable[[Path], Path]
) -> None:
    folder = copy_files(tmp_path / "copy")
    broken = folder / LABEL_FILE
    content = bytearray(broken.read_bytes())
    content[len(content) // 2] ^= 0xFF
    broken.write_bytes(bytes(content))
    monkeypatch.setenv("TRAINLAB_DATA_DIR", str(folder))
    with pytest.raises(data.DatasetIntegrityError, match="does not match") as info:
        data.load_fashion_mnist()
    message = str(info.value)
    assert str(broken) in message
    assert "SHA-256" in message
    assert data.FILES[LABEL_FILE][1] in message
    assert "delete this file and download it again" in message


def test_file_replaced_after_a_good_load_is_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy_files: Callable[[Path], Path]
) -> None:
    folder = copy_files(tmp_path / "copy")
    monkeypatch.setenv("TRAINLAB_DATA_DIR", str(folder))
    data.load_fashion_mnist(train_size=10)
    (folder / LABEL_FILE).write_bytes(b"not a gzip file")
    with pytest.raises(data.DatasetIntegrityError, match="is 15 bytes, expected 5148"):
        data.load_fashion_mnist(train_size=10)


def test_malformed_idx_content_is_rejected(tmp_path: Path) -> None:
    import gzip

    bad_magic = tmp_path / "bad-magic.gz"
    bad_magic.write_bytes(gzip.compress(np.array([2049, 10], ">u4").tobytes() + bytes(10)))
    with pytest.raises(data.DatasetIntegrityError, match="magic number 2049, expected 2051"):
        data._parse_idx(bad_magic, data.IMAGES_MAGIC, 10)

    bad_count = tmp_path / "bad-count.gz"
    bad_count.write_bytes(gzip.compress(np.array([2049, 9], ">u4").tobytes() + bytes(9)))
    with pytest.raises(data.DatasetIntegrityError, match=r"dimensions \(9,\), expected \(10,\)"):
        data._parse_idx(bad_count, data.LABELS_MAGIC, 10)

    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(np.array([2049, 10], ">u4").tobytes() + bytes(3)))
    with pytest.raises(data.DatasetIntegrityError, match="holds 3 data bytes, expected 10"):
        data._parse_idx(short, data.LABELS_MAGIC, 10)

    not_gzip = tmp_path / "plain.gz"
    not_gzip.write_bytes(b"hello")
    with pytest.raises(data.DatasetIntegrityError, match="not a readable gzip file"):
        data._parse_idx(not_gzip, data.LABELS_MAGIC, 10)


def test_verify_file(shared_files: Path) -> None:
    data.verify_file(shared_files / LABEL_FILE)
    with pytest.raises(ValueError, match="not a Fashion-MNIST file"):
        data.verify_file(shared_files / "SOURCE.md")
    with pytest.raises(data.DatasetIntegrityError, match=r"nowhere/t10k-labels-idx1-ubyte.gz is missing"):
        data.verify_file("nowhere/t10k-labels-idx1-ubyte.gz")


# --------------------------------------------------------------------------- locating


def test_env_var_pointing_at_a_missing_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("TRAINLAB_DATA_DIR", str(missing))
    with pytest.raises(FileNotFoundError, match="TRAINLAB_DATA_DIR") as info:
        data.load_fashion_mnist()
    assert str(missing) in str(info.value)
    assert "does not exist" in str(info.value)
    assert "unset TRAINLAB_DATA_DIR" in str(info.value)


def test_env_var_pointing_at_an_incomplete_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy_files: Callable[[Path], Path]
) -> None:
    folder = copy_files(tmp_path / "copy")
    (folder / LABEL_FILE).unlink()
    monkeypatch.setenv("TRAINLAB_DATA_DIR", str(folder))
    with pytest.raises(FileNotFoundError, match="TRAINLAB_DATA_DIR") as info:
        data.locate_files()
    message = str(info.value)
    assert str(folder) in message
    assert LABEL_FILE in message
    assert "train-images-idx3-ubyte.gz" not in message


def test_env_var_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINLAB_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"TRAINLAB_DATA_DIR is set to .* lacks"):
        data.locate_files(download=False)


def test_data_folder_is_used_when_env_var_unset(
    project: Path, monkeypatch: pytest.MonkeyPatch, copy_files: Callable[[Path], Path]
) -> None:
    folder = copy_files(project / "data" / "fashion-mnist")
    monkeypatch.delenv("TRAINLAB_DATA_DIR")
    assert data.locate_files(download=False) == {name: folder / name for name in data.FILES}


def test_keras_cache_is_used_without_downloading(
    no_files_anywhere: Path, copy_files: Callable[[Path], Path]
) -> None:
    cache = copy_files(no_files_anywhere / "keras_home" / "datasets" / "fashion-mnist")
    paths = data.locate_files(download=True)  # ORIGIN is a closed port: no download happens
    assert paths == {name: cache / name for name in data.FILES}


def test_missing_or_bad_files_are_downloaded_into_the_keras_cache(
    no_files_anywhere: Path, serve: Path  # in this order: serve's ORIGIN replaces the closed port
) -> None:
    cache = no_files_anywhere / "keras_home" / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    (cache / LABEL_FILE).write_bytes(b"truncated")  # Keras's hash check makes it fetch this again
    paths = data.locate_files(download=True)
    assert paths == {name: cache / name for name in data.FILES}
    for name, path in paths.items():
        assert path.read_bytes() == (serve / name).read_bytes()
    assert len(data.load_fashion_mnist(train_size=10).y_train) == 10


def test_no_files_and_download_disabled(no_files_anywhere: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        data.locate_files(download=False)
    assert "train-images-idx3-ubyte.gz is missing, and download=False" in str(info.value)


def test_no_files_anywhere_and_no_network(no_files_anywhere: Path) -> None:
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_fashion_mnist()
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    folder = data.data_dir()
    assert message.startswith("The Fashion-MNIST files were not found")
    assert "TRAINLAB_DATA_DIR (not set)" in message
    assert f"{folder} (missing: train-images-idx3-ubyte.gz, " in message
    assert str(no_files_anywhere / "keras_home" / "datasets" / "fashion-mnist") in message
    assert "Reason: could not download http://127.0.0.1:9/train-images-idx3-ubyte.gz" in message
    assert "Connection refused" in message
    assert f"run `python -m trainlab.data download` once (it fills {folder})" in message
    assert f"into {folder};" in message
    assert "point the environment variable TRAINLAB_DATA_DIR" in message


# --------------------------------------------------------------------------- command line


def test_cli_download_then_verify(
    serve: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "downloaded"
    assert data.main(["download", "--dest", str(dest)]) == 0
    out = capsys.readouterr().out
    assert f"downloading into {dest}" in out
    assert out.count("fetched") == 4
    assert out.count("Downloading data from") == 4  # Keras's own progress report
    assert "the course can now run offline" in out
    assert sorted(p.name for p in dest.iterdir()) == sorted(data.FILES)
    for name in data.FILES:
        assert (dest / name).read_bytes() == (serve / name).read_bytes()

    assert data.main(["download", "--dest", str(dest)]) == 0  # second run: nothing to fetch
    out = capsys.readouterr().out
    assert out.count("already present") == 4
    assert "Downloading" not in out

    assert data.main(["verify", "--dir", str(dest)]) == 0
    out = capsys.readouterr().out
    assert f"Fashion-MNIST files in {dest}:" in out
    assert "All four Fashion-MNIST files are intact" in out


def test_cli_download_replaces_a_bad_file(
    serve: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], copy_files: Callable[[Path], Path]
) -> None:
    dest = copy_files(tmp_path / "downloaded")
    with (dest / LABEL_FILE).open("r+b") as stream:
        stream.truncate(100)
    assert data.main(["download", "--dest", str(dest)]) == 0
    out = capsys.readouterr().out
    assert out.count("already present") == 3
    assert f"fetched   {LABEL_FILE}" in out
    assert (dest / LABEL_FILE).read_bytes() == (serve / LABEL_FILE).read_bytes()


def test_cli_download_defaults_to_the_data_folder(
    serve: Path, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lesson = project / "lesson"
    lesson.mkdir()
    monkeypatch.chdir(lesson)  # a notebook's folder
    assert data.main(["download"]) == 0
    folder = project / "data" / "fashion-mnist"
    assert f"downloading into {folder} " in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == sorted(data.FILES)


def test_cli_download_of_a_corrupted_file_fails(
    serve: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    served = serve / LABEL_FILE
    content = bytearray(served.read_bytes())
    content[100] ^= 0x01
    served.write_bytes(bytes(content))
    dest = tmp_path / "downloaded"
    assert data.main(["download", "--dest", str(dest)]) == 1
    err = capsys.readouterr().err
    assert f"error: the file downloaded from {data.ORIGIN}{LABEL_FILE} has SHA-256" in err
    assert "does not match" in err
    assert "it was discarded" in err
    assert "check the internet connection" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in dest.iterdir()) == sorted(set(data.FILES) - {LABEL_FILE})


def test_cli_download_of_a_file_the_server_lacks(
    serve: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (serve / LABEL_FILE).unlink()
    assert data.main(["download", "--dest", str(tmp_path / "dest")]) == 1
    err = capsys.readouterr().err
    assert f"error: could not download {data.ORIGIN}{LABEL_FILE}" in err
    assert "404" in err


def test_cli_download_without_network(
    no_files_anywhere: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert data.main(["download", "--dest", str(tmp_path / "dest")]) == 1
    err = capsys.readouterr().err
    assert "error: could not download http://127.0.0.1:9/train-images-idx3-ubyte.gz" in err
    assert "Connection refused" in err
    assert "Fix: check the internet connection and run the command again" in err
    assert "Traceback" not in err
    assert not list((tmp_path / "dest").iterdir())


def test_cli_verify_reports_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], copy_files: Callable[[Path], Path]
) -> None:
    folder = copy_files(tmp_path / "copy")
    with (folder / LABEL_FILE).open("r+b") as stream:
        stream.truncate(100)
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    assert data.main(["verify", "--dir", str(folder)]) == 1
    captured = capsys.readouterr()
    assert f"FAILED    {LABEL_FILE} is 100 bytes, expected 5148" in captured.out
    assert "FAILED    train-labels-idx1-ubyte.gz is missing" in captured.out
    assert "2 file(s) failed" in captured.err


def test_cli_verify_of_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert data.main(["verify", "--dir", str(tmp_path / "nowhere")]) == 1
    assert "is not a folder" in capsys.readouterr().err


def test_cli_verify_defaults_to_the_located_files(
    shared_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert data.main(["verify"]) == 0
    out = capsys.readouterr().out
    assert f"Fashion-MNIST files in {shared_files.resolve()}:" in out
    assert out.count("ok ") == 4


def test_cli_subprocess_smoke(shared_files: Path) -> None:
    # The CLI needs no Keras backend; the numpy backend spares this run the TensorFlow import.
    env = {**os.environ, "KERAS_BACKEND": "numpy"}
    result = subprocess.run(
        [sys.executable, "-m", "trainlab.data", "verify", "--dir", str(shared_files)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("SHA-256 verified") == 4
