"""Stage 1: fine-tune the stage-0 assistant on the new skill, by one of six methods, and measure what it forgets.

Methods (the homework's hints and the course's earlier chapters):

- ``full``: every weight trained on the new data alone;
- ``lora``: `cl_helpers.lora.add_lora` adapters of rank `rank` (alpha = 2 * rank) on every nn.Linear;
- ``replay``: the new data plus a random `replay_fraction` of the stage-0 training set (chapter 5);
- ``self_instruct``: the new data plus as many stage-0 prompts answered by the stage-0 model itself
  (greedy), the homework's hint: no old labels needed, only the old model;
- ``ewc``: full fine-tuning plus lambda/2 * sum F (theta - theta_0)^2 (chapter 3), Fisher from 256
  stage-0 examples;
- ``kl``: full fine-tuning plus `kl_weight` * KL(stage-0 model || model) on the new data (LwF, chapter 5).

Each run evaluates the four metrics (judge.py) every `eval_every` steps, and reports the merged relative
weight change ||dW|| / ||W|| over the nn.Linear weights and the rank that dW needs. Results are cached per
setting on the Stage0 object, so a slider setting seen before answers at once.
"""
from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Callable

import torch
from torch import nn

from ..errors import ConfigError, check_choice, check_float, check_int
from ..lora import add_lora, merge_lora
from .data import LMData
from .generate import generate
from .judge import evaluate
from .penalties import ewc_loss, kl_loss, sequence_fisher
from .stage0 import Stage0
from .train import train_lm

METHODS = ("full", "lora", "replay", "self_instruct", "ewc", "kl")
DEFAULT_LR = {"lora": 5e-3}
BASE_LR = 2e-3
FISHER_EXAMPLES = 256


@dataclass(frozen=True)
class FinetuneConfig:
    """One stage-1 run: method, steps, learning rate (None: the method's default) and its own settings."""

    method: str = "full"
    steps: int = 300
    lr: float | None = None
    batch_size: int = 64
    rank: int = 4
    replay_fraction: float = 0.05
    ewc_lambda: float = 1e4
    kl_weight: float = 1.0
    eval_every: int = 50
    seed: int = 0

    def checked(self) -> "FinetuneConfig":
        """Self if every value is allowed, else ConfigError naming the value."""
        check_choice("method", self.method, METHODS)
        check_int("steps", self.steps, 1, 100_000)
        if self.lr is not None:
            check_float("learning rate", self.lr, 0.0, 1.0, low_open=True)
        check_int("batch size", self.batch_size, 1, 4096)
        check_int("LoRA rank", self.rank, 1, 64)
        check_float("replay fraction", self.replay_fraction, 0.0, 1.0, low_open=True)
        check_float("EWC lambda", self.ewc_lambda, 0.0)
        check_float("KL weight", self.kl_weight, 0.0)
        check_int("eval every", self.eval_every, 1)
        check_int("seed", self.seed, 0)
        return self

    @property
    def learning_rate(self) -> float:
        """The learning rate used: lr if given, else the method's default."""
        return self.lr if self.lr is not None else DEFAULT_LR.get(self.method, BASE_LR)

    def canonical(self) -> "FinetuneConfig":
        """The same run with the learning rate resolved and the settings its method ignores at their defaults.

        Two configs with equal canonical forms train the same model, so they share a cache entry (moving the
        LoRA rank slider while the method is "full" answers at once).
        """
        d = FinetuneConfig()
        return replace(self, lr=self.learning_rate,
                       rank=self.rank if self.method == "lora" else d.rank,
                       replay_fraction=self.replay_fraction if self.method in ("replay", "self_instruct")
                       else d.replay_fraction,
                       ewc_lambda=self.ewc_lambda if self.method == "ewc" else d.ewc_lambda,
                       kl_weight=self.kl_weight if self.method == "kl" else d.kl_weight)

    def label(self) -> str:
        """A short name for plots, e.g. 'lora r4' or 'replay 5%'."""
        extra = {"lora": f" r{self.rank}", "replay": f" {self.replay_fraction:.0%}",
                 "self_instruct": f" {self.replay_fraction:.0%}", "ewc": f" {self.ewc_lambda:.0e}",
                 "kl": f" {self.kl_weight:g}"}.get(self.method, "")
        return self.method + extra


@dataclass
class FinetuneResult:
    """Metrics over the steps (history), the final ones, the weight change, and the tuned model."""

    config: FinetuneConfig
    history: list[tuple[int, dict[str, float]]]
    metrics: dict[str, float]
    relative_change: float
    update_rank: int
    trainable: int
    seconds: float
    model: nn.Module = field(repr=False)

    def to_dict(self) -> dict:
        """Everything but the model, as plain numbers."""
        return {"method": self.config.method, "label": self.config.label(), "config": asdict(self.config),
                "lr": self.config.learning_rate, "metrics": self.metrics,
                "history": [{"step": s, **m} for s, m in self.history],
                "relative_change": self.relative_change, "update_rank": self.update_rank,
                "trainable": self.trainable, "seconds": self.seconds}


def linear_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """The weight of every nn.Linear (LoRA layers merged into theirs) by the plain layer name."""
    out = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            out[name.removesuffix(".base")] = module.weight.detach()
    return out


