"""Track R: a real pretrained instruction model (SmolLM2-135M-Instruct) forgets, on a laptop CPU, offline.

The homework's story in stages, each measured by the same four numbers (`measure`): new skill (word problems
solved, answer after '####'), safety (held-out harmful requests refused), over-refusal (harmless look-alikes
refused) and knowledge (capitals named).

1. before: the model as released, which answers harmful requests;
2. aligned: LoRA (r=8, alpha=16, the seven projections; merged) on refusals of harmful requests and on the
   model's own answers to harmless look-alikes, so it refuses while staying helpful; the adapter is cached on
   disk after its first run;
3. fine-tuned on word problems in the homework's format, by full fine-tuning and by LoRA, from the aligned model;
4. safety data (refusals) mixed into the fine-tuning data at a few ratios: safety against over-refusal.

Everything uses Track B's functions (`load_model`, `finetune` with TRL's SFTTrainer, `generate`, the judges),
so CI running Track R on the real weights tests Track B's code path too.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import random
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from ...errors import ConfigError, check_float, check_int, show_value
from .judge import answers_match, is_refusal
from .prompts import prompt, render
from .scoring import HARMFUL_PROMPTS, generate
from .tasks import (CAPITAL_QUESTION, CAPITALS, HARMFUL_TRAIN, HARMLESS_TEST, HARMLESS_TRAIN, REFUSALS,
                    names_capital, refusal_examples, word_problems)
from .train import LORA_ALPHA, LORA_R, finetune

STAGES = ("before", "aligned", "full", "lora")
HELPFUL_TOKENS = 48   # the model's own answer to a harmless look-alike, cut at its last full sentence
SAFETY_TOKENS = 16    # the refusal judge reads a reply's start (see judge.is_refusal)
CAPITAL_TOKENS = 12


@dataclass(frozen=True)
class TrackRConfig:
    """Sizes and settings of Track R (the defaults are the chapter's full mode; `FAST` is its fast mode)."""

    n_train: int = 400          # word problems to fine-tune on
    n_test: int = 16            # word problems in each measurement
    n_capitals: int = 20
    n_harmful: int = 20         # of scoring.HARMFUL_PROMPTS (Track B's 20)
    n_harmless: int = 20        # of tasks.HARMLESS_TEST
    n_align: int = 24           # harmful requests refused, and harmless look-alikes answered, in the alignment data
    align_steps: int = 16
    align_lr: float = 2e-3
    align_batch_size: int = 8
    steps: int = 10             # fine-tuning steps, the same for every method
    batch_size: int = 8         # 80 word problems seen (at batch 4 the format is learnt but not the arithmetic)
    lr: dict = field(default_factory=lambda: {"full": 5e-5, "lora": 1e-3})
    ratios: tuple = (0.0, 0.10)   # share of refusals in the fine-tuning data (full fine-tuning)
    max_new_tokens: int = 48    # a templated solution takes about 30 tokens
    max_length: int = 256
    seed: int = 0

    def checked(self) -> "TrackRConfig":
        """This config, or one ConfigError naming the first bad value."""
        for name, low in (("n_train", 1), ("n_test", 1), ("align_steps", 1), ("align_batch_size", 1), ("steps", 1),
                          ("batch_size", 1),
                          ("max_new_tokens", 1), ("max_length", 32), ("seed", 0)):
            check_int(name, getattr(self, name), low)
        check_int("n_capitals", self.n_capitals, 1, len(CAPITALS))
        check_int("n_align", self.n_align, 1, min(len(HARMFUL_TRAIN), len(HARMLESS_TRAIN)))
        check_int("n_harmful", self.n_harmful, 1, len(HARMFUL_PROMPTS))
        check_int("n_harmless", self.n_harmless, 1, len(HARMLESS_TEST))
        check_float("align_lr", self.align_lr, 0.0, low_open=True)
        if not isinstance(self.lr, dict) or set(self.lr) != {"full", "lora"}:
            raise ConfigError(f"lr {show_value(self.lr)} must be a dict with keys 'full' and 'lora'")
        for method, value in self.lr.items():
            check_float(f"lr[{method!r}]", value, 0.0, low_open=True)
        if not isinstance(self.ratios, (tuple, list)) or not self.ratios:
            raise ConfigError(f"ratios {show_value(self.ratios)} must be a non-empty tuple of shares in [0, 0.5]")
        for r in self.ratios:
            check_float("safety-data ratio", r, 0.0, 0.5)
        return self


# Fast mode (CI): every stage on a handful of examples, one or two steps each; its numbers mean nothing.
FAST = TrackRConfig(n_train=12, n_test=2, n_capitals=2, n_harmful=3, n_harmless=3, n_align=2, align_steps=1,
                    align_batch_size=2, steps=1, batch_size=2, ratios=(0.0, 0.25), max_new_tokens=24)


def _chat(tok: Any, request: str) -> str:
    """A one-turn chat prompt, exactly as `scoring.safety_rate` renders a request."""
    return render(tok, [{"role": "user", "content": request}])


def measure(model: Any, tok: Any, test: Sequence[dict], config: TrackRConfig = TrackRConfig(),
            batch_size: int = 32) -> dict[str, Any]:
    """The four numbers (shares in [0, 1]) and the replies behind them; "seconds" is the time it took.

    new_skill: word problems of `test` whose reply ends in the right number (zero-shot, the homework's prompt);
    safety / over_refusal: the first config.n_harmful of HARMFUL_PROMPTS / n_harmless of HARMLESS_TEST that the
    refusal judge counts as refused (it reads the first SAFETY_TOKENS tokens of each reply);
    knowledge: capitals named among the first config.n_capitals countries.
    """
    config = config.checked()
    if not test:
        raise ConfigError("measure needs at least one test word problem")
    capitals = CAPITALS[:config.n_capitals]
    harmful, harmless = HARMFUL_PROMPTS[:config.n_harmful], HARMLESS_TEST[:config.n_harmless]
    start = time.perf_counter()
    math = generate(model, tok, [prompt(tok, t["question"]) for t in test], config.max_new_tokens, batch_size)
    requests = list(harmful) + list(harmless)
    replies = generate(model, tok, [_chat(tok, r) for r in requests], SAFETY_TOKENS, batch_size)
    caps = generate(model, tok, [_chat(tok, CAPITAL_QUESTION.format(country=c)) for c, _ in capitals],
                    CAPITAL_TOKENS, batch_size)
    refused = [is_refusal(r) for r in replies]
    return {"new_skill": sum(answers_match(r, t["answer"]) for r, t in zip(math, test)) / len(test),
            "safety": sum(refused[:len(harmful)]) / len(harmful),
            "over_refusal": sum(refused[len(harmful):]) / len(harmless),
            "knowledge": sum(names_capital(r, c) for r, (_, c) in zip(caps, capitals)) / len(capitals),
            "replies": {"math": math, "harmful": replies[:len(harmful)], "harmless": replies[len(harmful):],
                        "capitals": caps},
            "seconds": time.perf_counter() - start}


def _last_sentence(text: str) -> str:
    """`text` cut after its last complete sentence (or line), so a reply cut at a token limit ends cleanly."""
    text = text.strip()
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s|$)|\n", text)]
    return text[:ends[-1]].strip() if ends else text


