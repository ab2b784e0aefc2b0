"""Metrics on hand-computed accuracy matrices."""
import numpy as np
import pytest

from cl_helpers import metrics

# R[i, j]: accuracy on task j after training task i; b: random-init accuracies.
R = np.array([[0.90, 0.10, 0.12],
              [0.70, 0.95, 0.20],
              [0.60, 0.80, 0.97]])
b = np.array([0.10, 0.11, 0.09])


def test_average_accuracy():
    assert metrics.average_accuracy(R) == pytest.approx((0.60 + 0.80 + 0.97) / 3)


def test_forgetting_is_max_over_earlier_rows_minus_final():
    # task 0: max(0.90, 0.70) - 0.60 = 0.30; task 1: max(0.10, 0.95) - 0.80 = 0.15
    np.testing.assert_allclose(metrics.forgetting_per_task(R), [0.30, 0.15])
    assert metrics.average_forgetting(R) == pytest.approx(0.225)


def test_forgetting_uses_the_max_not_the_diagonal():
    # Task 0 peaks after task 1 (0.95), not right after it was learned (0.80): Chaudhry takes the max.
    R2 = np.array([[0.80, 0.1], [0.95, 0.9]])
    R3 = np.array([[0.80, 0.1, 0.1], [0.95, 0.9, 0.1], [0.85, 0.9, 0.9]])
    assert metrics.forgetting_per_task(R3)[0] == pytest.approx(0.10)
    assert metrics.forgetting_since_learned(R3)[0] == pytest.approx(-0.05)
    # With two tasks only row 0 precedes the end: 0.80 - 0.95, a negative forgetting (it improved).
    assert metrics.average_forgetting(R2) == pytest.approx(-0.15)


def test_bwt_uses_t_minus_one_denominator():
    # ((0.60 - 0.90) + (0.80 - 0.95)) / 2
    assert metrics.backward_transfer(R) == pytest.approx(-0.225)


def test_fwt():
    # ((R[0,1] - b1) + (R[1,2] - b2)) / 2 = ((0.10 - 0.11) + (0.20 - 0.09)) / 2
    assert metrics.forward_transfer(R, b) == pytest.approx(0.05)


def test_single_task_and_bad_shapes():
    one = np.array([[0.9]])
    assert metrics.average_accuracy(one) == pytest.approx(0.9)
    assert metrics.average_forgetting(one) == 0.0
    assert metrics.backward_transfer(one) == 0.0
    assert metrics.forward_transfer(one, [0.1]) == 0.0
    with pytest.raises(ValueError, match="square"):
        metrics.average_accuracy(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="one accuracy per task"):
        metrics.forward_transfer(R, [0.1, 0.1])


def test_history_forgetting_sees_peaks_between_task_ends():
    # 2 tasks, 2 epochs each: evaluations at steps 0 (init), 10, 20 (end task 0), 30, 40 (end task 1).
    steps = np.array([0, 10, 20, 30, 40])
    curve = np.array([[0.1, 0.1], [0.85, 0.1], [0.90, 0.1], [0.92, 0.8], [0.70, 0.9]])
    # Task-end rows alone give max(0.90) - 0.70 = 0.20; the history sees 0.92 after task 1's first epoch.
    assert metrics.history_forgetting(curve, [0, 20], steps)[0] == pytest.approx(0.22)
    assert metrics.average_forgetting(np.array([[0.90, 0.1], [0.70, 0.9]])) == pytest.approx(0.20)


def test_intransigence_is_reference_minus_the_diagonal():
    # Reference (joint) diagonal 0.92, 0.96, 0.98 against R's 0.90, 0.95, 0.97.
    joint = np.array([[0.92, 0.1, 0.1], [0.91, 0.96, 0.1], [0.90, 0.95, 0.98]])
    np.testing.assert_allclose(metrics.intransigence_per_task(R, joint), [0.02, 0.01, 0.01])
    np.testing.assert_allclose(metrics.intransigence_per_task(R, np.diag(joint)), [0.02, 0.01, 0.01])
    assert metrics.average_intransigence(R, joint) == pytest.approx(0.04 / 3)
    with pytest.raises(ValueError, match="one accuracy per task"):
        metrics.intransigence_per_task(R, [0.9, 0.9])


def test_when_one_forgetting_bounds_another():
    # Chaudhry's max runs over rows that include R[j, j]: never below "since learned".
    rng = np.random.default_rng(0)
    for _ in range(50):
        M = rng.uniform(size=(4, 4))
        assert np.all(metrics.forgetting_per_task(M) >= metrics.forgetting_since_learned(M) - 1e-12)
    # Chaudhry's max also runs over rows BEFORE task j was trained, which the history (from the start of j's
    # training on) does not see: a task that scored higher before its training than ever after breaks
    # history >= Chaudhry. 3 tasks, 1 epoch each: evaluations at steps 0 (init), 10, 20, 30 (task ends).
    curve = np.array([[0.1, 0.6, 0.1], [0.9, 0.6, 0.6], [0.5, 0.3, 0.4], [0.4, 0.2, 0.9]])
    hist = metrics.history_forgetting(curve, [0, 10, 20], np.array([0, 10, 20, 30]))
    chaudhry = metrics.forgetting_per_task(curve[1:])
    assert hist[1] == pytest.approx(0.3 - 0.2) and chaudhry[1] == pytest.approx(0.6 - 0.2)


def test_history_bounds_chaudhry_on_a_real_run(make_stream):
    # When each row of R is the last per-epoch evaluation of its task (naive: after_task changes nothing) and a
    # task's best row comes at or after its own training, the history's max sees every row Chaudhry's does.
    from cl_helpers import train_stream

    stream = make_stream("permuted", n_tasks=3, train_size=600, test_size=300, seed=0)
    r = train_stream(stream, "naive", epochs=2, progress=False)
    np.testing.assert_allclose(r.curve_acc[2::2], r.acc_matrix)       # rows = ends of tasks
    chaudhry = metrics.forgetting_per_task(r.acc_matrix)
    hist = metrics.history_forgetting(r.curve_acc, r.task_boundaries, r.steps)
    assert np.all(hist >= chaudhry - 1e-9)
    assert np.all(chaudhry >= metrics.forgetting_since_learned(r.acc_matrix) - 1e-9)
    assert chaudhry[0] > 0.05                                         # naive does forget task 0
    joint = train_stream(stream, "joint", epochs=2, progress=False)
    # naive learns each new task about as well as joint does (no intransigence), but forgets it afterwards
    assert abs(metrics.average_intransigence(r.acc_matrix, joint.acc_matrix)) < 0.05
