"""Chapter 5 exercise: reservoir sampling (Vitter's algorithm R), one item at a time into a Python list.

The student writes `reservoir_add(buffer, capacity, n_seen, item, rand_int)`, which changes `buffer` in
place. The checker plays it on fixed situations with a scripted `rand_int` (so each draw is known and the
cases are exact) and on many random streams (the keep rate of early, middle and late items), and compares
the buffer it leaves with the reference's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .core import Case
from .driven import DrivenExercise


def reference_reservoir_add(buffer: list, capacity: int, n_seen: int, item: Any,
                            rand_int: Callable[[int], int]) -> None:
    """Offer `item`, the stream's item number n_seen (counting from 0), to `buffer` (in place)."""
    if len(buffer) < capacity:
        buffer.append(item)                 # room left: keep every item
    else:
        j = rand_int(n_seen + 1)            # uniform over the n_seen + 1 items seen so far, this one included
        if j < capacity:                    # probability capacity / (n_seen + 1)
            buffer[j] = item                # it replaces a uniformly chosen stored item


def _eviction_skipped(buffer, capacity, n_seen, item, rand_int):
    if len(buffer) < capacity:
        buffer.append(item)


def _always_replaces(buffer, capacity, n_seen, item, rand_int):
    j = rand_int(capacity)
    if j < len(buffer):
        buffer[j] = item
    else:
        buffer.append(item)


def _off_by_one(buffer, capacity, n_seen, item, rand_int):
    if len(buffer) < capacity:
        buffer.append(item)
    else:
        j = rand_int(n_seen)
        if j < capacity:
            buffer[j] = item


def _capacity_exceeded(buffer, capacity, n_seen, item, rand_int):
    buffer.append(item)


def _not_in_place(buffer, capacity, n_seen, item, rand_int):
    if len(buffer) < capacity:
        buffer = buffer + [item]  # noqa: F841 -- the mistake: a new list, the caller's is unchanged
    else:
        j = rand_int(n_seen + 1)
        if j < capacity:
            buffer = buffer[:j] + [item] + buffer[j + 1:]  # noqa: F841


MISTAKES = {
    "eviction skipped: once the buffer is full you never replace anything, so it keeps only the first "
    "`capacity` items of the stream forever (the course notebook's bug). When full, draw "
    "j = rand_int(n_seen + 1) and replace buffer[j] if j < capacity": _eviction_skipped,
    "always replaces: a full buffer must keep the new item only with probability capacity / (n_seen + 1); "
    "draw j = rand_int(n_seen + 1) and replace buffer[j] only if j < capacity": _always_replaces,
    "off by one: draw from n_seen + 1 values, rand_int(n_seen + 1); the new item is one of the candidates, "
    "and rand_int(n_seen) keeps it too often": _off_by_one,
    "capacity exceeded: you appended to a full buffer; append only while len(buffer) < capacity": _capacity_exceeded,
    "buffer not changed in place: use buffer.append(item) or buffer[j] = item on the list you were given "
    "(`buffer = ...` makes a new list that the caller never sees)": _not_in_place,
}


def _int_arg(n: Any) -> int:
    if isinstance(n, bool) or not float(n).is_integer() or int(n) < 1:
        raise ValueError(f"rand_int(n) needs an integer n >= 1, got {n!r}")
    return int(n)


@dataclass
class ScriptedDraws:
    """rand_int whose answer for each n is fixed by a table (0 for an n not in it)."""

    table: dict[int, int] = field(default_factory=dict)

    def __call__(self, n: int) -> int:
        """A fixed integer in [0, n)."""
        return self.table.get(_int_arg(n), 0)


@dataclass
class UniformDraws:
    """rand_int from a fixed row of uniforms u: floor(u[n] * n), so each n always gives the same answer."""

    u: np.ndarray

    def __call__(self, n: int) -> int:
        """A uniform integer in [0, n) that depends only on n."""
        n = _int_arg(n)
        return min(int(self.u[n % len(self.u)] * n), n - 1)


@dataclass
class Step:
    """Offer `items` in turn (item k is number n_seen + k) to a copy of `start`; the buffer after the last one."""

    start: list
    capacity: int
    n_seen: int
    items: list
    draws: Callable[[int], int]

    def play(self, add: Callable[..., Any]) -> list:
        """The buffer that `add` leaves."""
        buffer = list(self.start)
        for k, item in enumerate(self.items):
            add(buffer, self.capacity, self.n_seen + k, item, self.draws)
        return buffer


@dataclass
class KeepRate:
    """Many streams of items 0..n_items-1 into an empty buffer: how often early, middle and late items stay."""

    n_items: int
    capacity: int
    repeats: int
    seed: int

    def play(self, add: Callable[..., Any]) -> dict[str, float]:
        """Fraction of streams whose final buffer holds each item, averaged over each third of the stream."""
        u = np.random.default_rng(self.seed).random((self.repeats, self.n_items + 2))
        counts = np.zeros(self.n_items)
        for r in range(self.repeats):
            buffer: list = []
            draws = UniformDraws(u[r])
            for n in range(self.n_items):
                add(buffer, self.capacity, n, n, draws)
            kept = [int(i) for i in buffer if isinstance(i, (int, np.integer)) and 0 <= i < self.n_items]
            counts[kept] += 1
        rate = counts / self.repeats
        third = self.n_items // 3
        return {f"items {a}-{b - 1}": float(rate[a:b].mean())
                for a, b in ((0, third), (third, 2 * third), (2 * third, self.n_items))}


def _play(add: Callable[..., Any], scenario) -> Any:
    return scenario.play(add)


def _cases() -> list[Case]:
    draws = UniformDraws(np.random.default_rng(5).random(64))
    return [
        Case("filling: buffer [10, 11], capacity 4, item 99 is item number 2 of the stream -> append",
             (Step([10, 11], 4, 2, [99], ScriptedDraws({4: 0, 3: 1, 2: 1})),), mistakes=MISTAKES),
        Case("full, the draw keeps the item: buffer [10, 11, 12], capacity 3, item 99 is number 5, "
             "rand_int(6) returns 2 -> buffer[2] = 99",
             (Step([10, 11, 12], 3, 5, [99], ScriptedDraws({6: 2, 5: 0, 3: 1})),), mistakes=MISTAKES),
        Case("full, the draw drops the item: buffer [10, 11, 12], capacity 3, item 99 is number 4, "
             "rand_int(5) returns 4 (>= capacity) -> unchanged",
             (Step([10, 11, 12], 3, 4, [99], ScriptedDraws({5: 4, 4: 1, 3: 0})),), mistakes=MISTAKES),
        Case("a stream of items 0..19 into an empty buffer of capacity 5",
             (Step([], 5, 0, list(range(20)), draws),), mistakes=MISTAKES),
        Case("keep rate over 400 streams of items 0..29, capacity 6: every item should stay with probability "
             "6/30 = 0.2, early or late",
             (KeepRate(30, 6, 400, seed=0),), mistakes=MISTAKES),
    ]


reservoir_exercise = DrivenExercise(
    "Exercise 5.1: reservoir sampling", reference_reservoir_add, _cases,
    hints=["While the buffer has room (len(buffer) < capacity), append the item. Once it is full, the new item "
           "must be kept with probability capacity / (n_seen + 1), replacing a uniformly chosen stored item.",
           "Full buffer: j = rand_int(n_seen + 1) is uniform over the n_seen + 1 items seen so far (this one "
           "included). If j < capacity, do buffer[j] = item; otherwise drop the item."],
    driver=_play)
