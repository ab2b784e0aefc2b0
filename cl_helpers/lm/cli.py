"""`python -m cl_helpers llm`: fine-tune the stage-0 toy assistant by several methods and print the two numbers.

Its defaults are chapter 8's. One row per method: new-skill accuracy, safety rate, over-refusal, stage-0
accuracy, ||dW||/||W|| and seconds; `--json` writes the same per method plus the stage-0 model's own
figures, `--plot` the trade-off scatter and curves.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError
from .finetune import METHODS, FinetuneConfig

_D = FinetuneConfig()


def add_llm_parser(sub) -> None:
    """Add the `llm` subcommand to the main parser's subparsers."""
    p = sub.add_parser("llm", help="chapter 8: fine-tune a tiny language model and watch its refusals go",
                       description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--methods", default=",".join(METHODS), help=f"comma list of: {', '.join(METHODS)}")
    p.add_argument("--steps", type=int, default=_D.steps, help="fine-tuning steps on the new skill")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: 5e-3 for lora, 2e-3 otherwise)")
    p.add_argument("--batch-size", type=int, default=_D.batch_size)
    p.add_argument("--rank", type=int, default=_D.rank, help="LoRA rank (lora only)")
    p.add_argument("--replay-fraction", type=float, default=_D.replay_fraction,
                   help="share of the stage-0 training set mixed in (replay, self_instruct)")
    p.add_argument("--ewc-lambda", type=float, default=_D.ewc_lambda)
    p.add_argument("--kl-weight", type=float, default=_D.kl_weight)
    p.add_argument("--seed", type=int, default=0, help="seed of the data, the stage-0 model and fine-tuning")
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: $CL_DEVICE, else the best there is)")
    p.add_argument("--json", default=None, metavar="PATH", help="write the stage-0 and per-method figures")
    p.add_argument("--plot", default=None, metavar="PATH", help="write a PNG: trade-off scatter and curves")
    p.set_defaults(run=run_llm)


def run_llm(args: argparse.Namespace) -> int:
    """Carry out `llm`: load the stage-0 model, fine-tune by each method, print, write JSON and PNG."""
    from ..io import save_figure, write_json
    from .finetune import finetune, format_results
    from .stage0 import load_stage0

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods:
        raise ConfigError(f"--methods {args.methods!r} names no method; allowed: {', '.join(METHODS)}")
    for m in methods:
        if m not in METHODS:
            raise ConfigError(f"unknown method {m!r}; allowed: {', '.join(METHODS)}")
    if len(set(methods)) != len(methods):
        raise ConfigError(f"--methods {args.methods!r} names a method twice")
    configs = [FinetuneConfig(method=m, steps=args.steps, lr=args.lr, batch_size=args.batch_size, rank=args.rank,
                              replay_fraction=args.replay_fraction, ewc_lambda=args.ewc_lambda,
                              kl_weight=args.kl_weight, seed=args.seed).checked() for m in methods]
    for path, what in ((args.json, "--json"), (args.plot, "--plot")):
        if path is not None:
            if not Path(path).expanduser().resolve().parent.is_dir():
                raise ConfigError(f"{what} path {path!r}: folder {Path(path).parent} does not exist")
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
