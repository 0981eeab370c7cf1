"""fit() and History on small synthetic data: bookkeeping, metrics, validation, reproducibility."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from mlcourse import nn
from mlcourse.optim import SGD, Adam, StepDecay
from mlcourse.train import History, fit


def blobs(n=120, seed=0, dtype=np.float64):
    """Three well-separated Gaussian blobs in 2-D: X (n, 2), y (n,) ints."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    return (centers[y] + 0.5 * rng.standard_normal((n, 2))).astype(dtype), y


def mlp(dtype=np.float64, seed=0, out=3):
    return nn.Sequential([nn.Dense(2, 16, rng=seed, dtype=dtype), "relu", nn.Dense(16, out, rng=seed + 1, dtype=dtype)])


def frozen_sgd():
    """An optimizer with lr = 0: fit runs but the model never changes (exact bookkeeping tests)."""
    opt = SGD(0.1)
    opt.lr = 0.0
    return opt


def test_fit_learns_blobs_and_records_history():
    X, y = blobs()
    Xv, yv = blobs(60, seed=1)
    h = fit(mlp(), nn.CrossEntropyLoss(), Adam(0.01), X, y, epochs=15, batch_size=16,
            validation_data=(Xv, yv), progress=False)
    assert isinstance(h, History)
    assert h.epochs == list(range(1, 16))
    assert list(h.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(v) == 15 for v in h.history.values())
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert h.history["val_accuracy"][-1] == 1.0
    df = h.to_frame()
    assert df.shape == (15, 4) and df.index.name == "epoch"
    assert "15 epochs" in repr(h)


def test_history_plot():
    import matplotlib.pyplot as plt
    X, y = blobs(60)
    h = fit(mlp(), nn.CrossEntropyLoss(), Adam(0.01), X, y, epochs=3, batch_size=16,
            validation_data=(X, y), progress=False)
    axes = h.plot()
    assert len(axes) == 2 and len(axes[0].lines) == 2  # loss + val_loss
    fig, ax = plt.subplots()
    assert h.plot(ax=ax) is ax and len(ax.lines) == 4
    plt.close("all")


