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

from ...penalties import flat_params
from ...strategies.si import SI
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
    "sign flipped: the term is -grad_task * delta (positive when the step lowered the loss), i.e. "
    "omega - grad_task * delta": lambda w, gt, gp, d: w + gt * d,
    "used the total gradient (grad_task + grad_penalty): SI's path integral counts only the gradient of the "
    "task loss; the penalty's pull is not the task's progress": lambda w, gt, gp, d: w - (gt + gp) * d,
    "used the penalty's gradient; use grad_task, the gradient of the task loss alone":
        lambda w, gt, gp, d: w - gp * d,
    "returned only this step's term -grad_task * delta; omega is a running sum: add it to omega":
        lambda w, gt, gp, d: -gt * d,
    "took the absolute value: a step can raise the task loss (grad_task * delta > 0), and then its "
    "contribution is negative; keep the sign": lambda w, gt, gp, d: w + (gt * d).abs(),
    "summed over parameters: omega has one entry per parameter, return a tensor shaped like omega":
        lambda w, gt, gp, d: (w - gt * d).sum(),
}


def _step_cases() -> list[Case]:
    return [
        Case("first task: omega = 0, no penalty yet (grad_penalty = 0)",
             (_t(0, 0, 0), _t(1.0, -2.0, 0.5), _t(0, 0, 0), _t(-0.1, 0.3, 0.0)), mistakes=STEP_MISTAKES),
        Case("omega already holds earlier steps of this task",
             (_t(0.5, 0.2, -0.1), _t(0.4, -1.0, 2.0), _t(0, 0, 0), _t(-0.2, 0.1, -0.05)), mistakes=STEP_MISTAKES),
        Case("later task: the penalty's gradient is not zero, and the step (SGD lr 0.1 on the total gradient) "
             "raised the task loss for parameter 2",
             (_t(0.1, 0.0, 0.3), _t(0.5, -1.0, 0.2), _t(0.3, 2.0, -0.6), _t(-0.08, -0.1, 0.04)),
             mistakes=STEP_MISTAKES),
    ]


step_exercise = Exercise(
    "Exercise 6.1a: SI path integral, one step", reference_si_step, _step_cases,
    hints=["The importance of a parameter grows by how much its step lowered the task loss: (minus the task "
           "loss's gradient) times (the change the step made). grad_penalty is there to tempt you.",
           "return omega - grad_task * delta"])


# ---- exercise 6.1b: consolidation at the task's end ------------------------------------------------------
CONSOLIDATE_MISTAKES = {
    "missing xi: omega / Delta^2 is 0 / 0 = nan for a parameter that did not move (Delta = 0); divide by "
    "Delta^2 + xi": lambda W, w, th, th0, xi: (W + w / (th - th0) ** 2, torch.zeros_like(w)),
    "Delta not squared: divide by Delta^2 + xi (Delta can be negative)":
        lambda W, w, th, th0, xi: (W + w / ((th - th0) + xi), torch.zeros_like(w)),
    "Delta from the wrong anchor: Delta = theta - theta_start, the change over this task; you used theta "
    "itself (a change measured from 0)": lambda W, w, th, th0, xi: (W + w / (th ** 2 + xi), torch.zeros_like(w)),
    "squared omega: add omega / (Delta^2 + xi), not omega^2":
        lambda W, w, th, th0, xi: (W + w ** 2 / ((th - th0) ** 2 + xi), torch.zeros_like(w)),
    "forgot to reset omega: the next task's path integral must start from zero (return zeros_like(omega))":
        lambda W, w, th, th0, xi: (W + w / ((th - th0) ** 2 + xi), w),
    "replaced Omega instead of adding to it: Omega accumulates over tasks, Omega + omega / (Delta^2 + xi)":
        lambda W, w, th, th0, xi: (w / ((th - th0) ** 2 + xi), torch.zeros_like(w)),
    "divided the old Omega too: (Omega + omega) / (Delta^2 + xi); only this task's omega is divided":
        lambda W, w, th, th0, xi: ((W + w) / ((th - th0) ** 2 + xi), torch.zeros_like(w)),
}


def _consolidate_driver(fn: Callable[..., Any], *args) -> dict[str, torch.Tensor]:
    out = fn(*args)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"return two tensors, (new Omega, new omega); got {type(out).__name__}")
    return {"Omega": torch.as_tensor(out[0]), "omega": torch.as_tensor(out[1])}


