"""Data sets and data plumbing for the course.

Loaders (real data, shipped in the repo's ``data/`` folder, no network):

- ``load_iris()``          → X (150, 4) float64, y (150,) int64
- ``load_mnist(split)``    → X (N, 784) in [0, 1], y (N,) int64   (parsed from the IDX files)
- ``load_house_prices()``  → King County sales as a pandas DataFrame
- ``read_csv(path)``       → pandas DataFrame with student-friendly errors
- ``read_idx(path)``       → the raw array stored in an IDX file (chapter 08 explains the format)

Preprocessing: ``StandardScaler``, ``MinMaxScaler`` / ``min_max_scale``, ``one_hot``.
Splitting and batching: ``train_test_split``, ``kfold``, ``batches``.
Toy sets: ``make_xor``, ``make_spiral``, ``make_moons``, ``make_circles``.

All randomness goes through a seeded ``numpy.random.Generator``: same seed → same output.
"""
from __future__ import annotations

import csv
import functools
import gzip
import math
import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from ._validate import (
    as_float_array,
    check_choice,
    check_finite,
    check_positive,
    check_same_length,
    get_rng,
)

if TYPE_CHECKING:  # pandas is imported lazily: `import mlcourse.data` stays fast
    import pandas as pd

__all__ = [
    "DATA_DIR", "IRIS_FEATURES", "IRIS_CLASSES",
    "load_iris", "load_mnist", "read_idx", "load_house_prices", "read_csv",
    "StandardScaler", "MinMaxScaler", "min_max_scale",
    "train_test_split", "one_hot", "batches", "kfold",
    "make_xor", "make_spiral", "make_moons", "make_circles",
]

# Found relative to the package, not the working directory, so a notebook opened from any
# folder finds the data. MLCOURSE_DATA points elsewhere (e.g. a shared copy on a lab machine).
DATA_DIR: Path = Path(
    os.environ.get("MLCOURSE_DATA") or Path(__file__).resolve().parent.parent / "data"
)

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
    import pandas as pd

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
    import pandas as pd

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


# --------------------------------------------------------------------------------------
# Scaling
# --------------------------------------------------------------------------------------

def _features(X: Any, name: str = "X") -> np.ndarray:
    """X as a finite float array of shape (N, D) or (N,)."""
    X = as_float_array(X, name)
    if X.ndim not in (1, 2):
        raise ValueError(f"{name}: expected a 2-D array (N, D) (or 1-D (N,)), got shape {X.shape}")
    if len(X) == 0:
        raise ValueError(f"{name}: is empty; need at least one row")
    check_finite(X, name)
    return X


class StandardScaler:
    """Standardise features: z = (x - mean_) / scale_, with statistics from the training set.

    fit(X_train) learns mean_ (D,) and scale_ (D,) (the standard deviation, ddof=0);
    transform(X) works on any split: X (N, D) → (N, D) in X's float dtype (float32 stays
    float32). A constant column gets scale_ = 1, so it transforms to exactly 0 (never NaN).
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, X: Any) -> "StandardScaler":
        """Learn mean_ and scale_ from X: (N, D). Returns self."""
        X = _features(X)
        # Statistics accumulate in float64 for accuracy, then match X's dtype.
        mean = X.mean(axis=0, dtype=np.float64)
        std = X.std(axis=0, dtype=np.float64)
        constant = np.ptp(X, axis=0) == 0
        # Exactly constant → mean is the value itself (rounding could otherwise leave ±tiny/tiny).
        mean = np.where(constant, X[0], mean)
        tiny = std <= 10 * np.finfo(X.dtype).eps * np.abs(mean)  # rounding noise, not signal
        self.mean_ = mean.astype(X.dtype)
        self.scale_ = np.where(constant | tiny, 1.0, std).astype(X.dtype)
        return self

    def _check_fitted(self, X: Any, name: str) -> np.ndarray:
        if self.mean_ is None:
            raise RuntimeError("StandardScaler: call fit(X_train) before transform")
        X = _features(X, name)
        if X.shape[1:] != self.mean_.shape:
            raise ValueError(f"{name}: expected {self.mean_.shape[0] if self.mean_.ndim else 1} "
                             f"feature(s) like the data given to fit, got shape {X.shape}")
        return X

    def transform(self, X: Any) -> np.ndarray:
        """X: (N, D) → standardised (N, D), in X's float dtype."""
        X = self._check_fitted(X, "X")
        return (X - self.mean_.astype(X.dtype)) / self.scale_.astype(X.dtype)

    def fit_transform(self, X: Any) -> np.ndarray:
        """fit(X) then transform(X): (N, D) → (N, D)."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Undo transform: Z (N, D) → X (N, D) in original units."""
        Z = self._check_fitted(Z, "Z")
        return Z * self.scale_.astype(Z.dtype) + self.mean_.astype(Z.dtype)


