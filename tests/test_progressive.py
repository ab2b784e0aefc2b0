"""Progressive Networks: frozen columns keep old outputs bit-identical; one column per task; needs task ids."""
import pytest
import torch

from architecture_checks import outputs_after_each_task
from cl_helpers import ConfigError, count_parameters, train_stream
from cl_helpers.strategies.progressive import Progressive, ProgressiveNet


@pytest.fixture(scope="module")
def stream(make_stream):
    return make_stream("split", scenario="task", n_tasks=3, train_size=300, test_size=200)


class ColumnLeftTrainable(Progressive):
    """The classic mistake: a finished column is not frozen, so later tasks train it through the laterals."""

    def before_task(self, model, task, stream):
        super().before_task(model, task, stream)
        for k in range(task.id):
            for p in model.column(k):
                p.requires_grad_(True)


def test_old_outputs_bit_identical_and_no_forgetting(stream):
    recorded, final, run = outputs_after_each_task(stream, Progressive)
    for k in range(len(stream)):
        assert torch.equal(recorded[k], final[k]), f"task {k}'s outputs changed after later tasks"
    R = run.acc_matrix
    assert all(R[-1, k] == R[k, k] for k in range(len(stream)))
    assert R[-1].mean() > 0.85


def test_unfrozen_column_forgets(stream):
    recorded, final, _ = outputs_after_each_task(stream, ColumnLeftTrainable)
    assert not torch.equal(recorded[0], final[0])


def test_only_the_current_column_trains(stream):
    seen = []

    class Watch(Progressive):
        def after_task(self, model, task, stream):
            seen.append({id(p) for p in model.parameters() if p.requires_grad})
            super().after_task(model, task, stream)

    run = train_stream(stream, Watch(), progress=False, hidden=(16,), epochs=1)
    for t, ids in enumerate(seen):
        assert ids == {id(p) for p in run.model.column(t)}


def test_parameters_grow_by_one_column_and_its_laterals():
    widths = [784, 100, 50, 2]
    net = ProgressiveNet(784, (100, 50), 2, n_columns=5)
    column = sum(a * b + b for a, b in zip(widths, widths[1:]))
    lateral = sum(a * b for a, b in zip(widths[1:], widths[2:]))        # into every layer after the first
    counts = [net.n_parameters(k) for k in range(1, 6)]
    assert counts == [k * column + k * (k - 1) // 2 * lateral for k in range(1, 6)]
    assert count_parameters(net, trainable_only=False) == counts[-1]
    steps = [b - a for a, b in zip(counts, counts[1:])]
    assert steps == [column + k * lateral for k in range(1, 5)]          # each task adds at least a whole column


def test_mixed_task_batch_matches_per_task_forward():
    torch.manual_seed(0)
    net = ProgressiveNet(10, (8, 6), 3, n_columns=3)
    x, tids = torch.randn(12, 10), torch.tensor([0, 1, 2] * 4)
    mixed = net(x, tids)
    for t in range(3):
        assert torch.allclose(mixed[tids == t], net(x[tids == t], t), atol=1e-6)


def test_needs_task_incremental(make_stream):
    stream = make_stream("split", scenario="class", n_tasks=2, train_size=50, test_size=20)
    with pytest.raises(ConfigError, match="scenario 'task'"):
        train_stream(stream, "progressive", progress=False, epochs=1)