def _close_nan(a: Any, b: Any) -> bool:
    # A mistake that divides 0 by 0 gives nan; a nan must match the same nan to be named.
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close_nan(a[k], b[k]) for k in a)
    x = np.asarray(torch.as_tensor(a).detach().double().cpu())
    y = np.asarray(torch.as_tensor(b).detach().double().cpu())
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=1e-4, atol=1e-6, equal_nan=True))


def _consolidate_cases() -> list[Case]:
    return [
        Case("end of the first task (Omega = 0, xi = 0.1); parameter 2 never moved",
             (_t(0, 0, 0, 0), _t(0.6, 0.6, 0.0, 0.3), _t(1.5, -1.0, 2.0, 0.1), _t(1.0, 0.0, 2.0, 0.0), 0.1),
             mistakes=CONSOLIDATE_MISTAKES),
        Case("end of a later task: Omega holds earlier tasks' importance (xi = 0.05)",
             (_t(1.0, 2.0, 0.5, 0.0), _t(0.2, -0.1, 0.0, 0.4), _t(0.3, 0.2, -1.0, 1.0), _t(0.1, 0.5, -1.0, 0.0),
              0.05), mistakes=CONSOLIDATE_MISTAKES),
    ]


consolidate_exercise = DrivenExercise(
    "Exercise 6.1b: SI consolidation at the end of a task", reference_si_consolidate, _consolidate_cases,
    hints=["Delta is how far each parameter moved during this task (theta - theta_start). Normalise this task's "
           "omega by Delta^2 + xi and add it to Omega; then omega starts again from zero.",
           "Delta = theta - theta_start; return Omega + omega / (Delta ** 2 + xi), torch.zeros_like(omega)"],
    driver=_consolidate_driver, compare=_close_nan)


# ---- exercise 6.1c: the penalty --------------------------------------------------------------------------
PENALTY_MISTAKES = {
    "forgot c: multiply by the strength c": lambda th, s, W, c: (W * (th - s) ** 2).sum(),
    "halved: SI's penalty is c * sum Omega (theta - theta*)^2, without EWC's 1/2":
        lambda th, s, W, c: c / 2 * (W * (th - s) ** 2).sum(),
    "mean instead of sum: sum over all parameters": lambda th, s, W, c: c * (W * (th - s) ** 2).mean(),
    "(theta - theta*) not squared: the penalty is a quadratic bowl around theta*":
        lambda th, s, W, c: c * (W * (th - s)).sum(),
    "Omega squared: square only the difference, c * sum Omega * (theta - theta*)^2":
        lambda th, s, W, c: c * ((W * (th - s)) ** 2).sum(),
    "used theta instead of theta - theta_star: the penalty pulls toward the anchor theta* (the parameters at "
    "the end of the previous task), not toward 0": lambda th, s, W, c: c * (W * th ** 2).sum(),
}


def _penalty_driver(fn: Callable[..., Any], theta, theta_star, Omega, c) -> dict[str, torch.Tensor]:
    theta = theta.detach().clone().requires_grad_(True)
    value = fn(theta, theta_star, Omega, c)
    if not isinstance(value, torch.Tensor) or not value.requires_grad:
        raise TypeError("the penalty must be a torch tensor computed from theta with torch operations, so that "
                        "backward() reaches theta (no .item(), float() or numpy)")
    if value.dim() != 0:
        raise ValueError(f"return one number (a 0-dim tensor summed over all parameters), got shape "
                         f"{tuple(value.shape)}")
    (grad,) = torch.autograd.grad(value, theta)
    return {"penalty": value.detach(), "gradient wrt theta": grad}


def _penalty_cases() -> list[Case]:
    return [
        Case("4 parameters, c = 0.5",
             (_t(1.0, 2.0, -1.0, 0.5), _t(0.5, 2.0, 0.0, 1.0), _t(2.0, 5.0, 0.1, 0.0), 0.5),
             mistakes=PENALTY_MISTAKES),
        Case("3 parameters, c = 100, Omega tiny",
             (_t(0.1, -0.2, 0.3), _t(0.0, 0.1, 0.5), _t(1e-3, 2e-3, 5e-4), 100.0), mistakes=PENALTY_MISTAKES),
    ]


penalty_exercise = DrivenExercise(
    "Exercise 6.1c: SI penalty", reference_si_penalty, _penalty_cases,
    hints=["A quadratic bowl around theta* whose width per parameter is set by Omega, scaled by c. "
           "Use torch operations on theta so that autograd can differentiate it.",
           "return c * (Omega * (theta - theta_star) ** 2).sum()"],
    driver=_penalty_driver, compare=_close_nan)


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
        total = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                           for p in self.parameters_to_train(model)])
        self._grad_penalty = total - self._grad

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
