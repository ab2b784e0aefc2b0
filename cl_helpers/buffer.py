"""A fixed-capacity replay memory on the device: reservoir sampling or class-balanced eviction.

The memory holds preallocated tensors for inputs, labels and task ids, so storing and sampling never
leave the device and never grow. Inputs are stored as the task showed them (already permuted, rotated),
with the id of the task they came from, so a multi-head model can replay them through the right head.

Two policies decide which incoming example takes which slot:

* ``"reservoir"`` (Vitter's algorithm R): the n-th example of the stream (n = 0, 1, ...) fills slot n
  while the memory is not full; afterwards it draws j uniformly from {0, ..., n} and replaces slot j if
  j < capacity, else it is dropped. Every example seen so far is then in memory with the same
  probability capacity / n_seen. `reservoir_slots` is that rule for a whole batch at once.
* ``"balanced"`` (class-balanced reservoir, Chrysakis & Moens 2020): once full, an example of a class
  that is not among the largest evicts a random example of a largest class; an example of a largest
  class replaces a random example of its own class with probability (its class's slots) / (its class's
  examples seen), which keeps each class's share a uniform sample of that class. Class counts end up
  equal (within one) for every class seen so far.
"""
from __future__ import annotations

import numpy as np
import torch

from .device import get_device
from .errors import ConfigError, check_choice, check_int, check_seed, check_type

POLICIES = ("reservoir", "balanced")


def reservoir_slots(n_seen: int, n_new: int, capacity: int, generator: torch.Generator) -> torch.Tensor:
    """Algorithm R for a batch: the slot each of `n_new` incoming examples goes to, or -1 to drop it.

    Incoming example i is the stream's example number n = n_seen + i (counting from 0). Per example:

        if n < capacity: slot = n                      # fill the memory first
        else:            j = uniform integer in 0..n   # keep with probability capacity / (n + 1)
                         slot = j if j < capacity else -1

    The draws are independent, so drawing them all at once gives the same distribution as a loop;
    when two examples of one batch pick the same slot, the later one must win (see `write_slots`).
    """
    device = generator.device
    n = torch.arange(n_seen, n_seen + n_new, device=device)
    # Uniform in 0..n from 62 random bits modulo n + 1: exact to a bias below n / 2**62, and no float64,
    # which Apple's MPS lacks (floor(u * (n + 1)) with a float32 u would lose uniformity past ~2**24).
    j = torch.randint(0, 2**62, (n_new,), generator=generator, device=device) % (n + 1)
    slot = torch.where(n < capacity, n, j)
    return torch.where(slot < capacity, slot, torch.full_like(slot, -1))


def write_slots(buffers: list[torch.Tensor], slots: torch.Tensor, values: list[torch.Tensor]) -> None:
    """Write `values[k][i]` into `buffers[k][slots[i]]` for slots >= 0; the last writer to a slot wins.

    Each buffer has one spare row at the end (index = capacity) that absorbs dropped and overwritten
    examples, so the write is one index_copy_ per tensor without a device-to-host sync.
    """
    capacity = len(buffers[0]) - 1
    order = torch.arange(len(slots), device=slots.device)
    keep = slots >= 0
    target = torch.where(keep, slots, capacity)
    last = torch.full((capacity + 1,), -1, dtype=torch.long, device=slots.device)
    last.scatter_reduce_(0, target, order, reduce="amax")
    # Sequential semantics: an example written earlier in the batch is overwritten by a later one.
    target = torch.where(keep & (last[target] == order), target, capacity)
    for buf, val in zip(buffers, values):
        buf.index_copy_(0, target, val.to(buf.dtype))


