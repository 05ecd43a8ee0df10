"""Fashion-MNIST: checksum-verified loading, offline-first, as train / validation / test splits."""

import argparse
import contextlib
import gzip
import hashlib
import http.client
import os
import sys
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from numbers import Integral
from pathlib import Path

import numpy as np

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# file name -> (size in bytes, SHA-256), from the official Zalando files
FILES: dict[str, tuple[int, str]] = {
    "train-images-idx3-ubyte.gz": (
        26421880,
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    ),
    "train-labels-idx1-ubyte.gz": (
        29515,
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    ),
    "t10k-images-idx3-ubyte.gz": (
        4422102,
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        5148,
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ),
}

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
PROJECT_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "fashion-mnist"

ENV_VAR = "TRAINLAB_DATA_DIR"
KERAS_CACHE_SUBDIR = "datasets/fashion-mnist"
N_TRAIN = 60_000
N_TEST = 10_000
IMAGE_SHAPE = (28, 28)
IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049

FIX_DOWNLOAD = "python -m trainlab.data download"

# In-process caches: (resolved path, size, mtime_ns) of files whose checksum matched.
_VERIFIED: set[tuple[str, int, int]] = set()


class DatasetIntegrityError(ValueError):
    """A dataset file is truncated, corrupted or not in the expected IDX format."""


class DatasetNotFoundError(FileNotFoundError):
    """The dataset files are not where they were looked for (and could not be downloaded)."""

    def __str__(self) -> str:  # FileNotFoundError would otherwise prepend an errno
        return str(self.args[0]) if self.args else ""


class DownloadError(RuntimeError):
    """A file could not be downloaded, or what was downloaded is not the official file."""


# --------------------------------------------------------------------------- verification


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _integrity_problem(path: Path, name: str) -> str | None:
    """Return what is wrong with `path` as the dataset file `name`, or None if it is intact."""
    expected_size, expected_sha = FILES[name]
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _VERIFIED:
        return None
    if stat.st_size != expected_size:
        hint = "truncated?" if stat.st_size < expected_size else "not the expected file?"
        return f"is {stat.st_size} bytes, expected {expected_size} ({hint})"
    found_sha = _sha256(path)
    if found_sha != expected_sha:
        return f"has SHA-256 {found_sha}, which does not match the expected {expected_sha}"
    _VERIFIED.add(key)
    return None


def verify_file(path: str | os.PathLike[str], name: str | None = None) -> None:
    """Check a dataset file's size, then its SHA-256, against `FILES`.

    `name` is the official file name; it defaults to the file's own name. A file that passed
    is remembered (by path, size and modification time), so checking it again is free.
    Raises DatasetIntegrityError if the file is not the official one.

    Example:
        >>> verify_file("data/fashion-mnist/t10k-labels-idx1-ubyte.gz")  # doctest: +SKIP
    """
    path = Path(path)
    name = name or path.name
    if name not in FILES:
        raise ValueError(f"{name!r} is not a Fashion-MNIST file; expected one of {list(FILES)}")
    problem = _integrity_problem(path, name)
    if problem:
        raise DatasetIntegrityError(
            f"{path} {problem}. Fix: delete this file and download it again with "
            f"`{FIX_DOWNLOAD}` (or copy a good copy in its place)."
        )


# --------------------------------------------------------------------------- locating


def _missing_in(folder: Path) -> list[str]:
    return [name for name in FILES if not (folder / name).is_file()]


