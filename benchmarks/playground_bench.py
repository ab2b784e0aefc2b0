"""The chapter 3 playground slider: time from a new lambda to its PNG (paths, drawing, encoding), target < 0.5 s.

Run: python benchmarks/playground_bench.py [--repeats N]. Reports wall time and this process's CPU time for each
lambda (the CPU time is what the update costs; on a busy shared machine the wall time also counts waiting).
One torch thread, as the course sets.
"""
from __future__ import annotations

import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from cl_helpers.plots.playground import penalty_view  # noqa: E402
from cl_helpers.playground import make_playground, penalty_paths  # noqa: E402
from cl_helpers.teaching.widgets import _png  # noqa: E402  -- the encoding the Explorer itself does

LAMBDAS = (0.01, 0.1, 1.0, 3.0, 10.0, 100.0, 1000.0)


def one_update(pg, lam: float) -> bytes:
    """What one slider move computes: the three paths, the figure and text, the PNG."""
    fig, _ = penalty_view(pg, lam, penalty_paths(pg, lam))
    try:
        return _png(fig)
    finally:
        plt.close(fig)


def main() -> None:
    """Print one row per lambda: best wall and CPU seconds over the repeats."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    pg = make_playground()
    one_update(pg, 1.0)   # the first draw also computes and keeps the contour grids
    print(f"set-up (tasks, optima, Fisher, contour grids, first draw): {time.perf_counter() - start:.2f} s")
    worst = 0.0
    for lam in LAMBDAS:
        walls, cpus = [], []
        for _ in range(args.repeats):
            w0, c0 = time.perf_counter(), time.process_time()
            one_update(pg, lam)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        worst = max(worst, min(cpus))
        print(f"lambda {lam:>7g}: wall {min(walls):.3f} s, CPU {min(cpus):.3f} s (best of {args.repeats})")
    print(f"slowest update (CPU): {worst:.3f} s; target < 0.5 s: {'met' if worst < 0.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
