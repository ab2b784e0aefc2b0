"""Weight-space edits against hand-computed cases: interpolation, task vectors, TIES, Safe LoRA."""
import copy

import pytest
import torch
from torch import nn

from cl_helpers.errors import ConfigError
from cl_helpers.lora import add_lora
from cl_helpers.weights import (add_vectors, alignment_projection, interpolate, merged_state, safe_lora, task_vector,
                                ties_merge, update_similarity)


def _bn_model(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    model.train()
    for _ in range(seed + 1):   # running statistics and num_batches_tracked that differ between the two
        model(torch.randn(16, 4) * (seed + 1))
    return model


def _bits(t):
    return t.view(torch.int32) if t.dtype == torch.float32 else t


def test_the_ends_are_each_model_bit_for_bit():
    before, after = _bn_model(0).state_dict(), _bn_model(1).state_dict()
    before["0.bias"][0] = -0.0    # a negative zero must stay negative: (1 - a) x + a y at a = 0 would flip it
    for a, want in ((0.0, before), (1.0, after)):
        got = interpolate(before, after, a)
        assert all(torch.equal(_bits(got[k]), _bits(want[k])) for k in want)


def test_every_float_entry_is_blended_buffers_too():
    before, after = _bn_model(0).state_dict(), _bn_model(1).state_dict()
    half = interpolate(before, after, 0.25)
    for k in ("0.weight", "1.running_mean", "1.running_var"):   # forgetting the BatchNorm statistics is the mistake
        assert torch.allclose(half[k], 0.75 * before[k] + 0.25 * after[k])
    assert half["1.num_batches_tracked"] == before["1.num_batches_tracked"]   # an integer: the nearer end
    assert interpolate(before, after, 0.75)["1.num_batches_tracked"] == after["1.num_batches_tracked"]


def test_a_lora_model_is_interpolated_on_its_merged_update():
    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    tuned = add_lora(copy.deepcopy(base), rank=2, alpha=4.0)
    with torch.no_grad():
        for layer in (tuned[0], tuned[2]):
            layer.B.normal_()
    dw = tuned[0].delta_weight()
    got = interpolate(base.state_dict(), merged_state(tuned), 0.3)
    assert torch.allclose(got["0.weight"], base[0].weight + 0.3 * dw, atol=1e-6)
    factors = 0.3 * tuned[0].B @ (0.3 * tuned[0].A) * tuned[0].scaling   # interpolating A and B apart: a^2
    assert not torch.allclose(got["0.weight"], base[0].weight + factors, atol=1e-3)
    assert set(merged_state(tuned)) == set(base.state_dict())


def test_mismatched_states_are_one_clear_error():
    with pytest.raises(ConfigError, match="differ in their entries"):
        interpolate({"a": torch.zeros(2)}, {"b": torch.zeros(2)}, 0.5)
    with pytest.raises(ConfigError, match="a 3 is out of range"):
        interpolate({"a": torch.zeros(2)}, {"a": torch.zeros(2)}, 3.0)


def test_task_vectors_add_scale_and_negate():
    before, after = _bn_model(0).state_dict(), _bn_model(1).state_dict()
    tau = task_vector(before, after)
    assert "1.num_batches_tracked" not in tau
    back = add_vectors(before, [tau])
    assert all(torch.allclose(back[k], after[k]) for k in tau)
    neg = add_vectors(before, [tau], -1.0)
    assert torch.allclose(neg["0.weight"], 2 * before["0.weight"] - after["0.weight"])
    with pytest.raises(ConfigError, match="2 scales for 1"):
        add_vectors(before, [tau], [1.0, 2.0])


def test_ties_trims_elects_and_averages_only_the_agreeing():
    v1 = {"w": torch.tensor([3.0, -1.0, 0.5, 2.0])}
    v2 = {"w": torch.tensor([-2.0, -2.0, 0.1, 1.0])}
    # trim to the top half: v1 -> [3, 0, 0, 2], v2 -> [-2, -2, 0, 0]; signs of the sum [+, -, 0, +];
    # disjoint mean: entry 0 only v1 agrees (3), entry 1 only v2 (-2), entry 2 nobody (0), entry 3 v1 (2)
    assert torch.equal(ties_merge([v1, v2], density=0.5)["w"], torch.tensor([3.0, -2.0, 0.0, 2.0]))
    # without trimming, entries that agree are averaged: [3,-1,.5,2] and [-2,-2,.1,1] -> signs [+,-,+,+]
    assert torch.allclose(ties_merge([v1, v2], density=1.0)["w"], torch.tensor([3.0, -1.5, 0.3, 1.5]))
    with pytest.raises(ConfigError, match="two or more"):
        ties_merge([v1])


def test_safe_lora_keeps_an_update_along_v_and_removes_one_orthogonal_to_it():
    torch.manual_seed(0)
    u, v = torch.randn(5), torch.randn(4)
    u2 = torch.randn(5)
    u2 -= (u2 @ u) / (u @ u) * u                        # orthogonal to u, V's column space
    unaligned = torch.randn(5, 4)
    aligned = unaligned + torch.outer(u, v)             # alignment changed the layer by V = u v^T
    c = alignment_projection(aligned, unaligned)
    along, across = 3.0 * torch.outer(u, torch.randn(4)), torch.outer(u2, torch.randn(4))
    assert update_similarity(along, c) == pytest.approx(1.0, abs=1e-5)
    assert update_similarity(across, c) == pytest.approx(0.0, abs=1e-5)
    out, report = safe_lora({"l1": along, "l2": across}, {"l1": aligned, "l2": aligned},
                            {"l1": unaligned, "l2": unaligned}, threshold=0.5)
    assert torch.equal(out["l1"], along) and not report.projected["l1"]
    assert torch.allclose(out["l2"], torch.zeros(5, 4), atol=1e-5) and report.projected["l2"]
    assert report.n_projected == 1
    # C rescales as well as projects: along a rank-1 V = u v^T, C dW = |u| |v| dW
    assert report.norm_ratio["l1"] == pytest.approx(float(u.norm() * v.norm()), rel=1e-4)
    assert report.norm_ratio["l2"] == pytest.approx(0.0, abs=1e-5)
    mixed = along + 0.2 * across                        # mostly along V: similar enough to keep at 0.5
    out, report = safe_lora({"l": mixed}, {"l": aligned}, {"l": unaligned}, threshold=0.5)
    assert torch.equal(out["l"], mixed)
    out, report = safe_lora({"l": mixed}, {"l": aligned}, {"l": unaligned}, threshold=1.0)  # everything projected
    assert report.projected["l"] and torch.allclose(out["l"], c @ mixed)


def test_safe_lora_c_is_the_papers_matrix():
    v = torch.tensor([[1.0, 2.0], [0.0, 1.0]])
    c = alignment_projection(v, torch.zeros(2, 2))
    assert torch.allclose(c, v @ v.T / torch.linalg.matrix_norm(v))
    assert torch.equal(alignment_projection(v, v), torch.zeros(2, 2))
