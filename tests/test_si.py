"""Synaptic Intelligence: hand-computed path integrals, the task-loss-only gradient, and behaviour on real data."""
import pytest
import torch
from torch import nn

from cl_helpers import ConfigError, TrainConfig, build_model, get_strategy, train_stream
from cl_helpers.strategies.si import SI, si_accumulate, si_consolidate


def test_pure_functions_by_hand():
    omega = si_accumulate([torch.tensor([0.5, 0.0])], [torch.tensor([1.0, -2.0])], [torch.tensor([-0.1, 0.3])])
    torch.testing.assert_close(omega[0], torch.tensor([0.6, 0.6]))          # 0.5 - 1*(-0.1), 0 - (-2)(0.3)
    Omega = si_consolidate([torch.tensor([1.0, 2.0, 0.0])], [torch.tensor([0.6, 0.6, 0.0])],
                           [torch.tensor([0.5, -1.0, 0.0])], xi=0.2)
    # 1 + 0.6/(0.25+0.2), 2 + 0.6/(1+0.2), and a parameter that never moved: 0 + 0/(0+0.2), no NaN
    torch.testing.assert_close(Omega[0], torch.tensor([1.0 + 0.6 / 0.45, 2.5, 0.0]))


class TwoWeights(nn.Module):
    """A hand-made problem: loss 1/2 ||w - target||^2 for a two-element parameter."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.0, 1.0], dtype=torch.float64))

    def loss(self, target):
        return 0.5 * ((self.w - torch.tensor(target, dtype=torch.float64)) ** 2).sum()


def sgd_steps(s: SI, model: TwoWeights, target, steps: int):
    """Train like the engine does (task backward, hook, penalty backward, step, hook), plain SGD lr 0.5."""
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    s.before_task(model, None, None)
    for _ in range(steps):
        opt.zero_grad()
        model.loss(target).backward()
        s.after_task_backward(model)
        penalty = s.penalty(model)
        if penalty is not None:
            penalty.backward()
        s.after_backward(model)
        opt.step()
        s.after_step(model)


def test_omega_on_a_hand_made_problem():
    model = TwoWeights()
    s = get_strategy("si", c=1.0, xi=0.1)
    s.setup(model, None, None)
    # Task 1, target (3, 1): w = (0,1) -> (1.5,1) -> (2.25,1); g = (-3,0) then (-1.5,0);
    # omega = 3*1.5 + 1.5*0.75 = 5.625; Delta = 2.25; Omega = 5.625 / (2.25^2 + 0.1). w[1] never moves: 0.
    sgd_steps(s, model, [3.0, 1.0], 2)
    torch.testing.assert_close(s.omega, torch.tensor([5.625, 0.0], dtype=torch.float64))
    s.after_task(model, None, None)
    torch.testing.assert_close(s.Omega, torch.tensor([5.625 / 5.1625, 0.0], dtype=torch.float64))
    torch.testing.assert_close(s.anchor, torch.tensor([2.25, 1.0], dtype=torch.float64))
    assert float(s.omega.abs().sum()) == 0.0                             # reset for the next task

    # Task 2, target (0, 3), with the penalty c * Omega * (w - w*)^2 now active.
    # Step 1 (at the anchor, penalty gradient 0): g = (2.25, -2), w -> (1.125, 2), omega = (2.53125, 2).
    # Step 2: task g = (1.125, -1), penalty g = 2 * Omega_0 * (1.125 - 2.25) = -2.45157385;
    # the step is -0.5 * (g + penalty g) = (0.66328692, 0.5) and omega adds -task g * step only:
    # (2.53125 - 1.125 * 0.66328692, 2 + 0.5) = (1.78505221, 2.5). With the total gradient it would be 3.41115.
    sgd_steps(s, model, [0.0, 3.0], 2)
    torch.testing.assert_close(s.omega, torch.tensor([1.7850522094430992, 2.5], dtype=torch.float64))
    s.after_task(model, None, None)
    # Delta = (1.78828692 - 2.25, 2.5 - 1) = (-0.46171308, 1.5)
    torch.testing.assert_close(s.Omega, torch.tensor([6.789371621327993, 2.5 / 2.35], dtype=torch.float64))


class CheckedSI(SI):
    """SI that checks, in the real engine, that it stored the task loss's gradient and not the total one."""

    name = "checked_si"

    def setup(self, model, stream, config):
        self.checked, self.penalty_norms = [], []
        return super().setup(model, stream, config)

    def after_backward(self, model):
        params = self.parameters_to_train(model)
        total = torch.cat([p.grad.reshape(-1) for p in params])
        if self.anchor is None:
            pen = torch.zeros_like(total)
        else:
            theta = torch.cat([p.detach().reshape(-1) for p in params])
            pen = 2 * self.c * self.Omega * (theta - self.anchor)
            self.penalty_norms.append(float(pen.norm() / total.norm()))
        self.checked.append(torch.allclose(self._grad, total - pen, rtol=1e-4, atol=1e-6))