def _from_env_dir(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        problem = "that folder does not exist"
    else:
        missing = _missing_in(folder)
        if not missing:
            return {name: folder / name for name in FILES}
        problem = f"that folder lacks {', '.join(missing)}"
    raise DatasetNotFoundError(
        f"{ENV_VAR} is set to {folder}, but {problem}. Put the four Fashion-MNIST .gz files "
        f"there, or unset {ENV_VAR} to use data/fashion-mnist/ or the Keras cache."
    )


def _keras_cache_root() -> Path:
    """The Keras cache folder, read now (Keras itself reads KERAS_HOME only at import)."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


def _keras_get_file(name: str, cache_root: Path) -> Path:
    import keras  # lazy: importing Keras (and its backend) is slow

    # Keras falls back to /tmp/.keras when the cache folder does not exist yet: create it.
    with contextlib.suppress(OSError):
        cache_root.mkdir(parents=True, exist_ok=True)
    sha256 = FILES[name][1]
    path = keras.utils.get_file(
        name,
        origin=ORIGIN + name,
        file_hash=sha256,
        cache_subdir=KERAS_CACHE_SUBDIR,
        cache_dir=str(cache_root),
    )
    return Path(path)


def _from_keras_cache(download: bool) -> tuple[dict[str, Path], str | None]:
    """Files found (or downloaded) in the Keras cache, and why the rest are missing."""
    cache_root = _keras_cache_root()
    folder = cache_root / KERAS_CACHE_SUBDIR
    found: dict[str, Path] = {}
    for name in FILES:
        path = folder / name
        problem = _integrity_problem(path, name) if path.is_file() else "is missing"
        if problem is None:
            found[name] = path
        elif not download:
            return found, f"the Keras cache's {name} {problem}, and download=False"
        else:
            try:
                found[name] = _keras_get_file(name, cache_root)
            except Exception as exc:  # Keras raises a bare Exception when offline
                return found, f"downloading {ORIGIN + name} failed: {exc}"
    return found, None


def _not_found_message(places: list[str], reason: str | None) -> str:
    lines = ["The Fashion-MNIST files were not found. Looked in:"]
    lines += [f"  - {place}" for place in places]
    if reason:
        lines.append(f"Reason: {reason}.")
    lines += [
        "To fix, either:",
        f"  - with internet, run `{FIX_DOWNLOAD}` once (it fills data/fashion-mnist/);",
        f"  - or copy the four .gz files ({', '.join(FILES)}) into data/fashion-mnist/;",
        f"  - or point the environment variable {ENV_VAR} at a folder holding them.",
    ]
    return "\n".join(lines)


def locate_files(download: bool = True) -> dict[str, Path]:
    """Find the four Fashion-MNIST files and return {file name: path}.

    Looks, in this order, in the folder named by the TRAINLAB_DATA_DIR environment variable
    (if set, it must hold all four files), in the project's data/fashion-mnist/, then in the
    Keras cache (datasets/fashion-mnist under KERAS_HOME or ~/.keras), downloading there what
    is missing unless `download` is False. Raises DatasetNotFoundError (a FileNotFoundError)
    saying where it looked and how to get the files. The files are not verified here; the
    loader verifies every file before using it.

    Example:
        >>> paths = locate_files(download=False)  # doctest: +SKIP
        >>> sorted(paths)[0]  # doctest: +SKIP
        't10k-images-idx3-ubyte.gz'
    """
    env_dir = os.environ.get(ENV_VAR)
    if env_dir:
        return _from_env_dir(Path(env_dir).expanduser())
    if not _missing_in(PROJECT_DATA_DIR):
        return {name: PROJECT_DATA_DIR / name for name in FILES}
    found, reason = _from_keras_cache(download)
    if len(found) == len(FILES):
        return found
    places = [
        f"{ENV_VAR} (not set)",
        f"{PROJECT_DATA_DIR} (missing: {', '.join(_missing_in(PROJECT_DATA_DIR))})",
        f"the Keras cache {_keras_cache_root() / KERAS_CACHE_SUBDIR}",
    ]
    raise DatasetNotFoundError(_not_found_message(places, reason))


# --------------------------------------------------------------------------- parsing


def _read_gzip(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as stream:
            return stream.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetIntegrityError(
            f"{path} is not a readable gzip file ({exc}). Fix: delete it and download it "
            f"again with `{FIX_DOWNLOAD}`."
        ) from exc


def _parse_idx(path: Path, magic: int, count: int) -> np.ndarray:
    """Parse an IDX file: images (magic 2051, count x 28 x 28) or labels (magic 2049)."""
    raw = _read_gzip(path)
    dims = (count, *IMAGE_SHAPE) if magic == IMAGES_MAGIC else (count,)
    header_size = 4 * (1 + len(dims))
    problem = None
    if len(raw) < header_size:
        problem = f"is too short for an IDX header ({len(raw)} bytes once unzipped)"
    else:
        header = tuple(int(v) for v in np.frombuffer(raw, ">u4", count=1 + len(dims)))
        if header[0] != magic:
            problem = f"has IDX magic number {header[0]}, expected {magic}"
        elif header[1:] != dims:
            problem = f"has IDX dimensions {header[1:]}, expected {dims}"
        elif len(raw) != header_size + int(np.prod(dims)):
            problem = f"holds {len(raw) - header_size} data bytes, expected {int(np.prod(dims))}"
    if problem:
        raise DatasetIntegrityError(
            f"{path} {problem}. Fix: delete it and download it again with `{FIX_DOWNLOAD}`."
        )
    return np.frombuffer(raw, np.uint8, offset=header_size).reshape(dims)


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


@lru_cache(maxsize=2)
def _parse_all(keys: tuple[tuple[str, int, int], ...]) -> tuple[np.ndarray, ...]:
    """Parse the four files (keyed by path, size and mtime so a replaced file is re-read)."""
    x_train_path, y_train_path, x_test_path, y_test_path = (Path(key[0]) for key in keys)
    arrays = (
        _parse_idx(x_train_path, IMAGES_MAGIC, N_TRAIN),
        _parse_idx(y_train_path, LABELS_MAGIC, N_TRAIN),
        _parse_idx(x_test_path, IMAGES_MAGIC, N_TEST),
        _parse_idx(y_test_path, LABELS_MAGIC, N_TEST),
    )
    for path, labels in ((y_train_path, arrays[1]), (y_test_path, arrays[3])):
        if labels.max() >= len(CLASS_NAMES):
            raise DatasetIntegrityError(
                f"{path} holds label {labels.max()}, but there are only {len(CLASS_NAMES)} "
                f"classes. Fix: delete it and download it again with `{FIX_DOWNLOAD}`."
            )
    for array in arrays:
        array.flags.writeable = False
    return arrays


def _load_raw(download: bool = True) -> tuple[np.ndarray, ...]:
    """Verified uint8 arrays (x_train, y_train, x_test, y_test) of the official files."""
    paths = locate_files(download=download)
    order = (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    )
    for name in order:
        verify_file(paths[name], name)
    return _parse_all(tuple(_file_key(paths[name]) for name in order))


# --------------------------------------------------------------------------- splitting


def _balanced_quotas(available: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Per-class counts summing to `total`, as equal as the available counts allow."""
    quotas = np.zeros_like(available)
    remaining = total
    while remaining > 0:
        open_classes = np.flatnonzero(quotas < available)
        share, extra = divmod(remaining, len(open_classes))
        if share == 0:  # fewer images left than classes: one more for `extra` random classes
            quotas[rng.choice(open_classes, size=extra, replace=False)] += 1
            break
        added = np.minimum(share, available[open_classes] - quotas[open_classes])
        quotas[open_classes] += added
        remaining -= int(added.sum())
    return quotas


def _stratified_pick(
    labels: np.ndarray, candidates: np.ndarray, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split `candidates` (indices into labels) into a class-balanced pick of `size` and the rest.

    Both parts come back in a random order.
    """
    n_classes = len(CLASS_NAMES)
    by_class = [rng.permutation(candidates[labels[candidates] == c]) for c in range(n_classes)]
    available = np.array([len(indices) for indices in by_class])
    quotas = _balanced_quotas(available, size, rng)
    picked = np.concatenate([ix[:q] for ix, q in zip(by_class, quotas, strict=True)])
    rest = np.concatenate([ix[q:] for ix, q in zip(by_class, quotas, strict=True)])
    return rng.permutation(picked), rng.permutation(rest)


# --------------------------------------------------------------------------- argument checks


def _check_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    return int(value)


def _check_size(name: str, value: object, maximum: int, what: str) -> int:
    size = _check_int(name, value)
    if size <= 0:
        raise ValueError(f"{name} must be a positive int, got {size}")
    if size > maximum:
        raise ValueError(f"{name}={size} is too large: {what}")
    return size


def _check_arguments(
    train_size: object, valid_size: object, test_size: object, seed: object
) -> tuple[int | None, int, int | None, int]:
    valid = _check_size(
        "valid_size",
        valid_size,
        N_TRAIN - 1,
        f"it must be less than the {N_TRAIN} training images, to leave some for training",
    )
    remaining = N_TRAIN - valid
    train = None
    if train_size is not None:
        train = _check_size(
            "train_size",
            train_size,
            remaining,
            f"only {remaining} training images remain after taking valid_size={valid} "
            "for validation",
        )
    test = None
    if test_size is not None:
        test = _check_size("test_size", test_size, N_TEST, f"there are only {N_TEST} test images")
    checked_seed = _check_int("seed", seed)
    if checked_seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {checked_seed}")
    return train, valid, test, checked_seed


# --------------------------------------------------------------------------- public loader


@dataclass(frozen=True, eq=False, repr=False)
class FashionMNIST:
    """The three splits of Fashion-MNIST, and the standardization used (if any).

    Images are float32, shape (n, 28, 28) or (n, 784); labels are int64 class indices into
    CLASS_NAMES. `mean` and `std` are the training-split pixel statistics that were
    subtracted and divided by, or None when the images are plain [0, 1] values.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    mean: float | None = None
    std: float | None = None

    def _splits(self) -> tuple[tuple[str, np.ndarray, np.ndarray], ...]:
        return (
            ("train", self.x_train, self.y_train),
            ("valid", self.x_valid, self.y_valid),
            ("test", self.x_test, self.y_test),
        )

    def __repr__(self) -> str:
        shapes = ", ".join(f"{name}={x.shape}" for name, x, _ in self._splits())
        return f"FashionMNIST({shapes}, standardized={self.mean is not None})"

    def __str__(self) -> str:
        lines = [f"Fashion-MNIST, {len(CLASS_NAMES)} classes"]
        for name, x, y in self._splits():
            lines.append(f"  {name:<5}  x {x.shape} {x.dtype}   y {y.shape} {y.dtype}")
        if self.mean is None:
            lines.append("  pixels in [0, 1]")
        else:
            lines.append(
                f"  standardized with the training mean {self.mean:.4f} and std {self.std:.4f}"
            )
        return "\n".join(lines)

    def summary(self) -> None:
        """Print the shapes and dtypes of the three splits (like Keras's model.summary()).

        Example:
            >>> load_fashion_mnist(train_size=1000).summary()  # doctest: +SKIP
            Fashion-MNIST, 10 classes
              train  x (1000, 28, 28) float32   y (1000,) int64
            ...
        """
        print(self)


def _images(raw: np.ndarray, indices: np.ndarray | None, flatten: bool) -> np.ndarray:
    selected = raw if indices is None else raw[indices]
    images = selected.astype(np.float32)
    images /= 255.0
    return images.reshape(len(images), -1) if flatten else images


def _standardize(x_train: np.ndarray, *others: np.ndarray) -> tuple[float, float]:
    """Shift and scale all arrays in place by the training pixels' mean and std."""
    mean = float(x_train.mean(dtype=np.float64))
    std = float(x_train.std(dtype=np.float64))
    for images in (x_train, *others):
        images -= mean
        images /= std
    return mean, std


def load_fashion_mnist(
    *,
    train_size: int | None = None,
    valid_size: int = 5000,
    test_size: int | None = None,
    flatten: bool = False,
    standardize: bool = False,
    seed: int = 42,
) -> FashionMNIST:
    """Load Fashion-MNIST as checksum-verified train / validation / test splits.

    The validation split is a class-stratified random sample of `valid_size` of the 60,000
    training images; the training split is the rest, or a class-balanced sample of
    `train_size` of it. `test_size` takes a class-balanced sample of the 10,000 test images
    (default: all of them, in their official order). The same seed gives the same splits.
    Images are float32 in [0, 1], shape (n, 28, 28), or (n, 784) with `flatten=True`.
    With `standardize=True`, all splits are shifted and scaled by the mean and std of the
    returned training split's pixels (recorded in `.mean` and `.std`).
    Files are found as described in `locate_files` (downloaded into the Keras cache only if
    they are nowhere else).

    Example:
        >>> data = load_fashion_mnist(train_size=10_000, flatten=True)  # doctest: +SKIP
        >>> data.x_train.shape, data.x_valid.shape, data.x_test.shape  # doctest: +SKIP
        ((10000, 784), (5000, 784), (10000, 784))
    """
    train, valid, test, seed = _check_arguments(train_size, valid_size, test_size, seed)
    x_train_raw, y_train_raw, x_test_raw, y_test_raw = _load_raw()
    rng_valid, rng_train, rng_test = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)
    )
    valid_ix, train_ix = _stratified_pick(y_train_raw, np.arange(N_TRAIN), valid, rng_valid)
    if train is not None:
        train_ix, _ = _stratified_pick(y_train_raw, train_ix, train, rng_train)
    test_ix = None
    if test is not None:
        test_ix, _ = _stratified_pick(y_test_raw, np.arange(N_TEST), test, rng_test)

    x_train = _images(x_train_raw, train_ix, flatten)
    x_valid = _images(x_train_raw, valid_ix, flatten)
    x_test = _images(x_test_raw, test_ix, flatten)
    mean, std = _standardize(x_train, x_valid, x_test) if standardize else (None, None)
    y_test = y_test_raw if test_ix is None else y_test_raw[test_ix]
    return FashionMNIST(
        x_train=x_train,
        y_train=y_train_raw[train_ix].astype(np.int64),
        x_valid=x_valid,
        y_valid=y_train_raw[valid_ix].astype(np.int64),
        x_test=x_test,
        y_test=y_test.astype(np.int64),
        mean=mean,
        std=std,
    )


