"""Chapter 6 exercise: Synaptic Intelligence in three small functions on flat tensors, and SI trained with them.

The functions mirror `cl_helpers.strategies.si` (`si_accumulate`, `si_consolidate`) and the SI use of
`cl_helpers.penalties.quadratic_penalty`, one tensor per argument (all parameters as one flat vector):

    si_step(omega, grad_task, grad_penalty, delta)          -> omega after one optimizer step
    si_consolidate(Omega, omega, theta, theta_start, xi)    -> (Omega, omega) at a task's end
    si_penalty(theta, theta_star, Omega, c)                 -> the penalty, a 0-dim tensor

`StudentSI` is the `si` strategy with those three functions plugged in, so a chapter can train SI with a
student's code (or the reference's, when a check failed).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from ...penalties import flat_grads, flat_params
from ...strategies.si import SI
from ..course import pick
from .core import Case, Exercise
from .driven import DrivenExercise


# ---- reference solutions -----------------------------------------------------------------------------
def reference_si_step(omega: torch.Tensor, grad_task: torch.Tensor, grad_penalty: torch.Tensor,
                      delta: torch.Tensor) -> torch.Tensor:
    """omega after one step: omega - grad_task * delta; the penalty's gradient does not count."""
    return omega - grad_task * delta


def reference_si_consolidate(Omega: torch.Tensor, omega: torch.Tensor, theta: torch.Tensor,
                             theta_start: torch.Tensor, xi: float) -> tuple[torch.Tensor, torch.Tensor]:
    """At a task's end: (Omega + omega / (Delta^2 + xi), zeros) with Delta = theta - theta_start."""
    Delta = theta - theta_start                 # the change over this task only
    return Omega + omega / (Delta ** 2 + xi), torch.zeros_like(omega)


def reference_si_penalty(theta: torch.Tensor, theta_star: torch.Tensor, Omega: torch.Tensor,
                         c: float) -> torch.Tensor:
    """c * sum_i Omega_i (theta_i - theta*_i)^2 (no 1/2)."""
    return c * (Omega * (theta - theta_star) ** 2).sum()


def _t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


# ---- exercise 6.1a: the path integral, one step ---------------------------------------------------------
STEP_MISTAKES = {
    "正負號相反：這一項是 -grad_task * delta（這一步讓 loss 下降時為正），也就是 "
    "omega - grad_task * delta": lambda w, gt, gp, d: w + gt * d,
    "用了總 gradient（grad_task + grad_penalty）：SI 的 path integral 只算 task loss 的 gradient；"
    "penalty 把參數拉回去，不是這個任務的進步": lambda w, gt, gp, d: w - (gt + gp) * d,
    "用了 penalty 的 gradient；要用 grad_task，只有 task loss 的 gradient":
        lambda w, gt, gp, d: w - gp * d,
    "只回傳了這一步的 -grad_task * delta；omega 是累加的：要加到 omega 上":
        lambda w, gt, gp, d: -gt * d,
    "取了絕對值：一步也可能讓 task loss 上升（grad_task * delta > 0），那時它的貢獻是負的；"
    "保留正負號": lambda w, gt, gp, d: w + (gt * d).abs(),
    "對參數加總了：omega 每個參數一個值，要回傳和 omega 同形狀的 tensor":
        lambda w, gt, gp, d: (w - gt * d).sum(),
}


def _step_cases() -> list[Case]:
    return [
        Case("第一個任務：omega = 0，還沒有 penalty（grad_penalty = 0）",
             (_t(0, 0, 0), _t(1.0, -2.0, 0.5), _t(0, 0, 0), _t(-0.1, 0.3, 0.0)), mistakes=STEP_MISTAKES),
        Case("omega 已經累積了這個任務前面的步",
             (_t(0.5, 0.2, -0.1), _t(0.4, -1.0, 2.0), _t(0, 0, 0), _t(-0.2, 0.1, -0.05)), mistakes=STEP_MISTAKES),
        Case("後面的任務：penalty 的 gradient 不是 0，而這一步（對總 gradient 做 SGD，lr 0.1）"
             "讓第 2、第 3 個參數的 task loss 上升（grad_task * delta > 0）",
             (_t(0.1, 0.0, 0.3), _t(0.5, -1.0, 0.2), _t(0.3, 2.0, -0.6), _t(-0.08, -0.1, 0.04)),
             mistakes=STEP_MISTAKES),
    ]


