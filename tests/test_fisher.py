"""The diagonal Fisher: closed form and torch.func paths equal a per-sample backward loop, on real data."""
import pytest
import torch
from torch import nn

import cl_helpers.fisher as fisher_module
from cl_helpers import ConfigError, MLP, train_stream
from cl_helpers.fisher import FISHER_KINDS, fisher_diagonal
from reference_fisher import fisher_diagonal_loop


def assert_same(a: dict, b: dict, rtol: float = 1e-5):
    """Equal to `rtol` relative to each tensor's largest entry; every tensor must carry signal."""
    assert a.keys() == b.keys()
    for name in b:
        scale = float(b[name].abs().max())
        assert scale > 0, f"{name}: all zero, the comparison would prove nothing"
        torch.testing.assert_close(a[name], b[name], rtol=rtol, atol=rtol * scale, msg=name)


@pytest.fixture(scope="module")
def trained(request):
    # A small MLP trained for one epoch on real permuted data, so its probabilities are far from uniform.
    make_stream = request.getfixturevalue("make_stream")
    stream = make_stream("permuted", n_tasks=2, train_size=1000, test_size=100)
    model = train_stream(stream, "naive", epochs=1, hidden=(48, 32), progress=False).model
    task = stream[1]
    return model, task.x_train[:64], task.y_train[:64]


@pytest.mark.parametrize("kind", FISHER_KINDS)
@pytest.mark.parametrize("method", ["linear", "vmap"])
def test_both_paths_equal_the_loop_for_every_kind(trained, kind, method):
    model, x, y = trained
    fast = fisher_diagonal(model, x, y, kind=kind, method=method, generator=torch.Generator().manual_seed(3))
    slow = fisher_diagonal_loop(model, x, y, kind=kind, generator=torch.Generator().manual_seed(3))
    assert list(fast) == [n for n, _ in model.named_parameters()]
    assert_same(fast, slow)


def test_chunking_and_normalisation(trained):
    model, x, y = trained
    whole = fisher_diagonal(model, x, y, kind="exact")
    assert_same(fisher_diagonal(model, x, y, kind="exact", chunk_size=7), whole)
    assert_same(fisher_diagonal(model, x, y, kind="exact", method="vmap", chunk_size=5), whole)
    # A mean over samples, not a sum: the same batch twice gives the same Fisher.
    assert_same(fisher_diagonal(model, torch.cat([x, x]), kind="exact"), whole)


def test_kinds_differ_and_sampling_is_seeded(trained):
    model, x, y = trained
    f = {k: fisher_diagonal(model, x, y, kind=k, generator=torch.Generator().manual_seed(0))["head.weight"]
         for k in FISHER_KINDS}
    again = fisher_diagonal(model, x, kind="sampled", generator=torch.Generator().manual_seed(0))
    other = fisher_diagonal(model, x, kind="sampled", generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(again["head.weight"], f["sampled"])
    assert not torch.allclose(other["head.weight"], f["sampled"])
    for a in FISHER_KINDS:
        for b in FISHER_KINDS:
            if a < b:
                assert not torch.allclose(f[a], f[b], rtol=1e-3), (a, b)
    # argmax is the empirical Fisher with the predicted labels
    predicted = model(x).argmax(1)
    assert_same(fisher_diagonal(model, x, predicted, kind="empirical"), fisher_diagonal(model, x, kind="argmax"))


def test_sampled_averages_to_exact(trained):
    # labels drawn from the model's own distribution: over many draws the sampled Fisher tends to the exact one
    model, x, _ = trained
    exact = fisher_diagonal(model, x, kind="exact")
    sampled = fisher_diagonal(model, x.repeat(400, 1), kind="sampled", generator=torch.Generator().manual_seed(0))
    for name in exact:
        err = (sampled[name] - exact[name]).abs().sum() / exact[name].abs().sum()
        assert err < 0.05, (name, float(err))


def test_multi_head_model_uses_the_tasks_head(make_stream):
    stream = make_stream("split", scenario="task", n_tasks=3)
    model = train_stream(stream, "naive", epochs=1, hidden=(32,), progress=False).model
    x, y = stream[1].x_train[:40], stream[1].y_train[:40]
    for method in ("linear", "vmap"):
        fast = fisher_diagonal(model, x, y, kind="exact", task=1, method=method)
        assert_same(fast, fisher_diagonal_loop(model, x, y, kind="exact", task=1))
        # only head 1's two output units get any Fisher
        rows = fast["head.weight"].abs().sum(1)
        assert (rows[2:4] > 0).all() and rows[:2].sum() == 0 and rows[4:].sum() == 0
        tids = torch.arange(40) % 3
        assert_same(fisher_diagonal(model, x, y, kind="empirical", task=tids, method=method),
                    fisher_diagonal_loop(model, x, y, kind="empirical", task=tids))


class SmallConvNet(nn.Module):
    """A conv net over the flattened images: not all-Linear, so only the vmap path applies."""

    def __init__(self, side: int):
        super().__init__()
        self.side = side
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.fc = nn.Linear(4 * 16, 10)

    def forward(self, x):
        z = torch.relu(self.conv(x.view(-1, 1, self.side, self.side)))
        return self.fc(self.pool(z).flatten(1))


def test_non_linear_module_goes_through_vmap(dataset, monkeypatch):
    torch.manual_seed(0)
    side = dataset.image_shape[0]
    model = SmallConvNet(side)
    x, y = dataset.x_train[:24].flatten(1), dataset.y_train[:24]
    for kind in FISHER_KINDS:
        gen = lambda: torch.Generator().manual_seed(1)  # noqa: E731
        assert_same(fisher_diagonal(model, x, y, kind=kind, generator=gen()),
                    fisher_diagonal_loop(model, x, y, kind=kind, generator=gen()))
    with pytest.raises(ConfigError, match="method 'linear' does not apply to this model .*Conv2d"):
        fisher_diagonal(model, x, method="linear")
    # and an all-Linear model never reaches the vmap path under "auto"
    monkeypatch.setattr(fisher_module, "_vmap_path", lambda *a: pytest.fail("auto chose vmap for an MLP"))
    fisher_diagonal(MLP(x.shape[1], (8,)), x)


def test_frozen_parameters_are_left_out(trained):
    model, x, y = trained
    model.body[0].weight.requires_grad_(False)
    try:
        f = fisher_diagonal(model, x, kind="argmax")
        assert "body.0.weight" not in f and "body.0.bias" in f
        assert_same(f, fisher_diagonal_loop(model, x, kind="argmax"))
        assert_same(fisher_diagonal(model, x, kind="argmax", method="vmap"), f)
    finally:
        model.body[0].weight.requires_grad_(True)


def test_bad_input_is_one_line(trained):
    model, x, y = trained
    cases = [(dict(kind="fishy"), "unknown fisher kind 'fishy'; allowed: exact, sampled, empirical, argmax"),
             (dict(kind="empirical"), "fisher kind 'empirical' needs the true labels"),
             (dict(labels=y[:3]), r"labels of shape \(3,\) do not match 64 inputs"),
             (dict(method="fast"), "unknown method 'fast'; allowed: auto, linear, vmap"),
             (dict(chunk_size=0), "chunk_size 0 is out of range")]
    for kwargs, msg in cases:
        with pytest.raises(ConfigError, match=msg) as err:
            fisher_diagonal(model, x, **kwargs)
        assert "\n" not in str(err.value)


def test_public_import():
    import cl_helpers

    assert cl_helpers.fisher_diagonal is fisher_diagonal and "fisher_diagonal" in cl_helpers.__all__