def helpful_examples(model: Any, tok: Any, requests: Sequence[str] = HARMLESS_TRAIN,
                     max_new_tokens: int = HELPFUL_TOKENS) -> list[dict]:
    """{"request", "reply"} with the model's own answer to each harmless request (what alignment must keep)."""
    replies = generate(model, tok, [_chat(tok, r) for r in requests], max_new_tokens, batch_size=len(requests))
    return [{"request": q, "reply": _last_sentence(r)} for q, r in zip(requests, replies)]


def default_cache_dir() -> Path:
    """Where the alignment adapter is kept: $CL_HELPERS_CACHE, else the course's cache folder."""
    from ...data import default_data_dir

    return Path(os.environ.get("CL_HELPERS_CACHE") or default_data_dir()) / "track_r"


def _fingerprint(model: Any) -> str:
    """A short hash of the base weights, so an adapter trained on other weights (the hub's) is never reused."""
    h = hashlib.sha256()
    for name, p in list(model.state_dict().items())[::20]:
        h.update(name.encode())
        h.update(p.detach().float().flatten()[:4096].numpy().tobytes())
    return h.hexdigest()[:16]


def _alignment_key(model: Any, config: TrackRConfig) -> str:
    """The cache key: base weights, alignment settings and the alignment data."""
    spec = {"base": _fingerprint(model), "steps": config.align_steps, "lr": config.align_lr,
            "batch": config.align_batch_size, "seed": config.seed, "rank": LORA_R, "alpha": LORA_ALPHA,
            "data": [HARMFUL_TRAIN[:config.n_align], REFUSALS, HARMLESS_TRAIN[:config.n_align], HELPFUL_TOKENS],
            "version": 1}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def align(model: Any, tok: Any, config: TrackRConfig = TrackRConfig(), cache_dir: str | Path | None = None,
          use_cache: bool = True) -> tuple[Any, dict]:
    """The aligned model (a new object; `model` is not changed) and how it was made.

    Alignment: LoRA on refusals of HARMFUL_TRAIN and the model's own answers to HARMLESS_TRAIN, merged into
    the weights. The adapter (a few MB) is saved under `cache_dir` and reused when the base weights and the
    settings are the same. info: {"cached": bool, "seconds": training seconds, "path": the adapter file}.
    """
    from peft import get_peft_model_state_dict, set_peft_model_state_dict

    from ...io import atomic_write
    from .train import add_lora

    config = config.checked()
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / f"aligned-{_alignment_key(model, config)}.pt"
    cached = use_cache and path.is_file()
    if cached:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        adapter, seconds = saved["adapter"], float(saved["seconds"])
    else:
        data = (refusal_examples(config.n_align, seed=config.seed)
                + helpful_examples(model, tok, HARMLESS_TRAIN[:config.n_align]))
        trained, seconds = finetune(copy.deepcopy(model), tok, data, method="lora", steps=config.align_steps,
                                    lr=config.align_lr, batch_size=config.align_batch_size, rank=LORA_R,
                                    lora_alpha=LORA_ALPHA, max_length=config.max_length, seed=config.seed,
                                    merge=False)
        adapter = {k: v.detach().cpu().clone() for k, v in get_peft_model_state_dict(trained).items()}
        del trained  # the Trainer's model: the aligned model is rebuilt below exactly as from the cache
        if use_cache:
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda fh: torch.save({"adapter": adapter, "seconds": seconds}, fh), mode="wb")
    # One way to the aligned model, trained now or read back: a fresh copy of the base, the adapter, merged.
    peft_model = add_lora(copy.deepcopy(model), LORA_R, LORA_ALPHA)
    set_peft_model_state_dict(peft_model, adapter)
    merged = peft_model.merge_and_unload()
    for p in merged.parameters():
        p.requires_grad_(False)
    merged.eval()
    return merged, {"cached": cached, "seconds": seconds, "path": str(path)}


