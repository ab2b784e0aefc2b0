"""How often a reservoir-sampling function keeps each item of a stream: the experiment behind chapter 5's picture."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..errors import check_int

AddFn = Callable[[list, int, int, Any, Callable[[int], int]], None]


def keep_frequencies(add: AddFn, n_items: int = 200, capacity: int = 20, repeats: int = 500,
                     seed: int = 0) -> np.ndarray:
    """Offer items 0..n_items-1 to an empty list with `add` (a reservoir_add), `repeats` times: how often each stays.

    `add(buffer, capacity, n_seen, item, rand_int)` is called once per item, with rand_int(n) a uniform integer
    in [0, n) from one seeded generator. Uniform reservoir sampling keeps every item with rate capacity / n_items.
    """
    n_items = check_int("n_items", n_items, 1)
    capacity = check_int("capacity", capacity, 1)
    repeats = check_int("repeats", repeats, 1)
    rng = np.random.default_rng(seed)

    def rand_int(n: int) -> int:
        return int(rng.integers(n))

    counts = np.zeros(n_items)
    for _ in range(repeats):
        buffer: list = []
        for n in range(n_items):
            add(buffer, capacity, n, n, rand_int)
        counts[[i for i in buffer if 0 <= i < n_items]] += 1
    return counts / repeats
