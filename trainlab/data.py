"""Fashion-MNIST: checksum-verified loading, offline-first, as train / validation / test splits.

The four official files are looked for in TRAINLAB_DATA_DIR, then in the course's data folder
(`data_dir()`), then in the Keras cache, where `keras.utils.get_file` downloads what is missing.
`python -m trainlab.data download` fills the data folder once; `... verify` checks a copy.
"""

import argparse
import gzip
import hashlib
import os
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from numbers import Integral
from pathlib import Path

import numpy as np

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip

# file name -> (size in bytes, SHA-256), from the official Zalando files; the loader's order
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
ENV_VAR = "TRAINLAB_DATA_DIR"
KERAS_CACHE_SUBDIR = "datasets/fashion-mnist"
N_TRAIN, N_TEST = 60_000, 10_000
IMAGE_SHAPE = (28, 28)
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
FIX_DOWNLOAD = "python -m trainlab.data download"
FIX_BAD_FILE = f"Fix: delete it and download it again with `{FIX_DOWNLOAD}`."
FIX_NO_DOWNLOAD = (
    "Fix: check the internet connection and run the command again, "
    "or copy the four .gz files in by hand (see data/README.md)."
)

# (resolved path, size, mtime_ns) of the files whose checksum matched in this process
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


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def _problem(path: Path, name: str) -> str | None:
    """What is wrong with `path` as the official file `name`, or None if it is intact."""
    if not path.is_file():
        return "is missing"
    expected_size, expected_sha = FILES[name]
    key = _file_key(path)
    if key in _VERIFIED:
        return None
    if key[1] != expected_size:
        hint = "truncated?" if key[1] < expected_size else "not the expected file?"
        return f"is {key[1]} bytes, expected {expected_size} ({hint})"
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != expected_sha:
        return f"has SHA-256 {digest.hexdigest()}, which does not match the expected {expected_sha}"
    _VERIFIED.add(key)
    return None


def verify_file(path: str | os.PathLike[str], name: str | None = None) -> None:
    """Check a dataset file's size, then its SHA-256, against `FILES`.

    `name` is the official file name; it defaults to the file's own name. A file that passed
    is remembered (by path, size and modification time), so checking it again is free.
    Raises DatasetIntegrityError if the file is not the official one.

    Example:
        >>> verify_file("no-such-folder/t10k-labels-idx1-ubyte.gz")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        trainlab.data.DatasetIntegrityError: no-such-folder/t10k-labels-idx1-ubyte.gz is missing. ...
    """
    path = Path(path)
    name = name or path.name
    if name not in FILES:
        raise ValueError(f"{name!r} is not a Fashion-MNIST file; expected one of {list(FILES)}")
    problem = _problem(path, name)
    if problem:
        raise DatasetIntegrityError(
            f"{path} {problem}. Fix: delete this file and download it again with "
            f"`{FIX_DOWNLOAD}` (or copy a good copy in its place)."
        )


# --------------------------------------------------------------------------- locating, downloading


