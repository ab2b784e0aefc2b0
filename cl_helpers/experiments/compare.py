"""Running several methods on one stream and tabulating them: what the CLI and chapter 6 call."""
from __future__ import annotations

from typing import Iterable, Mapping

from ..errors import ConfigError
from ..results import RunResult
from ..strategies import get_strategy
from ..strategies.combined import SEPARATOR, combine, split_name
from ..tasks import TaskStream
from ..train import TrainConfig, train_stream


def run_methods(stream: TaskStream, methods: Iterable[str], config: TrainConfig | None = None,
                hparams: Mapping[str, Mapping] | None = None, progress: bool = True) -> list[RunResult]:
    """Train each method from the same seed on the same stream; `hparams[name]` sets its hyperparameters.

    `methods` is a list of names, or one string of comma-separated names ("naive,ewc") as on the CLI; a
    combination "ewc+replay" takes each part's hyperparameters from `hparams[part]`.
    """
    methods = [m.strip() for m in methods.split(",") if m.strip()] if isinstance(methods, str) else list(methods)
    if not methods:
        raise ConfigError("run_methods needs at least one method; allowed: names such as ['naive', 'ewc']")
    config = config or TrainConfig()
    hparams = dict(hparams or {})
    for name, values in hparams.items():  # one dict for several calls may name methods not run here
        if not isinstance(values, Mapping):
            raise ConfigError(f"hparams[{name!r}] must be a dict such as {{'lam': 100}}, got {values!r}")
    strategies = [combine(split_name(m), hparams) if SEPARATOR in m else get_strategy(m, **dict(hparams.get(m, {})))
                  for m in methods]  # all checked before any run
    return [train_stream(stream, s, config, progress=progress) for s in strategies]


def format_table(results: Iterable[RunResult]) -> str:
    """A plain-text table: method, ACC, average forgetting, BWT, FWT, seconds."""
    results = list(results)
    w = max([16] + [len(r.method) + 1 for r in results])  # a long name ("replay+distill") keeps the columns aligned
    lines = [f"{'method':<{w}}{'ACC':>8}{'forgetting':>12}{'BWT':>9}{'FWT':>9}{'seconds':>9}"]
    for r in results:
        s = r.summary()
        lines.append(f"{r.method:<{w}}{s['acc']:>8.4f}{s['forgetting']:>12.4f}{s['bwt']:>9.4f}"
                     f"{s['fwt']:>9.4f}{r.seconds:>9.1f}")
    return "\n".join(lines)
