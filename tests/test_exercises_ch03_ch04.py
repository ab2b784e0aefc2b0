"""The reference solutions of chapters 3 and 4 agree with the package the chapters use."""
import copy

import pytest
import torch

from cl_helpers import MLP, get_strategy, train_stream
from cl_helpers.teaching.exercises.ch03_ewc import reference_empirical_fisher, reference_ewc_penalty
from cl_helpers.teaching.exercises.ch04_lora import reference_lora_forward, reference_lora_trainable_params
from cl_helpers.fisher import fisher_diagonal
from cl_helpers.lora import LoRALinear, add_lora, count_trainable
from cl_helpers.penalties import quadratic_penalty


@pytest.fixture(scope="module")
def ewc_run(make_stream):
    stream = make_stream("permuted", n_tasks=2, train_size=300, test_size=100)
    return stream, train_stream(stream, get_strategy("ewc", lam=50.0, importance_samples=64), epochs=1,
                                hidden=(32,), progress=False)


def test_ewc_penalty_reference_is_the_strategys_penalty(ewc_run):
    _, run = ewc_run
    s, model = run.strategy, run.model
    params = dict(model.named_parameters())
    with torch.no_grad():  # move away from the anchor so the penalty is not zero
        for p in params.values():
            p.add_(0.01 * torch.randn(p.shape, generator=torch.Generator().manual_seed(0)))
    expected = sum(quadratic_penalty(list(params.values()), list(a.values()), list(f.values()), s.lam / 2)
                   for f, a in zip(s.fishers, s.anchors))
    ours = sum(reference_ewc_penalty(params, a, f, s.lam) for f, a in zip(s.fishers, s.anchors))
    assert float(expected.detach()) > 0
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=0)
    torch.testing.assert_close(s.penalty(model), expected, rtol=1e-5, atol=0)


def test_empirical_fisher_reference_equals_the_closed_form(ewc_run):
    stream, run = ewc_run
    x, y = stream[1].x_test[:40], stream[1].y_test[:40]
    loop = reference_empirical_fisher(run.model, x, y)
    fast = fisher_diagonal(run.model, x, y, kind="empirical")
    assert loop.keys() == fast.keys()
    for k in fast:
        scale = float(fast[k].abs().max())
        assert scale > 0
        torch.testing.assert_close(loop[k], fast[k], rtol=1e-4, atol=1e-5 * scale)


def test_lora_forward_reference_is_loralinear():
    torch.manual_seed(0)
    layer = LoRALinear(torch.nn.Linear(7, 5), rank=3, alpha=6.0)
    with torch.no_grad():
        layer.B.normal_()
        x = torch.randn(4, 7)
        torch.testing.assert_close(reference_lora_forward(x, layer.base.weight, layer.base.bias, layer.A, layer.B,
                                                          layer.alpha, layer.rank), layer(x))


@pytest.mark.parametrize("rank,targets", [(1, "all"), (8, "all"), (10, "all"), (16, "body"), (64, "body")])
def test_trainable_count_reference_is_the_model_count(rank, targets):
    mlp = MLP(784, (256, 256), 10)
    shapes = [(784, 256), (256, 256), (256, 10)] if targets == "all" else [(784, 256), (256, 256)]
    assert reference_lora_trainable_params(shapes, rank) == count_trainable(add_lora(copy.deepcopy(mlp), rank,
                                                                                     targets=targets))
