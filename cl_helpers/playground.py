"""A 2-parameter world where the loss surfaces of two tasks can be drawn: interference, and EWC's spring.

The model is logistic regression with two weights and no bias, p(y = 1 | x) = sigmoid(w . x), written as a
2-class classifier with logits (0, w . x) so that `cl_helpers.fisher_diagonal` applies to it unchanged.
Task A's inputs spread widely along x1 and little along x2, task B's the other way round, and the labels are
drawn from a logistic model with a different true weight per task, so both losses have a finite optimum and
their surfaces are ellipses stretched along different axes. The point (w1 of A, w2 of B) is good for both:
a Fisher-weighted spring can find it, a uniform spring cannot.

Everything drawn is computed: the losses on a grid are the mean cross-entropy of the actual data, the optima
are found by Newton's method, the paths are the iterates of full-batch gradient descent, and the Fisher of A
is `fisher_diagonal` at A's optimum.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .errors import check_choice, check_float, check_int
from .fisher import fisher_diagonal

PENALTIES = ("none", "l2", "ewc")


class TwoWeightLogistic(nn.Module):
    """Logistic regression with two weights and no bias, as a 2-class classifier: logits (0, w . x)."""

    def __init__(self, w: torch.Tensor | None = None):
        super().__init__()
        self.linear = nn.Linear(2, 1, bias=False, dtype=torch.float64)
        if w is not None:
            with torch.no_grad():
                self.linear.weight.copy_(torch.as_tensor(w, dtype=torch.float64).view(1, 2))

    @property
    def w(self) -> torch.Tensor:
        """The two weights as a vector (a view that keeps the autograd link)."""
        return self.linear.weight.view(2)

    def forward(self, x: torch.Tensor, task=None) -> torch.Tensor:
        """Logits (N, 2): class 0 fixed at 0, class 1 at w . x."""
        z = self.linear(x)
        return torch.cat([torch.zeros_like(z), z], dim=1)


@dataclass
class ToyTask:
    """One synthetic task: inputs (N, 2), labels in {0, 1}, the weight that generated them, and its optimum."""

    name: str
    x: torch.Tensor
    y: torch.Tensor
    true_w: torch.Tensor
    optimum: torch.Tensor


@dataclass
class Playground:
    """Tasks A and B and what EWC needs from A: its optimum (the anchor) and its diagonal Fisher there."""

    A: ToyTask
    B: ToyTask
    fisher_A: torch.Tensor   # (2,), fisher_diagonal of the model at A's optimum on A's inputs (exact kind)
    n_fisher: int
    _grids: dict = field(default_factory=dict, repr=False)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(w1 min, w1 max, w2 min, w2 max): both optima with a margin of 1 around them."""
        both = torch.stack([self.A.optimum, self.B.optimum]).numpy()
        lo, hi = both.min(0) - 1.0, both.max(0) + 1.0
        return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])

    def grid(self, task: str, n: int = 101) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`loss_grid` of task "A" or "B" over `extent`, computed once and kept (slider redraws reuse it)."""
        check_choice("task", task, ("A", "B"))
        if (task, n) not in self._grids:
            self._grids[task, n] = loss_grid(self.tasks[task], self.extent, n)
        return self._grids[task, n]

    @property
    def tasks(self) -> dict[str, ToyTask]:
        """{"A": A, "B": B}."""
        return {"A": self.A, "B": self.B}


def losses_at(ws: torch.Tensor | np.ndarray, task: ToyTask) -> np.ndarray:
    """Mean cross-entropy of `task` at each weight vector in `ws` (shape (..., 2)), in one matrix product."""
    ws = torch.as_tensor(ws, dtype=torch.float64)
    z = task.x @ ws.reshape(-1, 2).T                       # (N, M): every sample at every weight vector
    # cross-entropy of logits (0, z) with label y is softplus(z) - y z
    loss = (F.softplus(z) - task.y[:, None] * z).mean(0)
    return loss.reshape(ws.shape[:-1]).numpy()


def loss_grid(task: ToyTask, extent: tuple[float, float, float, float], n: int = 101
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(W1, W2, L): an n x n grid over extent = (w1 min, w1 max, w2 min, w2 max) and the task's loss on it."""
    check_int("grid points", n, 2, 2000)
    w1, w2 = np.meshgrid(np.linspace(extent[0], extent[1], n), np.linspace(extent[2], extent[3], n))
    return w1, w2, losses_at(np.stack([w1, w2], axis=-1), task)


