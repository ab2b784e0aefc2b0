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
