"""Data sets and data plumbing for the course.

Loaders (real data, shipped in the repo's ``data/`` folder, no network):

- ``load_iris()``          → X (150, 4) float64, y (150,) int64
- ``load_mnist(split)``    → X (N, 784) in [0, 1], y (N,) int64   (parsed from the IDX files)
- ``load_house_prices()``  → King County sales as a pandas DataFrame
- ``read_csv(path)``       → pandas DataFrame with student-friendly errors
- ``read_idx(path)``       → the raw array stored in an IDX file (chapter 08 explains the format)

Re-exported here from their own modules, so one import serves the notebooks:

- preprocessing.py: ``StandardScaler``, ``MinMaxScaler`` / ``min_max_scale``, ``one_hot``
- splits.py:        ``train_test_split``, ``kfold``, ``batches``
- toydata.py:       ``make_xor``, ``make_spiral``, ``make_moons``, ``make_circles``
"""
from __future__ import annotations

import csv
import functools
import gzip
import importlib.resources
import math
import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validate import check_choice
from .preprocessing import MinMaxScaler, StandardScaler, min_max_scale, one_hot
from .splits import batches, kfold, train_test_split
from .toydata import make_circles, make_moons, make_spiral, make_xor

if TYPE_CHECKING:  # pandas is imported lazily: `import mlcourse.data` stays fast
    import pandas as pd

__all__ = [
    "DATA_DIR", "IRIS_FEATURES", "IRIS_CLASSES",
    "load_iris", "load_mnist", "read_idx", "load_house_prices", "read_csv",
    "StandardScaler", "MinMaxScaler", "min_max_scale",
    "train_test_split", "one_hot", "batches", "kfold",
    "make_xor", "make_spiral", "make_moons", "make_circles",
]

PACKAGED_DATA = "coursedata"  # the folder inside the installed package (see _find_data_dir)


def _find_data_dir() -> Path:
    """Where the data sets are, found through the package, never the working directory.

    1. ``MLCOURSE_DATA`` (e.g. a shared copy on a lab machine), if set;
    2. ``mlcourse/coursedata/`` inside the installed package — the wheel of the student
       edition carries the data there (``make edition`` copies the repository's ``data/``);
    3. the repository's ``data/`` beside the package (a development checkout).
    """
    if os.environ.get("MLCOURSE_DATA"):
        return Path(os.environ["MLCOURSE_DATA"])
    packaged = Path(str(importlib.resources.files(__package__).joinpath(PACKAGED_DATA)))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "data"


DATA_DIR: Path = _find_data_dir()

IRIS_FEATURES: tuple[str, ...] = ("sepal_length", "sepal_width", "petal_length", "petal_width")
IRIS_CLASSES: tuple[str, ...] = ("setosa", "versicolor", "virginica")

MNIST_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (N, rows, cols)
MNIST_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (N,)
_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60000),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000),
}


def _data_file(*parts: str) -> Path:
    """Path of a shipped data file; a clear FileNotFoundError when it is not there."""
    path = Path(DATA_DIR).joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(
            f"data file not found: {path}\n"
            f"mlcourse looks in DATA_DIR={DATA_DIR}; set the environment variable "
            "MLCOURSE_DATA to the folder holding the course data if it lives elsewhere."
        )
    return path


# --------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------

# read_csv options that change which physical line a row comes from: with any of these we
# leave line bookkeeping to pandas instead of pre-scanning the file ourselves.
_NO_SCAN_OPTIONS = ("skiprows", "comment", "skipfooter", "nrows", "engine", "quotechar",
                    "lineterminator", "compression", "chunksize", "iterator", "skip_blank_lines")
_COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")


def _scan_rows(path: Path, sep: str, encoding: str) -> list[tuple[int, int]]:
    """(line number, field count) of every non-blank row, using the csv module."""
    rows = []
    with open(path, newline="", encoding=encoding) as f:
        reader = csv.reader(f, delimiter=sep)
        for fields in reader:
            if fields:  # pandas skips blank lines too
                rows.append((reader.line_num, len(fields)))
    return rows