step_exercise = Exercise(
    "練習 6.1a：SI 的 path integral（一步的更新）", reference_si_step, _step_cases,
    hints=["omega 衡量每個參數的移動讓 task loss 下降了多少。一小步裡，loss 的變化約是 gradient 乘上參數的變化"
           "（一階近似）：用 grad_task 與 delta 寫出一個參數在這一步造成的 loss 變化。",
           "loss 下降時貢獻為正：這一步的貢獻是上一個提示那個變化的相反數。optimizer 雖然沿著 "
           "grad_task + grad_penalty 走，但 penalty 把參數拉回舊的 anchor，不算這個任務的進步。",
           "omega 沿著路徑累積：把這一步的貢獻加到傳進來的 omega 上。每個參數各自計算（element-wise），"
           "回傳和 omega 同形狀的 tensor，不要對參數加總。"],
    name="step_exercise")


# ---- exercise 6.1b: consolidation at the task's end ------------------------------------------------------
CONSOLIDATE_MISTAKES = {
    "少了 xi：沒有移動的參數（Delta = 0）會變成 omega / Delta^2 = 0 / 0 = nan；要除以 "
    "Delta^2 + xi": lambda W, w, th, th0, xi: (W + w / (th - th0) ** 2, torch.zeros_like(w)),
    "Delta 沒有平方：除以 Delta^2 + xi（Delta 可能是負的）":
        lambda W, w, th, th0, xi: (W + w / ((th - th0) + xi), torch.zeros_like(w)),
    "Delta 的起點錯了：Delta = theta - theta_start，是這個任務期間的變化；你用了 theta "
    "本身（從 0 量起）": lambda W, w, th, th0, xi: (W + w / (th ** 2 + xi), torch.zeros_like(w)),
    "把 omega 平方了：加上 omega / (Delta^2 + xi)，不是 omega^2":
        lambda W, w, th, th0, xi: (W + w ** 2 / ((th - th0) ** 2 + xi), torch.zeros_like(w)),
    "忘了把 omega 歸零：下一個任務的 path integral 要從 0 開始（回傳 zeros_like(omega)）":
        lambda W, w, th, th0, xi: (W + w / ((th - th0) ** 2 + xi), w),
    "把 Omega 取代掉而不是累加：Omega 跨任務累積，Omega + omega / (Delta^2 + xi)":
        lambda W, w, th, th0, xi: (w / ((th - th0) ** 2 + xi), torch.zeros_like(w)),
    "把舊的 Omega 也除了：(Omega + omega) / (Delta^2 + xi)；只有這個任務的 omega 要除":
        lambda W, w, th, th0, xi: ((W + w) / ((th - th0) ** 2 + xi), torch.zeros_like(w)),
}


def _consolidate_driver(fn: Callable[..., Any], *args) -> dict[str, torch.Tensor]:
    out = fn(*args)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"要回傳兩個 tensor：(新的 Omega, 新的 omega)；你回傳的是 {type(out).__name__}")
    return {"Omega": torch.as_tensor(out[0]), "omega": torch.as_tensor(out[1])}


def _close_nan(a: Any, b: Any) -> bool:
    # A mistake that divides 0 by 0 gives nan; a nan must match the same nan to be named.
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close_nan(a[k], b[k]) for k in a)
    x = np.asarray(torch.as_tensor(a).detach().cpu().double())
    y = np.asarray(torch.as_tensor(b).detach().cpu().double())
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=1e-4, atol=1e-6, equal_nan=True))


def _consolidate_cases() -> list[Case]:
    return [
        Case("第一個任務結束（Omega = 0，xi = 0.1）；參數 2 完全沒動",
             (_t(0, 0, 0, 0), _t(0.6, 0.6, 0.0, 0.3), _t(1.5, -1.0, 2.0, 0.1), _t(1.0, 0.0, 2.0, 0.0), 0.1),
             mistakes=CONSOLIDATE_MISTAKES),
        Case("後面的任務結束：Omega 已有之前任務的重要性（xi = 0.05）",
             (_t(1.0, 2.0, 0.5, 0.0), _t(0.2, -0.1, 0.0, 0.4), _t(0.3, 0.2, -1.0, 1.0), _t(0.1, 0.5, -1.0, 0.0),
              0.05), mistakes=CONSOLIDATE_MISTAKES),
    ]