def min_max_scale(X: Any, feature_range: tuple[float, float] = (0.0, 1.0),
                  data_min: Any = None, data_max: Any = None) -> np.ndarray:
    """Rescale each column linearly so data_min → low and data_max → high.

    X: (N, D) or (N,). feature_range: (low, high). data_min, data_max: (D,) column minimum
    and maximum — by default X's own; pass the training set's to scale a test set.
    Returns (N, D) in X's float dtype. A constant column maps to ``low`` (never NaN).
    """
    X = _features(X)
    low, high = _check_range(feature_range)
    dmin = X.min(axis=0) if data_min is None else as_float_array(data_min, "data_min", X.dtype)
    dmax = X.max(axis=0) if data_max is None else as_float_array(data_max, "data_max", X.dtype)
    if np.shape(dmin) != X.shape[1:] or np.shape(dmax) != X.shape[1:]:
        raise ValueError(f"data_min/data_max: expected shape {X.shape[1:]} (one per column), "
                         f"got {np.shape(dmin)} and {np.shape(dmax)}")
    span = dmax - dmin
    safe = np.where(span == 0, 1, span).astype(X.dtype)  # constant column: (x - min) is 0 anyway
    out = (X - dmin) / safe * X.dtype.type(high - low) + X.dtype.type(low)
    return out.astype(X.dtype, copy=False)


def _check_range(feature_range: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in feature_range)
    except (TypeError, ValueError):
        raise ValueError(f"feature_range: expected a pair (low, high), got {feature_range!r}") from None
    if not low < high:
        raise ValueError(f"feature_range: expected low < high, got {feature_range!r}")
    return low, high


class MinMaxScaler:
    """Class form of ``min_max_scale``: fit on training data, transform any split.

    fit(X) learns data_min_, data_max_ (D,); transform(X): (N, D) → (N, D) in feature_range.
    """

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)) -> None:
        self.feature_range = _check_range(feature_range)
        self.data_min_: np.ndarray | None = None
        self.data_max_: np.ndarray | None = None

    def fit(self, X: Any) -> "MinMaxScaler":
        """Learn the column minimum and maximum of X: (N, D). Returns self."""
        X = _features(X)
        self.data_min_, self.data_max_ = X.min(axis=0), X.max(axis=0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """X: (N, D) → (N, D) scaled with the fitted minimum and maximum."""
        if self.data_min_ is None:
            raise RuntimeError("MinMaxScaler: call fit(X_train) before transform")
        return min_max_scale(X, self.feature_range, self.data_min_, self.data_max_)

    def fit_transform(self, X: Any) -> np.ndarray:
        """fit(X) then transform(X): (N, D) → (N, D)."""
        return self.fit(X).transform(X)


# --------------------------------------------------------------------------------------
# Labels, splits, batches
# --------------------------------------------------------------------------------------

def _labels(y: Any, name: str = "y") -> np.ndarray:
    """y as a 1-D int64 array of non-negative whole numbers."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of class labels (N,), got shape {arr.shape}")
    if arr.dtype == bool:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name}: expected integer class labels, got an array of dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
        bad = arr[~(np.isfinite(arr) & (arr == np.round(arr)))][0]
        raise ValueError(f"{name}: class labels must be whole numbers, found {bad!r}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name}: class labels must be 0, 1, 2, …; found negative label {arr.min()}")
    return arr.astype(np.int64)


def one_hot(y: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode class labels: y (N,) ints in [0, C) → (N, C) float64.

    num_classes: C (default max(y) + 1). Negative, non-integer or too-large labels → ValueError.
    """
    y = _labels(y)
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes: expected a positive integer, got {num_classes!r}")
    if y.size and y.max() >= num_classes:
        raise ValueError(f"y: label {y.max()} is too large for num_classes={num_classes} "
                         f"(labels must be 0 … {num_classes - 1})")
    out = np.zeros((len(y), num_classes), dtype=np.float64)
    out[np.arange(len(y)), y] = 1.0
    return out


def _take(a: Any, idx: np.ndarray) -> Any:
    """Rows idx of an array, or of a pandas object (by position)."""
    return a.iloc[idx] if hasattr(a, "iloc") else np.asarray(a)[idx]


def _stratified_test_counts(counts: np.ndarray, n_test: int) -> np.ndarray:
    """Split n_test among classes in proportion to counts (largest-remainder rounding)."""
    exact = counts * n_test / counts.sum()
    take = np.floor(exact).astype(np.int64)
    # Hand out the rest to the largest fractional parts (ties: smaller class label first).
    order = np.argsort(-(exact - take), kind="stable")
    take[order[: n_test - take.sum()]] += 1
    return take


def _rank_within_class(labels: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """For labels (N,) in 0..C-1 with counts (C,): how many earlier entries share each label."""
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels)) - np.repeat(starts, counts)
    return rank


