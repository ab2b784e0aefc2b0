"""MAS: the importance equals a per-sample loop, accumulates over tasks, and reduces forgetting on real data."""
import pytest
import torch

from cl_helpers import ConfigError, TrainConfig, build_model, get_strategy, train_stream
from cl_helpers.strategies.mas import mas_importance


def importance_loop(model, x, task=None):
    """The obvious reference: one backward of ||logits||^2 per sample, absolute values averaged."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    total = {n: torch.zeros_like(p) for n, p in named}
    for i in range(len(x)):
        z = model(x[i:i + 1]) if task is None else model(x[i:i + 1], task)
        grads = torch.autograd.grad((z ** 2).sum(), [p for _, p in named])
        for (n, _), g in zip(named, grads):
            total[n] += g.abs()
    return {n: t / len(x) for n, t in total.items()}


def assert_same(a, b, rtol=1e-5):
    assert a.keys() == b.keys()
    for n in b:
        scale = float(b[n].abs().max())
        assert scale > 0, n
        torch.testing.assert_close(a[n], b[n], rtol=rtol, atol=rtol * scale, msg=n)


@pytest.mark.parametrize("method", ["linear", "vmap"])
def test_importance_equals_the_loop(make_stream, method):
    stream = make_stream("permuted", n_tasks=2, train_size=800, test_size=100)
    model = train_stream(stream, "naive", epochs=1, hidden=(40,), progress=False).model
    x = stream[1].x_train[:50]
    fast = mas_importance(model, x, method=method)
    assert_same(fast, importance_loop(model, x))
    # the mean of per-sample absolute values, not the absolute value of the batch gradient (signs cancel there)
    batch = torch.autograd.grad((model(x) ** 2).sum() / len(x), model.body[0].weight)[0].abs()
    assert float(batch.sum()) < 0.9 * float(fast["body.0.weight"].sum())


@pytest.mark.parametrize("method", ["linear", "vmap"])
def test_multi_head_importance_uses_the_tasks_logits(make_stream, method):
    stream = make_stream("split", scenario="task", n_tasks=3)
    model = train_stream(stream, "naive", epochs=1, hidden=(24,), progress=False).model
    x = stream[2].x_train[:30]
    fast = mas_importance(model, x, task=2, method=method)
    assert_same(fast, importance_loop(model, x, task=2))
    rows = fast["head.weight"].abs().sum(1)
    assert (rows[4:6] > 0).all() and float(rows[:4].sum()) == 0


def test_importance_accumulates_and_penalty_is_lambda_quadratic(make_stream):
    stream = make_stream("permuted", n_tasks=2, train_size=300, test_size=50)
    torch.manual_seed(0)
    s = get_strategy("mas", lam=3.0, importance_samples=100)
    model = s.setup(build_model(stream, (16,)), stream, TrainConfig())
    assert s.penalty(model) is None
    s.after_task(model, stream[0], stream)
    first = {k: v.clone() for k, v in s.importance.items()}
    assert float(s.penalty(model).detach()) == 0.0
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.03)
    s.after_task(model, stream[1], stream)
    # what was added is the importance of the moved model on 100 of task 1's inputs
    added = {k: s.importance[k] - first[k] for k in first}
    assert all(float(v.min()) >= 0 for v in added.values()) and float(added["body.0.weight"].sum()) > 0
    with torch.no_grad():
        for p in model.parameters():
            p.add_(-0.01)
    expected = 3.0 * sum(float((s.importance[k] * 0.01 ** 2).sum()) for k in first)
    value = s.penalty(model)
    assert float(value.detach()) == pytest.approx(expected, rel=1e-4)      # lam * sum Omega d^2, no 1/2
    value.backward()
    for k, p in model.named_parameters():
        torch.testing.assert_close(p.grad, 2 * 3.0 * s.importance[k] * (-0.01))


def test_mas_forgets_less_than_naive(make_stream, on_mnist):
    stream = make_stream("permuted", n_tasks=3, train_size=5000, test_size=1000, seed=0)
    naive = train_stream(stream, "naive", progress=False).summary()
    mas = train_stream(stream, "mas", progress=False).summary()
    assert mas["forgetting"] < naive["forgetting"] / 3          # MNIST: ~0.008 against 0.16
    assert mas["acc"] > naive["acc"] + (0.03 if on_mnist else 0.1)


def test_bad_hyperparameters_are_one_line():
    for kwargs, msg in [(dict(lam=0), "mas lam 0 is out of range; allowed: (0, 1e+12]"),
                        (dict(importance_samples=0), "mas importance_samples 0 is out of range; allowed: 1..10000000"),
                        (dict(importance_samples=1.5), "mas importance_samples must be an integer, got 1.5; allowed: 1..10000000")]:
        with pytest.raises(ConfigError) as err:
            get_strategy("mas", **kwargs)
        assert str(err.value) == msg
