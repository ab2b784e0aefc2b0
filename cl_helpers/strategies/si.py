"""Synaptic Intelligence: importance from each parameter's contribution to the drop in the task loss along the path."""
from __future__ import annotations

from typing import Sequence

import torch

from ..penalties import flat_grads, flat_params, quadratic_penalty, unflatten
from .base import Param, Strategy, register


def si_accumulate(omega: Sequence[torch.Tensor], grads: Sequence[torch.Tensor],
                  deltas: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """One step of the path integral: omega_i - g_i * delta_i, g the task loss's gradient, delta the step taken.

    Gradient descent moves against g, so -g * delta is positive where the step lowered the loss.
    """
    return [w - g * d for w, g, d in zip(omega, grads, deltas)]


def si_consolidate(Omega: Sequence[torch.Tensor], omega: Sequence[torch.Tensor],
                   total_delta: Sequence[torch.Tensor], xi: float) -> list[torch.Tensor]:
    """At a task's end: Omega_i + omega_i / (Delta_i^2 + xi), Delta the parameter's total change over the task.

    xi > 0 keeps the division finite for a parameter that did not move (Delta = 0, and then omega = 0 too).
    """
    return [big + w / (d.square() + xi) for big, w, d in zip(Omega, omega, total_delta)]


@register
class SI(Strategy):
    """Synaptic Intelligence (Zenke et al. 2017): penalty c * sum_i Omega_i (theta_i - theta*_i)^2.

    During a task, each optimizer step adds -g * delta to omega, with g the gradient of the task loss alone
    (read in `after_task_backward`, before any penalty gradient is added) and delta the change the step
    made (`after_step`). At the task's end Omega += omega / (Delta^2 + xi), with Delta the parameters' total
    change over the task; omega is reset and theta* becomes the current parameters. Omega is not clipped:
    a parameter whose steps on balance raised the loss gets a (small) negative importance, as in the paper.

    omega, Omega, theta* are kept as flat vectors (so the path integral costs three vector copies and two
    element-wise operations per step); the penalty reads them through per-parameter views.
    """

    name = "si"
    label = "SI"
    params = {
        "c": Param(1.0, 0.0, 1e9, low_open=True, log=True, help="penalty strength c"),
        "xi": Param(1e-3, 0.0, 1e3, low_open=True, log=True, help="damping xi in omega / (Delta^2 + xi)"),
    }

    def setup(self, model, stream, config):
        """Zero importance and no anchor before the first task ends."""
        with torch.no_grad():
            theta = flat_params(self.parameters_to_train(model))
        self.Omega = torch.zeros_like(theta)
        self.omega = torch.zeros_like(theta)
        self.anchor: torch.Tensor | None = None
        self._penalty_terms: tuple[list[torch.Tensor], list[torch.Tensor]] | None = None
        self._start = theta.clone()
        self._grad = self._before = None
        return super().setup(model, stream, config)

    @torch.no_grad()
    def before_task(self, model, task, stream) -> None:
        """Remember where this task's path starts; its path integral starts at zero."""
        self._start = flat_params(self.parameters_to_train(model))
        self.omega = torch.zeros_like(self._start)

    @torch.no_grad()
    def after_task_backward(self, model) -> None:
        """Store the task loss's gradient and the parameters before the step."""
        params = self.parameters_to_train(model)
        self._grad = flat_grads(params)
        self._before = flat_params(params)

    @torch.no_grad()
    def after_step(self, model) -> None:
        """Add this step's -g * delta to omega."""
        delta = flat_params(self.parameters_to_train(model)) - self._before
        (self.omega,) = si_accumulate([self.omega], [self._grad], [delta])

    @torch.no_grad()
    def after_task(self, model, task, stream) -> None:
        """Omega += omega / (Delta^2 + xi); the anchor becomes the current parameters."""
        theta = flat_params(self.parameters_to_train(model))
        (self.Omega,) = si_consolidate([self.Omega], [self.omega], [theta - self._start], self.xi)
        self.anchor = theta
        self.omega = torch.zeros_like(theta)
        like = self.parameters_to_train(model)
        self._penalty_terms = (unflatten(self.anchor, like), unflatten(self.Omega, like))

    def penalty(self, model):
        """c * sum Omega (theta - theta*)^2; None before the first task ends."""
        if self._penalty_terms is None:
            return None
        anchors, importance = self._penalty_terms
        return quadratic_penalty(self.parameters_to_train(model), anchors, importance, self.c)