def test_real_engine_stores_the_task_gradient_only(make_stream):
    stream = make_stream("permuted", n_tasks=2, train_size=512, test_size=64)
    r = train_stream(stream, CheckedSI(c=50.0), epochs=1, progress=False)
    s = r.strategy
    assert len(s.checked) == 8 and all(s.checked)
    assert min(s.penalty_norms[1:]) > 0.05       # the penalty's gradient was large enough to be noticed
    assert torch.isfinite(s.Omega).all() and float(s.Omega.sum()) > 0


def test_parameters_that_never_move_get_zero_importance(make_stream):
    # Task-incremental split: while task 0 trains, the heads of tasks 1 and 2 get no gradient and never move.
    stream = make_stream("split", scenario="task", n_tasks=3)
    s = get_strategy("si")
    model = s.setup(build_model(stream, (32,)), stream, TrainConfig(epochs=1))
    # a few Adam steps on task 0 in the engine's order (no penalty yet)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    task = stream[0]
    s.before_task(model, task, stream)
    for start in range(0, 256, 64):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(task.x_train[start:start + 64], 0), task.y_train[start:start + 64])
        loss.backward()
        s.after_task_backward(model)
        opt.step()
        s.after_step(model)
    s.after_task(model, task, stream)
    head_w = s.Omega[-(32 * 6 + 6):-6].view(6, 32)
    head_b = s.Omega[-6:]
    assert torch.isfinite(s.Omega).all()
    assert (head_w[:2].abs().sum(1) > 0).all() and float(head_w[2:].abs().sum() + head_b[2:].abs().sum()) == 0


@pytest.fixture(scope="module")
def course_runs(request):
    # The course's experiment: 3 permuted tasks, 5000/1000 images (all digits offline), 3 epochs, same seed.
    make_stream = request.getfixturevalue("make_stream")
    stream = make_stream("permuted", n_tasks=3, train_size=5000, test_size=1000, seed=0)
    return {m: train_stream(stream, m, progress=False) for m in ("naive", "si")}


def test_si_forgets_less_than_naive(course_runs, on_mnist):
    naive, si = course_runs["naive"].summary(), course_runs["si"].summary()
    assert si["forgetting"] < naive["forgetting"] / 2        # MNIST: ~0.015 against 0.16
    assert si["acc"] > naive["acc"] + (0.03 if on_mnist else 0.1)


def test_task_incremental_split_stays_high(make_stream, on_mnist):
    r = train_stream(make_stream("split", scenario="task"), "si", progress=False)
    assert r.summary()["acc"] > (0.95 if on_mnist else 0.90)
    assert r.summary()["forgetting"] < 0.03


def test_bad_hyperparameters_are_one_line():
    for kwargs, msg in [(dict(c=0), "si c 0 is out of range; allowed: (0, 1e+09]"),
                        (dict(c=-1), "si c -1 is out of range"),
                        (dict(xi=0), "si xi 0 is out of range; allowed: (0, 1000]"),
                        (dict(xi="big"), "si xi must be a number, got 'big'")]:
        with pytest.raises(ConfigError) as err:
            get_strategy("si", **kwargs)
        assert str(err.value) == msg or str(err.value).startswith(msg)
        assert "\n" not in str(err.value)
