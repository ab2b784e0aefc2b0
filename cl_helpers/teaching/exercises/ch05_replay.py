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
    "滿了就不再取代（eviction 被跳過）：buffer 會永遠只留 stream 最前面的 capacity 個 item。滿了之後要抽 "
    "j = rand_int(n_seen + 1)，若 j < capacity 就取代 buffer[j]": _eviction_skipped,
    "每次都取代：buffer 滿了之後，新 item 只能以 capacity / (n_seen + 1) 的機率留下；抽 "
    "j = rand_int(n_seen + 1)，只有 j < capacity 才取代 buffer[j]": _always_replaces,
    "差一錯誤（off-by-one error）：要從 n_seen + 1 個值中抽，rand_int(n_seen + 1)；新 item 自己也是候選者，"
    "rand_int(n_seen) 會讓它太常被留下": _off_by_one,
    "超過容量：buffer 滿了還在 append，於是它越長越大、超過 capacity（原 notebook 的 bug："
    "add_task_samples 加完樣本就 return，跳過了後面的 eviction）。只有 len(buffer) < capacity 時才 append": _capacity_exceeded,
    "沒有 in place 修改 buffer：要對傳進來的 list 用 buffer.append(item) 或 buffer[j] = item"
    "（`buffer = ...` 會建立一個新的 list，呼叫的人看不到）": _not_in_place,
}


def _int_arg(n: Any) -> int:
    if isinstance(n, bool) or not float(n).is_integer() or int(n) < 1:
        raise ValueError(f"rand_int(n) 的 n 必須是 >= 1 的整數，你給的是 {n!r}")
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
        Case("還沒滿：buffer [10, 11]，capacity 4，item 99 是 stream 的第 2 個 item -> append",
             (Step([10, 11], 4, 2, [99], ScriptedDraws({4: 0, 3: 1, 2: 1})),), mistakes=MISTAKES),
        Case("滿了，抽到要留下：buffer [10, 11, 12]，capacity 3，item 99 是第 5 個，"
             "rand_int(6) 回傳 2 -> buffer[2] = 99",
             (Step([10, 11, 12], 3, 5, [99], ScriptedDraws({6: 2, 5: 0, 3: 1})),), mistakes=MISTAKES),
        Case("滿了，抽到要丟掉：buffer [10, 11, 12]，capacity 3，item 99 是第 4 個，"
             "rand_int(5) 回傳 4（>= capacity）-> 不變",
             (Step([10, 11, 12], 3, 4, [99], ScriptedDraws({5: 4, 4: 1, 3: 0})),), mistakes=MISTAKES),
        Case("item 0..19 依序放進 capacity 5 的空 buffer",
             (Step([], 5, 0, list(range(20)), draws),), mistakes=MISTAKES),
        Case("400 條 item 0..29 的 stream，capacity 6：不論早晚，每個 item 留下的機率都應該是 "
             "6/30 = 0.2",
             (KeepRate(30, 6, 400, seed=0),), mistakes=MISTAKES),
    ]


reservoir_exercise = DrivenExercise(
    "練習 5.1：reservoir sampling", reference_reservoir_add, _cases,
    hints=["buffer 還有空位（len(buffer) < capacity）時，直接 append。滿了之後，新 item 要以 "
           "capacity / (n_seen + 1) 的機率留下，並取代一個均勻隨機選出的舊 item。",
           "滿了：j = rand_int(n_seen + 1) 在目前看過的 n_seen + 1 個 item（包含這一個）中均勻分布。"
           "若 j < capacity，就 buffer[j] = item；否則丟掉這個 item。"],
    driver=_play, name="reservoir_exercise")