def data_dir() -> Path:
    """The course's data folder, found from the working directory (not from where trainlab lives).

    It is the nearest `data/fashion-mnist` in the working directory or one of its parents,
    looking no higher than the project root (the first of them that holds pyproject.toml or
    .git). If there is none, it is the project root's `data/fashion-mnist`, or, outside any
    project, the working directory's. So every notebook of a course checkout finds the copy at
    its root, however trainlab was installed.

    Example:
        >>> data_dir().parts[-2:]
        ('data', 'fashion-mnist')
    """
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        candidate = folder / "data" / "fashion-mnist"
        if candidate.is_dir() or (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return candidate
    return here / "data" / "fashion-mnist"


def _keras_cache_dir() -> Path:
    """Keras's dataset cache, read now (Keras itself reads KERAS_HOME only when imported)."""
    root = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
    return root / KERAS_CACHE_SUBDIR


def _download(name: str, folder: Path) -> Path:
    """Download `name` into `folder` with Keras, which shows progress and checks the SHA-256."""
    import keras  # lazy: importing Keras (and its backend) is slow

    url = ORIGIN + name
    folder = folder.expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        # An absolute cache_subdir is used as it is; a relative one would move to /tmp/.keras
        # whenever cache_dir is not writable.
        path = keras.utils.get_file(
            name, url, file_hash=FILES[name][1], cache_dir=str(folder.parent), cache_subdir=str(folder)
        )
    except ValueError as exc:  # Keras's hash check failed; it leaves the bad file in place
        problem = _problem(folder / name, name) or "did not pass Keras's SHA-256 check"
        (folder / name).unlink(missing_ok=True)
        raise DownloadError(f"the file downloaded from {url} {problem}; it was discarded") from exc
    except Exception as exc:  # Keras turns network errors into a bare Exception
        raise DownloadError(f"could not download {url}: {exc}") from exc
    verify_file(path, name)
    return Path(path)


def _not_found(places: list[str], reason: str) -> DatasetNotFoundError:
    folder = data_dir()
    return DatasetNotFoundError(
        "\n".join(
            [
                "The Fashion-MNIST files were not found. Looked in:",
                *(f"  - {place}" for place in places),
                f"Reason: {reason}.",
                "To fix, either:",
                f"  - with internet, run `{FIX_DOWNLOAD}` once (it fills {folder});",
                f"  - or copy the four .gz files ({', '.join(FILES)}) into {folder};",
                f"  - or point the environment variable {ENV_VAR} at a folder holding them.",
            ]
        )
    )


def locate_files(download: bool = True) -> dict[str, Path]:
    """Find the four Fashion-MNIST files and return {file name: path}.

    Looks, in this order, in the folder named by the TRAINLAB_DATA_DIR environment variable
    (if set, it must hold all four files), in `data_dir()`, then in the Keras cache
    (datasets/fashion-mnist under KERAS_HOME or ~/.keras), downloading there what is missing or
    corrupted unless `download` is False. Raises DatasetNotFoundError (a FileNotFoundError)
    saying where it looked and how to get the files. Only files from the Keras cache are
    verified here; the loader verifies every file before using it.

    Example:
        >>> paths = locate_files(download=False)
        >>> sorted(paths)[0]
        't10k-images-idx3-ubyte.gz'
    """
    if env_dir := os.environ.get(ENV_VAR):
        folder = Path(env_dir).expanduser()
        missing = [name for name in FILES if not (folder / name).is_file()]
        if folder.is_dir() and not missing:
            return {name: folder / name for name in FILES}
        problem = f"lacks {', '.join(missing)}" if folder.is_dir() else "does not exist"
        raise DatasetNotFoundError(
            f"{ENV_VAR} is set to {folder}, but that folder {problem}. Put the four "
            f"Fashion-MNIST .gz files there, or unset {ENV_VAR} to use {data_dir()} or the Keras cache."
        )
    local = data_dir()
    missing = [name for name in FILES if not (local / name).is_file()]
    if not missing:
        return {name: local / name for name in FILES}
    cache = _keras_cache_dir()
    places = [f"{ENV_VAR} (not set)", f"{local} (missing: {', '.join(missing)})", f"the Keras cache {cache}"]
    paths = {}
    for name in FILES:
        problem = _problem(cache / name, name)
        if problem and not download:
            raise _not_found(places, f"the Keras cache's {name} {problem}, and download=False")
        try:
            paths[name] = _download(name, cache) if problem else cache / name
        except DownloadError as exc:
            raise _not_found(places, str(exc)) from exc
    return paths


# --------------------------------------------------------------------------- parsing


def _parse_idx(path: Path, magic: int, count: int) -> np.ndarray:
    """Parse a gzipped IDX file: images (magic 2051, count x 28 x 28) or labels (magic 2049)."""
    try:
        with gzip.open(path, "rb") as stream:
            raw = stream.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetIntegrityError(f"{path} is not a readable gzip file ({exc}). {FIX_BAD_FILE}") from exc
    dims = (count, *IMAGE_SHAPE) if magic == IMAGES_MAGIC else (count,)
    header_size, n_values = 4 * (1 + len(dims)), int(np.prod(dims))
    problem = None
    if len(raw) < header_size:
        problem = f"is too short for an IDX header ({len(raw)} bytes once unzipped)"
    else:
        header = tuple(int(v) for v in np.frombuffer(raw, ">u4", count=1 + len(dims)))
        if header[0] != magic:
            problem = f"has IDX magic number {header[0]}, expected {magic}"
        elif header[1:] != dims:
            problem = f"has IDX dimensions {header[1:]}, expected {dims}"
        elif len(raw) != header_size + n_values:
            problem = f"holds {len(raw) - header_size} data bytes, expected {n_values}"
    if problem:
        raise DatasetIntegrityError(f"{path} {problem}. {FIX_BAD_FILE}")
    return np.frombuffer(raw, np.uint8, offset=header_size).reshape(dims)


@lru_cache(maxsize=2)
def _parse_all(keys: tuple[tuple[str, int, int], ...]) -> tuple[np.ndarray, ...]:
    """Parse the four files (keyed by path, size and mtime, so a replaced file is re-read)."""
    paths = [Path(key[0]) for key in keys]
    counts = (N_TRAIN, N_TRAIN, N_TEST, N_TEST)
    magics = (IMAGES_MAGIC, LABELS_MAGIC) * 2
    arrays = tuple(map(_parse_idx, paths, magics, counts))
    for path, labels in ((paths[1], arrays[1]), (paths[3], arrays[3])):
        if labels.max() >= len(CLASS_NAMES):
            raise DatasetIntegrityError(
                f"{path} holds label {labels.max()}, but there are only {len(CLASS_NAMES)} "
                f"classes. {FIX_BAD_FILE}"
            )
    for array in arrays:
        array.flags.writeable = False
    return arrays


def _load_raw(download: bool = True) -> tuple[np.ndarray, ...]:
    """Verified uint8 arrays (x_train, y_train, x_test, y_test) of the official files."""
    paths = locate_files(download=download)
    for name in FILES:
        verify_file(paths[name], name)
    return _parse_all(tuple(_file_key(paths[name]) for name in FILES))


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
    """Split `candidates` (indices into labels) into a class-balanced pick of `size` and the rest,
    both in a random order."""
    by_class = [rng.permutation(candidates[labels[candidates] == c]) for c in range(len(CLASS_NAMES))]
    quotas = _balanced_quotas(np.array([len(ix) for ix in by_class]), size, rng)
    picked = np.concatenate([ix[:q] for ix, q in zip(by_class, quotas, strict=True)])
    rest = np.concatenate([ix[q:] for ix, q in zip(by_class, quotas, strict=True)])
    return rng.permutation(picked), rng.permutation(rest)


def _check_int(name: str, value: object, minimum: int, maximum: int | None = None, why: str = "") -> int:
    """`value` as an int, if it is an int from `minimum` to `maximum`; `why` explains the maximum."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name} must be a {kind} int, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}={value} is too large: {why}")
    return int(value)


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
            lines.append(f"  standardized with the training mean {self.mean:.4f} and std {self.std:.4f}")
        return "\n".join(lines)

    def summary(self) -> None:
        """Print the shapes and dtypes of the three splits (like Keras's model.summary()).

        Example:
            >>> load_fashion_mnist(train_size=1000).summary()  # doctest: +ELLIPSIS
            Fashion-MNIST, 10 classes
              train  x (1000, 28, 28) float32   y (1000,) int64
            ...
        """
        print(self)


def _images(raw: np.ndarray, indices: np.ndarray | None, flatten: bool) -> np.ndarray:
    images = (raw if indices is None else raw[indices]).astype(np.float32)
    images /= 255.0
    return images.reshape(len(images), -1) if flatten else images


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
    they are nowhere else); the parsed files are kept in memory, so loading again is quick.

    Example:
        >>> data = load_fashion_mnist(train_size=10_000, flatten=True)
        >>> data.x_train.shape, data.x_valid.shape, data.x_test.shape
        ((10000, 784), (5000, 784), (10000, 784))
    """
    valid = _check_int(
        "valid_size", valid_size, 1, N_TRAIN - 1,
        f"it must be less than the {N_TRAIN} training images, to leave some for training",
    )  # fmt: skip
    left = N_TRAIN - valid
    if train_size is not None:
        train_size = _check_int(
            "train_size", train_size, 1, left,
            f"only {left} training images remain after taking valid_size={valid} for validation",
        )  # fmt: skip
    if test_size is not None:
        test_size = _check_int("test_size", test_size, 1, N_TEST, f"there are only {N_TEST} test images")
    seed = _check_int("seed", seed, 0)

    x_train_raw, y_train_raw, x_test_raw, y_test_raw = _load_raw()
    rng_valid, rng_train, rng_test = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    valid_ix, train_ix = _stratified_pick(y_train_raw, np.arange(N_TRAIN), valid, rng_valid)
    if train_size is not None:
        train_ix, _ = _stratified_pick(y_train_raw, train_ix, train_size, rng_train)
    test_ix = None
    if test_size is not None:
        test_ix, _ = _stratified_pick(y_test_raw, np.arange(N_TEST), test_size, rng_test)

    x_train = _images(x_train_raw, train_ix, flatten)
    x_valid = _images(x_train_raw, valid_ix, flatten)
    x_test = _images(x_test_raw, test_ix, flatten)
    mean = std = None
    if standardize:
        mean, std = float(x_train.mean(dtype=np.float64)), float(x_train.std(dtype=np.float64))
        for images in (x_train, x_valid, x_test):
            images -= mean
            images /= std
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


def _command_download(dest: Path) -> int:
    print(f"Fashion-MNIST: downloading into {dest.expanduser().resolve()} from {ORIGIN}")
    for name in FILES:
        if _problem(dest / name, name) is None:
            print(f"ok        {name} (already present, SHA-256 verified)")
        else:
            _download(name, dest)
            print(f"fetched   {name} ({FILES[name][0]} bytes, SHA-256 verified)", flush=True)
    print("All four files are present and verified: the course can now run offline.")
    return 0


def _command_verify(folder: Path | None) -> int:
    if folder is not None and not folder.is_dir():
        raise DatasetNotFoundError(f"{folder} is not a folder.")
    paths = locate_files(download=False) if folder is None else {name: folder / name for name in FILES}
    print(f"Fashion-MNIST files in {next(iter(paths.values())).parent.resolve()}:")
    failures = 0
    for name, path in paths.items():
        problem = _problem(path, name)
        failures += problem is not None
        print(f"FAILED    {name} {problem}" if problem else f"ok        {name} (SHA-256 verified)")
    if failures:
        print(
            f"error: {failures} file(s) failed. Fix: delete them and download them again "
            f"with `{FIX_DOWNLOAD}`.",
            file=sys.stderr,
        )
        return 1
    print("All four Fashion-MNIST files are intact.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `download [--dest DIR]` or `verify [--dir DIR]`; returns the exit code.

    Example:
        >>> main(["verify", "--dir", "no-such-folder"])
        1
    """
    parser = argparse.ArgumentParser(
        prog="python -m trainlab.data",
        description="Download or verify the four Fashion-MNIST files of the course.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    download = commands.add_parser("download", help="download the files (with internet) and verify them")
    download.add_argument("--dest", type=Path, help="target folder (default: printed; see data_dir())")
    verify = commands.add_parser("verify", help="check the files' sizes and SHA-256")
    verify.add_argument("--dir", type=Path, help="folder to check (default: the files the course would load)")
    args = parser.parse_args(argv)
    try:
        if args.command == "download":
            return _command_download(args.dest or data_dir())
        return _command_verify(args.dir)
    except DownloadError as exc:
        print(f"error: {exc}.\n{FIX_NO_DOWNLOAD}", file=sys.stderr)
    except (DatasetIntegrityError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
