"""The 2-parameter playground: contours are the losses, paths are gradient descent, EWC's spring beats L2's."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from cl_helpers import ConfigError  # noqa: E402
from cl_helpers.plots.playground import fisher_ellipse, penalty_view, plot_interference  # noqa: E402
from cl_helpers.playground import (TwoWeightLogistic, distance_from_A, l2_lambda_at_distance,  # noqa: E402
                                            losses_at, make_playground, penalty_paths, penalty_stiffness,
                                            total_gradient, total_loss, train_path, train_paths)


@pytest.fixture(scope="module")
def pg():
    return make_playground()


def ce(task, w) -> float:
    """The task's mean cross-entropy at w through the module and torch's cross_entropy (a second route)."""
    with torch.no_grad():
        return float(F.cross_entropy(TwoWeightLogistic(torch.as_tensor(w))(task.x), task.y.long()))


def test_contours_are_the_losses(pg):
    for name, task in pg.tasks.items():
        w1, w2, loss = pg.grid(name, n=21)
        assert loss.shape == (21, 21)
        for i, j in [(0, 0), (3, 17), (10, 10), (20, 4)]:
            assert loss[i, j] == pytest.approx(ce(task, [w1[i, j], w2[i, j]]), rel=1e-10)
        assert pg.extent[0] == w1.min() and pg.extent[3] == w2.max()


def test_optima_are_minima_and_apart(pg):
    for task in pg.tasks.values():
        grad = total_gradient(task.optimum.view(1, 2), task, torch.zeros(1, 2, dtype=torch.float64),
                              task.optimum.view(1, 2))
        assert grad.abs().max() < 1e-10
        _, _, loss = pg.grid(task.name, n=41)
        assert losses_at(task.optimum, task) <= loss.min() + 1e-12
    # A's optimum is bad for B and vice versa: the tasks interfere.
    assert losses_at(pg.A.optimum, pg.B) > losses_at(pg.B.optimum, pg.B) + 0.8
    assert losses_at(pg.B.optimum, pg.A) > losses_at(pg.A.optimum, pg.A) + 0.8


def test_closed_form_gradient_matches_autograd(pg):
    ws = torch.tensor([[0.3, -0.2], [1.0, 1.0], [-1.5, 0.4]], dtype=torch.float64, requires_grad=True)
    stiffness = torch.tensor([[0.0, 0.0], [3.0, 0.1], [0.5, 0.5]], dtype=torch.float64)
    anchor = pg.A.optimum.view(1, 2)
    total_loss(ws, pg.B, stiffness, anchor).sum().backward()
    torch.testing.assert_close(total_gradient(ws.detach(), pg.B, stiffness, anchor), ws.grad)
    # total_loss's cross-entropy is torch's
    assert float(total_loss(ws[:1].detach(), pg.B, stiffness[:1], anchor)) == pytest.approx(ce(pg.B, [0.3, -0.2]))


def test_fisher_is_the_closed_form_and_anisotropic(pg):
    p = torch.sigmoid(pg.A.x @ pg.A.optimum)
    expected = ((p * (1 - p))[:, None] * pg.A.x ** 2).mean(0)   # exact Fisher of logistic regression
    torch.testing.assert_close(pg.fisher_A, expected)
    assert pg.fisher_A[0] > 10 * pg.fisher_A[1]   # A barely cares about w2: that is where EWC lets B move


def test_naive_path_is_gradient_descent_and_forgets(pg):
    path = train_path(pg, steps=200)
    assert path.shape == (201, 2)
    np.testing.assert_allclose(path[0], pg.A.optimum.numpy())
    # One step by hand: w - lr * mean (sigmoid(w.x) - y) x with the documented step size.
    x, y = pg.B.x.numpy(), pg.B.y.numpy()
    lr = 1 / (np.linalg.eigvalsh(x.T @ x / len(x)).max() / 4)
    w0 = path[0]
    step = w0 - lr * ((1 / (1 + np.exp(-x @ w0)) - y) @ x / len(x))
    np.testing.assert_allclose(path[1], step, rtol=1e-10)
    loss_b, loss_a = losses_at(path, pg.B), losses_at(path, pg.A)
    assert np.all(np.diff(loss_b) <= 1e-12)          # descent on B at every step
    assert loss_a[-1] > loss_a[0] + 0.8              # and A is forgotten
    assert distance_from_A(pg, train_path(pg, steps=1500)[-1]) == pytest.approx(
        distance_from_A(pg, pg.B.optimum.numpy()), abs=0.02)   # long enough, it reaches B's optimum


def test_ewc_end_point_moves_toward_A_as_lambda_grows(pg):
    lams = [0.0, 0.1, 1.0, 10.0, 100.0, 1000.0]
    ends = [penalty_paths(pg, lam)["EWC"][-1] for lam in lams]
    dist = [distance_from_A(pg, e) for e in ends]
    assert all(a > b for a, b in zip(dist, dist[1:])), dist
    np.testing.assert_allclose(ends[0], train_path(pg)[-1])   # lambda 0 is naive
    assert dist[-1] < 0.15
    # w1 (A's stiff weight) is held first; w2 moves toward B's optimum.
    mid = penalty_paths(pg, 3.0)["EWC"][-1]
    assert abs(mid[0] - float(pg.A.optimum[0])) < 0.1 and mid[1] < float(pg.A.optimum[1]) - 1.0


def test_ewc_loses_less_on_A_than_l2_at_matched_distance(pg):
    a0 = float(losses_at(pg.A.optimum, pg.A))
    ewc = penalty_paths(pg, 3.0)["EWC"][-1]
    d = distance_from_A(pg, ewc)
    lam_l2 = l2_lambda_at_distance(pg, d, iters=30)
    l2 = train_path(pg, "l2", lam_l2)[-1]
    assert distance_from_A(pg, l2) == pytest.approx(d, rel=1e-3)
    rise_ewc, rise_l2 = float(losses_at(ewc, pg.A)) - a0, float(losses_at(l2, pg.A)) - a0
    assert rise_ewc < 0.5 * rise_l2, (rise_ewc, rise_l2)
    # at the same lambda the uniform spring is as stiff on average: its stiffness is the Fisher's mean
    torch.testing.assert_close(penalty_stiffness(pg, "l2", 2.0), 2.0 * pg.fisher_A.mean().expand(2))


def test_same_seed_same_playground_and_bad_input():
    a, b = make_playground(n=100, seed=3), make_playground(n=100, seed=3)
    torch.testing.assert_close(a.fisher_A, b.fisher_A)
    with pytest.raises(ConfigError, match="penalty"):
        train_paths(a, {"x": ("spring", 1.0)})
    with pytest.raises(ConfigError, match="lambda"):
        train_path(a, "ewc", -1.0)


def test_pictures(pg):
    ellipse = fisher_ellipse(pg, level=0.2)
    d = ellipse - pg.A.optimum.numpy()
    np.testing.assert_allclose((pg.fisher_A.numpy() * d ** 2).sum(1), 0.2)
    fig, text = penalty_view(pg, 3.0, penalty_paths(pg, 3.0, steps=50))
    assert text.startswith("lambda = 3 |") and "EWC end: A" in text
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert {"naive", "L2", "EWC"} <= set(labels)
    plt.close(fig)
    fig = plot_interference(pg, train_path(pg, steps=20))
    assert len(fig.axes) == 2
    plt.close("all")


def test_an_optimum_star_is_not_hidden_under_the_end_point():
    """Training on B ends at B's optimum: the end marker is a hollow ring drawn over the star, so both show."""
    pg = make_playground(seed=0)
    fig = plot_interference(pg, train_path(pg, steps=1000))
    lines = fig.axes[0].get_lines()
    stars = [ln for ln in lines if ln.get_marker() == "*"]
    ends = [ln for ln in lines if ln.get_marker() == "o"]
    assert len(stars) == 2 and len(ends) == 1
    assert ends[0].get_markerfacecolor() == "none"
    assert all(ends[0].get_zorder() > s.get_zorder() for s in stars)   # a ring under the star was hidden by it
    plt.close("all")
