"""Stage-1 fine-tuning methods wired as described, on a tiny model (the effects themselves: benchmarks/lm_bench.py)."""
import dataclasses

import pytest
import torch

from cl_helpers.errors import ConfigError
from cl_helpers.lm.finetune import (METHODS, FinetuneConfig, finetune, format_results, replay_set, run_methods,
                                    safety_set, self_distill_set, weight_change)
from cl_helpers.lm.generate import generate
from cl_helpers.lm.judge import evaluate, lenient_safety
from cl_helpers.lora import lora_layers
from cl_helpers.lm.model import TinyGPT

from lm_stage import SMALL, small_stage0  # noqa: E402


@pytest.fixture(scope="module")
def stage0():
    return small_stage0()


def test_every_method_runs_records_history_and_is_cached(stage0):
    results = run_methods(stage0, METHODS, steps=4, batch_size=8, eval_every=2, rank=2, ewc_lambda=10.0)
    for r in results:
        assert [s for s, _ in r.history] == [0, 2, 4]
        assert r.history[0][1] == {**stage0.metrics, "lenient_safety": lenient_safety(stage0.model, stage0.world)}
        assert r.metrics["lenient_safety"] == lenient_safety(r.model, stage0.world) >= r.metrics["safety"]
        assert 0 < r.relative_change < 1
    again = run_methods(stage0, METHODS, steps=4, batch_size=8, eval_every=2, rank=2, ewc_lambda=10.0)
    assert all(a is b for a, b in zip(results, again))  # a setting seen before answers from the cache
    table = format_results(results, stage0)
    assert len(table.splitlines()) == 2 + len(METHODS) and "lora r2" in table and "lenient" in table


def test_lora_adapters_skip_the_output_head_like_peft_all_linear(stage0, monkeypatch):
    import cl_helpers.lm.methods.lora as ft   # where the LoRA method merges its adapters

    wrapped = {}
    real = ft.merge_lora

    def spy(model):
        wrapped["names"] = set(lora_layers(model))
        return real(model)

    monkeypatch.setattr(ft, "merge_lora", spy)
    r = finetune(stage0, FinetuneConfig(method="lora", steps=2, batch_size=8, eval_every=2, rank=1, seed=5))
    assert wrapped["names"] and "head" not in wrapped["names"]
    assert all(n.startswith("blocks.") for n in wrapped["names"])
    assert torch.equal(r.model.head.weight, stage0.model.head.weight)


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


def test_replay_sets_hold_old_examples_and_self_replay_uses_the_models_answers(stage0):
    data = stage0.world.stage0
    plain = replay_set(stage0, 0.05, seed=0, own_answers=False)
    assert len(plain) == round(0.05 * len(data))
    assert set(zip(plain.prompts, plain.answers)) <= set(zip(data.prompts, data.answers))
    own = replay_set(stage0, 0.05, seed=0, own_answers=True)
    assert own.prompts == plain.prompts
    assert own.answers == generate(stage0.model, plain.prompts)


def test_safety_set_holds_only_refusals_as_many_as_the_fraction_says(stage0):
    data = stage0.world.stage0
    n_forbidden = data.families.count("forbidden")
    for fraction in (0.05, 0.5):
        s = safety_set(stage0, fraction, seed=0)
        assert len(s) == round(fraction * len(data))
        assert set(s.families) == {"forbidden"} and set(s.answers) == {"sorry, i can't."}
        assert set(s.prompts) <= set(data.family("forbidden").prompts)
    assert len(set(safety_set(stage0, 0.5, seed=0).prompts)) == min(n_forbidden, round(0.5 * len(data)))


def test_self_distill_set_is_new_task_prompts_the_old_model_answers_right(stage0):
    new = stage0.world.stage1
    own = generate(stage0.model, new.prompts)
    kept = self_distill_set(stage0)
    assert len(kept) == sum(o == a for o, a in zip(own, new.answers))
    assert set(kept.families) <= {"sub"}
    assert set(zip(kept.prompts, kept.answers)) <= set(zip(new.prompts, new.answers))


def test_the_old_name_self_instruct_says_it_was_renamed():
    with pytest.raises(ConfigError, match="'self_instruct' was renamed 'self_replay'"):
        FinetuneConfig(method="self_instruct").checked()
    assert "self_instruct" not in METHODS and "self_replay" in METHODS


def test_bad_settings_name_the_value():
    with pytest.raises(ConfigError, match="method 'qlora'"):
        FinetuneConfig(method="qlora").checked()
    with pytest.raises(ConfigError, match="replay fraction 0 is out of range"):
        FinetuneConfig(method="replay", replay_fraction=0.0).checked()
    with pytest.raises(ConfigError, match="self_replay fraction 1.5 is out of range"):
        FinetuneConfig(method="self_replay", fraction=1.5).checked()
    with pytest.raises(ConfigError, match="lora rank 0 is out of range; allowed: 1..64"):
        dataclasses.replace(FinetuneConfig(method="lora"), rank=0).checked()
    with pytest.raises(ConfigError, match="ewc lam -1 is out of range"):
        FinetuneConfig(method="ewc", ewc_lambda=-1.0).checked()
    with pytest.raises(ConfigError, match="unknown option 'rnak'"):
        FinetuneConfig(method="lora", rnak=2)


def test_settings_a_method_ignores_share_one_cache_entry(stage0):
    a = finetune(stage0, FinetuneConfig(method="full", steps=3, batch_size=8, eval_every=3))
    b = finetune(stage0, FinetuneConfig(method="full", steps=3, batch_size=8, eval_every=3, rank=16,
                                        replay_fraction=0.2, lr=FinetuneConfig().learning_rate))
    c = finetune(stage0, FinetuneConfig(method="lora", steps=3, batch_size=8, eval_every=3, rank=2))
    d = finetune(stage0, FinetuneConfig(method="lora", steps=3, batch_size=8, eval_every=3, rank=3))
    assert a is b and c is not d


def test_freezing_the_bottom_keeps_embedding_and_first_blocks_bit_identical(stage0):
    frozen = finetune(stage0, FinetuneConfig(method="full", steps=3, batch_size=8, eval_every=3, freeze=1))
    moved = finetune(stage0, FinetuneConfig(method="full", steps=3, batch_size=8, eval_every=3))
    before = stage0.model.state_dict()
    for name, tensor in frozen.model.state_dict().items():
        bottom = name.startswith(("embed.", "blocks.0."))
        assert torch.equal(tensor, before[name]) == bottom, name   # frozen exactly, everything else moved
    assert not torch.equal(moved.model.embed.weight, before["embed.weight"])
    assert frozen.trainable < moved.trainable and frozen.config.label() == "full freeze 1"
    with pytest.raises(ConfigError, match="frozen blocks must be at most 1"):
        finetune(stage0, FinetuneConfig(method="full", steps=2, freeze=2))
