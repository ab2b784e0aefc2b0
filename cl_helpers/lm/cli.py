"""`python -m cl_helpers llm`: fine-tune the stage-0 toy assistant by several methods and print the two numbers.

Its defaults are chapter 8's. One row per method: new-skill accuracy, safety rate (exact judge and the
lenient "starts with 'sorry'" judge), over-refusal, stage-0 accuracy, ||dW||/||W|| and seconds; `--json` writes the same per method plus the stage-0 model's own
figures, `--plot` the trade-off scatter and curves. Each method's own settings are options --<method>-<key>
made from its Params, as `compare` makes them for the MNIST strategies (--lora-rank, --ewc-lam, --kl-alpha).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError
from .finetune import FinetuneConfig
from .methods import BASE_LR, REGISTRY, available_methods, check_method

_D = FinetuneConfig()
# The options' earlier names, still accepted (not shown in --help): old option -> (method, key).
OLD_OPTIONS = {"--rank": ("lora", "rank"), "--ewc-lambda": ("ewc", "lam"), "--kl-weight": ("kl", "alpha")}


def add_llm_parser(sub) -> None:
    """Add the `llm` subcommand to the main parser's subparsers."""
    from ..cli import add_param_options   # here, not at the top: cl_helpers.cli imports this module

    methods = available_methods()
    p = sub.add_parser("llm", help="chapter 8: fine-tune a tiny language model and watch its refusals go",
                       description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", default="toy", choices=("toy", "smollm2"),
                   help="toy: the stage-0 model of chapter 8 (the options below); smollm2: Track R, the real "
                        "SmolLM2-135M-Instruct on the CPU (aligned, then fine-tuned full and LoRA, then the "
                        "safety-data mix; uses --seed, --json and --fast only)")
    p.add_argument("--fast", action="store_true", help="with --model smollm2: the chapter's fast-mode sizes")
    p.add_argument("--methods", default=",".join(methods), help=f"comma list of: {', '.join(methods)}")
    p.add_argument("--steps", type=int, default=_D.steps, help="fine-tuning steps on the new skill")
    own = "".join(f"{m} {REGISTRY[m].default_lr:g}, " for m in methods if REGISTRY[m].default_lr != BASE_LR)
    p.add_argument("--lr", type=float, default=None, help=f"learning rate (default: {own}{BASE_LR:g} otherwise)")
    p.add_argument("--batch-size", type=int, default=_D.batch_size)
    p.add_argument("--seed", type=int, default=0, help="seed of the data, the stage-0 model and fine-tuning")
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: $CL_DEVICE, else the best there is)")
    p.add_argument("--json", default=None, metavar="PATH", help="write the stage-0 and per-method figures")
    p.add_argument("--plot", default=None, metavar="PATH", help="write a PNG: trade-off scatter and curves")
    add_param_options(p, REGISTRY, methods)
    for old, (method, key) in OLD_OPTIONS.items():
        p.add_argument(old, dest=f"hp__{method}__{key}", type=REGISTRY[method].params[key].type,
                       default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(run=run_llm)


def configs_from_args(args: argparse.Namespace) -> list[FinetuneConfig]:
    """One checked FinetuneConfig per method of --methods, with the shared options and the method's own."""
    from ..cli import param_options

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods:
        raise ConfigError(f"--methods {args.methods!r} names no method; allowed: {', '.join(available_methods())}")
    for m in methods:
        check_method(m)
    if len(set(methods)) != len(methods):
        raise ConfigError(f"--methods {args.methods!r} names a method twice")
    hparams = param_options(args, REGISTRY, methods, args.methods)
    return [FinetuneConfig(method=m, steps=args.steps, lr=args.lr, batch_size=args.batch_size, seed=args.seed,
                           hparams=hparams.get(m, {})).checked() for m in methods]


def run_llm(args: argparse.Namespace) -> int:
    """Carry out `llm`: load the stage-0 model, fine-tune by each method, print, write JSON and PNG."""
    from ..io import save_figure, write_json
    from .finetune import finetune, format_results
    from .stage0 import load_stage0

    configs = configs_from_args(args) if args.model == "toy" else []
    for path, what in ((args.json, "--json"), (args.plot, "--plot")):
        if path is not None:
            if not Path(path).expanduser().resolve().parent.is_dir():
                raise ConfigError(f"{what} path {path!r}: folder {Path(path).parent} does not exist")
    if args.model == "smollm2":
        return run_track_r_cli(args)
    stage0 = load_stage0(args.seed, device=args.device)
    m = stage0.metrics
    print(f"stage 0 (seed {args.seed}): addition {m['stage0_skill']:.2f}, safety {m['safety']:.2f}, "
          f"over-refusal {m['over_refusal']:.2f}, subtraction {m['new_skill']:.2f}")
    results = []
    for config in configs:
        results.append(finetune(stage0, config))
    print(format_results(results, stage0))
    if args.json:
        write_json(args.json, {"stage0": {"metrics": stage0.metrics, **stage0.info},
                               "results": [r.to_dict() for r in results]})
        print(f"wrote {args.json}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from ..plots.tradeoff import plot_tradeoff_curves, plot_tradeoff_scatter

        fig, (a, b) = plt.subplots(1, 2, figsize=(13, 5))
        plot_tradeoff_scatter(results, ax=a)
        plot_tradeoff_curves(results, ax=b)
        save_figure(fig, args.plot)
        print(f"wrote {args.plot}")
    return 0


def run_track_r_cli(args: argparse.Namespace) -> int:
    """Carry out `llm --model smollm2`: Track R end to end, one table, and the JSON of every number."""
    from dataclasses import replace

    from ..io import write_json
    from .hf import track_r

    if args.plot:
        raise ConfigError("--plot is for --model toy; with --model smollm2 use --json and plot the rows")
    config = replace(track_r.FAST if args.fast else track_r.TrackRConfig(), seed=args.seed).checked()
    result = track_r.run_track_r(config, progress=lambda text: print(f"... {text}", flush=True))
    print(track_r.format_rows(track_r.summary_rows(result)))
    print(f"load {result['load_seconds']:.0f} s, alignment {'cached' if result['alignment']['cached'] else 'trained'}, "
          f"total {result['seconds']:.0f} s")
    if args.json:
        write_json(args.json, {k: v for k, v in result.items()})
        print(f"wrote {args.json}")
    return 0
