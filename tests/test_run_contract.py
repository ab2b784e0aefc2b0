"""What a run promises its caller: evaluate() agrees with the accuracy matrix for every registered strategy,
no float64 anywhere on the training path (Apple MPS has none), a kept optimizer forgets re-initialised
adapters, and a model passed in is not changed.
"""
import copy

import pytest
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

import cl_helpers.train as train_module
from cl_helpers import ConfigError, Strategy, available_strategies, evaluate, evaluate_all, get_strategy, train_stream
from cl_helpers.lora import lora_parameters
from cl_helpers.models import build_model

SMALL = dict(epochs=2, hidden=(16,), batch_size=32, lr=3e-3, progress=False)


@pytest.fixture(scope="module")
def stream(make_stream):
    return make_stream("permuted", n_tasks=3, train_size=300, test_size=100)


@pytest.fixture(scope="module")
def runs(stream):
    """One small run of every registered strategy (the registry, so methods added later are covered too)."""
    return {name: train_stream(stream, name, **SMALL) for name in available_strategies()}


@pytest.mark.parametrize("name", available_strategies())
def test_evaluate_agrees_with_the_runs_accuracy_matrix(runs, stream, name):
    r = runs[name]
    r.model.train()  # as a user might leave it; evaluate must switch to eval mode and back
    for j, task in enumerate(stream):
        assert evaluate(r, task) == r.acc_matrix[-1, j]
        assert evaluate(r.model, task) == r.acc_matrix[-1, j]          # the strategy the model was trained with
        assert evaluate(r.model, task, r.strategy) == r.acc_matrix[-1, j]
        assert evaluate(r, j) == r.acc_matrix[-1, j]                   # an index, with the run
    assert (evaluate_all(r, stream) == r.acc_matrix[-1]).all()
    assert r.model.training


def test_lora_per_task_needs_its_strategys_forward(runs, stream):
    # The deliberate mistake evaluate() used to make: the base network alone, without task 2's adapter.
    r = runs["lora_per_task"]
    assert evaluate(r.model, stream[2], Strategy()) != r.acc_matrix[-1, 2]


def test_evaluate_uses_eval_mode():
    class Dropped(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(4, 32), nn.Dropout(0.9), nn.Linear(32, 3))

        def forward(self, x, task=None):
            return self.net(x)

    class Task:  # just what evaluate reads
        x_test = torch.randn(200, 4, generator=torch.Generator().manual_seed(0))
        y_test = torch.arange(200) % 3
        id = 0

    from cl_helpers.tasks import Task as RealTask
    task = RealTask(0, "t", Task.x_test, Task.y_test, Task.x_test, Task.y_test)
    model = Dropped().train()
    values = {evaluate(model, task) for _ in range(5)}
    assert len(values) == 1 and model.training                     # no dropout noise; mode restored


def test_bad_evaluate_arguments(runs, stream):
    with pytest.raises(ConfigError, match="model must be a RunResult or an nn.Module, got str"):
        evaluate("model", stream[0])
    with pytest.raises(ConfigError, match="batch_size 0 is out of range"):
        evaluate(runs["naive"], stream[0], batch_size=0)
    with pytest.raises(ConfigError, match="task 5 is out of range; allowed: 0..2"):
        evaluate(runs["naive"], 5)


class NoFloat64(TorchFunctionMode):
    """Fails on any torch call that returns a float64 tensor, as Apple's MPS backend would."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for o in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(o, torch.Tensor) and o.dtype == torch.float64:
                raise AssertionError(f"float64 tensor from {getattr(func, '__name__', func)}")
        return out


def test_the_guard_catches_float64():
    with NoFloat64(), pytest.raises(AssertionError, match="float64 tensor from rand"):
        torch.rand(3, dtype=torch.float64)   # what reservoir sampling used to draw


@pytest.mark.parametrize("name", available_strategies())
def test_no_float64_on_the_training_path(stream, name):
    # Replay and A-GEM offer examples to the memory at each task end and draw from it on every step.
    with NoFloat64():
        r = train_stream(stream, name, **SMALL)
    assert r.acc_matrix.shape == (3, 3)


def test_kept_optimizer_forgets_reinitialised_adapters(stream, monkeypatch):
    made = []
    real = train_module.make_optimizer
    monkeypatch.setattr(train_module, "make_optimizer", lambda params, config: made.append(real(params, config))
                        or made[-1])
    s = get_strategy("lora", rank=2)
    seen, holder = {}, {}
    before_task, make_batch = s.before_task, s.make_batch

    def spy_before_task(model, task, stream_):
        before_task(model, task, stream_)
        holder["model"] = model

    def spy_make_batch(x, y, tids, t):
        if t not in seen:  # the first step of task t: what the kept optimizer holds now
            model = holder["model"]
            state = made[0].state
            seen[t] = ([p in state for p in lora_parameters(model)],
                       [p in state for n, p in model.named_parameters() if n.endswith("base.weight")])
        return make_batch(x, y, tids, t)

    s.before_task, s.make_batch = spy_before_task, spy_make_batch
    train_stream(stream, s, reset_optimizer=False, **SMALL)
    assert len(made) == 1                                  # one optimizer, kept across the three tasks
    adapters_t2, base_t2 = seen[2]
    assert not any(adapters_t2)                            # task 1's moments dropped for task 2's fresh adapter
    assert all(base_t2)                                    # the rest of the state is kept (task 0's)


def test_a_model_passed_in_is_not_changed(stream):
    model = build_model(stream, (16,))
    before = copy.deepcopy(model.state_dict())
    r1 = train_stream(stream, "lora", model=model, **SMALL)
    assert r1.model is not model and model.state_dict().keys() == before.keys()
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    r2 = train_stream(stream, "lora", model=model, **SMALL)     # the same start again: the same run
    assert (r1.acc_matrix == r2.acc_matrix).all()


def test_a_strategy_used_twice_keeps_each_runs_numbers(stream):
    s = get_strategy("lora_per_task", rank=2)
    r1 = train_stream(stream, s, **SMALL)
    r2 = train_stream(stream, s, seed=1, **{k: v for k, v in SMALL.items()})
    assert r1.strategy is not r2.strategy
    for r in (r1, r2):
        assert (evaluate_all(r, stream) == r.acc_matrix[-1]).all()