def train_test_split(X: Any, y: Any, test_size: float | int = 0.2, seed: int = 0,
                     stratify: bool = False) -> tuple[Any, Any, Any, Any]:
    """Shuffle and split into training and test sets.

    X: (N, ...) array (or DataFrame); y: (N,) targets. test_size: fraction in (0, 1) or a
    count in [1, N-1]; the test set gets ceil(test_size·N) rows. stratify=True keeps each
    class's share of the test set equal to its share of y (exact where the counts allow).
    Returns X_train, X_test, y_train, y_test; same seed → same split.
    """
    n = len(X)
    check_same_length(X, y, "X", "y")
    if n < 2:
        raise ValueError(f"X: need at least 2 rows to split, got {n}")
    if isinstance(test_size, (float, np.floating)) and 0 < test_size < 1:
        n_test = math.ceil(test_size * n)
    elif isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool) and 1 <= test_size < n:
        n_test = int(test_size)
    else:
        raise ValueError(f"test_size: expected a fraction between 0 and 1 or a count from 1 to {n - 1}, got {test_size!r}")
    n_test = min(n_test, n - 1)
    # One permutation serves both kinds of split, so stratify=True only changes what it must:
    # walking the same shuffled order, each class stops entering the test set at its quota.
    perm = get_rng(seed).permutation(n)
    if stratify:
        y_arr = np.asarray(y)
        if y_arr.ndim != 1:
            raise ValueError(f"y: stratify=True needs 1-D class labels (N,), got shape {y_arr.shape}")
        _, inverse, counts = np.unique(y_arr, return_inverse=True, return_counts=True)
        labels = inverse[perm]
        in_test = _rank_within_class(labels, counts) < _stratified_test_counts(counts, n_test)[labels]
        test_idx, train_idx = perm[in_test], perm[~in_test]
    else:
        test_idx, train_idx = perm[:n_test], perm[n_test:]
    return _take(X, train_idx), _take(X, test_idx), _take(y, train_idx), _take(y, test_idx)


