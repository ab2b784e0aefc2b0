"""The tiny language model: it can learn (overfits a handful of sequences), LoRA wraps it unchanged, RoPE is relative."""
import copy

import torch

from cl_helpers.lm.data import make_world
from cl_helpers.lm.generate import generate, greedy_matches
from cl_helpers.lm.model import GPTConfig, TinyGPT
from cl_helpers.lm.train import train_lm, two_buckets
from cl_helpers.lora import add_lora, lora_layers, merge_lora

SMALL = GPTConfig(width=32, layers=2, heads=2)


def _handful():
    return make_world(0).stage0.take(list(range(4)) + list(range(1500, 1504)) + list(range(1800, 1804)))


def test_overfits_a_handful_of_sequences():
    data = _handful()
    torch.manual_seed(0)
    model = TinyGPT(SMALL)
    assert greedy_matches(model, data.prompts, data.answers).sum() == 0
    losses = train_lm(model, data, steps=150, lr=1e-2, batch_size=12)
    assert losses[-1] < 0.05 < losses[0]
    assert generate(model, data.prompts) == data.answers


def test_lora_starts_identical_to_the_base_and_only_adapters_train():
    torch.manual_seed(0)
    base = TinyGPT(SMALL)
    ids = torch.randint(1, SMALL.vocab_size, (3, 20))
    tuned = add_lora(copy.deepcopy(base), rank=2)
    # every nn.Linear (qkv, out, up, down per block, and the head) is wrapped
    assert len(lora_layers(tuned)) == 4 * SMALL.layers + 1
    assert torch.equal(tuned(ids), base(ids))
    before = {n: p.clone() for n, p in tuned.named_parameters() if not p.requires_grad}
    train_lm(tuned, _handful(), steps=5, lr=1e-2, batch_size=4)
    assert all(torch.equal(p, before[n]) for n, p in tuned.named_parameters() if not p.requires_grad)
    assert not torch.allclose(tuned(ids), base(ids))
    merged = merge_lora(tuned)
    assert torch.allclose(merged(ids), tuned(ids), atol=1e-5)


def test_rotary_positions_make_attention_shift_invariant():
    # With relative positions, a prefix of padding-free tokens shifted later gives the same last logits
    # only through content; check the rotation itself: <R(m) q, R(n) k> depends on m - n alone.
    from cl_helpers.lm.model import rotate

    torch.manual_seed(0)
    model = TinyGPT(SMALL)
    q, k = torch.randn(1, 1, 1, 16), torch.randn(1, 1, 1, 16)
    cos, sin = model.cos, model.sin
    dot = lambda m, n: float((rotate(q, cos[m:m + 1], sin[m:m + 1]) * rotate(k, cos[n:n + 1], sin[n:n + 1])).sum())
    assert abs(dot(5, 2) - dot(13, 10)) < 1e-4
    assert abs(dot(5, 2) - dot(5, 4)) > 1e-3


def test_two_buckets_cover_the_batch_once_and_save_padding():
    lengths = torch.tensor([10] * 60 + [50] * 4)
    idx = torch.arange(64)
    parts = two_buckets(idx, lengths)
    assert sorted(torch.cat(parts).tolist()) == list(range(64))
    cost = sum(len(p) * int(lengths[p].max()) for p in parts)
    assert cost == 60 * 10 + 4 * 50
    assert len(two_buckets(idx[:60], lengths)) == 1
