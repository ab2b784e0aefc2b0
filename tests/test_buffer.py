"""The replay memory as a data structure: capacity, eviction, reservoir uniformity, class balance, seeds.

These are exact unit tests, so the streams are example indices (x = the example's number), which lets a
test tell which examples the memory holds.
"""
import pytest
import torch
from scipy.stats import chi2

from cl_helpers import ConfigError, get_strategy
from cl_helpers.buffer import ReplayBuffer, reservoir_slots


def index_stream(labels, tasks, batch_sizes):
    """Yield (x, y, task ids) batches of an indexed stream; x holds each example's number."""
    labels, tasks = torch.as_tensor(labels), torch.as_tensor(tasks)
    start, k = 0, 0
    while start < len(labels):
        b = batch_sizes[k % len(batch_sizes)]
        idx = torch.arange(start, min(start + b, len(labels)))
        yield idx.float().unsqueeze(1), labels[idx], tasks[idx]
        start, k = start + b, k + 1


def stored_ids(buf) -> torch.Tensor:
    return buf.x[:, 0].long()


@pytest.mark.parametrize("policy", ["reservoir", "balanced"])
def test_capacity_holds_after_every_add_and_rows_stay_aligned(policy):
    n, cap = 3000, 100
    labels = torch.arange(n) % 7
    tasks = torch.arange(n) // 600
    buf = ReplayBuffer(cap, policy, seed=1)
    seen = 0
    # uneven batches, one larger than the whole memory
    for x, y, t in index_stream(labels, tasks, [37, 128, 250, 1, 64]):
        buf.add(x, y, t)
        seen += len(y)
        assert len(buf) == min(cap, seen) <= cap
        assert buf.x.shape[0] == buf.y.shape[0] == buf.task_ids.shape[0] == len(buf)
        ids = stored_ids(buf)
        assert (labels[ids] == buf.y).all() and (tasks[ids] == buf.task_ids).all()
        assert len(torch.unique(ids)) == len(ids)           # each example offered once, stored at most once
    assert buf.n_seen == n


@pytest.mark.parametrize("policy", ["reservoir", "balanced"])
def test_every_task_is_represented_after_a_stream(policy):
    n_tasks, per_task, cap = 5, 600, 100
    labels = torch.arange(n_tasks * per_task) // per_task * 2 + torch.arange(n_tasks * per_task) % 2
    tasks = torch.arange(n_tasks * per_task) // per_task
    buf = ReplayBuffer(cap, policy, seed=0)
    for x, y, t in index_stream(labels, tasks, [128]):
        buf.add(x, y, t)
    counts = buf.task_counts()
    assert sorted(counts) == list(range(n_tasks))
    assert min(counts.values()) >= 10                        # 20 expected per task