# --------------------------------------------------------------------------- command line


def _display(folder: Path) -> str:
    """The folder relative to the project (or the working directory) when it lies inside."""
    folder = folder.resolve()
    for base in (PROJECT_DATA_DIR.parent.parent, Path.cwd()):
        if folder.is_relative_to(base):
            return str(folder.relative_to(base)) or "."
    return str(folder)


def _progress(name: str, done: int, total: int) -> None:
    width = 30
    filled = width * done // total if total else width
    percent = 100 * done // total if total else 100
    bar = "#" * filled + "." * (width - filled)
    sys.stderr.write(f"\r  {name:<28} [{bar}] {percent:3d}%")
    sys.stderr.flush()


def _fetch(url: str, target: Path, name: str) -> None:
    """Download url into target, showing a progress bar on stderr."""
    expected_size = FILES[name][0]
    with urllib.request.urlopen(url, timeout=60) as response, target.open("wb") as out:
        total = int(response.headers.get("Content-Length") or expected_size)
        done = shown = 0
        _progress(name, 0, total)
        while chunk := response.read(1 << 16):
            out.write(chunk)
            done += len(chunk)
            if done - shown >= total // 50 or done >= total:
                _progress(name, done, total)
                shown = done
    sys.stderr.write("\n")


def _download_one(name: str, dest: Path) -> str:
    """Make sure dest/name is the verified official file; return a one-line report."""
    target = dest / name
    if target.is_file() and _integrity_problem(target, name) is None:
        return f"ok        {name} (already present, SHA-256 verified)"
    url = ORIGIN + name
    partial = target.with_name(name + ".part")
    try:
        _fetch(url, partial, name)
        problem = _integrity_problem(partial, name)
        if problem:
            raise DownloadError(
                f"the file downloaded from {url} {problem}; it was discarded. "
                "Try again later, or copy the official files in by hand (see data/README.md)."
            )
        os.replace(partial, target)
    except (OSError, http.client.HTTPException) as exc:
        raise DownloadError(
            f"could not download {url}: {exc}. Check the internet connection and try again, "
            "or copy the four .gz files in by hand (see data/README.md)."
        ) from exc
    finally:
        partial.unlink(missing_ok=True)
    return f"fetched   {name} ({FILES[name][0]} bytes, SHA-256 verified)"


