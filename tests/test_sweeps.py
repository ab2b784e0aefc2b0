"""A hyperparameter sweep on real data: EWC's lambda trades forgetting for learning."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cl_helpers import ConfigError, train_stream  # noqa: E402
from cl_helpers.experiments.sweeps import format_sweep, sweep
from cl_helpers.metrics import new_task_accuracy
from cl_helpers.plots import plot_sweep  # noqa: E402



def test_new_task_accuracy_is_the_mean_diagonal_after_task_0():
    R = np.array([[0.9, 0.1, 0.1], [0.8, 0.7, 0.1], [0.6, 0.6, 0.5]])
    assert new_task_accuracy(R) == pytest.approx(0.6)
    assert new_task_accuracy([[0.3]]) == pytest.approx(0.3)


@pytest.fixture(scope="module")
def swept(make_stream):
    stream = make_stream("permuted", n_tasks=2, train_size=1000, test_size=300)
    common = dict(epochs=2, hidden=(64,))
    naive = train_stream(stream, "naive", progress=False, **common)
    return naive, sweep(stream, "ewc", "lam", [1e-6, 1e5], **common)


def test_tiny_lambda_is_naive_and_huge_lambda_cannot_learn(swept):
    naive, (tiny, huge) = swept
    assert tiny.strategy.lam == 1e-6 and huge.strategy.lam == 1e5
    assert abs(tiny.summary()["acc"] - naive.summary()["acc"]) < 0.02
    assert new_task_accuracy(huge.acc_matrix) < new_task_accuracy(tiny.acc_matrix) - 0.1
    assert huge.acc_matrix[1, 0] >= tiny.acc_matrix[1, 0] - 0.02  # the old task is kept at least as well


def test_table_and_plot(swept):
    naive, results = swept
    table = format_sweep(results, "lam", baseline=naive).splitlines()
    assert table[0].split()[:2] == ["lam", "ACC"] and table[1].split()[0] == "naive"
    assert [row.split()[0] for row in table[2:]] == ["1e-06", "100000"]
    fig = plot_sweep(results, "lam", baseline=naive)
    acc_ax, fgt_ax = fig.axes[:2]
    assert acc_ax.get_xscale() == "log" and fgt_ax.get_xscale() == "log"
    assert "lambda" in acc_ax.get_xlabel() and "\\" in acc_ax.get_xlabel()   # the symbol, not the word 'lam'
    assert "accuracy" not in fgt_ax.get_ylabel() and "forgetting" in fgt_ax.get_ylabel()
    assert not any("forgetting" in ln.get_label() for ln in acc_ax.lines)
    assert len([ln for ln in acc_ax.lines + fgt_ax.lines if len(ln.get_xdata()) == 2]) >= 3


def test_bad_sweeps_fail_before_training(make_stream, monkeypatch):
    stream = make_stream("permuted", n_tasks=2, train_size=100, test_size=50)
    import cl_helpers.experiments.sweeps as sweeps

    monkeypatch.setattr(sweeps, "train_stream", lambda *a, **k: pytest.fail("trained before checking"))
    with pytest.raises(ConfigError, match="at least one value"):
        sweep(stream, "ewc", "lam", [])
    with pytest.raises(ConfigError, match="lam"):
        sweep(stream, "ewc", "lam", [10.0, -1.0])
    with pytest.raises(ConfigError, match="unknown option"):
        sweep(stream, "ewc", "lamda", [1.0])
