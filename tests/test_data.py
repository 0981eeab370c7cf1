"""Tests for mlcourse.data: loaders (real files), IDX parsing, CSV errors, scaling, splits, toy sets."""
from __future__ import annotations

import gzip
import hashlib
import re
import struct
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcourse import data
from mlcourse.data import (
    IRIS_CLASSES,
    IRIS_FEATURES,
    MinMaxScaler,
    StandardScaler,
    batches,
    kfold,
    load_house_prices,
    load_iris,
    load_mnist,
    make_circles,
    make_moons,
    make_spiral,
    make_xor,
    min_max_scale,
    one_hot,
    read_csv,
    read_idx,
    train_test_split,
)

REPO_DATA = Path(__file__).resolve().parent.parent / "data"


# ---------------------------------------------------------------- data files and checksums

def _readme_checksums() -> dict[str, str]:
    text = (REPO_DATA / "README.md").read_text(encoding="utf-8")
    return {name: digest for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", text, re.M)}


def test_data_dir_is_the_repo_data_folder():
    assert data.DATA_DIR.resolve() == REPO_DATA.resolve()


def test_data_files_match_checksums():
    listed = _readme_checksums()
    on_disk = {p.relative_to(REPO_DATA).as_posix() for p in REPO_DATA.rglob("*")
               if p.is_file() and p.name != "README.md"}
    assert on_disk == set(listed), "data/README.md must list a sha256 for every data file"
    for name, digest in listed.items():
        assert hashlib.sha256((REPO_DATA / name).read_bytes()).hexdigest() == digest, name


def test_mnist_uncompressed_md5():
    text = (REPO_DATA / "README.md").read_text(encoding="utf-8")
    md5s = dict((name, d) for d, name in re.findall(r"^([0-9a-f]{32})  (\S+)$", text, re.M))
    assert len(md5s) == 4
    for name, digest in md5s.items():
        raw = gzip.decompress((REPO_DATA / "mnist" / f"{name}.gz").read_bytes())
        assert hashlib.md5(raw).hexdigest() == digest, name


# ---------------------------------------------------------------- iris and houses

def test_load_iris():
    X, y = load_iris()
    assert X.shape == (150, 4) and X.dtype == np.float64
    assert y.shape == (150,) and y.dtype == np.int64
    assert abs(X[:, IRIS_FEATURES.index("sepal_width")].mean() - 3.0573) < 1e-4
    assert np.bincount(y).tolist() == [50, 50, 50]
    assert IRIS_CLASSES == ("setosa", "versicolor", "virginica")
    df = load_iris(as_frame=True)
    assert list(df.columns) == [*IRIS_FEATURES, "species"]
    # class 0 is setosa: its rows in the frame are the y == 0 rows
    assert (df["species"].to_numpy()[y == 0] == "setosa").all()
    assert (df["species"].to_numpy()[y == 2] == "virginica").all()


def test_load_house_prices():
    df = load_house_prices()
    assert len(df) == 21613
    assert df["price"].mean() == pytest.approx(540088.14, abs=0.01)
    assert pd.api.types.is_datetime64_any_dtype(df["date"])
    assert df["date"].iloc[0] == pd.Timestamp("2014-10-13")


def test_data_dir_override(tmp_path, monkeypatch):
    (tmp_path / "iris.csv").write_text(
        "sepal_length,sepal_width,petal_length,petal_width,species\n"
        "1,2,3,4,setosa\n5,6,7,8,virginica\n")
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    X, y = load_iris()
    assert X.shape == (2, 4) and y.tolist() == [0, 2]
    with pytest.raises(FileNotFoundError, match="MLCOURSE_DATA"):
        load_house_prices()


# ---------------------------------------------------------------- read_csv errors

def test_read_csv_missing_file(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_csv(missing)


@pytest.mark.parametrize("bad_row", ["4,5,6,7", "4,5"])
def test_read_csv_ragged_row_names_line(tmp_path, bad_row):
    path = tmp_path / "ragged.csv"
    path.write_text(f"a,b,c\n1,2,3\n\n{bad_row}\n7,8,9\n")
    with pytest.raises(ValueError, match=r"line 4 has \d field"):
        read_csv(path)


def test_read_csv_non_numeric_names_column_row_value(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("x,y,name\n1,2,a\n3,oops,b\n5,6,c\n")
    with pytest.raises(ValueError, match=r"column 'y'.*row 1 \(line 3.*'oops'"):
        read_csv(path, numeric=["x", "y"])
    df = read_csv(path)  # nothing forced: strings are fine
    assert df["y"].tolist() == ["2", "oops", "6"]
    with pytest.raises(ValueError, match="'z' not found"):
        read_csv(path, numeric=["z"])


def test_read_csv_numeric_conversion(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("x,y\n1,2.5\n3,4\n")
    df = read_csv(path, numeric=["x", "y"])
    assert df["y"].dtype == np.float64 and df["x"].sum() == 4


# ---------------------------------------------------------------- MNIST and IDX

def test_load_mnist_train():
    X, y = load_mnist("train")
    assert X.shape == (60000, 784) and X.dtype == np.float32
    assert y.shape == (60000,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert y[:5].tolist() == [5, 0, 4, 1, 9]
    assert set(np.unique(y)) == set(range(10))


def test_load_mnist_test_options():
    X, y = load_mnist("test")
    assert X.shape == (10000, 784) and len(y) == 10000
    Xs, ys = load_mnist("test", n=7, flatten=False, dtype=np.float64)
    assert Xs.shape == (7, 1, 28, 28) and Xs.dtype == np.float64
    np.testing.assert_allclose(Xs.reshape(7, 784), X[:7], rtol=1e-6)
    np.testing.assert_array_equal(ys, y[:7])


def test_load_mnist_returns_copies():
    X1, y1 = load_mnist("test", n=5)
    X1[:] = -1
    y1[:] = -1
    X2, y2 = load_mnist("test", n=5)
    assert X2.min() >= 0 and y2.min() >= 0


def test_load_mnist_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")
    with pytest.raises(ValueError, match="n:"):
        load_mnist("test", n=0)
    with pytest.raises(ValueError, match="dtype"):
        load_mnist("test", n=5, dtype=np.int32)


def _idx_bytes(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims) + payload


def test_read_idx_roundtrip(tmp_path):
    pixels = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "tiny-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx_bytes(2051, (2, 3, 4), pixels.tobytes())))
    np.testing.assert_array_equal(read_idx(path), pixels)
    plain = tmp_path / "tiny-idx3-ubyte"
    plain.write_bytes(_idx_bytes(2051, (2, 3, 4), pixels.tobytes()))
    np.testing.assert_array_equal(read_idx(plain), pixels)
    # big-endian int32 elements (type byte 0x0C)
    ints = np.array([1, -2, 300000], dtype=">i4")
    path32 = tmp_path / "ints.idx"
    path32.write_bytes(_idx_bytes(0x0C01, (3,), ints.tobytes()))
    assert read_idx(path32).tolist() == [1, -2, 300000]


def test_read_idx_truncated_file(tmp_path):
    path = tmp_path / "short-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx_bytes(2051, (10, 28, 28), bytes(100))))
    with pytest.raises(ValueError, match=r"short-idx3-ubyte\.gz.*truncated"):
        read_idx(path)


def test_read_idx_truncated_gzip_stream(tmp_path):
    good = gzip.compress(_idx_bytes(2049, (1000,), bytes(1000)))
    path = tmp_path / "cut-idx1-ubyte.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match=r"cut-idx1-ubyte\.gz.*(truncated|corrupt)"):
        read_idx(path)


def test_read_idx_wrong_magic(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(_idx_bytes(2049, (3,), bytes(3))))
    with pytest.raises(ValueError, match=r"labels-idx1-ubyte\.gz.*magic number 2049.*expected 2051"):
        read_idx(path, expected_magic=2051)
    junk = tmp_path / "junk.gz"
    junk.write_bytes(gzip.compress(b"PK\x03\x04 this is a zip file"))
    with pytest.raises(ValueError, match=r"junk\.gz.*not an IDX file"):
        read_idx(junk)


def test_load_mnist_checks_files(tmp_path, monkeypatch):
    """Swapped or truncated MNIST files are reported with the file name."""
    (tmp_path / "mnist").mkdir()
    images = _idx_bytes(2051, (3, 28, 28), bytes(3 * 784))
    labels = _idx_bytes(2049, (3,), bytes([1, 2, 3]))
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    write = lambda name, raw: (tmp_path / "mnist" / name).write_bytes(gzip.compress(raw))  # noqa: E731
    write("t10k-images-idx3-ubyte.gz", images)
    write("t10k-labels-idx1-ubyte.gz", labels)
    X, y = load_mnist("test")
    assert X.shape == (3, 784) and y.tolist() == [1, 2, 3]
    write("t10k-images-idx3-ubyte.gz", labels)  # labels where the images should be
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz.*magic number 2049.*expected 2051"):
        load_mnist("test")
    write("t10k-images-idx3-ubyte.gz", images[:-10])
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz.*truncated"):
        load_mnist("test")
    write("t10k-images-idx3-ubyte.gz", _idx_bytes(2051, (2, 28, 28), bytes(2 * 784)))
    with pytest.raises(ValueError, match="2 images.*3 labels"):
        load_mnist("test")


# ---------------------------------------------------------------- scaling

def test_standard_scaler_train_stats_applied_to_test():
    rng = np.random.default_rng(0)
    X_train = rng.normal(5.0, 3.0, size=(200, 3))
    X_test = rng.normal(5.0, 3.0, size=(50, 3))
    sc = StandardScaler().fit(X_train)
    Z = sc.transform(X_train)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, atol=1e-12)
    np.testing.assert_allclose(sc.transform(X_test), (X_test - X_train.mean(0)) / X_train.std(0))
    np.testing.assert_allclose(sc.inverse_transform(sc.transform(X_test)), X_test)
    np.testing.assert_allclose(StandardScaler().fit_transform(X_train), Z)


def test_standard_scaler_constant_column_and_float32():
    X = np.column_stack([np.full(7, 0.1), np.arange(7.0), np.full(7, 1e6)]).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sc = StandardScaler().fit(X)
        Z = sc.transform(X)
    assert Z.dtype == np.float32 and sc.mean_.dtype == np.float32 and sc.scale_.dtype == np.float32
    assert np.all(Z[:, 0] == 0) and np.all(Z[:, 2] == 0)
    assert not np.isnan(Z).any()
    np.testing.assert_allclose(Z[:, 1].std(), 1, rtol=1e-6)


def test_standard_scaler_errors():
    with pytest.raises(RuntimeError, match="fit"):
        StandardScaler().transform(np.zeros((2, 2)))
    sc = StandardScaler().fit(np.arange(6.0).reshape(3, 2))
    with pytest.raises(ValueError, match="feature"):
        sc.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        StandardScaler().fit([[1.0, np.nan], [2.0, 3.0]])


def test_min_max_scale():
    X = np.array([[0.0, 5.0, 2.0], [10.0, 5.0, 4.0], [5.0, 5.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = min_max_scale(X)
    np.testing.assert_allclose(out, [[0, 0, 0], [1, 0, 1], [0.5, 0, 0.5]])
    np.testing.assert_allclose(min_max_scale(X, feature_range=(-1, 1))[:, 0], [-1, 1, 0])
    sc = MinMaxScaler().fit(X)
    np.testing.assert_allclose(sc.transform([[20.0, 5.0, 2.0]]), [[2.0, 0.0, 0.0]])
    np.testing.assert_allclose(min_max_scale([[20.0, 5.0, 2.0]], data_min=X.min(0), data_max=X.max(0)),
                               [[2.0, 0.0, 0.0]])
    assert min_max_scale(X.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="feature_range"):
        min_max_scale(X, feature_range=(1, 0))


# ---------------------------------------------------------------- labels, splits, batches

def test_one_hot():
    out = one_hot([0, 2, 1, 2])
    assert out.dtype == np.float64 and out.shape == (4, 3)
    np.testing.assert_array_equal(out.argmax(1), [0, 2, 1, 2])
    assert one_hot(np.array([1]), num_classes=4).tolist() == [[0, 1, 0, 0]]
    assert one_hot(np.array([1.0, 0.0])).shape == (2, 2)
    with pytest.raises(ValueError, match="negative"):
        one_hot([0, -1])
    with pytest.raises(ValueError, match="whole numbers"):
        one_hot([0.5, 1.0])
    with pytest.raises(ValueError, match="num_classes"):
        one_hot([0, 3], num_classes=3)


def test_train_test_split_shapes_and_seed():
    X = np.arange(100).reshape(50, 2)
    y = np.arange(50)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=1)
    assert X_tr.shape == (40, 2) and X_te.shape == (10, 2) and len(y_tr) == 40 and len(y_te) == 10
    np.testing.assert_array_equal(X_tr[:, 0] // 2, y_tr)  # rows stay paired
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(50))
    again = train_test_split(X, y, test_size=0.2, seed=1)
    np.testing.assert_array_equal(again[1], X_te)
    other = train_test_split(X, y, test_size=0.2, seed=2)
    assert not np.array_equal(other[1], X_te)
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(X, y, test_size=1.5)


def test_train_test_split_stratified():
    X, y = load_iris()
    _, _, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=0, stratify=True)
    assert np.bincount(y_te).tolist() == [10, 10, 10]
    assert np.bincount(y_tr).tolist() == [40, 40, 40]
    y2 = np.array([0] * 60 + [1] * 30 + [2] * 10)
    _, _, y_tr2, y_te2 = train_test_split(np.zeros((100, 1)), y2, test_size=0.3, stratify=True)
    assert np.bincount(y_te2).tolist() == [18, 9, 3]
    assert np.bincount(y_tr2).tolist() == [42, 21, 7]



@pytest.mark.parametrize("seed", range(5))
def test_stratified_split_departs_from_the_plain_one_only_where_a_class_is_over_quota(seed):
    # Both splits walk the same permutation; stratify only caps each class at its quota.
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    idx = np.arange(100)
    _, plain, _, _ = train_test_split(idx, y, test_size=0.3, seed=seed)
    _, strat, _, y_strat = train_test_split(idx, y, test_size=0.3, seed=seed, stratify=True)
    assert np.bincount(y_strat).tolist() == [18, 9, 3]
    for c, quota in enumerate([18, 9, 3]):
        plain_c, strat_c = set(plain[y[plain] == c]), set(strat[y[strat] == c])
        assert strat_c <= plain_c if len(plain_c) >= quota else plain_c <= strat_c
    other = train_test_split(idx, y, test_size=0.3, seed=seed + 10, stratify=True)[1]
    assert set(other) != set(strat)

def test_train_test_split_dataframe():
    df = load_iris(as_frame=True)
    X_tr, X_te, y_tr, y_te = train_test_split(df[list(IRIS_FEATURES)], df["species"], seed=0)
    assert len(X_tr) == 120 and len(X_te) == 30
    assert (X_te.index == y_te.index).all()


def test_batches_cover_every_sample_once():
    X = np.arange(23 * 2).reshape(23, 2)
    y = np.arange(23)
    got = list(batches(X, y, batch_size=5, rng=0))
    assert [len(yb) for _, yb in got] == [5, 5, 5, 5, 3]
    seen = np.concatenate([yb for _, yb in got])
    assert sorted(seen.tolist()) == list(range(23))
    for Xb, yb in got:
        np.testing.assert_array_equal(Xb[:, 0] // 2, yb)
    assert not np.array_equal(seen, np.arange(23))  # shuffled
    again = np.concatenate([yb for _, yb in batches(X, y, 5, rng=0)])
    np.testing.assert_array_equal(again, seen)
    ordered = np.concatenate([yb for _, yb in batches(X, y, 5, shuffle=False)])
    np.testing.assert_array_equal(ordered, np.arange(23))
    rng = np.random.default_rng(0)
    e1 = np.concatenate([yb for _, yb in batches(X, y, 5, rng=rng)])
    e2 = np.concatenate([yb for _, yb in batches(X, y, 5, rng=rng)])
    assert not np.array_equal(e1, e2)  # one Generator → a new order every epoch


def test_batches_validates_at_call_time():
    with pytest.raises(ValueError, match="batch_size"):
        batches(np.zeros((4, 2)), np.zeros(4), batch_size=0)
    with pytest.raises(ValueError, match="rows"):
        batches(np.zeros((4, 2)), np.zeros(3), batch_size=2)


def test_kfold_partitions():
    folds = kfold(23, 5, seed=0)
    assert len(folds) == 5
    vals = np.concatenate([v for _, v in folds])
    assert sorted(vals.tolist()) == list(range(23))
    assert sorted(len(v) for _, v in folds) == [4, 4, 5, 5, 5]
    for tr, va in folds:
        assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == 23
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, kfold(23, 5, seed=0)))
    with pytest.raises(ValueError, match="k:"):
        kfold(3, 5)


# ---------------------------------------------------------------- toy sets

def test_make_xor():
    X, y = make_xor()
    assert X.shape == (4, 2) and X.dtype == np.float64 and y.shape == (4,)
    np.testing.assert_array_equal(y, X[:, 0].astype(int) ^ X[:, 1].astype(int))


@pytest.mark.parametrize("maker, n, classes", [
    (lambda: make_spiral(50, 3, seed=0), 150, 3),
    (lambda: make_moons(101, noise=0.1, seed=0), 101, 2),
    (lambda: make_circles(100, noise=0.05, seed=0), 100, 2),
])
def test_toy_sets(maker, n, classes):
    X, y = maker()
    assert X.shape == (n, 2) and X.dtype == np.float64 and y.dtype == np.int64
    assert sorted(set(y.tolist())) == list(range(classes))
    X2, y2 = maker()
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_circles_radii_and_seed():
    X, y = make_circles(400, noise=0.0, factor=0.3, seed=3)
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)
    assert not np.array_equal(make_moons(seed=0)[0], make_moons(seed=1)[0])
    with pytest.raises(ValueError, match="factor"):
        make_circles(factor=1.5)
