"""The family table counts what each method really holds: the numbers it stores beyond the plain model."""
import matplotlib
import pytest

from cl_helpers import TrainConfig, count_parameters, get_strategy, plots, train_stream
import torch

from cl_helpers.experiments.family import (distinct_numbers, family_row, format_family_table, stored_numbers,
                                           trained_alone)

matplotlib.use("Agg")
SMALL = dict(epochs=1, hidden=(32,), progress=False)


@pytest.fixture(scope="module")
def streams(make_stream):
    return (make_stream("split", scenario="class", n_tasks=3, train_size=100, test_size=50),
            make_stream("split", scenario="task", n_tasks=3, train_size=100, test_size=50))


def test_counts_match_what_each_method_keeps(streams):
    cil, til = streams
    d = cil.input_size
    P = count_parameters(train_stream(cil, "naive", **SMALL).model)
    assert stored_numbers(train_stream(cil, "naive", **SMALL)) == 0
    replay = train_stream(cil, get_strategy("replay", buffer_size=40), **SMALL)
    assert stored_numbers(replay) == 40 * (d + 2)                          # inputs, label, task id
    ewc = train_stream(cil, "ewc", **SMALL)
    assert stored_numbers(ewc) == 3 * 2 * P                                # a Fisher and an anchor per task
    si = train_stream(cil, "si", **SMALL)
    # Omega, anchor, this task's omega and start point: its per-parameter views of Omega and the anchor
    # are the same numbers, and the last step's gradient and parameters are scratch
    assert stored_numbers(si) == 4 * P
    gr = train_stream(cil, get_strategy("generative_replay", generator_steps=2), **SMALL)
    g = gr.strategy.generator_parameters()
    assert stored_numbers(gr) == 2 * g + P + cil.n_outputs                 # generator + frozen copy, old classifier,
    #                                                                        which output units have classes
    joint = train_stream(cil, "joint", **SMALL)
    assert stored_numbers(joint) == sum(t.x_train.numel() + t.y_train.numel() for t in cil)
    pnn = train_stream(til, "progressive", **SMALL)
    plain = count_parameters(train_stream(til, "naive", **SMALL).model)
    assert stored_numbers(pnn) == pnn.model.n_parameters(3) - plain              # two more columns and laterals
    pack = train_stream(til, "packnet", **SMALL)
    assert stored_numbers(pack) == sum(o.numel() for o in pack.strategy.owner.values())
    row = family_row(replay, "replay 40")
    assert row["family"] == "replay" and row["images"] == pytest.approx(40 * (d + 2) / d)
    assert "replay 40" in format_family_table([replay, ewc], ["replay 40", "EWC"])


def test_views_count_once_and_the_model_not_at_all():
    flat = torch.zeros(10)
    views = [flat[:4].view(2, 2), flat[4:]]
    assert distinct_numbers([flat, *views]) == 10                  # views of a tensor add nothing
    assert distinct_numbers(views) == 10 and distinct_numbers([flat[:4], flat[2:6]]) == 6
    assert distinct_numbers([flat, torch.zeros(3)], exclude=[flat[:4]]) == 6 + 3
    assert distinct_numbers([flat[::2]]) == 9                      # a strided view keeps its span alive


def test_trained_alone_is_one_fresh_network_per_task(streams, on_mnist):
    _, til = streams
    config = TrainConfig(epochs=2, hidden=(32,))
    alone = trained_alone(til, config)
    assert alone.shape == (len(til),)
    if on_mnist:   # one digit pair from scratch: an easy two-way task
        assert alone.min() > 0.8
    # the first task of a run starts from a fresh network too, with one head per task instead of one
    first = train_stream(til, "naive", config, progress=False).acc_matrix[0, 0]
    assert abs(first - alone[0]) < 0.05


def test_capacity_and_dream_plots_draw(streams):
    _, til = streams
    pack = train_stream(til, "packnet", **SMALL)
    fig = plots.plot_prune_effect({0.5: (0.9, 0.125)}, pack)
    assert len(fig.axes) >= 2
    assert fig.axes[0].get_ylabel()                                   # accuracy and a fraction share one axis
    growth = plots.plot_parameter_growth({"a": [1, 2, 3], "b": [2, 2, 2]}).axes[0]
    assert growth.get_lines()
    assert all(float(t).is_integer() for t in growth.get_xticks())   # a number of tasks is a whole number
    gr = train_stream(streams[0], get_strategy("generative_replay", generator_steps=2), **SMALL)
    assert len(gr.strategy.dreams) == 2                                    # none after the last task
    assert len(plots.plot_dreams(gr.strategy.dreams, streams[0].image_shape, n=5).axes) == 2 * 5
