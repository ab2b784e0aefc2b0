"""Chapter 8's plots: one run's metrics get their own colors, repeated curves and points stay visible and named."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from cl_helpers.lm.finetune import FinetuneConfig, FinetuneResult  # noqa: E402
from cl_helpers.plots.tradeoff import (plot_frontier, plot_sweep, plot_tradeoff_curves,  # noqa: E402
                                       plot_tradeoff_scatter)


def fake(method, values, lr=None, fraction=0.05):
    history = [(s, {"new_skill": v, "safety": 1 - v, "over_refusal": 0.0, "stage0_skill": 0.5})
               for s, v in zip((0, 25, 50), values)]
    return FinetuneResult(FinetuneConfig(method=method, lr=lr, replay_fraction=fraction), history, history[-1][1],
                          0.1, 2, 10, 1.0, model=None)


def test_one_run_has_one_color_per_metric():
    ax = plot_tradeoff_curves([fake("full", (0, .5, .9))], metrics=("new_skill", "safety", "over_refusal"))
    assert len({to_hex(line.get_color()) for line in ax.get_lines()}) == 3
    plt.close("all")


def test_a_repeated_curve_is_drawn_dashed_and_named():
    same = (0, .4, .8)
    ax = plot_tradeoff_curves([fake("replay", same), fake("self_replay", same), fake("full", (0, .5, .9))],
                              metrics=("safety",))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[1] == "self_replay 5%: safety (same as replay 5%)"
    assert "same as" not in labels[0] + labels[2]
    lines = ax.get_lines()
    assert lines[1].get_linestyle() != lines[0].get_linestyle()
    assert to_hex(lines[0].get_color()) != to_hex(lines[1].get_color())
    plt.close("all")


def test_runs_at_the_same_point_share_one_label():
    same = (0, .4, .8)
    ax = plot_tradeoff_scatter([fake("replay", same), fake("self_replay", same), fake("full", (0, .5, .9))])
    texts = [t.get_text() for t in ax.texts if "tier" not in t.get_text()]
    assert sorted(texts) == ["full", "replay 5% = self_replay 5%"]
    plt.close("all")


def test_sweep_and_frontier_draw_one_line_per_metric_and_group():
    runs = [fake("replay", (0, .4, v), fraction=f) for v, f in ((.5, .01), (.7, .1))]
    ax = plot_sweep([.01, .1], runs, "replay fraction")
    assert len(ax.get_lines()) == 4 and list(ax.get_lines()[0].get_xdata()) == [.01, .1]
    ax = plot_frontier({"full": [fake("full", (0, .4, .9), lr=1e-3)], "lora": [fake("lora", (0, .4, .6), lr=5e-3)]})
    assert len(ax.get_lines()) == 2
    assert {t.get_text() for t in ax.texts} == {"lr 1e-03", "lr 5e-03"}
    plt.close("all")
