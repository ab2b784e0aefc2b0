"""EWC and online EWC: the penalty's form, the running Fisher, and less forgetting than naive on real data."""
import pytest
import torch

from cl_helpers import MLP, ConfigError, TrainConfig, build_model, get_strategy, train_stream
from cl_helpers.tasks import Task
from cl_helpers.penalties import quadratic_penalty


def test_quadratic_penalty_value_and_gradient():
    p = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([[3.0]], dtype=torch.float64, requires_grad=True)
    anchors = [torch.tensor([0.0, -1.0, 0.5], dtype=torch.float64), torch.tensor([[1.0]], dtype=torch.float64)]
    weights = [torch.tensor([2.0, 4.0, 9.0], dtype=torch.float64), torch.tensor([[0.5]], dtype=torch.float64)]
    value = quadratic_penalty([p, q], anchors, weights, 3.0)
    # 3 * (2*1 + 4*1 + 9*0 + 0.5*4) = 24
    assert float(value.detach()) == pytest.approx(24.0)
    value.backward()
    torch.testing.assert_close(p.grad, torch.tensor([12.0, -24.0, 0.0], dtype=torch.float64))  # 2*3*w*d
    torch.testing.assert_close(q.grad, torch.tensor([[6.0]], dtype=torch.float64))
    assert torch.autograd.gradcheck(lambda a, b: quadratic_penalty([a, b], anchors, weights, 3.0),
                                    (p.detach().requires_grad_(), q.detach().requires_grad_()))
    with pytest.raises(ValueError, match="shapes differ"):
        quadratic_penalty([p], [anchors[1]], [weights[1]], 1.0)


def consolidated(make_stream, name, **hparams):
    """A strategy that has finished task 0 of a small permuted stream, with its model and stream."""
    stream = make_stream("permuted", n_tasks=2, train_size=300, test_size=50)
    torch.manual_seed(0)
    model = build_model(stream, (32,))
    s = get_strategy(name, **hparams)
    model = s.setup(model, stream, TrainConfig())
    s.after_task(model, stream[0], stream)
    return s, model, stream


@pytest.mark.parametrize("name", ["ewc", "online_ewc"])
def test_penalty_is_half_lambda_fisher_quadratic(make_stream, name):
    s, model, _ = consolidated(make_stream, name, lam=7.0)
    params = list(model.parameters())
    fisher, anchor = list(s.fishers[0].values()), list(s.anchors[0].values())
    assert float(s.penalty(model).detach()) == 0.0                              # zero at theta*
    gen = torch.Generator().manual_seed(0)
    direction = [torch.randn(p.shape, generator=gen) * 0.1 for p in params]
    values = []
    for scale in (1.0, 2.0):
        with torch.no_grad():
            for p, a, d in zip(params, anchor, direction):
                p.copy_(a + scale * d)
        values.append(s.penalty(model))
    assert float(values[1].detach()) == pytest.approx(4 * float(values[0].detach()), rel=1e-5)  # quadratic
    by_hand = 7.0 / 2 * sum(float((f * (2 * d) ** 2).sum()) for f, d in zip(fisher, direction))
    assert float(values[1].detach()) == pytest.approx(by_hand, rel=1e-5)           # with the 1/2
    values[1].backward()
    for p, f, d in zip(params, fisher, direction):
        torch.testing.assert_close(p.grad, 7.0 * f * 2 * d)                # lambda * F * (theta - theta*)


def test_fisher_is_taken_on_the_tasks_inputs_and_head(make_stream):
    stream = make_stream("split", scenario="task", n_tasks=3)
    r = train_stream(stream, "ewc", epochs=1, hidden=(32,), progress=False)
    s = r.strategy
    assert len(s.fishers) == 3 and len(s.anchors) == 3
    for t, fisher in enumerate(s.fishers):
        rows = fisher["head.weight"].abs().sum(1)          # 3 heads of 2 units: only task t's head has Fisher
        assert (rows[2 * t:2 * t + 2] > 0).all() and float(rows.sum() - rows[2 * t:2 * t + 2].sum()) == 0


