"""LoRA layers: exact identities (fresh adapter, merge/unmerge, counts, frozen base) and the two strategies' wiring."""
import copy
import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cl_helpers import MLP, ConfigError, count_parameters, get_strategy, train_stream
from cl_helpers.lora import (LoRALinear, add_lora, count_trainable, lora_layers, lora_parameters, merge_lora,
                             unmerge_lora)
from cl_helpers.train import TrainConfig


@pytest.fixture
def images(dataset):
    """64 real images, flattened (784 features on MNIST, 64 on the offline digits)."""
    return dataset.x_train[:64].flatten(1)


def _mlp(n_in: int, seed: int = 0) -> MLP:
    torch.manual_seed(seed)
    return MLP(n_in, (32, 16), 10)


def _random_adapters(model, seed: int = 1, scale: float = 0.05) -> None:
    # A trained adapter has B != 0; make one so merge and the update actually change something.
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in lora_layers(model).values():
            layer.B.copy_(scale * torch.randn(layer.B.shape, generator=g))


def test_fresh_adapter_leaves_outputs_exactly_unchanged(images):
    model = _mlp(images.shape[1])
    before = model(images)
    add_lora(model, rank=4)
    assert set(lora_layers(model)) == {"body.0", "body.2", "head"}
    assert all(torch.count_nonzero(layer.B) == 0 and torch.count_nonzero(layer.A) > 0
               for layer in lora_layers(model).values())
    assert torch.equal(model(images), before)


def test_forward_is_base_plus_scaled_low_rank_update():
    torch.manual_seed(0)
    layer = LoRALinear(nn.Linear(6, 5), rank=2, alpha=3.0)
    with torch.no_grad():
        layer.A.copy_(torch.arange(12.0).view(2, 6) / 10)
        layer.B.copy_(torch.arange(10.0).view(5, 2) / 7 - 0.5)
    x = torch.linspace(-1, 1, 18).view(3, 6)
    w = layer.base.weight + 1.5 * layer.B @ layer.A  # alpha / rank = 3 / 2
    torch.testing.assert_close(layer(x), F.linear(x, w, layer.base.bias), rtol=0, atol=1e-6)
    torch.testing.assert_close(layer.delta_weight(), 1.5 * layer.B @ layer.A)
    assert "rank=2, alpha=3" in repr(layer) and "merged=False" in repr(layer)
    assert LoRALinear(nn.Linear(6, 5), rank=2).scaling == 1.0  # alpha defaults to the rank


def test_merge_unmerge_round_trip_and_merged_forward_uses_the_base_alone(images):
    model = add_lora(_mlp(images.shape[1]), rank=3)
    _random_adapters(model)
    weights = {n: layer.base.weight.clone() for n, layer in lora_layers(model).items()}
    deltas = {n: layer.delta_weight().detach().clone() for n, layer in lora_layers(model).items()}
    unmerged = model(images).detach()
    assert not torch.allclose(unmerged, add_lora(_mlp(images.shape[1]), rank=3)(images), atol=1e-3)

    merge_lora(model)
    merge_lora(model)  # a second merge must not add the update twice
    for n, layer in lora_layers(model).items():
        assert layer.merged
        torch.testing.assert_close(layer.base.weight, weights[n] + deltas[n], rtol=0, atol=1e-6)
    merged = model(images).detach()
    torch.testing.assert_close(merged, unmerged, rtol=0, atol=1e-5)
    # Merged, the adapters are not read at all: poisoning them leaves the outputs exactly as they were.
    poisoned = copy.deepcopy(model)
    with torch.no_grad():
        for layer in lora_layers(poisoned).values():
            layer.A.fill_(float("nan"))
    assert torch.equal(poisoned(images), merged)

    unmerge_lora(model)
    unmerge_lora(model)
    for n, layer in lora_layers(model).items():
        assert not layer.merged
        torch.testing.assert_close(layer.base.weight, weights[n], rtol=0, atol=1e-6)
    torch.testing.assert_close(model(images), unmerged, rtol=0, atol=1e-6)


def test_trainable_parameter_counts_are_exact_on_the_course_mlp():
    model = add_lora(MLP(), rank=4)  # 784-256-256-10
    n = 4 * (784 + 256) + 4 * (256 + 256) + 4 * (256 + 10)
    assert n == 7272
    assert count_trainable(model) == count_parameters(model) == n
    assert sum(p.numel() for p in lora_parameters(model)) == n
    assert count_parameters(model, trainable_only=False) == 269_322 + n
    assert count_trainable(add_lora(MLP(), rank=4, targets="head")) == 4 * (256 + 10)
    assert count_trainable(add_lora(MLP(), rank=2, targets="body")) == 2 * (784 + 256) + 2 * (256 + 256)
    assert count_trainable(add_lora(MLP(), rank=1, targets=["body.0", "head"])) == (784 + 256) + (256 + 10)
    assert count_trainable(add_lora(MLP(), rank=10, targets="body.2,head")) == 10 * 512 + 10 * 266


def test_base_is_frozen_and_only_the_adapters_get_gradients(images, dataset):
    model = add_lora(_mlp(images.shape[1]), rank=4, targets="body.0,head")
    frozen = {n: p.clone() for n, p in model.named_parameters() if not n.endswith((".A", ".B"))}
    assert frozen and not any(p.requires_grad for n, p in model.named_parameters() if n in frozen)
    opt = torch.optim.Adam(lora_parameters(model), lr=1e-2)
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(images), dataset.y_train[:64]).backward()
        assert all(p.grad is None for n, p in model.named_parameters() if n in frozen)
        assert all(layer.B.grad is not None and layer.B.grad.abs().sum() > 0
                   for layer in lora_layers(model).values())
        opt.step()
    for n, p in model.named_parameters():
        if n in frozen:
            assert torch.equal(p, frozen[n]), n
    assert all(torch.count_nonzero(layer.B) > 0 for layer in lora_layers(model).values())