def _make_task(name: str, scale: tuple[float, float], true_w: tuple[float, float], n: int,
               gen: torch.Generator) -> ToyTask:
    x = torch.randn(n, 2, generator=gen, dtype=torch.float64) * torch.tensor(scale, dtype=torch.float64)
    w = torch.tensor(true_w, dtype=torch.float64)
    y = (torch.rand(n, generator=gen, dtype=torch.float64) < torch.sigmoid(x @ w)).to(torch.float64)
    task = ToyTask(name, x, y, w, torch.zeros(2, dtype=torch.float64))
    task.optimum = fit_optimum(task)
    return task


@torch.no_grad()
def fit_optimum(task: ToyTask, steps: int = 30) -> torch.Tensor:
    """The weights minimising the task's mean cross-entropy, by Newton's method from w = 0.

    The loss is convex with gradient mean (p - y) x and Hessian mean p(1 - p) x x^T (2 x 2), so a few
    Newton steps reach the optimum to machine precision.
    """
    w = torch.zeros(2, dtype=torch.float64)
    for _ in range(steps):
        p = torch.sigmoid(task.x @ w)
        grad = task.x.T @ (p - task.y) / len(task.y)
        hess = (task.x * (p * (1 - p))[:, None]).T @ task.x / len(task.y)
        w = w - torch.linalg.solve(hess, grad)
        if float(grad.abs().max()) < 1e-13:
            break
    return w


def make_playground(n: int = 400, seed: int = 0, n_fisher: int | None = None) -> Playground:
    """Tasks A (inputs spread along x1) and B (along x2) with true weights (1, 1.5) and (-1, -1.5); A's Fisher.

    `n` samples per task; the Fisher is averaged over the first `n_fisher` of A's inputs (all by default).
    """
    check_int("n", n, 10, 1_000_000)
    n_fisher = n if n_fisher is None else check_int("n_fisher", n_fisher, 1, n)
    gen = torch.Generator().manual_seed(seed)
    A = _make_task("A", (2.0, 0.25), (1.0, 1.5), n, gen)
    B = _make_task("B", (0.25, 2.0), (-1.0, -1.5), n, gen)
    model = TwoWeightLogistic(A.optimum)
    fisher = fisher_diagonal(model, A.x[:n_fisher], kind="exact")["linear.weight"].view(2)
    return Playground(A, B, fisher.detach().clone(), n_fisher)


def _curvature_bound(task: ToyTask) -> float:
    # The cross-entropy's Hessian is mean p(1-p) x x^T <= (1/4) mean x x^T: a step size of 1 / (this bound
    # plus the penalty's stiffness) keeps plain gradient descent stable at every lambda.
    return float(torch.linalg.eigvalsh(task.x.T @ task.x / len(task.x)).max()) / 4


def penalty_stiffness(pg: Playground, penalty: str, lam: float) -> torch.Tensor:
    """Per-weight spring constants of the penalty (lambda/2) sum k_i (w_i - w*_A,i)^2 as k_i * lambda.

    ewc: k = A's Fisher. l2: k = the mean of A's Fisher for both weights, a uniform spring exactly as stiff
    on average as EWC's, so that the two are compared at the same lambda. none: 0.
    """
    check_choice("penalty", penalty, PENALTIES)
    if penalty == "ewc":
        return lam * pg.fisher_A
    if penalty == "l2":
        return lam * pg.fisher_A.mean().expand(2).clone()
    return torch.zeros(2, dtype=torch.float64)