def weight_change(base: nn.Module, tuned: nn.Module, energy: float = 0.9) -> tuple[float, int]:
    """||W_tuned - W_base|| / ||W_base|| over all nn.Linear weights, and the largest rank dW needs per layer.

    The rank is the number of singular values holding `energy` of a layer's ||dW||^2 (LoRA's update has at
    most its rank; full fine-tuning's may be far higher), maximised over the layers.
    """
    w0, w1 = linear_weights(base), linear_weights(tuned)
    diff = sq = 0.0
    rank = 0
    for name, w in w0.items():
        d = w1[name].float() - w.float()
        diff += float(d.pow(2).sum())
        sq += float(w.float().pow(2).sum())
        s2 = torch.linalg.svdvals(d).pow(2)
        if float(s2.sum()) > 0:
            rank = max(rank, int((s2.cumsum(0) / s2.sum() < energy).sum()) + 1)
    return (diff / sq) ** 0.5, rank


def replay_set(stage0: Stage0, fraction: float, seed: int, self_instruct: bool) -> LMData:
    """A random `fraction` of the stage-0 training set; with self_instruct, its answers come from the model."""
    key = ("replay", fraction, seed, self_instruct)
    if key not in stage0.cache:
        data = stage0.world.stage0
        g = torch.Generator().manual_seed(10_000 + seed)
        chosen = data.take(torch.randperm(len(data), generator=g)[:max(1, round(fraction * len(data)))])
        if self_instruct:  # the old model answers the old prompts; its answers replace the labels
            chosen = LMData(chosen.prompts, generate(stage0.model, chosen.prompts), chosen.families)
        stage0.cache[key] = chosen
    return stage0.cache[key]


def fisher(stage0: Stage0) -> dict[str, torch.Tensor]:
    """The stage-0 model's empirical Fisher on 256 stage-0 examples (computed once, cached)."""
    if "fisher" not in stage0.cache:
        data = stage0.world.stage0
        g = torch.Generator().manual_seed(20_000)
        stage0.cache["fisher"] = sequence_fisher(stage0.model, data.take(
            torch.randperm(len(data), generator=g)[:FISHER_EXAMPLES]))
    return stage0.cache["fisher"]


def finetune(stage0: Stage0, config: FinetuneConfig = FinetuneConfig(),
             report: Callable[[int, int], None] | None = None) -> FinetuneResult:
    """Fine-tune a copy of the stage-0 model on stage 1 by `config.method`; cached per config."""
    config = config.checked().canonical()
    key = ("result", config)
    if key in stage0.cache:
        return stage0.cache[key]
    start = time.perf_counter()
    model = copy.deepcopy(stage0.model)
    data = stage0.world.stage1
    extra = None
    if config.method == "lora":
        add_lora(model, config.rank, alpha=2.0 * config.rank)
    elif config.method in ("replay", "self_instruct"):
        data = data + replay_set(stage0, config.replay_fraction, config.seed, config.method == "self_instruct")
    elif config.method == "ewc":
        extra = ewc_loss(model, fisher(stage0), config.ewc_lambda)
    elif config.method == "kl":
        extra = kl_loss(copy.deepcopy(stage0.model), config.kl_weight)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    history = [(0, dict(stage0.metrics))]

    def checkpoint(step: int) -> None:
        if step % config.eval_every == 0 or step == config.steps:
            history.append((step, evaluate(model, stage0.world)))
        if report is not None:
            report(step, config.steps)

    train_lm(model, data, config.steps, config.learning_rate, config.batch_size, seed=config.seed,
             warmup=min(30, config.steps // 10), extra_loss=extra, callback=checkpoint, every=1)
    if config.method == "lora":
        merge_lora(model)
    change, rank = weight_change(stage0.model, model)
    result = FinetuneResult(config, history, history[-1][1], change, rank, trainable,
                            round(time.perf_counter() - start, 2), model)
    stage0.cache[key] = result
    return result


def run_methods(stage0: Stage0, methods: tuple[str, ...] = METHODS, **settings) -> list[FinetuneResult]:
    """One result per method with the same other settings (each from the cache when seen before)."""
    if not methods:
        raise ConfigError(f"no method given; allowed: {', '.join(METHODS)}")
    return [finetune(stage0, FinetuneConfig(method=m, **settings)) for m in methods]


def format_results(results: list[FinetuneResult], stage0: Stage0 | None = None) -> str:
    """A plain-text table: one row per method with the four metrics, ||dW||/||W|| and seconds."""
    head = f"{'method':<18}{'lr':>8}{'new skill':>11}{'safety':>8}{'over-ref':>10}{'stage-0':>9}{'dW/W':>7}{'sec':>7}"
    rows = [head]
    if stage0 is not None:
        m = stage0.metrics
        rows.append(f"{'(stage 0)':<18}{'':>8}{m['new_skill']:>11.2f}{m['safety']:>8.2f}{m['over_refusal']:>10.2f}"
                    f"{m['stage0_skill']:>9.2f}{'':>7}{'':>7}")
    for r in results:
        m = r.metrics
        rows.append(f"{r.config.label():<18}{r.config.learning_rate:>8.0e}{m['new_skill']:>11.2f}{m['safety']:>8.2f}"
                    f"{m['over_refusal']:>10.2f}{m['stage0_skill']:>9.2f}{r.relative_change:>7.2f}"
                    f"{r.seconds:>7.1f}")
    return "\n".join(rows)