def test_bad_ranks_alphas_and_targets_raise_config_errors():
    with pytest.raises(ConfigError, match=r"LoRA rank 0 is out of range for body.0 \(784 -> 256\); allowed: 1..256"):
        add_lora(MLP(), rank=0)
    with pytest.raises(ConfigError, match=r"LoRA rank 11 is out of range for head \(256 -> 10\); allowed: 1..10"):
        add_lora(MLP(), rank=11)
    with pytest.raises(ConfigError, match=r"allowed: 1..5"):
        LoRALinear(nn.Linear(5, 8), rank=6)
    with pytest.raises(ConfigError, match="must be an integer"):
        add_lora(MLP(), rank=2.5)
    with pytest.raises(ConfigError, match=r"alpha 0 is out of range; allowed: > 0"):
        add_lora(MLP(), rank=4, alpha=0)
    listing = "allowed: all, or some of body.0, body.2, head$"
    with pytest.raises(ConfigError, match="unknown LoRA target 'body.5'; " + listing):
        add_lora(MLP(), rank=4, targets=["body.0", "body.5"])
    with pytest.raises(ConfigError, match=r"'body.1' \(ReLU\) holds no nn.Linear"):
        add_lora(MLP(), rank=4, targets="body.1")
    with pytest.raises(ConfigError, match="already has LoRA adapters"):
        add_lora(add_lora(MLP(), rank=2), rank=2)
    model = MLP()
    with pytest.raises(ConfigError, match="allowed: 1..10"):
        add_lora(model, rank=16)  # checked before anything changes
    assert not lora_layers(model) and all(p.requires_grad for p in model.parameters())
    with pytest.raises(ConfigError, match="lora rank 0 is out of range"):
        get_strategy("lora", rank=0)
    with pytest.raises(ConfigError, match="lora_per_task alpha -1 is out of range"):
        get_strategy("lora_per_task", alpha=-1)
    with pytest.raises(ConfigError, match="names no layer"):
        get_strategy("lora", targets=" , ")


def test_sequential_lora_changes_each_weight_by_rank_r_per_later_task(make_stream):
    # Task 0 trains the full model; tasks 1 and 2 each add one merged rank-2 update to the targeted layers only.
    stream = make_stream("permuted", n_tasks=3, train_size=256, test_size=64)
    config = TrainConfig(epochs=1, hidden=(32, 16))
    pretrained = train_stream(dataclasses.replace(stream, tasks=stream.tasks[:1]), "naive", config, progress=False)
    lora = get_strategy("lora", rank=2, targets="body.0,head")
    run = train_stream(stream, lora, config, progress=False)
    final = run.model
    layers = lora_layers(final)
    assert set(layers) == {"body.0", "head"} and all(layer.merged for layer in layers.values())
    base = dict(pretrained.model.named_parameters())
    for name, layer in layers.items():
        diff = layer.base.weight.detach() - base[f"{name}.weight"]
        assert diff.abs().max() > 1e-4
        assert int(torch.linalg.matrix_rank(diff, atol=1e-5)) == 4  # two tasks, rank 2 each
        assert torch.equal(layer.base.bias, base[f"{name}.bias"])
    assert torch.equal(final.body[2].weight, base["body.2.weight"])  # not a target: untouched after task 0
    assert run.acc_matrix[0, 0] == pretrained.acc_matrix[0, 0]
    again = train_stream(stream, get_strategy("lora", rank=2, targets="body.0,head"), config, progress=False)
    assert np.array_equal(again.acc_matrix, run.acc_matrix)  # same seed, same numbers
    assert torch.equal(again.model.head.base.weight, final.head.base.weight)


def test_per_task_adapters_route_each_example_to_its_task(make_stream, dataset):
    stream = make_stream("permuted", n_tasks=3, train_size=64, test_size=32)
    lpt = get_strategy("lora_per_task", rank=3)
    torch.manual_seed(0)
    model = lpt.setup(MLP(stream.input_size, (32, 16), 10), stream, TrainConfig())
    reference = copy.deepcopy(model)
    with torch.no_grad():  # adapters as if trained: B != 0
        g = torch.Generator().manual_seed(2)
        for layer in lpt.layers:
            for t in (1, 2):
                layer.B[str(t)].copy_(0.1 * torch.randn(layer.B[str(t)].shape, generator=g))
    x = stream[0].x_test[:12]
    base_out = lpt.forward(reference, x, 0)
    lpt.before_task(model, stream[0], stream)
    lpt.before_task(model, stream[1], stream)
    # During task 1, task 2's adapter does not exist yet (even though its B is set here): task 2 sees the base.
    assert torch.equal(lpt.forward(model, x, 2), base_out)
    assert not torch.equal(lpt.forward(model, x, 1), base_out)
    lpt.before_task(model, stream[2], stream)
    outs = [lpt.forward(model, x, t) for t in range(3)]
    assert torch.equal(outs[0], base_out)  # task 0 is the base itself
    assert (outs[1] - outs[0]).abs().max() > 1e-3 and (outs[2] - outs[1]).abs().max() > 1e-3
    tids = torch.tensor([0, 1, 2, 2, 1, 0, 0, 1, 2, 1, 1, 0])
    mixed = lpt.forward(model, x, tids)
    for i, t in enumerate(tids.tolist()):
        torch.testing.assert_close(mixed[i], outs[t][i], rtol=0, atol=1e-6)
    assert torch.equal(model(x), base_out)  # outside the strategy's forward: the shared base
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {f"{name}.{m}.2" for name in ("body.0", "body.2", "head") for m in "AB"}