consolidate_exercise = DrivenExercise(
    "練習 6.1b：任務結束時的 SI consolidation", reference_si_consolidate, _consolidate_cases,
    hints=["先量每個參數在這個任務期間一共移動了多少：起點是這個任務開始時的 theta_start，終點是現在的 theta。",
           "這個任務的重要性是它的 path integral omega，除以「移動量的平方加上 xi」。"
           "xi 讓完全沒動的參數（移動量 0、omega 也是 0）不會變成 0/0。",
           "Omega 跨任務累積：新的 Omega 是舊的 Omega 加上這個任務的重要性（舊的部分不再除一次）。"
           "下一個任務的 path integral 從 0 開始，所以第二個回傳值是和 omega 同形狀的一個全為 0 的 tensor。"],
    driver=_consolidate_driver, compare=_close_nan, name="consolidate_exercise")


# ---- exercise 6.1c: the penalty --------------------------------------------------------------------------
PENALTY_MISTAKES = {
    "忘了 c：要乘上強度 c": lambda th, s, W, c: (W * (th - s) ** 2).sum(),
    "除以 2 了：SI 的 penalty 是 c * sum Omega (theta - theta*)^2，沒有 EWC 的 1/2":
        lambda th, s, W, c: c / 2 * (W * (th - s) ** 2).sum(),
    "取平均而不是加總：要對所有參數加總": lambda th, s, W, c: c * (W * (th - s) ** 2).mean(),
    "(theta - theta*) 沒有平方：penalty 是以 theta* 為中心的二次碗":
        lambda th, s, W, c: c * (W * (th - s)).sum(),
    "Omega 被平方了：只平方差，c * sum Omega * (theta - theta*)^2":
        lambda th, s, W, c: c * ((W * (th - s)) ** 2).sum(),
    "用了 theta 而不是 theta - theta_star：penalty 把參數拉向 anchor theta*（上一個任務結束時的參數），"
    "不是拉向 0": lambda th, s, W, c: c * (W * th ** 2).sum(),
}


def _penalty_driver(fn: Callable[..., Any], theta, theta_star, Omega, c) -> dict[str, torch.Tensor]:
    theta = theta.detach().clone().requires_grad_(True)
    value = fn(theta, theta_star, Omega, c)
    if not isinstance(value, torch.Tensor) or not value.requires_grad:
        raise TypeError("penalty 必須是用 torch 運算從 theta 算出來的 tensor，backward() 才能傳到 theta"
                        "（不要用 .item()、float() 或 numpy）")
    if value.dim() != 0:
        raise ValueError(f"要回傳一個數字（對所有參數加總的 0 維 tensor），你的形狀是 "
                         f"{tuple(value.shape)}")
    (grad,) = torch.autograd.grad(value, theta)
    return {"penalty": value.detach(), "gradient wrt theta": grad}


def _penalty_cases() -> list[Case]:
    return [
        Case("4 個參數，c = 0.5",
             (_t(1.0, 2.0, -1.0, 0.5), _t(0.5, 2.0, 0.0, 1.0), _t(2.0, 5.0, 0.1, 0.0), 0.5),
             mistakes=PENALTY_MISTAKES),
        Case("3 個參數，c = 100，Omega 很小",
             (_t(0.1, -0.2, 0.3), _t(0.0, 0.1, 0.5), _t(1e-3, 2e-3, 5e-4), 100.0), mistakes=PENALTY_MISTAKES),
    ]


penalty_exercise = DrivenExercise(
    "練習 6.1c：SI penalty", reference_si_penalty, _penalty_cases,
    hints=["penalty 是一個以 theta_star（上一個任務結束時的參數）為中心的二次碗：參數離 theta_star 越遠，penalty 越大。",
           "每個參數的碗有多陡由它的 Omega 決定：重要的參數偏離一點就很貴。整體再乘上強度 c；"
           "和 EWC 不同，這裡沒有 1/2。",
           "所有參數的項加總成一個數（不是平均），回傳 0 維 tensor。全程用 torch 運算"
           "（不要 .item()、float() 或 numpy），autograd 才能對 theta 微分。"],
    driver=_penalty_driver, compare=_close_nan, name="penalty_exercise")


