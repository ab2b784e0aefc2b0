"""A-GEM: the projection rule exactly, the hook on real gradients, and less forgetting than naive."""
import pytest
import torch
import torch.nn.functional as F

from cl_helpers import ConfigError, get_strategy, train_stream
from cl_helpers.strategies.agem import AGEM, project_gradient


def test_projection_rule_by_hand():
    g_ref = torch.tensor([-1.0, 1.0])
    # conflicting: g . g_ref = -1, |g_ref|^2 = 2 -> g + 0.5 g_ref
    assert torch.allclose(project_gradient(torch.tensor([1.0, 0.0]), g_ref), torch.tensor([0.5, 0.5]))
    # agreeing or orthogonal: unchanged
    for g in (torch.tensor([0.0, 2.0]), torch.tensor([1.0, 1.0])):
        assert torch.equal(project_gradient(g, g_ref), g)
    g = torch.tensor([3.0, -1.0, 2.0])
    r = torch.tensor([-1.0, 2.0, 0.5])
    p = project_gradient(g, r)
    assert abs(torch.dot(p, r).item()) < 1e-6                # lands on the boundary g . g_ref = 0


class CheckedAGEM(AGEM):
    """A-GEM that checks every step against a reference gradient it recomputes from the same memory batch."""

    name = "agem_checked"

    def setup(self, model, stream, config):
        self.conflicts, self.steps, self.errors = 0, 0, []
        return super().setup(model, stream, config)

    def after_backward(self, model):
        if len(self.memory) == 0:
            return super().after_backward(model)
        params = [p for p in model.parameters() if p.requires_grad]
        g = torch.cat([p.grad.reshape(-1) for p in params]).clone()
        state = self.memory._gen.get_state()
        super().after_backward(model)
        after = self.memory._gen.get_state()
        self.memory._gen.set_state(state)
        x, y, tids = self.memory.sample(self.replay_batch_size)   # the batch the hook used
        self.memory._gen.set_state(after)
        g_ref = torch.cat([r.reshape(-1) for r in torch.autograd.grad(
            F.cross_entropy(model(x, tids), y), params)])
        new = torch.cat([p.grad.reshape(-1) for p in params])
        dot = torch.dot(g, g_ref).item()
        self.steps += 1
        if dot < 0:
            self.conflicts += 1
            expected = g - dot / torch.dot(g_ref, g_ref) * g_ref
            self.errors.append((new - expected).norm().item() / g.norm().item())
            self.errors.append(abs(torch.dot(new, g_ref).item()) / (new.norm() * g_ref.norm()).item())
        else:
            self.errors.append((new - g).norm().item())


def test_hook_projects_real_conflicting_gradients(make_stream):
    stream = make_stream("permuted", n_tasks=2, train_size=1000, test_size=200)
    s = CheckedAGEM(buffer_size=200, replay_batch_size=64)
    train_stream(stream, s, epochs=1, progress=False)
    assert s.steps == 8                                      # every step of task 1, none of task 0
    assert s.conflicts >= 1                                  # permuted tasks do conflict
    assert max(s.errors) < 1e-4
    assert len(s.memory) == 200 and sorted(s.memory.task_counts()) == [0, 1]


@pytest.fixture(scope="module")
def permuted_runs(request):
    # The course's experiment: 3 permuted tasks, 5000/1000 images, 3 epochs, Adam 1e-3, batch 128.
    stream = request.getfixturevalue("make_stream")("permuted", n_tasks=3, train_size=5000, test_size=1000)
    return stream, {m: train_stream(stream, m, progress=False) for m in ("naive", "agem")}


def test_agem_forgets_less_than_naive(permuted_runs, on_mnist):
    _, runs = permuted_runs
    naive, agem = runs["naive"].summary(), runs["agem"].summary()
    # measured: MNIST forgetting 0.16 -> 0.02, ACC 0.80 -> 0.89; digits forgetting 0.44 -> 0.18
    assert agem["forgetting"] < 0.6 * naive["forgetting"]
    assert agem["forgetting"] < (0.06 if on_mnist else 0.3)
    assert agem["acc"] > naive["acc"] + 0.04


def test_memory_is_filled_at_task_ends_only(permuted_runs):
    stream, runs = permuted_runs
    memory = runs["agem"].strategy.memory
    assert len(memory) == 1000 and memory.n_seen == sum(len(task.y_train) for task in stream)
    counts = memory.task_counts()
    assert sorted(counts) == [0, 1, 2] and min(counts.values()) > 250


def test_bad_params_are_one_line():
    with pytest.raises(ConfigError, match="agem replay_batch_size 0 is out of range"):
        get_strategy("agem", replay_batch_size=0)
    with pytest.raises(ConfigError, match="unknown option 'lam' for agem; allowed: buffer_size, replay_batch_size"):
        get_strategy("agem", lam=1.0)