def batches(X: Any, y: Any, batch_size: int, shuffle: bool = True,
            rng: np.random.Generator | int | None = None) -> Iterator[tuple[np.ndarray, Any]]:
    """Iterate over one epoch in minibatches: yields (Xb (B, ...), yb (B, ...)).

    Every sample appears exactly once; the last batch keeps the remainder (may be smaller
    than batch_size). shuffle: new random order from ``rng`` (a Generator or a seed;
    None → seed 0). Pass the same Generator every epoch to get a different order each epoch.
    y may be None (then yb is None).
    """
    X = np.asarray(X)
    if X.ndim == 0:
        raise ValueError("X: expected an array with one row per sample, got a scalar")
    if y is not None:
        y = np.asarray(y)
        check_same_length(X, y, "X", "y")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
    check_positive(batch_size, "batch_size")
    order = get_rng(rng).permutation(len(X)) if shuffle else np.arange(len(X))

    # Validation above runs at call time; only the iteration itself is lazy.
    def generate() -> Iterator[tuple[np.ndarray, Any]]:
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            yield X[idx], (None if y is None else y[idx])

    return generate()


def kfold(n: int, k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """k-fold cross-validation indices: list of k pairs (train_idx, val_idx).

    The k validation sets partition range(n) (sizes differ by at most 1, after a seeded
    shuffle); each train_idx is the rest. Both index arrays are sorted int64.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n: expected an integer ≥ 2 (number of samples), got {n!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
        raise ValueError(f"k: expected an integer from 2 to n={n}, got {k!r}")
    folds = np.array_split(get_rng(seed).permutation(n), k)
    out = []
    for i, val in enumerate(folds):
        train = np.concatenate([f for j, f in enumerate(folds) if j != i])
        out.append((np.sort(train).astype(np.int64), np.sort(val).astype(np.int64)))
    return out


# --------------------------------------------------------------------------------------
# Toy data sets (2-D, for decision-boundary plots)
# --------------------------------------------------------------------------------------

def make_xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points: X (4, 2) float64 corners of the unit square, y (4,) int64 = x1 XOR x2."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return X, y


def _check_count(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer ≥ {minimum}, got {value!r}")
    return int(value)


def make_spiral(n_per_class: int = 100, n_classes: int = 3, seed: int = 0,
                noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms (the CS231n toy set): not linearly separable.

    Returns X: (n_per_class·n_classes, 2) float64 within about [-1, 1]², y: (N,) int64 arm
    index; rows grouped by class. noise: std of the angle jitter (radians).
    """
    n_per_class = _check_count(n_per_class, "n_per_class")
    n_classes = _check_count(n_classes, "n_classes")
    check_positive(noise, "noise", allow_zero=True)
    rng = get_rng(seed)
    radius = np.linspace(0.0, 1.0, n_per_class)
    X, y = [], []
    for c in range(n_classes):
        theta = np.linspace(c * 4.0, (c + 1) * 4.0, n_per_class) + rng.normal(0.0, noise, n_per_class)
        X.append(np.column_stack([radius * np.sin(theta), radius * np.cos(theta)]))
        y.append(np.full(n_per_class, c, dtype=np.int64))
    return np.concatenate(X), np.concatenate(y)


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles. Returns X: (n, 2) float64, y: (n,) int64 (0 upper, 1 lower), shuffled."""
    n = _check_count(n, "n", 2)
    check_positive(noise, "noise", allow_zero=True)
    rng = get_rng(seed)
    n0 = n // 2
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n - n0)
    X = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                        np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])])
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n - n0, dtype=np.int64)])
    X = X + rng.normal(0.0, noise, X.shape)
    order = rng.permutation(n)
    return X[order], y[order]


def make_circles(n: int = 200, noise: float = 0.05, seed: int = 0,
                 factor: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """A small circle inside a large one. Returns X: (n, 2) float64, y: (n,) int64
    (0 outer radius 1, 1 inner radius ``factor``), shuffled."""
    n = _check_count(n, "n", 2)
    check_positive(noise, "noise", allow_zero=True)
    if not 0 < factor < 1:
        raise ValueError(f"factor: expected the inner/outer radius ratio in (0, 1), got {factor!r}")
    rng = get_rng(seed)
    n0 = n // 2
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n - n0, endpoint=False)
    X = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                        factor * np.column_stack([np.cos(t1), np.sin(t1)])])
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n - n0, dtype=np.int64)])
    X = X + rng.normal(0.0, noise, X.shape)
    order = rng.permutation(n)
    return X[order], y[order]
