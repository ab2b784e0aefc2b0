"""Chapter 9 exercise: interpolate two models, theta(a) = (1 - a) theta_before + a theta_after.

The student writes `interpolate_model(before, after, a)` returning a new model. Three classic mistakes are
caught: blending only the parameters (BatchNorm's running statistics stay those of one model), the direction
reversed, and a LoRA model blended factor by factor (A and B each interpolated: the update B A is no longer
linear in a; with before's B = 0, it is a B1 ((1 - a) A0 + a A1), not a B1 A1).
A result is compared by its outputs on fixed inputs, so returning a LoRA model or a merged plain model are
both right.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from ...lora import add_lora
from ...weights import interpolate, merged_model
from .core import Case, Exercise, close


def reference_interpolate_model(before: nn.Module, after: nn.Module, a: float) -> nn.Module:
    """A new model with every state entry (buffers too) blended; LoRA models on their merged weights."""
    b, f = merged_model(before), merged_model(after)
    b.load_state_dict(interpolate(b.state_dict(), f.state_dict(), a))
    return b


def _params_only(before, after, a):
    out = copy.deepcopy(before)
    with torch.no_grad():
        for p, q in zip(out.parameters(), after.parameters()):
            p.copy_((1 - a) * p + a * q)
    return out


def _reversed(before, after, a):
    return reference_interpolate_model(after, before, a)


def _factors(before, after, a):
    out = copy.deepcopy(after)
    sb, sa = before.state_dict(), after.state_dict()
    out.load_state_dict({k: (1 - a) * sb[k] + a * v if v.is_floating_point() else v for k, v in sa.items()})
    return out


PROBE = torch.Generator().manual_seed(3)
INPUTS = torch.randn(32, 6, generator=PROBE)


def outputs(model: nn.Module) -> torch.Tensor:
    """What a result is compared and shown by: its outputs (eval mode) on 32 fixed inputs."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"interpolate_model must return an nn.Module, got {type(model).__name__}")
    model.eval()
    with torch.no_grad():
        return model(INPUTS)


def _bn_pair(seed: int):
    def model(s):
        torch.manual_seed(s)
        m = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
        m.train()
        with torch.no_grad():
            for _ in range(3):
                m(torch.randn(64, 6) * (1 + s) + s)   # running statistics that differ between the two
        return m.eval()
    return model(seed), model(seed + 1)


def _lora_pair():
    torch.manual_seed(11)
    base = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    before = add_lora(copy.deepcopy(base), rank=2)      # a fresh adapter: B = 0, the base model itself
    after = add_lora(copy.deepcopy(base), rank=2)
    with torch.no_grad():
        for layer in (after[0], after[2]):
            layer.A.normal_(generator=PROBE)
            layer.B.normal_(generator=PROBE)
    return before, after


MISTAKES = {   # in this order: on a LoRA pair, blending only the parameters is blending the factors
    "LoRA 的 A 和 B 分開內插：更新 B A 不再是 a 的線性函數（這裡 before 的 B = 0，得到 a·B₁((1−a)A₀ + a·A₁)，"
    "不是 a·B₁A₁）；先把 adapter 合併進權重（merged_model）再內插": _factors,
    "只內插了 parameters：BatchNorm 的 running_mean / running_var 是 buffer，不在 parameters() 裡，它們還停在其中一個"
    "模型；用 state_dict() 才會拿到全部": _params_only,
    "方向反了：a = 0 應該是 before，a = 1 是 after": _reversed,
}


def _cases() -> list[Case]:
    cases = []
    for a in (0.3, 0.8):
        cases.append(Case(f"兩個有 BatchNorm 的小模型（running 統計不同），a = {a}", (*_bn_pair(0), a),
                          mistakes=MISTAKES))
    cases.append(Case("同一個 base 上的兩個 LoRA 模型（before 的 adapter 是新的：B = 0），a = 0.5",
                      (*_lora_pair(), 0.5), mistakes=MISTAKES))
    return cases


interpolation_exercise = Exercise(
    "練習 A：兩個模型之間的內插", reference_interpolate_model, _cases,
    hints=["模型的「全部狀態」在哪裡？parameters() 只有需要訓練的張量；BatchNorm 的 running 統計算不算？",
           "浮點數的項目照公式內插。整數的計數器（num_batches_tracked）能內插嗎？不能的話，該取哪一端？"
           "回傳的必須是一個新的模型：不要改到傳進來的 before。",
           "LoRA 層的更新 B A 不是 A、B 各自的線性函數：要內插的是這一層真正的權重，不是 A 和 B。"
           "那個權重在哪裡？回去看練習說明裡 LoRALinear 的 .base 與 .delta_weight()，以及把 adapter 合併好的那個複本。"],
    compare=lambda got, want: close(got, want, rtol=1e-4, atol=1e-5), view=outputs, name="interpolation_exercise")
