"""The rank-curve plot of a LoRA rank sweep, and fine-tuning from a model pretrained for other epochs."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from cl_helpers import ConfigError  # noqa: E402
from cl_helpers.experiments import finetune as ft  # noqa: E402
from cl_helpers.experiments.finetune import FinetuneResult  # noqa: E402
from cl_helpers.plots import plot_rank_curves  # noqa: E402


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
    refs = [ln for ln in ax.lines if len(ln.get_xdata()) == 2]
    styles = {(ln.get_linestyle(), ln.get_color()) for ln in refs}
    assert len(styles) == len(refs) == 3   # full new, full old, old before: each its own style or colour
    assert sorted(ln.get_ydata()[0] for ln in refs) == pytest.approx([0.70, 0.90, 0.95])
    assert ax.get_xscale() == "log"
    with pytest.raises(ConfigError, match="LoRA results"):
        plot_rank_curves([result(None, 0.9, 0.7)])



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