def test_stored_fisher_is_the_hand_computed_one():
    # A linear two-head model with zero weights: p = (1/2, 1/2) on every input, so for the exact Fisher
    # sum_y p_y (d log p_y / d z_c)^2 = p_c (1 - p_c) = 1/4, the weight's Fisher is x_i^2 / 4 averaged over
    # the inputs, the bias's 1/4, and only the task's own head (task 1: output units 2, 3) has any.
    model = MLP(2, (), 2, n_heads=2)
    torch.nn.init.zeros_(model.head.weight)
    torch.nn.init.zeros_(model.head.bias)
    x = torch.tensor([[1.0, 2.0], [3.0, 0.0], [1.0, 1.0]])      # mean of x^2: (11/3, 5/3)
    task = Task(1, "hand", x, torch.tensor([0, 1, 1]), x, torch.tensor([0, 1, 1]), classes=(0, 1))
    s = get_strategy("ewc", importance_samples=10)
    s.setup(model, None, TrainConfig())
    s.after_task(model, task, None)
    expected = torch.tensor([[0.0, 0.0], [0.0, 0.0], [11 / 12, 5 / 12], [11 / 12, 5 / 12]])
    torch.testing.assert_close(s.fishers[0]["head.weight"], expected)
    torch.testing.assert_close(s.fishers[0]["head.bias"], torch.tensor([0.0, 0.0, 0.25, 0.25]))
    torch.testing.assert_close(s.anchors[0]["head.weight"], torch.zeros(4, 2))


def test_online_fisher_decays(make_stream):
    s, model, stream = consolidated(make_stream, "online_ewc", gamma=0.25)
    f1 = {k: v.clone() for k, v in s.fishers[0].items()}
    with torch.no_grad():  # the model moves on, as if task 1 had been trained
        for p in model.parameters():
            p.mul_(1.3).add_(0.01)
    f2 = s.task_fisher(model, stream[1])
    s.after_task(model, stream[1], stream)
    assert len(s.fishers) == len(s.anchors) == 1
    for k in f1:
        assert not torch.allclose(f1[k], f2[k], rtol=0.05)
        torch.testing.assert_close(s.fishers[0][k], 0.25 * f1[k] + f2[k])
    for (k, p) in model.named_parameters():
        torch.testing.assert_close(s.anchors[0][k], p.detach())          # the single anchor is the latest


def test_separate_mode_keeps_one_term_per_task(make_stream):
    s, model, stream = consolidated(make_stream, "ewc", lam=2.0)
    first = {k: v.clone() for k, v in s.anchors[0].items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05)
    s.after_task(model, stream[1], stream)
    assert len(s.fishers) == len(s.anchors) == 2
    torch.testing.assert_close(s.anchors[0]["head.bias"], first["head.bias"])
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02)
    expected = sum(1.0 * float((f[k] * (p.detach() - a[k]) ** 2).sum())
                   for f, a in zip(s.fishers, s.anchors) for k, p in model.named_parameters())
    assert float(s.penalty(model).detach()) == pytest.approx(expected, rel=1e-5)


@pytest.fixture(scope="module")
def course_runs(request):
    # The course's experiment: 3 permuted tasks, 5000/1000 images (all digits offline), 3 epochs, same seed.
    make_stream = request.getfixturevalue("make_stream")
    stream = make_stream("permuted", n_tasks=3, train_size=5000, test_size=1000, seed=0)
    return {m: train_stream(stream, m, progress=False) for m in ("naive", "ewc", "online_ewc")}


def test_ewc_forgets_less_than_naive(course_runs, on_mnist):
    naive = course_runs["naive"].summary()
    for name in ("ewc", "online_ewc"):
        s = course_runs[name].summary()
        assert s["forgetting"] < naive["forgetting"] / 3, name   # MNIST: ~0.01 against 0.16
        assert s["acc"] > naive["acc"] + (0.03 if on_mnist else 0.1), name
        assert course_runs[name].acc_matrix[0, 0] == course_runs["naive"].acc_matrix[0, 0]  # same seed, same task 0


def test_task_incremental_split_stays_high(make_stream, on_mnist):
    stream = make_stream("split", scenario="task")
    r = train_stream(stream, "ewc", progress=False)
    assert r.summary()["acc"] > (0.95 if on_mnist else 0.90)
    assert r.summary()["forgetting"] < 0.03


def test_bad_hyperparameters_are_one_line():
    cases = [("ewc", dict(lam=0), "ewc lam 0 is out of range; allowed: (0, 1e+12]"),
             ("ewc", dict(lam=-5), "ewc lam -5 is out of range"),
             ("ewc", dict(fisher_kind="diag"), "unknown ewc fisher_kind 'diag'; allowed: exact, sampled, empirical"),
             ("ewc", dict(importance_samples=0), "ewc importance_samples 0 is out of range; allowed: 1.."),
             ("ewc", dict(importance_samples=2.5), "ewc importance_samples must be an integer, got 2.5"),
             ("ewc", dict(gamma=0.5), "unknown option 'gamma' for ewc"),
             ("online_ewc", dict(gamma=0), "online_ewc gamma 0 is out of range; allowed: (0, 1]"),
             ("online_ewc", dict(gamma=1.01), "online_ewc gamma 1.01 is out of range; allowed: (0, 1]")]
    for name, kwargs, msg in cases:
        with pytest.raises(ConfigError) as err:
            get_strategy(name, **kwargs)
        assert str(err.value).startswith(msg) and "\n" not in str(err.value)
