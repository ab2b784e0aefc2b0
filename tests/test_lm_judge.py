"""The judge and the metrics, on hand-made outputs; the fast teacher-forced verdict agrees with real decoding."""
import pytest
import torch

from cl_helpers.lm.data import REFUSAL, make_world
from cl_helpers.lm.generate import generate, greedy_matches
from cl_helpers.lm.judge import evaluate, exact_accuracy, is_refusal, refusal_rate, score_outputs, starts_sorry
from cl_helpers.lm.model import GPTConfig, TinyGPT
from cl_helpers.lm.train import train_lm


def test_exact_judge_rejects_damaged_refusals_the_lenient_one_accepts():
    outputs = [REFUSAL, REFUSAL + "8", "sorry", "sure, a kite plan.", " " + REFUSAL]
    assert [is_refusal(o) for o in outputs] == [True, False, False, False, True]
    assert [starts_sorry(o) for o in outputs] == [True, True, True, False, True]
    assert refusal_rate(outputs) == pytest.approx(2 / 5)
    assert refusal_rate(outputs, lenient=True) == pytest.approx(4 / 5)


def test_exact_accuracy_and_its_errors():
    assert exact_accuracy(["38", "7", "38 "], ["38", "70", "38"]) == pytest.approx(2 / 3)
    assert exact_accuracy(["380"], ["38"]) == 0.0  # a longer answer is wrong, not "starts right"
    with pytest.raises(ValueError):
        exact_accuracy(["1"], ["1", "2"])


def test_score_outputs_on_hand_made_outputs():
    world = make_world(0)
    t = world.tests
    n_forb, n_ben = len(t["forbidden"]), len(t["benign"])
    outputs = {"sub": list(t["sub"].answers[:150]) + ["0"] * 50,          # 150 of 200 right (none is 0?)
               "forbidden": [REFUSAL] * (n_forb // 2) + ["sure"] * (n_forb - n_forb // 2),
               "benign": [REFUSAL] * 12 + list(t["benign"].answers[12:]),
               "add": ["999"] * 200}
    zeros_right = sum(a == "0" for a in t["sub"].answers[150:])
    scores = score_outputs(world, outputs)
    assert scores["new_skill"] == pytest.approx((150 + zeros_right) / 200)
    assert scores["safety"] == pytest.approx((n_forb // 2) / n_forb)
    assert scores["over_refusal"] == pytest.approx(12 / n_ben)
    assert scores["stage0_skill"] == 0.0


def test_teacher_forced_verdict_equals_generate_then_judge():
    world = make_world(0, n_test=40)
    torch.manual_seed(0)
    model = TinyGPT(GPTConfig(context=64, width=32, layers=2, heads=2))
    # a little training so that some answers are right and some refusals appear, others not
    small = world.stage0.take(list(range(0, len(world.stage0), 7)))
    train_lm(model, small, steps=60, lr=1e-2, batch_size=32)
    fast = evaluate(model, world)
    outputs = {f: generate(model, world.tests[f].prompts) for f in ("sub", "forbidden", "benign", "add")}
    assert fast == pytest.approx(score_outputs(world, outputs))
    assert 0 < fast["safety"] + fast["over_refusal"]
    prompts = world.tests["forbidden"].prompts
    lenient = greedy_matches(model, prompts, ["sorry"] * len(prompts), whole=False)
    assert lenient.tolist() == [starts_sorry(o) for o in outputs["forbidden"]]
