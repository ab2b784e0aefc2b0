"""`python -m cl_helpers compare`: run a method comparison headless and print a table; `grade`: grade notebooks;
`llm`: chapter 8's language-model fine-tuning comparison."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .data import DATASETS
from .errors import ConfigError
from .lm.cli import add_llm_parser
from .strategies import REGISTRY, available_strategies
from .strategies.combined import SEPARATOR, split_name
from .tasks import BENCHMARKS, SCENARIOS

DEFAULT_METHODS = "naive,ewc,si,replay,joint"


def _option(method: str, key: str) -> str:
    return f"--{method}-{key}".replace("_", "-")


def add_param_options(parser: argparse.ArgumentParser, registry: dict, names) -> None:
    """One option --<method>-<key> per hyperparameter `Param` of each method in `names` (e.g. --ewc-lam).

    `registry` maps a name to a class with `params` (the strategies' REGISTRY, or the language model's methods in
    cl_helpers/lm/methods); `param_options` reads the given ones back. An option not given leaves no attribute.
    """
    for name in names:
        cls = registry[name]
        if not cls.params:
            continue
        group = parser.add_argument_group(f"{name} options")
        for key, spec in cls.params.items():
            kind = str if spec.choices or spec.type is bool else spec.type
            # SUPPRESS: an option not given leaves no attribute, and the help shows the strategy's own default.
            group.add_argument(_option(name, key), dest=f"hp__{name}__{key}", type=kind, default=argparse.SUPPRESS,
                               metavar=spec.choices and "{" + ",".join(spec.choices) + "}" or "X",
                               help=f"{spec.help} (default {spec.default})")


def param_options(args: argparse.Namespace, registry: dict, methods: list[str], given: str) -> dict[str, dict]:
    """The hyperparameters given as `add_param_options` options, per method: {"ewc": {"lam": 10.0}}.

    ConfigError for an option of a method not in `methods` (`given`: the --methods text, for the message), or a
    flag that is not true or false.
    """
    hparams: dict[str, dict] = {}
    for dest, value in vars(args).items():
        if dest.startswith("hp__") and value is not None:
            _, name, key = dest.split("__")
            if name not in methods:
                raise ConfigError(f"{_option(name, key)} given but {name} is not in --methods {given}")
            if registry[name].params[key].type is bool:
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ConfigError(f"{_option(name, key)} {value!r} must be true or false")
                value = value.lower() in ("true", "1", "yes")
            hparams.setdefault(name, {})[key] = value
    return hparams


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one option per strategy hyperparameter (e.g. --ewc-lam)."""
    parser = argparse.ArgumentParser(prog="python -m cl_helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("compare", help="train several methods on one task stream and compare them",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--benchmark", choices=BENCHMARKS, default="permuted")
    p.add_argument("--scenario", choices=SCENARIOS, default=None,
                   help="default: domain for permuted/rotated, class for split")
    p.add_argument("--tasks", type=int, default=None, help="default: 3 permuted, 5 split/rotated")
    p.add_argument("--methods", default=DEFAULT_METHODS,
                   help=f"comma list of: {', '.join(available_strategies())}; join methods with "
                        f"{SEPARATOR} to train them together (ewc{SEPARATOR}replay)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--train-size", type=int, default=None,
                   help="training images per task (default: 5000 permuted/rotated, all of a split's classes)")
    p.add_argument("--test-size", type=int, default=None, help="test images per task (default: 1000 / all)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: $CL_DEVICE, else the best there is)")
    p.add_argument("--dataset", choices=DATASETS, default="mnist")
    p.add_argument("--data-dir", default=None, help="folder holding MNIST/raw (default: $CL_HELPERS_DATA, cache)")
    p.add_argument("--no-download", action="store_true", help="never download; use the offline digits instead")
    p.add_argument("--json", default=None, metavar="PATH", help="write config, source and per-method results")
    p.add_argument("--plot", default=None, metavar="PATH", help="write a PNG comparing the methods")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_param_options(p, REGISTRY, available_strategies())
    p.set_defaults(run=run_compare)
    from .teaching.grading import add_parser as add_grade_parser

    add_grade_parser(sub)
    add_llm_parser(sub)
    return parser


def _writable(path: str | None, what: str) -> None:
    if path is not None and not Path(path).expanduser().resolve().parent.is_dir():
        raise ConfigError(f"{what} path {path!r}: folder {Path(path).parent} does not exist")


def run_compare(args: argparse.Namespace) -> int:
    """Carry out `compare`: build the stream, train the methods, print, write JSON and PNG."""
    from . import plots
    from .device import describe_device, get_device
    from .experiments import format_table, run_methods
    from .io import save_figure, write_json
    from .tasks import make_stream
    from .train import TrainConfig

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods:
        raise ConfigError(f"--methods {args.methods!r} names no method; allowed: {', '.join(available_strategies())}")
    if len(set(methods)) != len(methods):
        raise ConfigError(f"--methods {args.methods!r} names a method twice")
    parts = [part for m in methods for part in split_name(m)]   # "ewc+replay" trains EWC and replay together
    unknown = [m for m in parts if m not in REGISTRY]
    if unknown:
        raise ConfigError(f"unknown method {unknown[0]!r}; allowed: {', '.join(available_strategies())}, "
                          f"or a combination such as ewc{SEPARATOR}replay")
    hparams = param_options(args, REGISTRY, parts, args.methods)
    _writable(args.json, "--json")
    _writable(args.plot, "--plot")
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    device = get_device(args.device)
    stream = make_stream(args.benchmark, args.tasks, args.scenario, args.dataset, args.train_size,
                         args.test_size, seed=args.seed, device=device, root=args.data_dir,
                         download=not args.no_download)
    print(f"data: {stream.source}")
    print(f"stream: {stream.benchmark}, {stream.scenario}-incremental, {len(stream)} tasks, "
          f"{stream.config['train_size']} train / {stream.config['test_size']} test images per task; "
          f"device: {describe_device(device)}")
    results = run_methods(stream, methods, config, hparams, progress=not args.quiet)
    print(format_table(results))
    if args.json:
        write_json(args.json, {"config": {**stream.config, "epochs": config.epochs, "batch_size": config.batch_size,
                                          "lr": config.lr, "device": str(device), "methods": methods,
                                          "hparams": hparams},
                               "source": stream.source, "results": [r.to_dict() for r in results]})
        print(f"wrote {args.json}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        fig = plots.plot_comparison(results, title=f"{stream.benchmark} ({stream.scenario}-IL), {stream.source}")
        save_figure(fig, args.plot)
        print(f"wrote {args.plot}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: exit 0 on success, 2 on bad input (one line, no traceback)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
