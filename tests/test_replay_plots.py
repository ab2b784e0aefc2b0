"""Chapter 5's replay pictures: reservoir keep rates are uniform, the bug's are not, and the plots show real runs."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cl_helpers import ConfigError, get_strategy, train_stream  # noqa: E402
from cl_helpers.teaching.exercises.ch05_replay import _eviction_skipped, reference_reservoir_add  # noqa: E402
from cl_helpers.experiments.reservoir import keep_frequencies
from cl_helpers.plots import plot_buffer_effect, plot_keep_frequencies  # noqa: E402


def test_reservoir_keeps_every_item_with_the_same_rate():
    freq = keep_frequencies(reference_reservoir_add, n_items=100, capacity=10, repeats=600, seed=1)
    # The buffer always ends with exactly `capacity` items: the rates sum to capacity exactly.
    assert freq.sum() == pytest.approx(10.0)
    # Binomial(600, 0.1) has sd 0.012: every item within 5 sd, early and late items alike.
    assert np.abs(freq - 0.1).max() < 0.06
    assert abs(freq[:30].mean() - freq[-30:].mean()) < 0.02


def test_the_course_bug_keeps_only_the_first_items():
    freq = keep_frequencies(_eviction_skipped, n_items=50, capacity=5, repeats=20)
    np.testing.assert_array_equal(freq, np.r_[np.ones(5), np.zeros(45)])


def test_same_seed_same_rates_and_bad_sizes_rejected():
    a = keep_frequencies(reference_reservoir_add, 30, 3, 50, seed=4)
    b = keep_frequencies(reference_reservoir_add, 30, 3, 50, seed=4)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ConfigError, match="capacity"):
        keep_frequencies(reference_reservoir_add, 30, 0, 50)


def test_keep_rate_plot_draws_one_bar_per_item_and_the_uniform_line():
    freq = keep_frequencies(reference_reservoir_add, 40, 4, 30)
    fig = plot_keep_frequencies(freq, capacity=4)
    ax = fig.axes[0]
    assert len(ax.patches) == 40
    assert ax.lines[0].get_ydata()[0] == pytest.approx(0.1)
    plt.close(fig)


def test_buffer_effect_plot_on_real_replay_runs(make_stream):
    stream = make_stream("split", scenario="class", train_size=300, test_size=100)
    accs, last = {}, None
    for size in (20, 400):
        last = train_stream(stream, get_strategy("replay", buffer_size=size), epochs=4, progress=False)
        accs[size] = last.summary()["acc"]
    naive = train_stream(stream, "naive", epochs=4, progress=False).summary()["acc"]
    # A memory of past examples must beat plain fine-tuning in class-incremental split (naive ~ 1/5).
    assert accs[400] > naive + 0.2
    fig = plot_buffer_effect(accs, last, {"naive": naive})
    left, right = fig.axes[0], fig.axes[1]
    np.testing.assert_allclose(left.lines[0].get_ydata(), [accs[20], accs[400]])
    assert "buffer size = 400" in right.get_title()
    assert any("naive" in t.get_text() for t in left.get_legend().get_texts())
    plt.close(fig)


def test_buffer_effect_reference_lines_differ_in_colour_style_and_marker(make_stream):
    """Two baselines that nearly coincide (naive and EWC in class-IL) must still be told apart: no shared look."""
    stream = make_stream("split", scenario="class", train_size=100, test_size=50)
    run = train_stream(stream, get_strategy("replay", buffer_size=50), epochs=1, progress=False)
    fig = plot_buffer_effect({50: run.summary()["acc"]}, run, {"naive": 0.186, "EWC": 0.191, "joint": 0.9})
    refs = fig.axes[0].lines[1:]
    assert len(refs) == 3
    looks = [(ln.get_color(), str(ln.get_linestyle()), ln.get_marker()) for ln in refs]
    for part in range(3):
        assert len({look[part] for look in looks}) == 3, looks
    # The markers of different baselines sit at different x positions, so overlapping lines both show.
    marked = [set(np.asarray(ln.get_xdata())[ln.get_markevery()[0]::ln.get_markevery()[1]]) for ln in refs]
    assert not (marked[0] & marked[1]) and not (marked[1] & marked[2])
    plt.close(fig)


def test_curves_give_every_task_its_own_marker_and_prediction_counts_match_the_accuracy(make_stream):
    from cl_helpers.plots import plot_curves, prediction_counts

    stream = make_stream("split", scenario="class", train_size=300, test_size=100)
    run = train_stream(stream, "naive", epochs=4, progress=False)
    fig = plot_curves(run)
    solid = [ln for ln in fig.axes[0].lines if ln.get_label().startswith("task")]
    assert len(solid) == run.n_tasks and len({ln.get_marker() for ln in solid}) == run.n_tasks
    plt.close(fig)
    true, got = prediction_counts(run, task_id=0)
    assert true.sum() == got.sum() == len(stream[0].y_test)
    # Naive fine-tuning in class-IL gets task 0 wrong and calls nearly all of it one of the last task's classes.
    assert run.acc_matrix[-1, 0] < 0.05 and got[8:].sum() >= 0.9 * got.sum()
