"""The exercise machinery: fixed test cases against a reference, precise feedback, hints, and reveal.

An exercise checks a student's function on small fixed cases. Each failed case names the case, the expected
and obtained values, and the likely mistake, found by comparing the answer with known wrong variants
(wrong sign, missing 1/2, ...). `check` returns the function the rest of the chapter should use: the
student's when every case passes, else the reference, and it says which.

Messages and hints are in Traditional Chinese with English technical terms, like the chapters. Hints come in
steps, `hint(1)`, `hint(2)`, ...; the last step is always the reference solution, so a student who is stuck
is never left without an answer. Printed advice names the exercise's variable (`reservoir_exercise.hint(1)`),
so it works when typed as printed.
"""
from __future__ import annotations

import copy
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch

PASS, FAIL = "✅", "❌"


@dataclass
class Case:
    """One fixed test case: a name, the arguments, and known wrong variants that explain a mismatch."""

    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    mistakes: dict[str, Callable[..., Any]] = field(default_factory=dict)


@dataclass
class Report:
    """The outcome of a check: which cases passed, and a message per failed case."""

    exercise: str
    passed: list[str]
    failed: list[str]
    not_implemented: bool = False

    @property
    def ok(self) -> bool:
        """True when every case passed."""
        return not self.failed and not self.not_implemented

    def __str__(self) -> str:
        lines = [f"{PASS} {name}" for name in self.passed] + [f"{FAIL} {msg}" for msg in self.failed]
        return "\n".join(lines)


def close(a: Any, b: Any, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """Numbers, arrays, tensors, or dicts/sequences of them, equal within tolerance (and of the same shape)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and \
            all(close(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, (list, tuple)) and a and not np.isscalar(a[0]) and not isinstance(a[0], (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(close(x, y, rtol, atol) for x, y in zip(a, b))
    try:
        x, y = _array(a), _array(b)
    except (TypeError, ValueError):
        return False
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=False))


def _array(v: Any) -> np.ndarray:
    if isinstance(v, torch.Tensor):
        return v.detach().cpu().double().numpy()
    return np.asarray(v, dtype=float)


def show(v: Any) -> str:
    """A short readable form of a value for feedback messages."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {show(x)}" for k, x in v.items()) + "}"
    try:
        arr = _array(v)
    except (TypeError, ValueError):
        return repr(v)[:80]
    if arr.ndim == 0:
        return f"{float(arr):.6g}"
    flat = np.array2string(arr.ravel()[:6], precision=4, separator=", ")
    return f"{flat[:-1]}{', ...' if arr.size > 6 else ''}] (shape {arr.shape})"


class Exercise:
    """An exercise: a reference solution, fixed cases with known mistakes, stepped hints, and reveal()."""

    def __init__(self, title: str, reference: Callable[..., Any], cases: Callable[[], Sequence[Case]],
                 hints: Sequence[str], compare: Callable[[Any, Any], bool] = close,
                 solution: str | None = None, name: str = "exercise", view: Callable[[Any], Any] | None = None):
        self.title, self.reference, self._cases = title, reference, cases
        self.hints, self.compare, self._solution = list(hints), compare, solution
        self.name = name  # the variable the chapter imports it as, for advice that works when typed
        # what a result is compared and shown by (a model by its outputs on fixed inputs); identity by default
        self.view = view

    @property
    def n_cases(self) -> int:
        """How many fixed cases the checker runs (one point each when graded)."""
        return len(self._cases())

    @property
    def steps(self) -> int:
        """Number of hint steps: the written hints, then the solution."""
        return len(self.hints) + 1

    def hint(self, level: int = 1) -> None:
        """Print hint step `level` (1 = a nudge, higher = closer to the answer; the last one is the solution)."""
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= self.steps:
            print(f"{self.title}：提示的編號是 1 到 {self.steps}，例如 {self.name}.hint(1)（最後一步是解答）")
            return
        if level == self.steps:
            print(f"💡 {self.title}，提示 {level}/{self.steps}（解答）：")
            print(self.solution())
            return
        more = f"還是卡住？{self.name}.hint({level + 1})" + ("（解答）" if level + 1 == self.steps else "")
        print(f"💡 {self.title}，提示 {level}/{self.steps}：{self.hints[level - 1]}\n   {more}")

    def solution(self) -> str:
        """The reference solution's source."""
        return self._solution or textwrap.dedent(inspect.getsource(self.reference))

    def reveal(self) -> None:
        """Print the reference solution (for instructors, or after trying)."""
        print(f"# 參考解答 (reference solution)：{self.title}\n{self.solution()}")

    def run(self, student: Callable[..., Any]) -> Report:
        """Run every case on `student` and explain each failure."""
        passed, failed = [], []
        view = self.view or (lambda v: v)

        def compare(got: Any, want: Any) -> bool:
            return self.compare(view(got), view(want))

        for case in self._cases():
            expected = self.reference(*_copy(case.args), **case.kwargs)
            try:
                got = student(*_copy(case.args), **case.kwargs)
            except NotImplementedError:
                return Report(self.title, [], [], not_implemented=True)
            except Exception as exc:  # a student's bug: report it as the case's failure
                failed.append(f"{case.name}：執行時發生 {type(exc).__name__}: {exc}")
                continue
            try:
                same = compare(got, expected)
            except Exception as exc:  # e.g. a result of the wrong kind
                failed.append(f"{case.name}：結果無法比較（{type(exc).__name__}: {exc}）")
                continue
            if same:
                passed.append(case.name)
                continue
            why = next((label for label, wrong in case.mistakes.items()
                        if _matches(compare, got, wrong, case)), None)
            msg = f"{case.name}：應該是 {show(view(expected))}，你的結果是 {show(view(got))}"
            failed.append(msg + (f"。可能的錯誤：{why}" if why else ""))
        return Report(self.title, passed, failed)

    def check(self, student: Callable[..., Any]) -> Callable[..., Any]:
        """Print the feedback and return what the chapter continues with: the student's function if right."""
        report = self.run(student)
        if report.not_implemented:
            print(f"⏳ {self.title}：還沒實作（NotImplementedError）。試試 {self.name}.hint(1)。"
                  "這一章接下來先用 cl_helpers 的參考答案。")
            return self.reference
        print(f"{self.title}：{len(report.passed) + len(report.failed)} 個測試中通過 {len(report.passed)} 個")
        print(report)
        if report.ok:
            print("🎉 全部正確！這一章接下來用你的函式。")
            return student
        print(f"這一章接下來先用 cl_helpers 的參考答案，直到全部通過為止。需要提示：{self.name}.hint(1)")
        return self.reference


def _copy(args: tuple) -> tuple:
    return tuple(a.clone() if isinstance(a, torch.Tensor) else copy.deepcopy(a) if isinstance(a, torch.nn.Module) else
                 {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in a.items()} if isinstance(a, dict)
                 else a for a in args)


def _matches(compare, got, wrong, case: Case) -> bool:
    try:
        return compare(got, wrong(*_copy(case.args), **case.kwargs))
    except Exception:
        return False
