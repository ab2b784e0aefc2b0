"""The LoRA plots (rank curves, learn vs forget, full vs LoRA bars), and fine-tuning from a model pretrained for other epochs."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from cl_helpers import ConfigError  # noqa: E402
from cl_helpers.experiments import finetune as ft  # noqa: E402
from cl_helpers.experiments.finetune import FinetuneResult  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from cl_helpers.plots import plot_rank_curves, plot_rank_sweep  # noqa: E402


def result(rank, new_after, old_after):
    return FinetuneResult("full" if rank is None else "lora", rank, None, None, 100 if rank is None else rank,
                          100, 0.1, new_after, 0.9, old_after, 0.5)


def test_rank_curves_one_point_per_rank_in_rank_order_full_as_reference():
    results = [result(None, 0.95, 0.70), result(8, 0.85, 0.85), result(1, 0.50, 0.80), result(2, 0.70, 0.88)]
    fig = plot_rank_curves(results)
    ax = fig.axes[0]
    curves = [ln for ln in ax.lines if list(ln.get_xdata()) == [1, 2, 8]]
    assert len(curves) == 2  # new-task and old-task accuracy; forgetting is not an accuracy, it is not on this axis
    ys = {ln.get_label(): list(ln.get_ydata()) for ln in curves}
    assert ys["new task, LoRA"] == [0.50, 0.70, 0.85]
    assert ys["old task after, LoRA"] == [0.80, 0.88, 0.85]
    # Full fine-tuning: one marker per accuracy at its own "full" tick right of the largest rank, never a line
    # across the axis that could hide the old-task-before line when the values coincide.
    fulls = [ln for ln in ax.lines if len(ln.get_xdata()) == 1]
    assert sorted(float(ln.get_ydata()[0]) for ln in fulls) == pytest.approx([0.70, 0.95])
    assert all(float(ln.get_xdata()[0]) > 8 for ln in fulls)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "8", "full"]
    before = [ln for ln in ax.lines if len(ln.get_xdata()) == 2 and ln.get_ydata()[0] == ln.get_ydata()[1]]
    assert [float(ln.get_ydata()[0]) for ln in before] == [0.9] and before[0].get_linestyle() == ":"
    assert ax.get_xscale() == "log"
    with pytest.raises(ConfigError, match="LoRA results"):
        plot_rank_curves([result(None, 0.9, 0.7)])


def sweep_result(rank, alpha, new_after, old_after):
    return FinetuneResult("full" if rank is None else "lora", rank, alpha, "body", 100, 100, 0.1, new_after, 0.915,
                          old_after, 0.1)


# Chapter 4's two sweeps as they came out (MNIST subset, seed 0): at alpha = 8 ranks 8-128 nearly coincide.
RANKS = [1, 2, 4, 8, 16, 32, 64, 128]
FIXED = [(0.556, 0.648), (0.758, 0.647), (0.844, 0.803), (0.850, 0.863), (0.855, 0.871), (0.853, 0.873),
         (0.851, 0.873), (0.846, 0.877)]
SAME = [(0.456, 0.741), (0.597, 0.843), (0.805, 0.849), (0.850, 0.863), (0.876, 0.851), (0.882, 0.849),
        (0.889, 0.799), (0.895, 0.722)]


def _chapter_figure():
    full = sweep_result(None, None, 0.920, 0.785)
    fixed = [full] + [sweep_result(r, 8.0, *v) for r, v in zip(RANKS, FIXED)]
    same = [sweep_result(r, float(r), *v) for r, v in zip(RANKS, SAME)]
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    plot_rank_curves(fixed, ax=axes[0])
    plot_rank_curves(fixed[:1] + same, ax=axes[1])
    fig.tight_layout()
    plot_rank_sweep({"LoRA, alpha = 8": fixed, "LoRA, alpha = r": same}, ax=axes[2])
    fig.canvas.draw()
    return fig, axes[2]


def _ranks_in(text: str) -> list[int]:
    lo, _, hi = text.removeprefix("r=").partition("\u2013")
    return [r for r in RANKS if int(lo) <= r <= int(hi or lo)]


def test_rank_sweep_labels_every_rank_once_per_curve_and_no_label_overprints_another():
    fig, ax = _chapter_figure()
    renderer = fig.canvas.get_renderer()
    by_color = {}
    for t in ax.texts:
        by_color.setdefault(t.get_color(), []).append(t)
    assert len(by_color) == 2
    for texts in by_color.values():  # each rank named once; ranks whose markers touch share a label (r=16-128)
        named = sorted(r for t in texts for r in _ranks_in(t.get_text()))
        assert named == RANKS or sorted(named + [8]) == sorted(RANKS + [8])  # r=8 is one result on both curves
    assert any("\u2013" in t.get_text() for t in ax.texts)  # the packed alpha = 8 ranks share one label
    boxes = [Text.get_window_extent(t, renderer) for t in ax.texts]
    frame = ax.get_window_extent(renderer)
    for i, a in enumerate(boxes):
        assert frame.x0 <= a.x0 and a.x1 <= frame.x1 and frame.y0 <= a.y0 and a.y1 <= frame.y1
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (a, b)
    names = {ln.get_label() for ln in ax.lines}
    assert {"LoRA, alpha = 8", "LoRA, alpha = r", "full fine-tuning"} <= names
    plt.close(fig)


def test_finetuning_bars_tick_labels_do_not_touch_and_labels_are_checked():
    from cl_helpers.plots import plot_finetuning

    results = [sweep_result(None, None, 0.92, 0.785), sweep_result(8, 8.0, 0.85, 0.863),
               sweep_result(8, 8.0, 0.854, 0.86)]
    results[0].trainable = 269322
    fig = plot_finetuning(results, labels=["full", "LoRA r=8, hidden layers", "LoRA r=8, all 3 layers"])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes[:2]:
        ticks = [t.get_window_extent(renderer) for t in ax.get_xticklabels()]
        assert [t.get_text().splitlines()[0] for t in ax.get_xticklabels()] == ["full", "LoRA r=8", "LoRA r=8"]
        assert all(not a.overlaps(b) for a, b in zip(ticks, ticks[1:]))
    acc_ax = fig.axes[0]
    legend = acc_ax.get_legend().get_window_extent(renderer)
    assert all(not legend.overlaps(t.get_window_extent(renderer)) for t in acc_ax.get_xticklabels())
    plt.close(fig)
    with pytest.raises(ConfigError, match="2 labels for 3 results"):
        plot_finetuning(results, labels=["a", "b"])


def test_finetune_can_start_from_a_model_pretrained_for_other_epochs(make_stream, monkeypatch):
    stream = make_stream("permuted", n_tasks=2, train_size=300, test_size=100)
    ft.clear_pretrained_cache()
    common = dict(targets="body", hidden=(32,))
    two = ft.finetune(stream, 4, epochs=2, **common)
    calls = []
    real = ft.train_stream
    monkeypatch.setattr(ft, "train_stream", lambda *a, **k: calls.append(1) or real(*a, **k))
    one = ft.finetune(stream, 4, epochs=1, pretrain_epochs=2, **common)
    assert len(calls) == 1  # the fine-tuning only: the 2-epoch pretrained model came from the cache
    assert (one.old_before, one.new_before) == (two.old_before, two.new_before)
    with pytest.raises(ConfigError, match="pretrain_epochs 0"):
        ft.finetune(stream, 4, epochs=1, pretrain_epochs=0, **common)
    ft.clear_pretrained_cache()