def total_loss(ws: torch.Tensor, task: ToyTask, stiffness: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
    """Per row of `ws` (K, 2): the task's mean cross-entropy + (1/2) sum_i stiffness_i (w_i - anchor_i)^2."""
    z = task.x @ ws.T                                         # (N, K): the logit of class 1 for every row
    ce = (F.softplus(z) - task.y[:, None] * z).mean(0)
    return ce + 0.5 * (stiffness * (ws - anchor) ** 2).sum(1)


def total_gradient(ws: torch.Tensor, task: ToyTask, stiffness: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
    """The gradient of `total_loss` for each row, in closed form: mean (sigmoid(z) - y) x + stiffness (w - anchor).

    Closed form because a path is hundreds of tiny steps, where autograd's per-step overhead would dominate
    (tests compare it with autograd).
    """
    z = task.x @ ws.T
    return (torch.sigmoid(z) - task.y[:, None]).T @ task.x / len(task.x) + stiffness * (ws - anchor)


@torch.no_grad()
def train_paths(pg: Playground, penalties: dict[str, tuple[str, float]], steps: int = 300,
                start: torch.Tensor | None = None, task: str = "B") -> dict[str, np.ndarray]:
    """Full-batch gradient descent, w <- w - lr * grad, on `task`'s loss plus a penalty toward A's optimum.

    `penalties` maps a name to (penalty kind, lambda), e.g. {"EWC": ("ewc", 10.0)}; every path starts at
    A's optimum (or `start`) and is returned with shape (steps + 1, 2), the start included. Each path's
    step size is 1 / (a bound on its loss's curvature), so the same number of steps converges at every
    lambda. The paths run side by side as rows of one (K, 2) tensor; each row gets its own gradient.
    """
    check_int("steps", steps, 1, 100_000)
    check_choice("task", task, ("A", "B"))
    data = pg.tasks[task]
    for name, (kind, lam) in penalties.items():
        check_choice(f"{name} penalty", kind, PENALTIES)
        check_float(f"{name} lambda", lam, 0.0)
    stiffness = torch.stack([penalty_stiffness(pg, kind, lam) for kind, lam in penalties.values()])
    lr = 1.0 / (_curvature_bound(data) + stiffness.max(1, keepdim=True).values)
    first = (pg.A.optimum if start is None else torch.as_tensor(start, dtype=torch.float64)).view(1, 2)
    ws = first.repeat(len(penalties), 1)
    anchor = pg.A.optimum.view(1, 2)
    path = torch.empty(steps + 1, *ws.shape, dtype=torch.float64)
    path[0] = ws
    for s in range(steps):
        ws = ws - lr * total_gradient(ws, data, stiffness, anchor)
        path[s + 1] = ws
    return {name: path[:, k].numpy() for k, name in enumerate(penalties)}


def train_path(pg: Playground, penalty: Literal["none", "l2", "ewc"] = "none", lam: float = 0.0,
               steps: int = 300, start: torch.Tensor | None = None, task: str = "B") -> np.ndarray:
    """One path of `train_paths`: shape (steps + 1, 2), from A's optimum (or `start`) training on `task`."""
    return train_paths(pg, {penalty: (penalty, lam)}, steps, start, task)[penalty]


def penalty_paths(pg: Playground, lam: float, steps: int = 300) -> dict[str, np.ndarray]:
    """The paths of naive, L2 and EWC training on B from A's optimum, at one lambda (the chapter 3 picture)."""
    return train_paths(pg, {"naive": ("none", 0.0), "L2": ("l2", lam), "EWC": ("ewc", lam)}, steps)


def distance_from_A(pg: Playground, w: np.ndarray) -> float:
    """Euclidean distance of weights `w` from A's optimum."""
    return float(np.linalg.norm(np.asarray(w) - pg.A.optimum.numpy()))


def l2_lambda_at_distance(pg: Playground, distance: float, steps: int = 300, lo: float = 1e-4,
                          hi: float = 1e4, iters: int = 40) -> float:
    """The L2 lambda whose end point lies `distance` from A's optimum (bisection on a log scale).

    The end point's distance falls as lambda grows; this lets L2 and EWC be compared at matched distance.
    """
    check_float("distance", distance, 0.0, low_open=True)
    for _ in range(iters):
        mid = float(np.sqrt(lo * hi))
        if distance_from_A(pg, train_path(pg, "l2", mid, steps)[-1]) > distance:
            lo = mid
        else:
            hi = mid
    return float(np.sqrt(lo * hi))
