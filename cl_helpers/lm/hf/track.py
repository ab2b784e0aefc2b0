"""Track B end to end: the base model evaluated once, then each fine-tuning method from a fresh copy of it."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import torch

from ...errors import ConfigError, check_choice, check_int
from .scoring import HARMFUL_PROMPTS, evaluate
from .load import DEFAULT_MODEL, load_model
from .train import METHODS, finetune

# Learning rates that suit each method on a 1B model (LoRA needs ~10x full fine-tuning's: Thinking Machines 2025).
DEFAULT_LR = {"lora": 1e-4, "full": 1e-5}


def _loader(model: str | Callable[[], tuple[Any, Any]], load_in_4bit: bool) -> Callable[[], tuple[Any, Any]]:
    """A function returning a fresh (model, tokenizer): `model` itself if callable, else load_model(model)."""
    if callable(model):
        return model
    return lambda: load_model(model, load_in_4bit=load_in_4bit)


def evaluate_base(model: str | Callable[[], tuple[Any, Any]] = DEFAULT_MODEL, test: Sequence[dict] = (),
                  shots: Sequence[dict] = (), load_in_4bit: bool = False, **eval_kwargs: Any) -> dict[str, float]:
    """The untuned model's GSM8K accuracy and safety rate (what each method is compared against)."""
    net, tok = _loader(model, load_in_4bit)()
    scores = evaluate(net, tok, test, shots, **eval_kwargs)
    del net
    return scores


def run_track_b(train: Sequence[dict], test: Sequence[dict], methods: Sequence[str] = ("lora", "full"),
                model: str | Callable[[], tuple[Any, Any]] = DEFAULT_MODEL, n_shots: int = 3, steps: int = 100,
                lr: dict[str, float] | None = None, load_in_4bit: bool = False,
                harmful: Sequence[str] = HARMFUL_PROMPTS, base: dict[str, float] | None = None,
                train_kwargs: dict[str, Any] | None = None, **eval_kwargs: Any) -> dict[str, dict[str, float]]:
    """{"base": scores, method: scores + seconds, seconds_per_step, peak_gpu_bytes} for each of `methods`.

    The first `n_shots` training problems are the fixed worked examples of every prompt, in training and in
    evaluation alike; the rest are the training data. The base model is evaluated once (pass `base` to
    reuse an earlier result); each method starts from a freshly loaded copy.
    """
    methods = [check_choice("method", m, METHODS) for m in methods]
    n_shots = check_int("n_shots", n_shots, 0)
    if len(train) <= n_shots:
        raise ConfigError(f"need more than n_shots={n_shots} training problems, got {len(train)}")
    lr = {**DEFAULT_LR, **(lr or {})}
    shots, data = list(train[:n_shots]), list(train[n_shots:])
    load = _loader(model, load_in_4bit)
    results = {"base": dict(base) if base is not None else
               evaluate_base(load, test, shots, harmful=harmful, **eval_kwargs)}
    for method in methods:
        net, tok = load()
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        net, seconds = finetune(net, tok, data, method=method, steps=steps, lr=lr[method], shots=shots,
                                **(train_kwargs or {}))
        peak = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
        results[method] = {**evaluate(net, tok, test, shots, harmful=harmful, **eval_kwargs), "seconds": seconds,
                           "seconds_per_step": seconds / steps, "peak_gpu_bytes": peak, "lr": lr[method]}
        del net
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return results
