"""PackNet: earlier tasks' outputs bit-identical after later tasks, disjoint masks, the pruned fraction asked for."""
import pytest
import torch
from torch import nn

from architecture_checks import outputs_after_each_task
from cl_helpers import ConfigError, TrainConfig, build_model, train_stream
from cl_helpers.strategies.packnet import FREE, PackNet


@pytest.fixture(scope="module")
def stream(make_stream):
    return make_stream("split", scenario="task", n_tasks=4, train_size=300, test_size=200)


class LeakyMask(PackNet):
    """The classic mistake: the mask lets a later task change every weight, frozen ones included."""

    def trainable_masks(self, model, t, retraining=False):
        masks = super().trainable_masks(model, t, retraining)
        return {name: torch.ones_like(m) if name in self.owner else m for name, m in masks.items()}


class PrunesOwnedWeights(PackNet):
    """A wrong prune: ranks every weight, earlier tasks' included, and hands them to the current task."""

    def prune_task(self, model, t):
        for owner in self.owner.values():
            owner[owner >= 0] = FREE
        super().prune_task(model, t)


def test_old_outputs_bit_identical_and_no_forgetting(stream):
    recorded, final, run = outputs_after_each_task(stream, PackNet, prune=0.5)
    for k in range(len(stream)):
        assert torch.equal(recorded[k], final[k]), f"task {k}'s outputs changed after later tasks"
    R = run.acc_matrix
    assert all(R[-1, k] == R[k, k] for k in range(len(stream)))      # BWT = 0 exactly
    assert R[-1].mean() > 0.85                                        # and the tasks were learnt


@pytest.mark.parametrize("wrong", [LeakyMask, PrunesOwnedWeights])
def test_classic_mistakes_change_old_outputs(stream, wrong):
    recorded, final, _ = outputs_after_each_task(stream, wrong, prune=0.5)
    assert not torch.equal(recorded[0], final[0])


def test_masks_disjoint_pruned_fraction_and_frozen_values(stream):
    prune = 0.6

    class Snapshots(PackNet):
        def after_task(self, model, task, stream):
            super().after_task(model, task, stream)
            self.after = getattr(self, "after", []) + [{n: p.detach().clone() for n, p in model.named_parameters()}]

    s = Snapshots(prune=prune)
    run = train_stream(stream, s, progress=False, hidden=(48, 48), epochs=2, batch_size=32)
    params = dict(run.model.named_parameters())
    for name, owner in s.owner.items():
        free = owner.numel()
        masks = [owner == k for k in range(len(stream))]
        for k, mask in enumerate(masks):
            kept = free - int(round(prune * free))
            assert int(mask.sum()) == kept, f"{name}: task {k} keeps {int(mask.sum())}, expected {kept}"
            free -= kept
            for j in range(k):
                assert not (mask & masks[j]).any()
            # the weights task k owns hold the values they had when it ended
            assert torch.equal(params[name][mask], s.after[k][name][mask])
        assert int((owner == FREE).sum()) == free
        assert (params[name][owner == FREE] == 0).all()               # pruned and never taken: zero
    assert s.free_fraction() == pytest.approx(prune ** len(stream), abs=0.01)
    # task k could train what the earlier ones left free: a share prune^k of the hidden weights
    assert [s.trainable_share(k) for k in range(len(stream))] == pytest.approx(
        [prune ** k for k in range(len(stream))], abs=0.01)


def test_prune_takes_the_smallest_magnitudes():
    class Stub:
        scenario = "task"

        def __len__(self):
            return 2

    model = build_model(type("S", (), {"input_size": 3, "n_outputs": 2, "n_heads": 2})(), hidden=(2,))
    with torch.no_grad():
        model.body[0].weight.copy_(torch.tensor([[0.1, -0.5, 0.3], [-0.05, 0.9, -0.2]]))
    s = PackNet(prune=0.5)
    s.setup(model, Stub(), TrainConfig())
    s.prune_task(model, 0)
    w = model.body[0].weight
    assert torch.equal(w, torch.tensor([[0.0, -0.5, 0.3], [0.0, 0.9, 0.0]]))
    assert s.owner["body.0.weight"].tolist() == [[FREE, 0, 0], [FREE, 0, FREE]]


@pytest.mark.parametrize("scenario", ["class", "domain"])
def test_needs_task_incremental(make_stream, scenario):
    stream = make_stream("split", scenario=scenario, n_tasks=2, train_size=50, test_size=20)
    with pytest.raises(ConfigError, match="scenario 'task'"):
        train_stream(stream, "packnet", progress=False, epochs=1)
