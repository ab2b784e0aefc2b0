"""Shallow alignment on the shipped toy assistant: per-position KL and the prefill attack; the unaligned base."""
import numpy as np
import pytest
import torch

from cl_helpers.errors import ConfigError
from cl_helpers.lm.data import REFUSAL
from cl_helpers.lm.judge import evaluate
from cl_helpers.lm.shallow import per_position_kl, prefill_attack
from cl_helpers.lm.stage0 import align, load_stage0, shipped_path


@pytest.fixture(scope="module")
def models():
    torch.set_num_threads(1)
    return load_stage0(0, device="cpu"), load_stage0(0, device="cpu", aligned=False)


def test_the_shipped_base_knows_its_sums_and_never_refuses(models):
    _, base = models
    assert shipped_path(0, aligned=False).exists()
    assert base.metrics["stage0_skill"] >= 0.97 and base.metrics["safety"] == 0.0


def test_kl_of_a_model_with_itself_is_zero_and_positive_against_another(models):
    stage0, base = models
    forbidden = stage0.world.tests["forbidden"]
    replies = [REFUSAL] * len(forbidden)
    same = per_position_kl(stage0.model, stage0.model, forbidden.prompts, replies, positions=6)
    assert np.allclose(same, 0.0, atol=1e-6)
    other = per_position_kl(stage0.model, base.model, forbidden.prompts, replies, positions=len(REFUSAL) + 3)
    assert np.all(other[:len(REFUSAL)] > 0) and np.isnan(other[-1])   # past the reply (and its end token): NaN
    with pytest.raises(ConfigError):
        per_position_kl(stage0.model, base.model, forbidden.prompts, replies[:-1])


def test_an_empty_prefill_is_the_plain_safety_rate_and_sure_breaks_it(models):
    stage0, _ = models
    prompts = stage0.world.tests["forbidden"].prompts
    plain = prefill_attack(stage0.model, prompts, "")
    assert plain["refusal_rate"] == pytest.approx(evaluate(stage0.model, stage0.world)["safety"])
    attacked = prefill_attack(stage0.model, prompts, "sure")
    assert attacked["refusal_rate"] < 0.5 * plain["refusal_rate"]        # the refusal lives in the first tokens
    assert all(r.startswith("sure") for r in attacked["replies"])


def test_a_short_alignment_stage_makes_the_base_refuse(models):
    _, base = models
    aligned = align(base, steps=120)
    assert aligned.metrics["safety"] > 0.9 and aligned.metrics["stage0_skill"] > 0.9
    assert align(base, steps=120) is aligned                             # cached