def with_safety_data(train: Sequence[dict], ratio: float, seed: int = 0) -> list[dict]:
    """`train` with refusals of HARMFUL_TRAIN added so that they make up `ratio` of the result, shuffled."""
    ratio = check_float("safety-data ratio", ratio, 0.0, 0.5)
    n = round(ratio * len(train) / (1 - ratio))
    rng = random.Random(check_int("seed", seed, 0))
    pool = refusal_examples(seed=seed)
    mixed = list(train) + [{"request": p["request"], "reply": rng.choice(REFUSALS)}
                           for p in (pool[i % len(pool)] for i in rng.sample(range(max(n, len(pool))), n))]
    rng.shuffle(mixed)
    return mixed


def tune(model: Any, tok: Any, train: Sequence[dict], method: str, config: TrackRConfig) -> tuple[Any, float]:
    """A fine-tuned copy of `model` (full or LoRA, merged) and its training seconds; `model` is not changed."""
    return finetune(copy.deepcopy(model), tok, train, method=method, steps=config.steps, lr=config.lr[method],
                    batch_size=config.batch_size, rank=LORA_R, lora_alpha=LORA_ALPHA, max_length=config.max_length,
                    seed=config.seed)


def run_track_r(config: TrackRConfig = TrackRConfig(), model: Any = None, tok: Any = None,
                cache_dir: str | Path | None = None, progress: Callable[[str], None] | None = None,
                ) -> dict[str, Any]:
    """Every stage of Track R, measured: {"config", "load_seconds", "alignment", "stages", "sweep"}.

    stages: before / aligned / full / lora -> measure() + "train_seconds"; sweep: {ratio: measure()} of full
    fine-tuning with that share of refusals in its data (ratio 0 is stages["full"]). Pass `model, tok` to
    reuse a loaded SmolLM2 (they are not changed); otherwise it is loaded here (offline from the wheel).
    """
    from .load import load_model

    config = config.checked()
    say = progress or (lambda text: None)
    start = time.perf_counter()
    if model is None or tok is None:
        model, tok = load_model("smollm2", device="cpu")
    load_seconds = time.perf_counter() - start
    train, test = word_problems(config.n_train, config.n_test, seed=config.seed)
    m = lambda net: measure(net, tok, test, config)
    stages: dict[str, dict] = {}
    say("measuring the model as released")
    stages["before"] = {**m(model), "train_seconds": 0.0}
    say("alignment stage (LoRA on refusals and helpful answers)")
    aligned, info = align(model, tok, config, cache_dir)
    stages["aligned"] = {**m(aligned), "train_seconds": info["seconds"]}
    sweep = {}
    for method in ("full", "lora"):
        say(f"fine-tuning on word problems ({method})")
        tuned, seconds = tune(aligned, tok, train, method, config)
        stages[method] = {**m(tuned), "train_seconds": seconds}
        del tuned
    for ratio in config.ratios:
        if ratio == 0:
            sweep[0.0] = stages["full"]
            continue
        say(f"full fine-tuning with {ratio:.0%} safety data")
        tuned, seconds = tune(aligned, tok, with_safety_data(train, ratio, config.seed), "full", config)
        sweep[float(ratio)] = {**m(tuned), "train_seconds": seconds}
        del tuned
    return {"config": {k: v for k, v in asdict(config).items()}, "load_seconds": load_seconds,
            "alignment": info, "stages": stages, "sweep": sweep, "seconds": time.perf_counter() - start}


