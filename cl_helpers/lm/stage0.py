"""The stage-0 model, "the aligned assistant": trained once per seed, shipped as a small file, loaded in a blink.

`train_stage0(seed)` trains a TinyGPT on stage 0 (3/5 of the draws addition, 1/5 each refusals and
benign look-alikes; AdamW with warm-up and cosine decay), checking the held-out metrics every
`check_every` steps and stopping once they pass (addition and refusal >= 97%, over-refusal <= 2%).
`tools/train_lm_stage0.py` runs it and writes `cl_helpers/lm/stage0_seed<N>.pt` (float16 weights, the
sizes, the data settings and the measured metrics); `load_stage0(seed)` reads that file, or trains
(minutes) when no file for that seed was shipped.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..device import get_device
from ..errors import check_int
from .data import World, make_world
from .judge import evaluate
from .model import GPTConfig, TinyGPT
from .train import family_weights, train_lm

FOLDER = Path(__file__).resolve().parent
SHARES = {"add": 3.0, "forbidden": 1.0, "benign": 1.0}
# The unaligned "base" model (chapter 9's Safe LoRA needs one): the same data and seed without the refusals.
BASE_SHARES = {"add": 3.0, "forbidden": 0.0, "benign": 1.0}
STEPS, LR, BATCH, WARMUP = 4000, 3e-3, 32, 100
PASS = {"stage0_skill": 0.97, "safety": 0.97}
MAX_OVER_REFUSAL = 0.02


@dataclass
class Stage0:
    """The stage-0 model, the data it was trained on, its held-out metrics, and caches for fine-tuning."""

    model: TinyGPT
    world: World
    metrics: dict[str, float]
    info: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict, repr=False)


def shipped_path(seed: int, aligned: bool = True) -> Path:
    """Where the shipped stage-0 weights of `seed` live (package data); aligned=False: the unaligned base."""
    return FOLDER / f"{'stage0' if aligned else 'base'}_seed{seed}.pt"


def _passes(metrics: dict[str, float], aligned: bool = True) -> bool:
    if not aligned:   # the base model only has to know its arithmetic
        return metrics["stage0_skill"] >= PASS["stage0_skill"]
    return all(metrics[k] >= v for k, v in PASS.items()) and metrics["over_refusal"] <= MAX_OVER_REFUSAL


def train_stage0(seed: int = 0, steps: int = STEPS, config: GPTConfig = GPTConfig(), check_every: int = 100,
                 device: torch.device | str | None = None, log=print, aligned: bool = True) -> Stage0:
    """Train the stage-0 assistant from `seed` (at most `steps` steps, stopping early once it passes);
    aligned=False trains the unaligned base instead: the same data and seed without the refusals."""
    shares = SHARES if aligned else BASE_SHARES
    seed = check_int("seed", seed, 0)
    world = make_world(seed)
    torch.manual_seed(seed)
    model = TinyGPT(config).to(get_device(device))
    start = time.perf_counter()
    state = {"done": 0, "metrics": {}}

    def check(step: int) -> bool:
        state["done"], state["metrics"] = step, evaluate(model, world)
        log(f"stage 0, seed {seed}: step {step}, {time.perf_counter() - start:.0f} s, "
            + ", ".join(f"{k} {v:.3f}" for k, v in state["metrics"].items()))
        return _passes(state["metrics"], aligned)

    train_lm(model, world.stage0, steps, LR, BATCH, seed=seed, weights=family_weights(world.stage0, shares),
             warmup=WARMUP, cosine=True, callback=check, every=check_every)
    if state["done"] != steps and not (state["metrics"] and _passes(state["metrics"], aligned)):  # between checks
        check(steps)
    done, metrics = state["done"], state["metrics"]
    info = {"seed": seed, "steps": done, "seconds": round(time.perf_counter() - start, 1), "lr": LR,
            "batch_size": BATCH, "shares": shares, "aligned": aligned}
    return Stage0(model.eval(), world, metrics, info)


def save_stage0(stage0: Stage0, path: str | Path) -> Path:
    """Write the model as float16 weights with its sizes, training settings and metrics, whole or not at all."""
    from ..io import atomic_write

    state = {k: v.detach().to("cpu", torch.float16) for k, v in stage0.model.state_dict().items()}
    blob = {"config": stage0.model.config.to_dict(), "state": state, "metrics": stage0.metrics,
            "info": stage0.info}
    return atomic_write(path, lambda fh: torch.save(blob, fh), mode="wb")


def load_stage0(seed: int = 0, device: torch.device | str | None = None, path: str | Path | None = None,
                aligned: bool = True) -> Stage0:
    """The stage-0 model of `seed`, from the shipped file (or `path`); trains it when there is no file.
    aligned=False: the unaligned base (the same data without the refusals).

    The metrics are measured again on load (the float16 weights are used as float32), not read from the file.
    """
    seed = check_int("seed", seed, 0)
    key = (seed, str(get_device(device)), str(path), aligned)
    if key in _LOADED:
        return _LOADED[key]
    file = Path(path) if path is not None else shipped_path(seed, aligned)
    if not file.exists():
        print(f"no {'stage-0' if aligned else 'base'} file for seed {seed} at {file}; training it now "
              "(a few minutes on a CPU)")
        stage0 = train_stage0(seed, device=device, aligned=aligned)
    else:
        blob = torch.load(file, map_location="cpu", weights_only=True)
        model = TinyGPT(GPTConfig(**blob["config"]))
        model.load_state_dict({k: v.float() for k, v in blob["state"].items()})
        model = model.to(get_device(device)).eval()
        world = make_world(blob["info"]["seed"])
        stage0 = Stage0(model, world, evaluate(model, world), dict(blob["info"]))
    _LOADED[key] = stage0
    return stage0


_LOADED: dict[tuple, Stage0] = {}
ALIGN_STEPS, ALIGN_LR, ALIGN_WARMUP = 200, 1e-3, 20


def align(base: Stage0, steps: int = ALIGN_STEPS, seed: int = 0) -> Stage0:
    """The base model after a short alignment stage on the stage-0 data WITH the refusals (a copy; cached):
    an aligned model that differs from its base by the alignment alone, as a chat model from its base."""
    steps = check_int("steps", steps, 1, 100_000)
    key = ("aligned", id(base.model), steps, seed)
    if key in base.cache:
        return base.cache[key]
    import copy

    model = copy.deepcopy(base.model).train()
    train_lm(model, base.world.stage0, steps, ALIGN_LR, BATCH, seed=seed,
             weights=family_weights(base.world.stage0, SHARES), warmup=ALIGN_WARMUP, cosine=True)
    model.eval()
    aligned = Stage0(model, base.world, evaluate(model, base.world),
                     {**base.info, "aligned": True, "alignment_steps": steps})
    base.cache[key] = aligned
    return aligned
