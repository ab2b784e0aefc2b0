"""A small stage-0 toy assistant for the language-model tests (a test reference, not production code)."""
import torch

from cl_helpers.lm.data import make_world
from cl_helpers.lm.judge import evaluate
from cl_helpers.lm.model import GPTConfig, TinyGPT
from cl_helpers.lm.stage0 import Stage0
from cl_helpers.lm.train import train_lm

SMALL = GPTConfig(width=32, layers=1, heads=2)


def small_stage0() -> Stage0:
    """A 1-layer model trained 30 steps on stage 0 of a small world, with a cache of its own."""
    world = make_world(0, n_add=200, n_sub=200, n_test=40)
    torch.manual_seed(0)
    model = TinyGPT(SMALL)
    train_lm(model, world.stage0, steps=30, lr=1e-2, batch_size=16)
    return Stage0(model, world, evaluate(model, world))