class CountingSGD(SGD):
    """SGD that records the batch size of every update."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.sizes = []

    def step(self, model):
        self.sizes.append(len(model[0].x))
        super().step(model)


def test_last_partial_batch_kept_and_every_sample_seen():
    X, y = blobs(50)
    opt = CountingSGD(0.01)
    fit(mlp(), nn.CrossEntropyLoss(), opt, X, y, epochs=2, batch_size=16, progress=False)
    assert opt.sizes == [16, 16, 16, 2] * 2


def test_epoch_loss_is_mean_over_samples():
    # With lr = 0 nothing changes, so the epoch loss is exactly the loss on all data.
    X, y = blobs(50)
    model = mlp()
    h = fit(model, nn.CrossEntropyLoss(), frozen_sgd(), X, y, epochs=1, batch_size=16, progress=False)
    assert h.history["loss"][0] == pytest.approx(nn.CrossEntropyLoss()(model.predict(X), y))
    acc = np.mean(model.predict(X).argmax(1) == y)
    assert h.history["accuracy"][0] == pytest.approx(acc)


def test_same_seed_identical_runs_different_seed_differs():
    X, y = blobs()

    def run(seed):
        model = mlp(seed=3)
        h = fit(model, nn.CrossEntropyLoss(), Adam(0.01), X, y, epochs=4, batch_size=8, seed=seed, progress=False)
        return model, h

    (m1, h1), (m2, h2), (m3, h3) = run(0), run(0), run(1)
    assert h1.history == h2.history
    for k in m1.params:
        np.testing.assert_array_equal(m1.params[k], m2.params[k])
    assert h1.history["loss"] != h3.history["loss"]


def test_schedule_sets_lr_each_epoch():
    X, y = blobs(30)
    opt = SGD(0.1)
    h = fit(mlp(), nn.CrossEntropyLoss(), opt, X, y, epochs=5, batch_size=10, progress=False,
            schedule=StepDecay(0.1, drop=0.5, every=2))
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert opt.lr == pytest.approx(0.025)


def test_binary_accuracy_thresholds():
    X, y = blobs(90)
    yb = (y == 0).astype(float)
    # Logits (BCEWithLogitsLoss): the decision threshold is 0.
    m = mlp(out=1)
    h = fit(m, nn.BCEWithLogitsLoss(), frozen_sgd(), X, yb, epochs=1, batch_size=32, progress=False)
    assert h.history["accuracy"][0] == pytest.approx(np.mean((m.predict(X).ravel() > 0) == yb))
    # Probabilities (sigmoid + BCELoss): the threshold is 0.5.
    m = nn.Sequential([nn.Dense(2, 1, rng=0), "sigmoid"])
    h = fit(m, nn.BCELoss(), frozen_sgd(), X, yb, epochs=1, batch_size=32, progress=False)
    assert h.history["accuracy"][0] == pytest.approx(np.mean((m.predict(X).ravel() > 0.5) == yb))
    # One-hot targets with multi-column outputs: argmax on both sides.
    m = mlp()
    h = fit(m, nn.CrossEntropyLoss(), frozen_sgd(), X, np.eye(3)[y], epochs=1, batch_size=32, progress=False)
    assert h.history["accuracy"][0] == pytest.approx(np.mean(m.predict(X).argmax(1) == y))


def test_regression_metrics():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 2))
    y = X @ np.array([1.5, -2.0]) + 0.5
    model = nn.Sequential([nn.Dense(2, 1, rng=0)])
    h = fit(model, nn.MSELoss(), frozen_sgd(), X, y, epochs=1, batch_size=32, progress=False,
            metrics=("mse", "mae", "r2"), validation_data=(X, y))
    pred = model.predict(X).ravel()
    mse = np.mean((pred - y) ** 2)
    assert h.history["mse"][0] == pytest.approx(mse) == pytest.approx(h.history["val_mse"][0])
    assert h.history["mae"][0] == pytest.approx(np.mean(np.abs(pred - y)))
    assert h.history["r2"][0] == pytest.approx(1 - mse / np.var(y))
    assert h.history["val_r2"][0] == pytest.approx(1 - mse / np.var(y))
    # and it learns
    h = fit(model, nn.MSELoss(), SGD(0.1), X, y, epochs=30, batch_size=16, progress=False, metrics=("r2",))
    assert h.history["r2"][-1] > 0.999


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_keeps_model_dtype(dtype):
    X, y = blobs()  # float64 data
    model = mlp(dtype=dtype)
    fit(model, nn.CrossEntropyLoss(), Adam(0.01), X, y, epochs=2, batch_size=16, progress=False)
    assert all(p.dtype == dtype for p in model.params.values())
    assert all(g.dtype == dtype for g in model.grads.values())
    assert model.predict(X.astype(dtype)).dtype == dtype


def test_progress_bar_runs(capsys):
    X, y = blobs(30)
    fit(mlp(), nn.CrossEntropyLoss(), Adam(0.01), X, y, epochs=2, batch_size=10, progress=True)
    assert "loss" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------

def test_nan_in_data_rejected():
    X, y = blobs(30)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"^X: contains NaN"):
        fit(mlp(), nn.CrossEntropyLoss(), Adam(), X, y, epochs=1, batch_size=10, progress=False)
    X, _ = blobs(30)
    yf = y.astype(float)
    yf[0] = np.inf
    with pytest.raises(ValueError, match=r"^y: contains infinity"):
        fit(mlp(out=1), nn.MSELoss(), Adam(), X, yf, epochs=1, batch_size=10, progress=False)
    Xv = X.copy()
    Xv[0, 0] = np.nan
    with pytest.raises(ValueError, match="X_val"):
        fit(mlp(), nn.CrossEntropyLoss(), Adam(), X, y, epochs=1, batch_size=10, progress=False,
            validation_data=(Xv, y))


def test_length_mismatch_rejected():
    X, y = blobs(30)
    with pytest.raises(ValueError, match="X has 30 rows but y has 29"):
        fit(mlp(), nn.CrossEntropyLoss(), Adam(), X, y[:-1], epochs=1, batch_size=10, progress=False)


def test_unknown_metric_lists_valid():
    X, y = blobs(30)
    with pytest.raises(ValueError) as e:
        fit(mlp(), nn.CrossEntropyLoss(), Adam(), X, y, epochs=1, batch_size=10, progress=False, metrics=("acc",))
    assert "'acc'" in str(e.value) and "'accuracy'" in str(e.value) and "'r2'" in str(e.value)


def test_bad_epochs_batch_size_and_shapes():
    X, y = blobs(30)
    with pytest.raises(ValueError, match="batch_size"):
        fit(mlp(), nn.CrossEntropyLoss(), Adam(), X, y, epochs=1, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        fit(mlp(), nn.CrossEntropyLoss(), Adam(), X, y, epochs=2.5, batch_size=4, progress=False)
    with pytest.raises(ValueError, match=r"reshape\(-1, 1\)"):
        fit(mlp(), nn.CrossEntropyLoss(), Adam(), X[:, 0], y, epochs=1, batch_size=4, progress=False)
    with pytest.raises(ValueError, match="Dense\\(2→16\\)"):
        fit(mlp(), nn.CrossEntropyLoss(), Adam(), np.ones((30, 3)), y, epochs=1, batch_size=4, progress=False)


def test_training_skips_only_the_unused_input_gradient():
    """backward(input_grad=False) fills the same parameter gradients and returns None."""
    from mlcourse import nn

    rng = np.random.default_rng(0)
    dense = nn.Sequential([nn.Dense(4, 5, rng=0), nn.ReLU(), nn.Dense(5, 3, rng=1)])
    conv = nn.Sequential([nn.Conv2D(1, 2, 3, rng=0), nn.ReLU(), nn.Flatten(), nn.Dense(2 * 4 * 4, 3, rng=1)])
    for model, x in ((dense, rng.standard_normal((6, 4))), (conv, rng.standard_normal((2, 1, 6, 6)))):
        g = rng.standard_normal((len(x), 3))
        model.forward(x, training=True)
        assert model.backward(g).shape == x.shape
        full = {k: v.copy() for k, v in model.grads.items()}
        model.forward(x, training=True)
        assert model.backward(g, input_grad=False) is None
        for k, v in model.grads.items():
            np.testing.assert_allclose(v, full[k], err_msg=k)


def test_blas_threads_reads_and_sets_the_openblas_thread_count():
    from mlcourse.blas import blas_threads

    before = blas_threads()
    if before is None:
        pytest.skip("NumPy is not linked against OpenBLAS here")
    try:
        assert blas_threads(1) == before
        assert blas_threads() == 1
    finally:
        blas_threads(before)
