"""Stage-1 fine-tuning methods wired as described, on a tiny model (the effects themselves: benchmarks/lm_bench.py)."""
import dataclasses

import pytest
import torch

from cl_helpers.errors import ConfigError
from cl_helpers.lm.data import make_world
from cl_helpers.lm.finetune import (METHODS, FinetuneConfig, finetune, format_results, replay_set, run_methods,
                                    weight_change)
from cl_helpers.lm.judge import evaluate
from cl_helpers.lm.model import GPTConfig, TinyGPT
from cl_helpers.lm.stage0 import Stage0
from cl_helpers.lm.train import train_lm

SMALL = GPTConfig(width=32, layers=1, heads=2)


@pytest.fixture(scope="module")
def stage0():
    world = make_world(0, n_add=200, n_sub=200, n_test=40)
    torch.manual_seed(0)
    model = TinyGPT(SMALL)
    train_lm(model, world.stage0, steps=30, lr=1e-2, batch_size=16)
    return Stage0(model, world, evaluate(model, world))


def test_every_method_runs_records_history_and_is_cached(stage0):
    results = run_methods(stage0, METHODS, steps=4, batch_size=8, eval_every=2, rank=2, ewc_lambda=10.0)
    for r in results:
        assert [s for s, _ in r.history] == [0, 2, 4]
        assert r.history[0][1] == stage0.metrics
        assert 0 < r.relative_change < 1
    again = run_methods(stage0, METHODS, steps=4, batch_size=8, eval_every=2, rank=2, ewc_lambda=10.0)
    assert all(a is b for a, b in zip(results, again))  # a setting seen before answers from the cache
    table = format_results(results, stage0)
    assert len(table.splitlines()) == 2 + len(METHODS) and "lora r2" in table


def test_lora_trains_few_parameters_and_its_update_has_low_rank(stage0):
    full = finetune(stage0, FinetuneConfig(method="full", steps=5, batch_size=8, eval_every=5))
    lora = finetune(stage0, FinetuneConfig(method="lora", steps=5, batch_size=8, eval_every=5, rank=1))
    assert lora.trainable < full.trainable / 5
    assert lora.update_rank == 1 < full.update_rank
    # the stage-0 model itself is never changed by fine-tuning a copy
    assert evaluate(stage0.model, stage0.world) == stage0.metrics


def test_weight_change_of_a_known_update():
    torch.manual_seed(0)
    a, b = TinyGPT(SMALL), TinyGPT(SMALL)
    b.load_state_dict(a.state_dict())
    with torch.no_grad():
        for m in b.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(1.5)
    change, rank = weight_change(a, b)
    assert change == pytest.approx(0.5, rel=1e-5)
    assert rank > 1


def test_replay_sets_hold_old_examples_and_self_instruct_uses_the_models_answers(stage0):
    data = stage0.world.stage0
    plain = replay_set(stage0, 0.05, seed=0, self_instruct=False)
    assert len(plain) == round(0.05 * len(data))
    assert set(zip(plain.prompts, plain.answers)) <= set(zip(data.prompts, data.answers))
    own = replay_set(stage0, 0.05, seed=0, self_instruct=True)
    assert own.prompts == plain.prompts
    from cl_helpers.lm.generate import generate

    assert own.answers == generate(stage0.model, plain.prompts)


def test_bad_settings_name_the_value():
    with pytest.raises(ConfigError, match="method 'qlora'"):
        FinetuneConfig(method="qlora").checked()
    with pytest.raises(ConfigError, match="replay fraction"):
        FinetuneConfig(method="replay", replay_fraction=0.0).checked()
    with pytest.raises(ConfigError, match="LoRA rank"):
        dataclasses.replace(FinetuneConfig(), rank=0).checked()


def test_settings_a_method_ignores_share_one_cache_entry(stage0):
    a = finetune(stage0, FinetuneConfig(method="full", steps=3, batch_size=8, eval_every=3))
    b = finetune(stage0, FinetuneConfig(method="full", steps=3, batch_size=8, eval_every=3, rank=16,
                                        replay_fraction=0.2, lr=FinetuneConfig().learning_rate))
    c = finetune(stage0, FinetuneConfig(method="lora", steps=3, batch_size=8, eval_every=3, rank=2))
    d = finetune(stage0, FinetuneConfig(method="lora", steps=3, batch_size=8, eval_every=3, rank=3))
    assert a is b and c is not d
