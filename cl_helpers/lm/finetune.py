"""Stage 1: fine-tune the stage-0 assistant on the new skill, by one of seven methods, and measure what it forgets.

The methods are registered classes, one file each in `cl_helpers.lm.methods`, declaring their settings with
the MNIST strategies' `Param` (see methods/base.py for the hooks):

- ``full``: every weight trained on the new data alone;
- ``lora``: `cl_helpers.lora.add_lora` adapters of rank `rank` (alpha = 2 * rank unless `alpha` is given) on every
  nn.Linear of the transformer blocks, not on the output head (as peft's ``target_modules="all-linear"`` leaves
  ``lm_head`` out);
- ``replay``: the new data plus a random `fraction` of the stage-0 training set (chapter 5);
- ``self_replay``: the same stage-0 prompts, answered by the stage-0 model itself (greedy) instead of their
  labels: no old labels needed, only the old model. (It was called ``self_instruct``; the homework's
  "self-instruct" file is something else: the NEW task's questions answered by the old model, i.e.
  self-distillation, which `self_distill_set` builds for this toy.);
- ``safety_data``: the new data plus refusal examples only (stage-0 forbidden requests with the refusal), as
  many as `fraction` of the stage-0 training set (Bianchi et al. 2024 add safety examples so, without
  the benign look-alikes that `replay` brings along);
- ``ewc``: full fine-tuning plus lam/2 * sum F (theta - theta_0)^2 (chapter 3), Fisher from 256
  stage-0 examples;
- ``kl``: full fine-tuning plus `alpha` * KL(stage-0 model || model) on the new data (LwF, chapter 5).

`FinetuneConfig` holds the settings every method shares (steps, learning rate, batch size, ...) and the chosen
method's own ones (`hparams`); the earlier keywords ``replay_fraction``, ``ewc_lambda`` and ``kl_weight`` still
work. Each run evaluates the four metrics (judge.py), plus the safety rate by the lenient judge ("starts with
'sorry'", key ``lenient_safety``), every `eval_every` steps, and reports the merged relative
weight change ||dW|| / ||W|| over the nn.Linear weights and the rank that dW needs. Results are cached per
setting on the Stage0 object, so a slider setting seen before answers at once.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Iterable, Mapping

import torch
from torch import nn

from ..errors import ConfigError, check_float, check_int
from .data import LMData
from .generate import greedy_matches
from .judge import evaluate, lenient_safety
from .methods import BASE_LR, METHODS, REGISTRY, RENAMED, available_methods, check_method, get_method
from .methods.ewc import FISHER_EXAMPLES, fisher
from .methods.lora import LORA_TARGETS
from .methods.replay import replay_set, safety_set
from .stage0 import Stage0
from .train import train_lm

# BASE_LR, METHODS, RENAMED, LORA_TARGETS, FISHER_EXAMPLES, fisher, replay_set and safety_set live with the methods
# now; they are imported above so that code importing them from here keeps working.
__all__ = ["BASE_LR", "FISHER_EXAMPLES", "FinetuneConfig", "FinetuneResult", "LORA_TARGETS", "METHODS", "RENAMED",
           "finetune", "fisher", "format_results", "freeze_bottom", "linear_weights", "replay_set", "run_methods",
           "safety_set", "self_distill_set", "weight_change"]


def _method_keys() -> set[str]:
    """Every keyword some method takes: its params' keys and their old names."""
    return {key for cls in REGISTRY.values() for key in (*cls.params, *cls.aliases)}


