"""Chapter 8 (Track A) on several seeds at the chapter's defaults, its training throughput, and slider latency.

Usage: .venv/bin/python benchmarks/lm_bench.py [--seeds 0 1 2] [--threads 1] [--json out.json]

1. For each seed: the shipped stage-0 model's metrics, then every fine-tuning method at the chapter's
   defaults (FinetuneConfig()), and the issue's "done when" checks on each seed.
2. Throughput of stage-1 full fine-tuning in tokens/s (real, non-padding tokens through the model) and as a
   fraction of the machine's matmul peak. FLOPs per token, counted from the layer sizes: 6 * sum(in * out)
   over the nn.Linear layers (forward 2, backward 4 per weight) plus the attention products 6 * 2 * T * width
   per layer at the batch's mean length T; embeddings, norms, softmax and AdamW are not counted. The peak
   is a 1024 x 1024 float32 matrix product on the same threads.
3. Slider latency: one `finetune` call at the chapter's fast settings (CL_FAST=1), then the same call again
   (cached).
Track B is not measured here: no GPU was available to this benchmark (say so where its numbers would go).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cl_helpers.lm.finetune import METHODS, FinetuneConfig, finetune, format_results  # noqa: E402
from cl_helpers.lm.stage0 import load_stage0  # noqa: E402
from cl_helpers.lm.tokenizer import PAD, encode_pairs  # noqa: E402

FAST = dict(steps=100, eval_every=50)  # the chapter's slider setting in fast mode


def done_when(stage0, results) -> dict[str, bool]:
    """The issue's acceptance checks for one seed."""
    m0 = stage0.metrics
    r = {x.config.method: x.metrics for x in results}
    return {"stage0 >= .95 skill, >= .95 refusal, <= .05 over-refusal":
            m0["stage0_skill"] >= .95 and m0["safety"] >= .95 and m0["over_refusal"] <= .05,
            "full: new skill >= .90 and safety -30 points":
            r["full"]["new_skill"] >= .90 and m0["safety"] - r["full"]["safety"] >= .30,
            "replay 5%: safety >= .90, new skill >= .85": r["replay"]["safety"] >= .90 and r["replay"]["new_skill"] >= .85,
            "self-replay 5%: safety >= .90, new skill >= .85":
            r["self_replay"]["safety"] >= .90 and r["self_replay"]["new_skill"] >= .85}


def matmul_peak(n: int = 1024, repeats: int = 10) -> float:
    """FLOP/s of an n x n float32 matrix product (best of `repeats`)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best


def throughput(stage0, steps: int = 50) -> dict[str, float]:
    """Tokens/s and FLOP/s of full fine-tuning on stage 1, against the matmul peak."""
    from cl_helpers.lm.train import train_lm
    import copy

    model = copy.deepcopy(stage0.model)
    data = stage0.world.stage1
    ids, _ = encode_pairs(data.prompts, data.answers, model.config.context)
    mean_len = float((ids != PAD).sum(1).float().mean()) - 1  # inputs are the sequence minus its last token
    cfg = model.config
    linear = sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear))
    per_token = 6 * linear + 6 * 2 * mean_len * cfg.width * cfg.layers
    batch = FinetuneConfig().batch_size
    train_lm(model, data, 5, 1e-3, batch)  # warm-up
    t = time.perf_counter()
    train_lm(model, data, steps, 1e-3, batch)
    seconds = time.perf_counter() - t
    tokens = steps * batch * mean_len
    peak = matmul_peak()
    return {"tokens_per_s": tokens / seconds, "gflops": tokens * per_token / seconds / 1e9,
            "peak_gflops": peak / 1e9, "fraction_of_peak": tokens * per_token / seconds / peak,
            "ms_per_step": 1000 * seconds / steps, "flops_per_token": per_token}


def main(argv=None) -> int:
    """Run the sections and print (and optionally write) the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = {"threads": args.threads, "seeds": {}}
    for seed in args.seeds:
        stage0 = load_stage0(seed)
        results = [finetune(stage0, FinetuneConfig(method=m, seed=seed)) for m in METHODS]
        print(f"\nseed {seed}")
        print(format_results(results, stage0))
        checks = done_when(stage0, results)
        for k, v in checks.items():
            print(f"  {'PASS' if v else 'FAIL'}  {k}")
        out["seeds"][seed] = {"stage0": stage0.metrics, "results": [r.to_dict() for r in results], "checks": checks}
    if len(args.seeds) > 1:
        print("\nmean over seeds (min..max)")
        for m in METHODS:
            rows = [next(r for r in out["seeds"][s]["results"] if r["method"] == m) for s in args.seeds]
            cells = []
            for k in ("new_skill", "safety", "over_refusal", "stage0_skill"):
                v = [r["metrics"][k] for r in rows]
                cells.append(f"{k} {statistics.mean(v):.2f} ({min(v):.2f}..{max(v):.2f})")
            dw = statistics.mean(r["relative_change"] for r in rows)
            print(f"  {m:<14}" + ", ".join(cells) + f", dW/W {dw:.2f}")
    stage0 = load_stage0(args.seeds[0])
    out["throughput"] = tp = throughput(stage0)
    print(f"\nthroughput ({args.threads} thread): {tp['tokens_per_s']:.0f} tokens/s, {tp['ms_per_step']:.0f} ms/step, "
          f"{tp['gflops']:.2f} GFLOP/s = {tp['fraction_of_peak']:.0%} of the matmul peak ({tp['peak_gflops']:.1f})")
    t = time.perf_counter()
    finetune(stage0, FinetuneConfig(method="lora", **FAST))
    first = time.perf_counter() - t
    t = time.perf_counter()
    finetune(stage0, FinetuneConfig(method="lora", **FAST))
    again = time.perf_counter() - t
    out["slider"] = {"first_s": first, "cached_s": again, "settings": FAST}
    print(f"slider (lora, {FAST}): {first:.1f} s, seen before: {again * 1000:.2f} ms")
    print("Track B: not measured (no GPU was available to this benchmark).")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
