"""Exercises whose student function is run by a driver: an in-place update played on a stream, a loss and its gradient.

A plain `Exercise` compares `fn(*args)` with the reference's. Some functions are best judged by what they do
when used: `reservoir_add` mutates a list and returns nothing, a penalty must also have the right gradient.
A `DrivenExercise` compares `driver(fn, *args)` instead, for the student's function, the reference and each
named mistake alike; `check` still returns the plain function (the student's, or the reference).
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any, Callable, Sequence

from .core import Case, Exercise, Report, close


class DrivenExercise(Exercise):
    """An Exercise whose cases are judged on `driver(fn, *case.args, **case.kwargs)` rather than `fn(*args)`."""

    def __init__(self, title: str, reference: Callable[..., Any], cases: Callable[[], Sequence[Case]],
                 hints: Sequence[str], driver: Callable[..., Any], compare: Callable[[Any, Any], bool] = close,
                 solution: str | None = None, name: str = "exercise"):
        super().__init__(title, reference, cases, hints, compare, solution, name=name)
        self.driver = driver

    def run(self, student: Callable[..., Any]) -> Report:
        """Run every case through the driver on `student` and explain each failure."""
        driven = Exercise(self.title, partial(self.driver, self.reference), self._driven_cases, self.hints,
                          self.compare)
        return driven.run(partial(self.driver, student))

    def _driven_cases(self) -> list[Case]:
        return [replace(case, mistakes={label: partial(self.driver, wrong) for label, wrong in case.mistakes.items()})
                for case in self._cases()]
