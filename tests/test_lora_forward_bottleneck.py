"""Exercise 4.1 asks for the LoRA forward without forming the out x in matrix B A: one case catches it."""
from __future__ import annotations

import torch

from cl_helpers.teaching.exercises.ch04_lora import _huge_adapter, lora_forward_exercise, reference_lora_forward


def forms_ba(x, W, b, A, B, alpha, r):
    return x @ W.T + b + (alpha / r) * x @ (B @ A).T


def bottleneck_right_to_left(x, W, b, A, B, alpha, r):
    return (W @ x.T).T + b + alpha / r * (B @ (A @ x.T)).T


def test_the_huge_case_overflows_only_when_ba_is_formed():
    x, W, b, A, B = _huge_adapter()
    assert torch.isfinite(reference_lora_forward(x, W, b, A, B, 2.0, 1)).all()
    assert torch.isinf(forms_ba(x, W, b, A, B, 2.0, 1)).all()


def test_forming_ba_fails_one_case_and_is_named():
    report = lora_forward_exercise.run(forms_ba)
    assert not report.ok and len(report.failed) == 1, str(report)
    assert "先算出了 out x in 的 B A" in report.failed[0]


def test_any_bottleneck_order_passes():
    assert lora_forward_exercise.run(bottleneck_right_to_left).ok
