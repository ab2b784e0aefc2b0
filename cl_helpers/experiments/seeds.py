"""The same methods over several training seeds: mean +- sd per method, remembered so a re-run cell is instant.

A seed changes the initial weights, the order of the mini-batches and any sampling inside a method (the
Fisher's samples, the replay draws); the stream (its images, its permutations) stays the same. One run tells
little when two methods differ by a few points: chapter 6 reports every method as mean +- sd over seeds.
Results are remembered by the stream's definition, the method, its hyperparameters, the training settings
and the seed; only the accuracy matrices and curves are kept (no models), so memory stays small.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from ..metrics import new_task_accuracy
from ..results import RunResult
from ..strategies import get_strategy
from ..tasks import TaskStream
from ..train import TrainConfig, train_stream

_RUNS: dict[tuple, RunResult] = {}


def _key(stream: TaskStream, method: str, hparams: Mapping, config: TrainConfig, seed: int) -> tuple:
    settings = {**dataclasses.asdict(config), "seed": seed, "hidden": tuple(config.hidden)}
    return (repr(sorted(stream.config.items())), stream.source, method, repr(sorted(hparams.items())),
            repr(sorted(settings.items())))


def run_seeds(stream: TaskStream, methods: Iterable[str], config: TrainConfig | None = None,
              hparams: Mapping[str, Mapping] | None = None, seeds: Sequence[int] = (0, 1, 2),
              progress: bool = True) -> list[list[RunResult]]:
    """Per method (in order), one run per seed; a setting already run in this session is not trained again."""
    config = config or TrainConfig()
    hparams = hparams or {}
    seeds = list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ConfigError(f"seeds {seeds!r} are not non-negative integers; allowed: e.g. (0, 1, 2)")
    methods = list(methods)
    for m in methods:
        get_strategy(m, **dict(hparams.get(m, {})))  # every name and value checked before any run
    out = []
    for m in methods:
        runs = []
        for seed in seeds:
            key = _key(stream, m, dict(hparams.get(m, {})), config, seed)
            if key not in _RUNS:
                r = train_stream(stream, get_strategy(m, **dict(hparams.get(m, {}))),
                                 dataclasses.replace(config, seed=seed), progress=progress)
                _RUNS[key] = dataclasses.replace(r, model=None, strategy=None)
            runs.append(_RUNS[key])
        out.append(runs)
    return out


def clear_seed_cache() -> None:
    """Forget the remembered runs."""
    _RUNS.clear()


def seed_stats(runs: Sequence[RunResult]) -> dict[str, tuple[float, float]]:
    """(mean, sd) over the runs of ACC, forgetting, BWT, FWT and new-task accuracy; sd is 0 for a single run.

    "new_task" is `metrics.new_task_accuracy`: the mean of R[j, j] over j >= 1, each later task right after
    it was learned (how much of a new task a method learns).
    """
    out = {}
    for k in ("acc", "forgetting", "bwt", "fwt", "new_task"):
        v = np.array([new_task_accuracy(r.acc_matrix) if k == "new_task" else r.summary()[k] for r in runs])
        out[k] = (float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0)
    return out


def format_seeds(groups: Sequence[Sequence[RunResult]]) -> str:
    """A plain-text table per method: ACC, forgetting and new-task accuracy as mean +- sd, BWT, FWT, s per run."""
    n = min(len(g) for g in groups)
    lines = [f"{'method':<16}{'ACC':>16}{'forgetting':>18}{'new task':>16}{'BWT':>9}{'FWT':>9}{'s/run':>7}"
             f"   ({n} seed{'s' if n > 1 else ''})"]
    for g in groups:
        st = seed_stats(g)
        (a, sa), (f, sf), (nt, snt) = st["acc"], st["forgetting"], st["new_task"]
        lines.append(f"{g[0].method:<16}{a:>9.3f} ± {sa:.3f}{f:>11.3f} ± {sf:.3f}{nt:>9.3f} ± {snt:.3f}"
                     f"{st['bwt'][0]:>9.3f}{st['fwt'][0]:>9.3f}{np.mean([r.seconds for r in g]):>7.1f}")
    return "\n".join(lines)


def final_accuracies(runs: Sequence[RunResult]) -> np.ndarray:
    """Mean over the runs of the last row of the accuracy matrix: accuracy on every task after the last one."""
    return np.mean([np.asarray(r.acc_matrix, dtype=float)[-1] for r in runs], axis=0)


def format_final_accuracies(groups: Sequence[Sequence[RunResult]]) -> str:
    """A plain-text table per method: accuracy on each task after the last one (the last row of R), mean +- sd."""
    T = len(np.asarray(groups[0][0].acc_matrix))
    n = min(len(g) for g in groups)
    lines = [f"{'method':<19}" + "".join(f"{f'task {j}':>15}" for j in range(T))
             + f"   ({n} seed{'s' if n > 1 else ''})"]
    for g in groups:
        rows = np.array([np.asarray(r.acc_matrix, dtype=float)[-1] for r in g])
        sd = rows.std(axis=0, ddof=1) if len(rows) > 1 else np.zeros(T)
        lines.append(f"{g[0].method:<19}" + "".join(f"{m:>7.3f} ± {s:.3f}" for m, s in zip(rows.mean(axis=0), sd)))
    return "\n".join(lines)
