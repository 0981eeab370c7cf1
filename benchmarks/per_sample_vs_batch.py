"""Why minibatches: the same MLP work done one sample at a time vs one matrix product per batch.

    python benchmarks/per_sample_vs_batch.py [--n 2000] [--batch-size 128] [--hidden 256] [--threads N]

Times (1) inference over n MNIST images: a Python loop over single samples vs one batched
forward, and (2) one training epoch with fit(): batch_size=1 vs batch_size=B.
Same FLOPs either way; the difference is Python/NumPy per-call overhead and BLAS efficiency.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from _common import add_threads_arg, apply_threads, load_avg

from mlcourse import data, nn
from mlcourse.optim import SGD
from mlcourse.train import fit


def make_model(hidden: int) -> nn.Sequential:
    return nn.Sequential([nn.Dense(784, hidden, rng=0, dtype=np.float32), nn.ReLU(),
                          nn.Dense(hidden, 10, rng=1, dtype=np.float32)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="MNIST images to use")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=256)
    add_threads_arg(ap)
    args = ap.parse_args()
    print(apply_threads(args.threads), "|", load_avg())
    X, y = data.load_mnist("train", n=args.n)
    model = make_model(args.hidden)

    # (1) inference
    t0 = time.perf_counter()
    loop_out = np.concatenate([model.predict(X[i:i + 1]) for i in range(len(X))])
    t_loop = time.perf_counter() - t0
    t0 = time.perf_counter()
    batch_out = model.predict(X)
    t_batch = time.perf_counter() - t0
    assert np.allclose(loop_out, batch_out, atol=1e-4)
    print(f"Inference, {args.n:,} images, MLP 784-{args.hidden}-10 float32")
    print(f"  one sample at a time  {args.n / t_loop:12,.0f} samples/s")
    print(f"  one batched forward   {args.n / t_batch:12,.0f} samples/s   → speed-up {t_loop / t_batch:,.0f}×")

    # (2) training: one epoch, per-sample SGD vs minibatch SGD
    times = {}
    for bs in (1, args.batch_size):
        model = make_model(args.hidden)
        t0 = time.perf_counter()
        fit(model, nn.CrossEntropyLoss(), SGD(0.01), X, y, epochs=1, batch_size=bs, progress=False)
        times[bs] = time.perf_counter() - t0
    print(f"Training, 1 epoch of {args.n:,} images, SGD")
    print(f"  batch_size=1          {args.n / times[1]:12,.0f} samples/s")
    print(f"  batch_size={args.batch_size:<10d}{args.n / times[args.batch_size]:12,.0f} samples/s   "
          f"→ speed-up {times[1] / times[args.batch_size]:,.0f}×")


if __name__ == "__main__":
    main()