@dataclass(frozen=True, init=False, repr=False)
class FinetuneConfig:
    """One stage-1 run: method, steps, learning rate (None: the method's default), shared settings, and in
    `hparams` the method's own settings as (key, value) pairs, e.g. (("rank", 4), ("alpha", None)) for LoRA.

    A method's settings are passed as keywords: FinetuneConfig(method="lora", rank=8) or hparams={"rank": 8};
    a setting of another method is ignored (so a slider of every method's settings can pass them all), and the
    old names replay_fraction, ewc_lambda and kl_weight are read as the method's fraction, lam and alpha.
    Read them back as attributes (config.rank) or as dict(config.hparams).
    """

    method: str = "full"
    steps: int = 300
    lr: float | None = None
    batch_size: int = 64
    eval_every: int = 50
    seed: int = 0
    freeze: int = 0   # bottom blocks frozen with the embedding (Zheng et al. 2025's remedy); 0: nothing frozen
    hparams: tuple[tuple[str, Any], ...] = ()

    def __init__(self, method: str = "full", steps: int = 300, lr: float | None = None, batch_size: int = 64,
                 eval_every: int = 50, seed: int = 0, freeze: int = 0,
                 hparams: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), **options: Any):
        given = {**dict(hparams), **options}
        cls = REGISTRY.get(method) if isinstance(method, str) else None
        if cls is not None:   # keep the method's own settings, every one (defaults filled in), in its order
            own = {}
            for key, value in given.items():
                name = cls.aliases.get(key, key)
                if name in cls.params:
                    own[name] = value
                elif key not in _method_keys():
                    raise ConfigError(f"unknown option {key!r}; allowed: {', '.join(f.name for f in fields(self))}, "
                                      f"or a method's: {', '.join(sorted(_method_keys()))}")
            pairs = tuple((key, own.get(key, spec.default)) for key, spec in cls.params.items())
        else:                 # an unknown method: `checked` names it
            pairs = tuple(sorted(given.items()))
        for name, value in (("method", method), ("steps", steps), ("lr", lr), ("batch_size", batch_size),
                            ("eval_every", eval_every), ("seed", seed), ("freeze", freeze), ("hparams", pairs)):
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        """A setting of the config's method by its name or old name: config.rank, config.ewc_lambda."""
        if name.startswith("_"):
            raise AttributeError(name)
        own = dict(self.__dict__.get("hparams", ()))
        cls = REGISTRY.get(self.__dict__.get("method"))
        key = cls.aliases.get(name, name) if cls is not None else name
        if key in own:
            return own[key]
        raise AttributeError(f"FinetuneConfig of method {self.__dict__.get('method')!r} has no setting {name!r}; "
                             f"its method's settings: {', '.join(own) or 'none'}")

    def __repr__(self) -> str:
        shared = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "hparams")
        return f"FinetuneConfig({shared}{''.join(f', {k}={v!r}' for k, v in self.hparams)})"

    def checked(self) -> "FinetuneConfig":
        """The same config with the method's settings checked and converted, else ConfigError naming the value."""
        cls = REGISTRY[check_method(self.method)]
        check_int("steps", self.steps, 1, 100_000)
        if self.lr is not None:
            check_float("learning rate", self.lr, 0.0, 1.0, low_open=True)
        check_int("batch size", self.batch_size, 1, 4096)
        check_int("eval every", self.eval_every, 1)
        check_int("seed", self.seed, 0)
        check_int("frozen blocks", self.freeze, 0, 64)
        return replace(self, hparams=cls(**dict(self.hparams)).hparams)

    @property
    def learning_rate(self) -> float:
        """The learning rate used: lr if given, else the method's default."""
        return self.lr if self.lr is not None else getattr(REGISTRY.get(self.method), "default_lr", BASE_LR)

    def canonical(self) -> "FinetuneConfig":
        """The same run with the learning rate resolved (settings of other methods are never kept).

        Two configs with equal canonical forms train the same model, so they share a cache entry (moving the
        LoRA rank slider while the method is "full" answers at once).
        """
        return replace(self, lr=self.learning_rate)

    def label(self) -> str:
        """A short name for plots, e.g. 'lora r4' or 'replay 5%'."""
        cls = REGISTRY.get(self.method)
        extra = cls(**dict(self.hparams)).tag() if cls is not None else ""
        return self.method + extra + (f" freeze {self.freeze}" if self.freeze else "")


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
        config = {f.name: getattr(self.config, f.name) for f in fields(self.config) if f.name != "hparams"}
        return {"method": self.config.method, "label": self.config.label(),
                "config": {**config, "hparams": dict(self.config.hparams)},
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


def self_distill_set(stage0: Stage0) -> LMData:
    """The new task's training prompts answered by the stage-0 model (greedy), kept where the answer is right.

    Self-distillation, the idea behind the homework's "self-instruct" file (the GSM8K training questions with
    answers written by the model that is about to be fine-tuned): new-task data in the model's own words.
    """
    if "self_distill" not in stage0.cache:  # "its greedy answer is the right one", by one teacher-forced pass
        data = stage0.world.stage1
        right = greedy_matches(stage0.model, data.prompts, data.answers)
        stage0.cache["self_distill"] = data.take(right.nonzero()[:, 0])
    return stage0.cache["self_distill"]


def freeze_bottom(model: nn.Module, blocks: int) -> None:
    """Freeze the token embedding and the first `blocks` transformer blocks (their LoRA adapters too)."""
    if blocks > len(model.blocks):
        raise ConfigError(f"frozen blocks must be at most {len(model.blocks)} (the model's blocks), got {blocks}")
    for module in (model.embed, *model.blocks[:blocks]):
        for p in module.parameters():
            p.requires_grad_(False)


def finetune(stage0: Stage0, config: FinetuneConfig = FinetuneConfig(),
             report: Callable[[int, int], None] | None = None) -> FinetuneResult:
    """Fine-tune a copy of the stage-0 model on stage 1 by `config.method` (its hooks: methods/base.py); cached.

    The cache key is the checked config with its learning rate resolved.
    """
    config = config.checked().canonical()
    key = ("result", config)
    if key in stage0.cache:
        return stage0.cache[key]
    start = time.perf_counter()
    method = get_method(config.method, **dict(config.hparams))
    model = method.setup(copy.deepcopy(stage0.model), stage0, config)
    data = method.training_data(stage0.world.stage1)
    extra = method.extra_loss(model)
    if config.freeze:
        freeze_bottom(model, config.freeze)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if "lenient_safety" not in stage0.cache:
        stage0.cache["lenient_safety"] = lenient_safety(stage0.model, stage0.world)
    history = [(0, {**stage0.metrics, "lenient_safety": stage0.cache["lenient_safety"]})]

    def checkpoint(step: int) -> None:
        if step % config.eval_every == 0 or step == config.steps:
            history.append((step, {**evaluate(model, stage0.world), "lenient_safety": lenient_safety(model, stage0.world)}))
        if report is not None:
            report(step, config.steps)

    train_lm(model, data, config.steps, config.learning_rate, config.batch_size, seed=config.seed,
             warmup=min(30, config.steps // 10), extra_loss=extra, callback=checkpoint, every=1)
    method.after_training(model)
    change, rank = weight_change(stage0.model, model)
    result = FinetuneResult(config, history, history[-1][1], change, rank, trainable,
                            round(time.perf_counter() - start, 2), model)
    stage0.cache[key] = result
    return result


def run_methods(stage0: Stage0, methods: tuple[str, ...] | None = None, **settings) -> list[FinetuneResult]:
    """One result per method (default: every method) with the same other settings, each cached once seen.

    A setting goes to every method that takes it (rank=8 to LoRA); give one method its own with a dict under
    its name: run_methods(stage0, ("lora", "kl"), lora={"alpha": 16}, kl={"alpha": 0.5}).
    """
    methods = available_methods() if methods is None else methods
    if not methods:
        raise ConfigError(f"no method given; allowed: {', '.join(available_methods())}")
    per_method = {k: v for k, v in settings.items() if k in REGISTRY and isinstance(v, Mapping)}
    shared = {k: v for k, v in settings.items() if k not in per_method}
    return [finetune(stage0, FinetuneConfig(method=m, **{**shared, **per_method.get(m, {})})) for m in methods]


def format_results(results: list[FinetuneResult], stage0: Stage0 | None = None) -> str:
    """A plain-text table: one row per method with the four metrics, the lenient judge's safety, ||dW||/||W||, seconds."""
    head = (f"{'method':<18}{'lr':>8}{'new skill':>11}{'safety':>8}{'lenient':>9}{'over-ref':>10}{'stage-0':>9}"
            f"{'dW/W':>7}{'sec':>7}")
    rows = [head]
    if stage0 is not None:
        m = stage0.metrics
        lenient = stage0.cache.get("lenient_safety")
        rows.append(f"{'(stage 0)':<18}{'':>8}{m['new_skill']:>11.2f}{m['safety']:>8.2f}"
                    f"{'' if lenient is None else f'{lenient:.2f}':>9}{m['over_refusal']:>10.2f}"
                    f"{m['stage0_skill']:>9.2f}{'':>7}{'':>7}")
    for r in results:
        m = r.metrics
        rows.append(f"{r.config.label():<18}{r.config.learning_rate:>8.0e}{m['new_skill']:>11.2f}{m['safety']:>8.2f}"
                    f"{m['lenient_safety']:>9.2f}{m['over_refusal']:>10.2f}{m['stage0_skill']:>9.2f}"
                    f"{r.relative_change:>7.2f}{r.seconds:>7.1f}")
    return "\n".join(rows)
