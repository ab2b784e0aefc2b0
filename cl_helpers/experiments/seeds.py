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
    """(mean, sd) over the runs of ACC, forgetting, BWT and FWT; sd is 0 for a single run."""
    out = {}
    for k in ("acc", "forgetting", "bwt", "fwt"):
        v = np.array([r.summary()[k] for r in runs])
        out[k] = (float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0)
    return out


def format_seeds(groups: Sequence[Sequence[RunResult]]) -> str:
    """A plain-text table: per method, ACC and average forgetting as mean +- sd, BWT, and seconds per run."""
    n = min(len(g) for g in groups)
    lines = [f"{'method':<16}{'ACC':>16}{'forgetting':>18}{'BWT':>9}{'s/run':>7}   ({n} seed{'s' if n > 1 else ''})"]
    for g in groups:
        st = seed_stats(g)
        (a, sa), (f, sf), (b, _) = st["acc"], st["forgetting"], st["bwt"]
        lines.append(f"{g[0].method:<16}{a:>9.3f} ± {sa:.3f}{f:>11.3f} ± {sf:.3f}{b:>9.3f}"
                     f"{np.mean([r.seconds for r in g]):>7.1f}")
    return "\n".join(lines)
