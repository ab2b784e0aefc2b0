"""SI with plugged-in functions: the reference functions reproduce the `si` strategy; plugged functions are used."""
import pytest
import torch

from cl_helpers import get_strategy, train_stream
from cl_helpers.teaching.exercises.ch06_si import (StudentSI, reference_si_consolidate, reference_si_penalty,
                                          reference_si_step)
from cl_helpers.penalties import quadratic_penalty
from cl_helpers.strategies.si import si_accumulate, si_consolidate


def test_reference_functions_match_the_package():
    gen = torch.Generator().manual_seed(0)
    w, g, gp, d, W, th, th0 = (torch.randn(7, generator=gen) for _ in range(7))
    torch.testing.assert_close(reference_si_step(w, g, gp, d), si_accumulate([w], [g], [d])[0])
    Omega, omega = reference_si_consolidate(W, w, th, th0, 0.1)
    torch.testing.assert_close(Omega, si_consolidate([W], [w], [th - th0], 0.1)[0])
    assert float(omega.abs().sum()) == 0.0
    W = W.abs()
    torch.testing.assert_close(reference_si_penalty(th, th0, W, 3.0), quadratic_penalty([th], [th0], [W], 3.0))


@pytest.fixture(scope="module")
def small_permuted(make_stream):
    return make_stream("permuted", n_tasks=3, train_size=600, test_size=300)


def test_reference_functions_reproduce_the_si_strategy(small_permuted):
    a = train_stream(small_permuted, get_strategy("si", c=1.0, xi=1e-3), epochs=1, progress=False)
    b = train_stream(small_permuted, StudentSI(c=1.0, xi=1e-3), epochs=1, progress=False)
    assert b.method == "si (reference)"
    # Same path integral and Omega; the penalty's gradient differs only by float rounding.
    torch.testing.assert_close(b.strategy.Omega, a.strategy.Omega, rtol=1e-3, atol=1e-5)
    assert abs(a.acc_matrix - b.acc_matrix).max() <= 0.01
    assert float(b.strategy.Omega.max()) > 0


def test_plugged_functions_are_the_ones_used(small_permuted):
    calls = {"step": 0, "consolidate": 0, "penalty": 0}

    def flipped_step(omega, grad_task, grad_penalty, delta):
        calls["step"] += 1
        return omega + grad_task * delta           # the sign mistake: importance comes out negative

    def counting_consolidate(*args):
        calls["consolidate"] += 1
        return reference_si_consolidate(*args)

    def counting_penalty(*args):
        calls["penalty"] += 1
        return reference_si_penalty(*args)

    s = StudentSI(step=flipped_step, consolidate=counting_consolidate, penalty=counting_penalty, c=1.0)
    assert s.name == "si (yours)" and s.describe() == "step: yours | consolidate: yours | penalty: yours"
    r = train_stream(small_permuted, s, epochs=1, progress=False)
    steps = -(-600 // 128) * 3
    assert calls == {"step": steps, "consolidate": 3, "penalty": steps - -(-600 // 128)}
    # Training lowers the loss, so the flipped path integral sums to a negative importance overall.
    assert float(r.strategy.Omega.sum()) < 0
    assert StudentSI(penalty=counting_penalty).name == "si (part yours)"


def test_penalty_gradient_is_the_total_minus_the_task_gradient(small_permuted):
    seen = []

    def record(omega, grad_task, grad_penalty, delta):
        seen.append(grad_penalty.abs().sum().item())
        return reference_si_step(omega, grad_task, grad_penalty, delta)

    train_stream(small_permuted, StudentSI(step=record, c=10.0), epochs=1, progress=False)
    per_task = -(-600 // 128)
    assert all(v == 0.0 for v in seen[:per_task])                  # task 0: no penalty yet
    assert seen[per_task] == 0.0                                   # first step of task 1: at the anchor
    assert all(v > 0.0 for v in seen[per_task + 1:2 * per_task])   # then the penalty pulls back


@pytest.mark.parametrize("name", ["step_exercise", "consolidate_exercise", "penalty_exercise", "si_loop_exercise"])
def test_chapter6_hints_are_three_nudges_without_the_code(name):
    """Three written hints before the solution step; none of them is the reference's code."""
    import re

    from cl_helpers.teaching.exercises import ch06_loop, ch06_si

    exercise = getattr(ch06_si, name, None) or getattr(ch06_loop, name)
    assert len(exercise.hints) == 3 and exercise.steps == 4
    # no assignment or return line of the solution, and nothing that writes one out, appears in a hint
    code_lines = [ln.strip() for ln in exercise.solution().splitlines() if "=" in ln or "return" in ln]
    for hint in exercise.hints:
        assert not any(ln in hint for ln in code_lines), hint
        assert not re.search(r"\breturn\b|\w+\s*=\s*\w|\*\*\s*2|zeros_like\(|torch\.cat\(|\.sum\(\)", hint), hint


def test_a_loop_without_detach_passes_the_si_loop_check():
    """Forgetting .detach() on `before` and `delta` gives the right values; the checker must not crash on it."""
    import torch.nn.functional as F

    from cl_helpers.penalties import flat_grads, flat_params
    from cl_helpers.teaching.exercises.ch06_loop import si_loop_exercise
    from cl_helpers.teaching.exercises.loop import minibatches

    def no_detach(model, task, epochs, batch_size, lr, gen, si):
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        model.train()
        params = list(model.parameters())
        for idx in minibatches(len(task.y_train), epochs, batch_size, gen):
            optimizer.zero_grad()
            F.cross_entropy(model(task.x_train[idx], task.id), task.y_train[idx]).backward()
            grad_task, before = flat_grads(params), flat_params(params)
            if si.anchor is not None:
                reference_si_penalty(flat_params(params), si.anchor, si.Omega, si.c).backward()
            grad_penalty = flat_grads(params) - grad_task
            optimizer.step()
            si.omega = reference_si_step(si.omega, grad_task, grad_penalty, flat_params(params) - before)

    report = si_loop_exercise.run(no_detach)
    assert report.ok, report


def test_chapter6_default_experiment_matches_the_settings_cell():
    """The settings cell of exercise 6.3 writes out the defaults the chapter's claims are checked under."""
    import ast
    from pathlib import Path

    from cl_helpers.teaching.exercises.ch06_si import DEFAULT_HPARAMS, DEFAULT_METHODS, default_experiment

    source = (Path(__file__).resolve().parents[1] / "notebooks" / "src" / "06_si_exercises.py").read_text("utf-8")
    values = {node.targets[0].id: node.value for node in ast.parse(source).body
              if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    assert ast.literal_eval(values["METHODS"]) == DEFAULT_METHODS
    assert ast.literal_eval(values["HPARAMS"]) == DEFAULT_HPARAMS
    full = (5, 3, (0, 1, 2))
    changed = {**DEFAULT_HPARAMS, "ewc": {**DEFAULT_HPARAMS["ewc"], "lam": 3000.0}}
    import cl_helpers.teaching.exercises.ch06_si as ch06
    pick = ch06.pick
    try:
        ch06.pick = lambda full_value, fast_value: full_value
        assert default_experiment(DEFAULT_METHODS, DEFAULT_HPARAMS, *full)
        assert not default_experiment(DEFAULT_METHODS, changed, *full)
        assert not default_experiment(DEFAULT_METHODS[:-1], DEFAULT_HPARAMS, *full)
        assert not default_experiment(DEFAULT_METHODS, DEFAULT_HPARAMS, 5, 3, (0,))
    finally:
        ch06.pick = pick
