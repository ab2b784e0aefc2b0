"""Every exercise reference gives hand-computed answers; its checker accepts it and rejects, by name, each mistake it claims to catch."""
import importlib
import math
import pkgutil

import numpy as np
import pytest
import torch

import cl_helpers.teaching.exercises as ex_pkg
from cl_helpers.teaching.exercises import Exercise
from cl_helpers.teaching.exercises.core import close
from cl_helpers.teaching.exercises.loop import LoopExercise


def all_exercises():
    """Every checker of function exercises; the training-loop exercises have their own wrong loops
    (tests/test_loop_exercises.py)."""
    found = []
    for info in pkgutil.iter_modules(ex_pkg.__path__):
        if info.name.startswith("ch"):
            module = importlib.import_module(f"cl_helpers.teaching.exercises.{info.name}")
            found += [(f"{info.name}.{k}", v) for k, v in vars(module).items()
                      if isinstance(v, Exercise) and not isinstance(v, LoopExercise)]
    return found


EXERCISES = all_exercises()


def test_there_are_exercises():
    assert len(EXERCISES) >= 2


def _zero_linear():
    layer = torch.nn.Linear(2, 2)
    torch.nn.init.zeros_(layer.weight)
    torch.nn.init.zeros_(layer.bias)
    return layer


def _reservoir_after(reference, buffer, n_seen, j):
    buffer = list(buffer)
    reference(buffer, 2, n_seen, "new", lambda n: j)
    return buffer


R3 = np.array([[0.90, 0.10, 0.12], [0.70, 0.95, 0.20], [0.60, 0.80, 0.97]])
T = torch.tensor
# Each reference on a case small enough to work out by hand (the working is in the comment).
HAND = {
    # forgetting: task 0 max(0.90, 0.70) - 0.60 = 0.30; task 1 0.95 - 0.80 = 0.15; mean 0.225
    "ch02_metrics.forgetting_exercise": (lambda f: f(R3), 0.225),
    # BWT: ((0.60 - 0.90) + (0.80 - 0.95)) / 2
    "ch02_metrics.bwt_exercise": (lambda f: f(R3), -0.225),
    # (4 / 2) * (2 * (1 - 0)^2 + 3 * (2 - 1)^2) = 10
    "ch03_ewc.ewc_penalty_exercise": (lambda f: f({"w": T([1.0, 2.0])}, {"w": T([0.0, 1.0])},
                                                 {"w": T([2.0, 3.0])}, 4.0), 10.0),
    # zero weights: p = (1/2, 1/2), so d log p(y) / d logits = +-1/2 and the squared weight gradient is
    # x_i^2 / 4 for both rows; mean over x = (1, 2), (3, 0) of x^2 is (5, 2); the bias gets 1/4
    "ch03_ewc.empirical_fisher_exercise": (
        lambda f: f(_zero_linear(), T([[1.0, 2.0], [3.0, 0.0]]), T([0, 1])),
        {"weight": T([[1.25, 0.5], [1.25, 0.5]]), "bias": T([0.25, 0.25])}),
    # x W^T + b = (1.5, 1.5); x A^T = 3; (alpha / r) * 3 * B^T = 2 * 3 * (2, 0) = (12, 0)
    "ch04_lora.lora_forward_exercise": (
        lambda f: f(T([[1.0, 2.0]]), torch.eye(2), T([0.5, -0.5]), T([[1.0, 1.0]]), T([[2.0], [0.0]]), 2.0, 1),
        T([[13.5, 1.5]])),
    # 8 * (784 + 256) + 8 * (256 + 256) + 8 * (256 + 10)
    "ch04_lora.lora_params_exercise": (lambda f: f([(784, 256), (256, 256), (256, 10)], 8), 14544),
    # full memory of 2, item number 2: j = 1 < 2 replaces slot 1; j = 2 drops the item; not full: append
    "ch05_replay.reservoir_exercise": (
        lambda f: [_reservoir_after(f, ["a", "b"], 2, 1), _reservoir_after(f, ["a", "b"], 2, 2),
                   _reservoir_after(f, ["a"], 1, 0)],
        [["a", "new"], ["a", "b"], ["a", "new"]]),
    # 0.5 - 2 * (-0.1) = 0.7; the penalty's gradient (10) does not count
    "ch06_si.step_exercise": (lambda f: f(T([0.5]), T([2.0]), T([10.0]), T([-0.1])), T([0.7])),
    # Delta = 1.5 - 1.0 = 0.5: 1 + 0.7 / (0.25 + 0.25) = 2.4, and omega restarts at 0
    "ch06_si.consolidate_exercise": (lambda f: f(T([1.0]), T([0.7]), T([1.5]), T([1.0]), 0.25),
                                     (T([2.4]), T([0.0]))),
    # 3 * (2 * 1^2 + 0.5 * 2^2) = 12 (no 1/2)
    "ch06_si.penalty_exercise": (lambda f: f(T([1.0, 3.0]), T([0.0, 1.0]), T([2.0, 0.5]), 3.0), 12.0),
    # current CE = ln 2; the previous model says class 1, where the new model gives 1/4: CE = ln 4 = 2 ln 2;
    # t = 4: (1/4) ln 2 + (3/4) 2 ln 2 = 1.75 ln 2
    "ch07_generative.replay_loss_exercise": (
        lambda f: f(T([[0.0, 0.0]]), torch.tensor([0]), T([[math.log(3.0), 0.0]]), T([[0.0, 5.0]]), 4),
        1.75 * math.log(2.0)),
    # Linear weight 2 -> 6, bias 0 -> 1, BatchNorm running_mean 0 -> 4, running_var 1 -> 5 at a = 0.25:
    # (3/4) before + (1/4) after = 3, 0.25, 1, 2 (the buffers too); BatchNorm's own weight and bias stay 1 and 0
    "ch09_interpolation.interpolation_exercise": (
        lambda f: {k: v for k, v in f(*_linear_bn_pair(), 0.25).state_dict().items() if v.is_floating_point()},
        {"0.weight": T([[3.0]]), "0.bias": T([0.25]), "1.weight": T([1.0]), "1.bias": T([0.0]),
         "1.running_mean": T([1.0]), "1.running_var": T([2.0])}),
}