def test_eviction_actually_happens():
    # The course notebook's buffer stopped storing once full: late examples never got in.
    cap, n = 50, 1000
    buf = ReplayBuffer(cap, seed=0)
    before = None
    for x, y, t in index_stream(torch.zeros(n, dtype=torch.long), torch.zeros(n, dtype=torch.long), [10]):
        buf.add(x, y, t)
        if buf.n_seen == cap:
            before = stored_ids(buf).clone()
    ids = stored_ids(buf)
    assert before is not None and not torch.equal(before, ids)
    late = (ids >= n // 2).float().mean().item()
    assert 0.3 < late < 0.7                                  # about half from the second half of the stream


def test_a_batch_larger_than_the_memory():
    buf = ReplayBuffer(5, seed=3)
    buf.add(torch.arange(100.0).unsqueeze(1), torch.zeros(100, dtype=torch.long), 0)
    assert len(buf) == 5 and len(torch.unique(stored_ids(buf))) == 5
    assert stored_ids(buf).max() >= 5                        # not simply the first five


def test_reservoir_inclusion_is_uniform_over_the_stream():
    # Every example of the stream must end up stored with probability cap / n, whatever its position.
    n, cap, reps = 60, 12, 2000
    counts = torch.zeros(n)
    zeros = torch.zeros(n, dtype=torch.long)
    for rep in range(reps):
        buf = ReplayBuffer(cap, seed=rep)
        for x, y, t in index_stream(zeros, zeros, [7]):     # batches straddle the moment the memory fills
            buf.add(x, y, t)
        counts[stored_ids(buf)] += 1
    p = cap / n
    freq = counts / reps
    # chi-square of the per-example inclusion counts against Binomial(reps, p)
    stat = (((counts - reps * p) ** 2) / (reps * p * (1 - p))).sum().item()
    assert stat < chi2.ppf(0.999, n)
    assert (freq - p).abs().max().item() < 0.05              # per example: about 5 standard deviations
    assert abs(freq[:cap].mean().item() - p) < 0.02          # "keep the first cap" would give 1.0 here
    assert abs(freq[-cap:].mean().item() - p) < 0.02         # and 0.0 here


def reservoir_loop(cap, batches, seed):
    """Algorithm R one example at a time, with the same random draws as the vectorised version."""
    gen = torch.Generator().manual_seed(seed)
    memory, n = [None] * cap, 0
    for batch in batches:
        bits = torch.randint(0, 2**62, (len(batch),), generator=gen)
        for value, r in zip(batch, bits.tolist()):
            if n < cap:
                memory[n] = value
            else:
                j = r % (n + 1)
                if j < cap:
                    memory[j] = value
            n += 1
    return memory


def test_vectorised_reservoir_equals_the_one_example_loop():
    # Batches far larger than the memory force several examples of one batch onto the same slot:
    # the later one must win, as in the loop.
    cap, seed = 6, 11
    batches = [list(range(0, 4)), list(range(4, 50)), list(range(50, 300)), list(range(300, 301))]
    buf = ReplayBuffer(cap, seed=seed)
    for b in batches:
        buf.add(torch.tensor(b, dtype=torch.float32).unsqueeze(1), torch.zeros(len(b), dtype=torch.long), 0)
    assert stored_ids(buf).tolist() == reservoir_loop(cap, batches, seed)


def test_reservoir_slots_rule():
    gen = torch.Generator().manual_seed(0)
    slots = reservoir_slots(0, 10, 4, gen)
    assert slots[:4].tolist() == [0, 1, 2, 3]                # fill first
    assert ((slots[4:] >= -1) & (slots[4:] < 4)).all()
    drops = (reservoir_slots(10_000, 5000, 4, gen) == -1).float().mean().item()
    assert drops > 0.99                                      # keep probability ~ 4 / 12,500


def test_balanced_keeps_classes_equal_on_an_imbalanced_stream():
    # Task 0: 600 of class 0, 40 of class 1; task 1: 300 of class 2, 120 of class 3; task 2: 500 of class 4.
    sizes = [(0, 600, 0), (1, 40, 0), (2, 300, 1), (3, 120, 1), (4, 500, 2)]
    labels = torch.cat([torch.full((k,), c) for c, k, _ in sizes])
    tasks = torch.cat([torch.full((k,), t) for _, k, t in sizes])
    # Shuffle within each task, as a training epoch would show it.
    gen = torch.Generator().manual_seed(0)
    order = torch.cat([torch.nonzero(tasks == t).squeeze(1)[torch.randperm(int((tasks == t).sum()), generator=gen)]
                       for t in range(3)])
    labels, tasks = labels[order], tasks[order]
    cap = 90
    balanced, reservoir = ReplayBuffer(cap, "balanced", seed=0), ReplayBuffer(cap, "reservoir", seed=0)
    for x, y, t in index_stream(labels, tasks, [64]):
        balanced.add(x, y, t)
        reservoir.add(x, y, t)
    counts = balanced.class_counts()
    assert sorted(counts) == [0, 1, 2, 3, 4] and sum(counts.values()) == cap
    assert max(counts.values()) - min(counts.values()) <= 1
    res = reservoir.class_counts()
    assert res.get(1, 0) < 10 and res[0] > 25                # the stream really is imbalanced
    # Within the largest class the memory is a sample of the whole stream, not its first examples.
    rank = torch.searchsorted(torch.nonzero(labels == 0).squeeze(1), stored_ids(balanced)[balanced.y == 0])
    assert 200 < rank.float().mean().item() < 400            # ~300 for a uniform sample of class 0's 600


def test_same_seed_same_memory():
    def fill(seed, policy):
        buf = ReplayBuffer(30, policy, seed=seed)
        labels = torch.arange(500) % 5
        for x, y, t in index_stream(labels, torch.zeros(500, dtype=torch.long), [50]):
            buf.add(x, y, t)
        return stored_ids(buf).tolist(), buf.sample(8)[0][:, 0].tolist()

    for policy in ("reservoir", "balanced"):
        assert fill(4, policy) == fill(4, policy)
        assert fill(4, policy) != fill(5, policy)


def test_sample_draws_only_stored_examples():
    buf = ReplayBuffer(20, seed=0)
    with pytest.raises(ConfigError, match="empty"):
        buf.sample(4)
    buf.add(torch.arange(8.0).unsqueeze(1), torch.arange(8) % 2, torch.arange(8) // 4)
    x, y, t = buf.sample(64)
    assert x.shape == (64, 1) and set(x[:, 0].long().tolist()) <= set(range(8))
    assert (y == x[:, 0].long() % 2).all() and (t == x[:, 0].long() // 4).all()


def test_bad_input_is_one_line():
    with pytest.raises(ConfigError, match="buffer_size 0 is out of range; allowed: 1..100000000"):
        ReplayBuffer(0)
    with pytest.raises(ConfigError, match="unknown buffer policy 'fifo'; allowed: reservoir, balanced"):
        ReplayBuffer(10, "fifo")
    with pytest.raises(ConfigError, match="replay buffer_size 0 is out of range; allowed: 1..1000000"):
        get_strategy("replay", buffer_size=0)
    with pytest.raises(ConfigError, match="unknown replay policy 'fifo'"):
        get_strategy("replay", policy="fifo")