class ReplayBuffer:
    """A replay memory of at most `capacity` examples (inputs, labels, task ids) on one device.

    `add` offers a batch of new examples to the memory (one call per batch, in stream order);
    `sample` draws a replay mini-batch uniformly (with replacement) from what is stored. The tensors are
    allocated on the first `add`, with the inputs' shape, dtype and device.
    """

    def __init__(self, capacity: int, policy: str = "reservoir", seed: int = 0,
                 device: str | torch.device | None = None):
        self.capacity = check_int("buffer_size", capacity, 1, 100_000_000)
        self.policy = check_choice("buffer policy", policy, POLICIES)
        self.seed = check_seed("seed", seed)
        self.device = get_device(device) if device is not None else None
        self.n_seen = 0          # examples offered so far (the stream position of algorithm R)
        self.size = 0            # slots filled; never above capacity
        self._x = self._y = self._t = None
        self._gen: torch.Generator | None = None
        self._rng = np.random.default_rng(seed)   # host-side draws of the balanced policy
        self._class_seen: dict[int, int] = {}
        self._class_slots: dict[int, list[int]] = {}

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"ReplayBuffer({self.size}/{self.capacity}, policy={self.policy!r}, seen={self.n_seen})"

    @property
    def x(self) -> torch.Tensor:
        """The stored inputs (size rows)."""
        return self._x[:self.size] if self._x is not None else torch.empty(0)

    @property
    def y(self) -> torch.Tensor:
        """The stored labels (size entries)."""
        return self._y[:self.size] if self._y is not None else torch.empty(0, dtype=torch.long)

    @property
    def task_ids(self) -> torch.Tensor:
        """The task id of each stored example (size entries)."""
        return self._t[:self.size] if self._t is not None else torch.empty(0, dtype=torch.long)

    def _allocate(self, x: torch.Tensor) -> None:
        device = self.device or x.device
        self.device = device
        # One spare row (index capacity) takes the writes of dropped examples; it is never read.
        self._x = torch.zeros((self.capacity + 1, *x.shape[1:]), dtype=x.dtype, device=device)
        self._y = torch.zeros(self.capacity + 1, dtype=torch.long, device=device)
        self._t = torch.zeros(self.capacity + 1, dtype=torch.long, device=device)
        self._gen = torch.Generator(device=device).manual_seed(self.seed)

    def add(self, x: torch.Tensor, y: torch.Tensor, task_ids: torch.Tensor | int) -> None:
        """Offer a batch of new examples to the memory; the policy decides which are kept and where."""
        check_type("x", x, torch.Tensor, "a tensor of inputs, one row per example")
        check_type("y", y, torch.Tensor, "a tensor of integer labels")
        if y.dim() != 1 or len(x) != len(y) or x.dim() < 2:
            raise ConfigError(f"x of shape {tuple(x.shape)} and y of shape {tuple(y.shape)} do not match; "
                              "allowed: x (N, ...) and y (N,)")
        if y.dtype.is_floating_point or y.dtype == torch.bool:
            raise ConfigError(f"labels y must be integers, got dtype {y.dtype}; allowed: torch.long")
        if self._x is not None and (x.shape[1:] != self._x.shape[1:] or x.dtype != self._x.dtype):
            raise ConfigError(f"x of shape {tuple(x.shape)} ({x.dtype}) does not match the stored inputs "
                              f"{tuple(self._x.shape[1:])} ({self._x.dtype}); allowed: the same shape and dtype")
        if not isinstance(task_ids, torch.Tensor):
            task_ids = check_int("task id", task_ids, 0)
        elif task_ids.shape != y.shape or task_ids.dtype.is_floating_point:
            raise ConfigError(f"task ids of shape {tuple(task_ids.shape)} ({task_ids.dtype}) do not match y; "
                              "allowed: an int, or integer ids of shape (N,)")
        if len(x) == 0:
            return
        if self._x is None:
            self._allocate(x)
        if isinstance(task_ids, int):
            task_ids = torch.full((len(y),), task_ids, dtype=torch.long, device=self.device)
        if self.policy == "reservoir":
            slots = reservoir_slots(self.n_seen, len(y), self.capacity, self._gen)
        else:
            slots = torch.tensor(self._balanced_slots(y.tolist()), dtype=torch.long, device=self.device)
        write_slots([self._x, self._y, self._t], slots,
                    [x.to(self.device), y.to(self.device), task_ids.to(self.device)])
        self.n_seen += len(y)
        self.size = min(self.capacity, self.n_seen)

    def _balanced_slots(self, labels: list[int]) -> list[int]:
        # A loop over the batch's labels as Python ints: the decisions depend on class counts that change
        # with every example. It runs on the host after one label copy per batch (0.2-0.3 ms per 128
        # examples, measured on a CPU); the strategies call it only at task ends.
        slots = []
        size = self.size
        for c in labels:
            self._class_seen[c] = self._class_seen.get(c, 0) + 1
            mine = self._class_slots.setdefault(c, [])
            if size < self.capacity:
                slot, size = size, size + 1
            else:
                largest = max(len(s) for s in self._class_slots.values())
                if len(mine) < largest:
                    # Evict a random example of a largest class (ties broken at random).
                    big = [k for k, s in self._class_slots.items() if len(s) == largest]
                    victims = self._class_slots[big[self._rng.integers(len(big))]]
                    slot = _pop_random(victims, self._rng)
                elif self._rng.random() < len(mine) / self._class_seen[c]:
                    slot = _pop_random(mine, self._rng)   # reservoir within the class
                else:
                    slots.append(-1)
                    continue
            mine.append(slot)
            slots.append(slot)
        return slots

    def sample(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`n` stored examples drawn uniformly with replacement: (inputs, labels, task ids)."""
        n = check_int("replay batch size", n, 1)
        if self.size == 0:
            raise ConfigError("cannot sample from an empty replay buffer; add examples first")
        idx = torch.randint(0, self.size, (n,), generator=self._gen, device=self.device)
        return self._x[idx], self._y[idx], self._t[idx]

    def class_counts(self) -> dict[int, int]:
        """Number of stored examples per label (one device-to-host copy)."""
        labels, counts = torch.unique(self.y, return_counts=True)
        return dict(zip(labels.tolist(), counts.tolist()))

    def task_counts(self) -> dict[int, int]:
        """Number of stored examples per task id (one device-to-host copy)."""
        tids, counts = torch.unique(self.task_ids, return_counts=True)
        return dict(zip(tids.tolist(), counts.tolist()))


def _pop_random(slots: list[int], rng: np.random.Generator) -> int:
    # Swap-remove: O(1), and the order of a class's slot list carries no meaning.
    i = int(rng.integers(len(slots)))
    slots[i], slots[-1] = slots[-1], slots[i]
    return slots.pop()