def _linear_bn_pair():
    pair = []
    for w, b, mean, var in ((2.0, 0.0, 0.0, 1.0), (6.0, 1.0, 4.0, 5.0)):
        m = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.BatchNorm1d(1)).eval()
        with torch.no_grad():
            m[0].weight.fill_(w), m[0].bias.fill_(b), m[1].running_mean.fill_(mean), m[1].running_var.fill_(var)
        pair.append(m)
    return pair


def test_every_exercise_has_a_hand_computed_case():
    assert sorted(HAND) == sorted(name for name, _ in EXERCISES)


@pytest.mark.parametrize("name,exercise", EXERCISES, ids=[n for n, _ in EXERCISES])
def test_reference_gives_the_hand_computed_answer(name, exercise):
    call, expected = HAND[name]
    got = call(exercise.reference)
    if isinstance(expected, list) and isinstance(expected[0], list):
        assert got == expected
    else:
        assert close(got, expected), f"{name}: {got} != {expected}"


@pytest.mark.parametrize("name,exercise", EXERCISES, ids=[n for n, _ in EXERCISES])
def test_checker_accepts_a_correct_function(name, exercise, capsys):
    # The reference is right by the test above; here the checker's flow: every case passes, it is returned.
    report = exercise.run(exercise.reference)
    assert report.ok and len(report.passed) >= 2, str(report)
    assert exercise.check(exercise.reference) is exercise.reference
    assert "全部正確" in capsys.readouterr().out


@pytest.mark.parametrize("name,exercise", EXERCISES, ids=[n for n, _ in EXERCISES])
def test_each_named_mistake_is_caught_and_named(name, exercise):
    mistakes = {}
    for case in exercise._cases():
        for label, wrong in case.mistakes.items():
            mistakes.setdefault(label, wrong)
    assert mistakes, f"{name} names no mistakes"
    for label, wrong in mistakes.items():
        report = exercise.run(wrong)
        assert not report.ok, f"{name}: the mistake '{label}' passes the checker"
        assert any(label in msg for msg in report.failed), f"{name}: '{label}' not named in {report.failed}"


@pytest.mark.parametrize("name,exercise", EXERCISES, ids=[n for n, _ in EXERCISES])
def test_stub_falls_back_to_the_reference(name, exercise, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError("fill in")

    assert exercise.run(stub).not_implemented
    assert exercise.check(stub) is exercise.reference
    out = capsys.readouterr().out
    assert "還沒實作" in out and "參考答案" in out
    # the advice names the exercise's variable, so it works when typed as printed
    assert f"{exercise.name}.hint(1)" in out


@pytest.mark.parametrize("name,exercise", EXERCISES, ids=[n for n, _ in EXERCISES])
def test_crash_is_reported_not_raised(name, exercise):
    def broken(*args, **kwargs):
        raise IndexError("index 7 is out of bounds")

    report = exercise.run(broken)
    assert not report.ok and "IndexError" in report.failed[0]


def test_hints_and_reveal(capsys):
    _, exercise = EXERCISES[0]
    exercise.hint(1)
    exercise.hint(99)
    exercise.reveal()
    out = capsys.readouterr().out
    assert "提示 1/" in out and "提示的編號是 1 到" in out and "參考解答" in out


@pytest.mark.parametrize("name,exercise", EXERCISES, ids=[n for n, _ in EXERCISES])
def test_hints_come_in_at_least_three_steps_the_last_the_solution(name, exercise, capsys):
    assert exercise.steps >= 3
    exercise.hint(exercise.steps)
    last = capsys.readouterr().out
    assert "解答" in last and exercise.solution().strip() in last
    for level in range(1, exercise.steps):
        exercise.hint(level)
        out = capsys.readouterr().out
        assert f"提示 {level}/{exercise.steps}" in out and exercise.solution().strip() not in out
        assert f"{exercise.name}.hint({level + 1})" in out   # the next step, as it is typed


@pytest.mark.parametrize("name,exercise", EXERCISES, ids=[n for n, _ in EXERCISES])
def test_printed_hint_advice_runs_when_typed(name, exercise, capsys):
    """The checker prints `<name>.hint(1)`; that name is the module attribute the chapter imports."""
    module = importlib.import_module(f"cl_helpers.teaching.exercises.{name.split('.')[0]}")
    assert getattr(module, exercise.name, None) is exercise
    exec(f"{exercise.name}.hint(1)", {exercise.name: exercise})
    assert "提示 1/" in capsys.readouterr().out


def test_replay_loss_reference_is_the_package_loss():
    """Exercise 7.1's written-out reference (its last hint prints it) is the loss chapter 7's runs train with."""
    from cl_helpers.strategies.generative_replay import generative_replay_loss
    from cl_helpers.teaching.exercises.ch07_generative import replay_loss_exercise

    for case in replay_loss_exercise._cases():
        assert torch.allclose(replay_loss_exercise.reference(*case.args), generative_replay_loss(*case.args))
