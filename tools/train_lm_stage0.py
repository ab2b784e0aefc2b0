"""Train the stage-0 "aligned assistant" of chapter 8 and write it as package data (float16, ~0.3 MB).

    python tools/train_lm_stage0.py --seeds 0 1 2          # writes cl_helpers/lm/stage0_seed{0,1,2}.pt

Each seed trains until its held-out metrics pass (addition and refusal >= 97%, over-refusal <= 2%) or
4000 steps (it passes after a few hundred). The chapter and the CLI load these files
instead of training (tests/test_lm_stage0.py checks the shipped files and runs this script on a tiny
budget).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cl_helpers.lm.stage0 import STEPS, save_stage0, shipped_path, train_stage0  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Train each seed and write its file; prints the metrics of each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--out-dir", default=None, help="default: the package folder cl_helpers/lm")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--base", action="store_true",
                        help="the unaligned base instead (same data without the refusals): base_seed<N>.pt")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for seed in args.seeds:
        stage0 = train_stage0(seed, steps=args.steps, aligned=not args.base)
        name = shipped_path(seed, aligned=not args.base)
        path = name if args.out_dir is None else Path(args.out_dir) / name.name
        save_stage0(stage0, path)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB): {stage0.metrics}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