# ---- SI with plugged-in functions ---------------------------------------------------------------------------
class StudentSI(SI):
    """The `si` strategy with its path-integral step, consolidation and penalty given as functions on flat tensors.

    The engine's hooks provide what the functions need: the task loss's gradient (`after_task_backward`), the
    penalty's gradient (the total gradient in `after_backward` minus the task loss's), the step's change
    (`after_step`), and the task's start and end parameters. Not registered: build it with `StudentSI(...)`.
    """

    def __init__(self, step: Callable[..., torch.Tensor] = reference_si_step,
                 consolidate: Callable[..., tuple] = reference_si_consolidate,
                 penalty: Callable[..., torch.Tensor] = reference_si_penalty, **hparams: Any):
        super().__init__(**hparams)
        self.step_fn, self.consolidate_fn, self.penalty_fn = step, consolidate, penalty
        refs = (reference_si_step, reference_si_consolidate, reference_si_penalty)
        self.which = {k: "reference" if fn is ref else "yours"
                      for k, fn, ref in zip(("step", "consolidate", "penalty"), (step, consolidate, penalty), refs)}
        mine = sum(v == "yours" for v in self.which.values())
        self.name = "si (reference)" if mine == 0 else "si (yours)" if mine == 3 else "si (part yours)"

    def describe(self) -> str:
        """Which implementation each of the three functions is, in one line."""
        return " | ".join(f"{k}: {v}" for k, v in self.which.items())

    def setup(self, model, stream, config):
        """Zero importance, no anchor, no penalty gradient yet."""
        model = super().setup(model, stream, config)
        self._grad_penalty = torch.zeros_like(self.omega)
        return model

    @torch.no_grad()
    def after_backward(self, model) -> None:
        """The penalty's gradient: the total gradient now in .grad minus the task loss's."""
        if self.anchor is None:
            self._grad_penalty = torch.zeros_like(self._grad)
            return
        self._grad_penalty = flat_grads(self.parameters_to_train(model)) - self._grad

    @torch.no_grad()
    def after_step(self, model) -> None:
        """omega = step(omega, task gradient, penalty gradient, change made by this step)."""
        delta = flat_params(self.parameters_to_train(model)) - self._before
        self.omega = self.step_fn(self.omega, self._grad, self._grad_penalty, delta)

    @torch.no_grad()
    def after_task(self, model, task, stream) -> None:
        """(Omega, omega) = consolidate(...); the anchor becomes the current parameters."""
        theta = flat_params(self.parameters_to_train(model))
        self.Omega, self.omega = self.consolidate_fn(self.Omega, self.omega, theta, self._start, self.xi)
        self.anchor = theta

    def penalty(self, model):
        """penalty(theta, theta*, Omega, c) on the flat parameters; None before the first task ends."""
        if self.anchor is None:
            return None
        return self.penalty_fn(flat_params(self.parameters_to_train(model)), self.anchor, self.Omega, self.c)


# ---- exercise 6.3: the default experiment of the comparison ------------------------------------------------------
# The chapter's settings cell writes these out for the student to edit; the chapter checks its claims only while
# they are unchanged (tests/test_student_si.py keeps the two copies equal).
DEFAULT_METHODS = ["naive", "joint", "ewc", "online_ewc", "si", "mas", "replay", "agem", "lwf", "lora", "lora_per_task"]
DEFAULT_HPARAMS = {
    "ewc": {"lam": 300.0, "fisher_kind": "exact", "importance_samples": 200},
    "online_ewc": {"lam": 300.0, "fisher_kind": "exact", "importance_samples": 200},
    "si": {"c": 1.0, "xi": 1e-3},
    "mas": {"lam": 0.1},
    "replay": {"buffer_size": 1100},
    "agem": {"buffer_size": 1100},
    "lwf": {"alpha": 1.0, "temperature": 2.0},
    "lora": {"rank": 8},
    "lora_per_task": {"rank": 8},
}
DEFAULT_RUN = {"full": (5, 3, (0, 1, 2)), "fast": (2, 1, (0, 1))}   # epochs split, epochs permuted, seeds


def default_experiment(methods, hparams, epochs_split: int, epochs_permuted: int, seeds) -> bool:
    """True when exercise 6.3's settings are the chapter's defaults (the prose's claims are about those);
    otherwise prints that the claims are not checked and returns False."""
    run = (epochs_split, epochs_permuted, tuple(seeds))
    same = (list(methods) == DEFAULT_METHODS and dict(hparams) == DEFAULT_HPARAMS
            and run == pick(DEFAULT_RUN["full"], DEFAULT_RUN["fast"]))
    if not same:
        print("你改了練習 6.3 的設定：下面不再檢查課文的結論（它們說的是預設設定），請以你自己的表為準。")
    return same