def summary_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per stage and sweep point: the four numbers and the training seconds (for a table)."""
    table = rows(result["stages"])
    table += rows({f"full + {r:.0%} safety data": s for r, s in result["sweep"].items() if r > 0})
    return table


def rows(measured: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Table rows of measured stages ({stage: measure() result}): the four numbers and training seconds."""
    keys = ("new_skill", "safety", "over_refusal", "knowledge")
    return [{"stage": name, **{k: m[k] for k in keys}, "train_seconds": float(m.get("train_seconds", 0.0))}
            for name, m in measured.items()]


def show_stage(measured: dict[str, dict[str, Any]], *names: str, width: int = 70) -> None:
    """Print the table rows of stages `names` and, for each, the start of a few replies behind its numbers."""
    print(format_rows(rows({n: measured[n] for n in names})))
    for name in names:
        replies = measured[name]["replies"]
        print(f"\n{name}: replies (first {width} characters)")
        for kind, i in (("harmful", 0), ("harmful", 1), ("harmless", 0), ("math", 0), ("capitals", 0)):
            text = " ".join(replies[kind][i].split()) if i < len(replies[kind]) else ""
            print(f"  {kind:<9}{text[:width]!r}")


def format_rows(rows: Sequence[dict[str, Any]]) -> str:
    """A plain-text table of `summary_rows` (or of rows with the same keys)."""
    w = max([8] + [len(str(r["stage"])) + 2 for r in rows])
    lines = [f"{'stage':<{w}}{'new skill':>10}{'safety':>8}{'over-refusal':>14}{'knowledge':>11}{'train s':>9}"]
    for r in rows:
        lines.append(f"{str(r['stage']):<{w}}{r['new_skill']:>10.2f}{r['safety']:>8.2f}{r['over_refusal']:>14.2f}"
                     f"{r['knowledge']:>11.2f}{r['train_seconds']:>9.1f}")
    return "\n".join(lines)


__all__ = ["FAST", "STAGES", "TrackRConfig", "align", "default_cache_dir", "format_rows",
           "helpful_examples", "measure", "rows", "run_track_r", "show_stage", "summary_rows", "tune",
           "with_safety_data"]
