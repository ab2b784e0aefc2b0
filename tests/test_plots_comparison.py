"""plot_comparison: accuracy and forgetting on their own axes, negative forgetting visible, seeds as mean +- sd."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cl_helpers import ConfigError, RunResult, plots  # noqa: E402


def run(method, final_row, diag):
    T = len(final_row)
    R = np.zeros((T, T))
    for i in range(T):
        R[i, :i + 1] = diag[:i + 1]
    R[-1] = final_row
    return RunResult(method=method, acc_matrix=R, init_acc=np.full(T, 0.1), steps=np.arange(2),
                     curve_acc=np.zeros((2, T)), task_boundaries=[0], epoch_loss=[], seconds=0.0,
                     train_seconds=0.0, config={}, source="test", task_names=[], model=None, strategy=None)


def test_two_axes_forgetting_never_labelled_accuracy_and_negative_bars_visible():
    naive = run("naive", [0.5, 0.9], [0.9, 0.9])          # forgetting 0.4
    joint = run("joint", [0.95, 0.9], [0.9, 0.9])         # forgetting -0.05: it got better
    fig = plots.plot_comparison([naive, joint])
    acc_ax, fgt_ax = fig.axes[:2]
    assert "accuracy" not in fgt_ax.get_ylabel().lower() and "forgetting" in fgt_ax.get_ylabel()
    heights = [p.get_height() for p in fgt_ax.patches]
    assert heights == pytest.approx([0.4, -0.05])
    assert fgt_ax.get_ylim()[0] < -0.05                    # the negative bar is inside the axis
    assert acc_ax.get_legend() is None and fgt_ax.get_legend() is None   # nothing drawn over the bars


def test_seeds_give_mean_and_error_bars():
    seeds = [[run("naive", [0.5, 0.9], [0.9, 0.9]), run("naive", [0.3, 0.9], [0.9, 0.9]),
              run("naive", [0.4, 0.9], [0.9, 0.9])],
             [run("replay", [0.8, 0.9], [0.9, 0.9])] * 3]
    fig = plots.plot_comparison(seeds)
    acc_ax, fgt_ax = fig.axes[:2]
    assert [p.get_height() for p in acc_ax.patches] == pytest.approx([0.65, 0.85])
    labels = [t.get_text() for t in acc_ax.texts]
    assert any("±0.05" in t for t in labels) and "3 seeds" in acc_ax.get_title()
    assert len(acc_ax.collections) >= 1                    # the error bars


def test_a_single_axis_is_refused_in_one_line():
    import matplotlib.pyplot as plt
    _, ax = plt.subplots()
    with pytest.raises(ConfigError, match="pair of axes") as err:
        plots.plot_comparison([run("naive", [0.5, 0.9], [0.9, 0.9])], ax=ax)
    assert "\n" not in str(err.value)
