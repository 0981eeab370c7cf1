"""End to end on real data: XOR, Iris, MNIST (MLP and CNN) reach the course's promised accuracy.

Kept lean on purpose (the whole file is meant to take well under 3 minutes on 2 cores):
few epochs, float32 for MNIST, a 12k-image subset for the CNN. Seeds are fixed, so every
number here is reproducible.
"""

import numpy as np
import pytest

from mlcourse import data, nn
from mlcourse.blas import blas_threads
from mlcourse.optim import Adam, CosineDecay
from mlcourse.train import fit

F32 = np.float32


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    # Measured on the 2-core target: when the other core is busy (an xdist worker, a
    # notebook kernel), OpenBLAS's 2 spinning threads make these mid-size matmuls 4-6×
    # slower than 1 thread. One thread keeps this file's run time predictable.
    old = blas_threads(1)
    yield
    if old is not None:
        blas_threads(old)


def accuracy(model, X, y):
    return float(np.mean(model.predict(X, batch_size=1000).argmax(axis=1) == y))


# --------------------------------------------------------------------------------------
# XOR and Iris (seconds)
# --------------------------------------------------------------------------------------

def test_xor_2_4_1_solves_at_least_19_of_20_seeds():
    X, y = data.make_xor()
    solved = 0
    for seed in range(20):
        model = nn.Sequential([nn.Dense(2, 4, init="glorot", rng=seed), nn.Tanh(),
                               nn.Dense(4, 1, init="glorot", rng=1000 + seed)])
        fit(model, nn.BCEWithLogitsLoss(), Adam(0.1), X, y, epochs=200, batch_size=4,
            seed=seed, progress=False)
        solved += bool(np.all((model.predict(X).ravel() > 0) == y))
    assert solved >= 19, f"XOR solved for only {solved}/20 seeds"


def iris_run(seed: int) -> float:
    """Stratified 80/20 split (seed), scaler fitted on train only, 4-16-3 tanh MLP; test accuracy."""
    X, y = data.load_iris()
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, test_size=0.2, seed=seed, stratify=True)
    scaler = data.StandardScaler().fit(X_tr)
    model = nn.Sequential([nn.Dense(4, 16, rng=seed), nn.Tanh(), nn.Dense(16, 3, rng=100 + seed)])
    fit(model, nn.CrossEntropyLoss(), Adam(0.01), scaler.transform(X_tr), y_tr, epochs=50,
        batch_size=16, seed=seed, progress=False)
    return accuracy(model, scaler.transform(X_te), y_te)


def test_iris_mean_over_10_seeds_at_least_93_percent():
    accs = [iris_run(seed) for seed in range(10)]
    assert np.mean(accs) >= 0.93, accs


def test_iris_seed0_split_at_least_95_percent():
    # One split is a noisy measure (30 flowers: one error is 3.3 %); over 100 seeds this run
    # averages 96 % and about two splits in three reach 95 %. The 10-seed mean above is the
    # sturdier claim; this one pins the split the course's examples use.
    assert iris_run(0) >= 0.95


# --------------------------------------------------------------------------------------
# MNIST (the long part: measured ~10-15 s each on an idle 2-core machine)
# --------------------------------------------------------------------------------------

def test_mnist_mlp_float32_at_least_97_5_percent():
    X, y = data.load_mnist("train")
    X_te, y_te = data.load_mnist("test")
    assert X.dtype == F32
    model = nn.Sequential([nn.Dense(784, 256, rng=0, dtype=F32), nn.ReLU(), nn.Dense(256, 10, rng=1, dtype=F32)])
    opt = Adam(2e-3)
    h = fit(model, nn.CrossEntropyLoss(), opt, X, y, epochs=5, batch_size=128,
            schedule=CosineDecay(2e-3, total_epochs=5), seed=0, progress=False)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert all(p.dtype == F32 for p in model.params.values())  # float32 end to end
    assert all(s.dtype == F32 for st in opt.state.values() for s in st.values())
    assert model.predict(X_te[:5]).dtype == F32
    acc = accuracy(model, X_te, y_te)
    assert acc >= 0.975, acc


def test_mnist_small_cnn_on_12k_images_at_least_97_percent():
    X, y = data.load_mnist("train", n=12000, flatten=False)
    X_te, y_te = data.load_mnist("test", flatten=False)
    model = nn.Sequential([nn.Conv2D(1, 16, 5, padding=2, rng=0, dtype=F32), nn.ReLU(), nn.MaxPool2D(2),
                           nn.Flatten(), nn.Dense(16 * 14 * 14, 10, rng=1, dtype=F32)])
    fit(model, nn.CrossEntropyLoss(), Adam(3e-3), X, y, epochs=3, batch_size=32,
        schedule=CosineDecay(3e-3, total_epochs=3), seed=0, progress=False)
    assert all(p.dtype == F32 for p in model.params.values())
    acc = accuracy(model, X_te, y_te)
    assert acc >= 0.97, acc