def _command_download(dest: Path) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    print(f"Fashion-MNIST: downloading into {_display(dest)} from {ORIGIN}")
    for name in FILES:
        print(_download_one(name, dest), flush=True)
    print("All four files are present and verified: the course can now run offline.")
    return 0


def _folder_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise DatasetNotFoundError(f"{folder} is not a folder.")
    return {name: folder / name for name in FILES}


def _command_verify(folder: Path | None) -> int:
    paths = locate_files(download=False) if folder is None else _folder_files(folder)
    failures = 0
    for name, path in paths.items():
        problem = _integrity_problem(path, name) if path.is_file() else "is missing"
        if problem:
            failures += 1
            print(f"FAILED    {name} {problem}")
        else:
            print(f"ok        {name} (SHA-256 verified)")
    if failures:
        print(
            f"error: {failures} file(s) failed. Fix: delete them and download them again "
            f"with `{FIX_DOWNLOAD}`.",
            file=sys.stderr,
        )
        return 1
    print("All four Fashion-MNIST files are intact.")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trainlab.data",
        description="Download or verify the four Fashion-MNIST files of the course.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    download = commands.add_parser(
        "download", help="download the files (once, with internet) and verify them"
    )
    download.add_argument(
        "--dest", type=Path, default=None, help="target folder (default: data/fashion-mnist/)"
    )
    verify = commands.add_parser("verify", help="check the files' sizes and SHA-256")
    verify.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="folder to check (default: the files the course would load)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `download [--dest DIR]` or `verify [--dir DIR]`; returns the exit code.

    Example:
        >>> main(["verify", "--dir", "data/fashion-mnist"])  # doctest: +SKIP
        ok        train-images-idx3-ubyte.gz (SHA-256 verified)
        ...
        0
    """
    args = _parser().parse_args(argv)
    try:
        if args.command == "download":
            return _command_download(args.dest or PROJECT_DATA_DIR)
        return _command_verify(args.dir)
    except (DownloadError, DatasetIntegrityError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
