"""Every exercise checker accepts its reference and rejects, by name, each mistake it claims to catch."""
import importlib
import pkgutil

import pytest

import cl_helpers.teaching.exercises as ex_pkg
from cl_helpers.teaching.exercises import Exercise


def all_exercises():
    found = []
    for info in pkgutil.iter_modules(ex_pkg.__path__):
        if info.name.startswith("ch"):
            module = importlib.import_module(f"cl_helpers.teaching.exercises.{info.name}")
            found += [(f"{info.name}.{k}", v) for k, v in vars(module).items() if isinstance(v, Exercise)]
    return found


EXERCISES = all_exercises()


def test_there_are_exercises():
    assert len(EXERCISES) >= 2


@pytest.mark.parametrize("name,exercise", EXERCISES, ids=[n for n, _ in EXERCISES])
def test_reference_passes(name, exercise, capsys):
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