def read_csv(path: str | os.PathLike, numeric: list[str] | None = None, **kwargs: Any) -> "pd.DataFrame":
    """Read a CSV file into a pandas DataFrame, with errors a student can act on.

    path: the CSV file. numeric: columns that must hold only numbers (converted to numbers;
    default: none forced). kwargs: passed to ``pandas.read_csv``.

    Raises FileNotFoundError naming the path when it does not exist, and ValueError naming
    the line of a ragged row (too many or too few fields), or the column, row and value of
    a non-numeric entry in a ``numeric`` column.
    """
    import pandas as pd  # lazy: pandas costs ~0.5 s to import, only the CSV loaders need it

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_csv: file not found: {path} (looked for {path.resolve()})")

    # Pre-scan with the csv module: pandas silently pads short rows with NaN, so ragged rows
    # must be found here. It also maps DataFrame rows to file lines for later messages.
    sep = kwargs.get("sep", kwargs.get("delimiter", ","))
    data_lines: list[int] | None = None
    scannable = (isinstance(sep, str) and len(sep) == 1 and path.suffix.lower() not in _COMPRESSED
                 and not any(k in kwargs for k in _NO_SCAN_OPTIONS))
    if scannable:
        try:
            rows = _scan_rows(path, sep, kwargs.get("encoding") or "utf-8")
        except (UnicodeDecodeError, csv.Error):
            rows = None  # let pandas report it
        if rows:
            first_line, n_fields = rows[0]
            for line, count in rows[1:]:
                if count != n_fields:
                    raise ValueError(
                        f"{path}: line {line} has {count} field(s) but line {first_line} "
                        f"(the header) has {n_fields}; fix or remove that row"
                    )
            header = kwargs.get("header", "infer")
            has_header = header == 0 or (header == "infer" and kwargs.get("names") is None)
            if header is None or header == 0 or header == "infer":
                data_lines = [line for line, _ in (rows[1:] if has_header else rows)]

    try:
        df = pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: the file is empty (no header, no rows)") from None
    except pd.errors.ParserError as exc:
        raise ValueError(f"{path}: could not parse the CSV file: {exc}") from None

    for col in numeric or ():
        if col not in df.columns:
            raise ValueError(f"{path}: numeric column {col!r} not found; the columns are {list(df.columns)}")
        values = df[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            continue
        converted = pd.to_numeric(values, errors="coerce")
        bad = (converted.isna() & values.notna()).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            where = f"row {i}" + (f" (line {data_lines[i]} of the file)" if data_lines else "")
            raise ValueError(
                f"{path}: column {col!r} must be numeric, but {where} holds {values.iloc[i]!r} "
                f"({int(bad.sum())} non-numeric value(s) in that column)"
            )
        df[col] = converted
    return df


# --------------------------------------------------------------------------------------
# Iris and King County
# --------------------------------------------------------------------------------------

def load_iris(as_frame: bool = False) -> "tuple[np.ndarray, np.ndarray] | pd.DataFrame":
    """Fisher's Iris data (150 flowers, 50 per species).

    Returns X: (150, 4) float64 in the order of ``IRIS_FEATURES`` (cm) and y: (150,) int64
    with 0, 1, 2 = ``IRIS_CLASSES`` = setosa, versicolor, virginica.
    With ``as_frame=True``: the DataFrame of data/iris.csv (4 feature columns + "species").
    """
    df = read_csv(_data_file("iris.csv"), numeric=list(IRIS_FEATURES))
    if "species" not in df.columns:
        raise ValueError(f"iris.csv: no 'species' column; columns are {list(df.columns)}")
    if as_frame:
        return df
    codes = {name: i for i, name in enumerate(IRIS_CLASSES)}
    unknown = sorted(set(df["species"]) - set(codes))
    if unknown:
        raise ValueError(f"iris.csv: unknown species {unknown}; expected {list(IRIS_CLASSES)}")
    X = df[list(IRIS_FEATURES)].to_numpy(dtype=np.float64)
    y = df["species"].map(codes).to_numpy(dtype=np.int64)
    return X, y


def load_house_prices() -> "pd.DataFrame":
    """King County (Seattle) house sales, May 2014 – May 2015: 21,613 rows × 21 columns.

    Returns the DataFrame of data/kc_house_data.csv with ``date`` parsed to datetime64
    (the file stores dates like "20141013T000000") and ``price`` in US dollars.
    """
    import pandas as pd  # lazy: see above

    path = _data_file("kc_house_data.csv")
    df = read_csv(path, numeric=["price"])
    try:
        df["date"] = pd.to_datetime(df["date"], format="%Y%m%dT%H%M%S")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: column 'date' holds a value that is not a date like 20141013T000000 ({exc})") from None
    return df


# --------------------------------------------------------------------------------------
# MNIST / IDX
# --------------------------------------------------------------------------------------

# IDX type byte → big-endian NumPy dtype (the format stores multi-byte numbers big-endian).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: Path) -> bytes:
    """File contents, gunzipped when the file is gzip-compressed (checked by its first bytes)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise ValueError(f"{path}: could not decompress the gzip file ({exc}); "
                         "it is probably truncated or corrupt — copy it again") from None


@functools.lru_cache(maxsize=8)
def _read_idx_cached(path: str, mtime_ns: int, size: int, expected_magic: int | None) -> np.ndarray:
    """Parse an IDX file into a read-only array (cached; mtime/size in the key spot edits)."""
    raw = _read_bytes(Path(path))
    if len(raw) < 4:
        raise ValueError(f"{path}: only {len(raw)} bytes; too short for an IDX header (4-byte magic number)")
    magic = int.from_bytes(raw[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(f"{path}: wrong magic number {magic} (0x{magic:08X}); expected "
                         f"{expected_magic} (0x{expected_magic:08X}). Is this the right file?")
    type_code, ndim = raw[2], raw[3]
    if raw[0] != 0 or raw[1] != 0 or type_code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(f"{path}: not an IDX file (magic number 0x{magic:08X} should be "
                         "0x0000TTNN with a known type byte TT and NN ≥ 1 dimensions)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated header: {ndim} dimension sizes need {header} bytes, "
                         f"the file has {len(raw)}")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[type_code])
    count = math.prod(shape)
    need, have = count * dtype.itemsize, len(raw) - header
    if have != need:
        problem = "truncated" if have < need else "has extra bytes at the end"
        raise ValueError(f"{path}: file {problem}: the header says shape {shape} "
                         f"({need} bytes of data) but {have} bytes follow the header")
    arr = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))  # native byte order for fast arithmetic
    arr.flags.writeable = False  # the cached copy must never change
    return arr


def read_idx(path: str | os.PathLike, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a NumPy array.

    IDX layout: a big-endian header — magic number 0x0000TTNN (TT = element type, 0x08 for
    unsigned bytes; NN = number of dimensions), then NN 4-byte dimension sizes — followed
    by the raw elements. MNIST images: magic 2051, shape (N, 28, 28); labels: 2049, (N,).

    Returns an array of the stored shape (uint8 for MNIST). Raises ValueError naming the
    file when the magic number (or ``expected_magic``), header or data size is wrong.
    Parsed files are cached in memory; the result is a fresh copy you may modify.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_idx: file not found: {path}")
    stat = path.stat()
    return _read_idx_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size, expected_magic).copy()


def _cached_idx(path: Path, expected_magic: int) -> np.ndarray:
    """The cached read-only array (no copy: callers only read it)."""
    stat = path.stat()
    return _read_idx_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size, expected_magic)


def load_mnist(split: str = "train", n: int | None = None, flatten: bool = True,
               dtype: Any = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """MNIST handwritten digits from data/mnist/*-idx?-ubyte.gz.

    split: "train" (60,000 images) or "test" (10,000). n: keep the first n (default all).
    Returns X: (n, 784), or (n, 1, 28, 28) with ``flatten=False`` (NCHW), pixel values
    scaled to [0, 1] in ``dtype`` (float32 by default); y: (n,) int64 digits 0–9.
    The parsed files are cached in memory, so repeated calls are fast.
    """
    check_choice(split, tuple(_MNIST_FILES), "split")
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dtype: expected a floating-point dtype such as np.float32, got {dtype}")
    image_name, label_name, _ = _MNIST_FILES[split]
    image_path, label_path = _data_file("mnist", image_name), _data_file("mnist", label_name)
    images = _cached_idx(image_path, MNIST_IMAGES_MAGIC)
    labels = _cached_idx(label_path, MNIST_LABELS_MAGIC)
    if images.shape[1:] != (28, 28):
        raise ValueError(f"{image_path}: expected 28x28 images, the header says {images.shape[1:]}")
    if len(images) != len(labels):
        raise ValueError(f"{image_path} holds {len(images)} images but {label_path} holds "
                         f"{len(labels)} labels; they must match")
    if n is None:
        n = len(images)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= len(images):
        raise ValueError(f"n: expected an integer from 1 to {len(images)} (or None for all), got {n!r}")
    X = images[:n].astype(dtype)  # astype copies: callers can't touch the cache
    X /= dtype.type(255)
    X = X.reshape(n, 784) if flatten else X.reshape(n, 1, 28, 28)
    return X, labels[:n].astype(np.int64)
