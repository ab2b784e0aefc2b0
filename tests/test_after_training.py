"""After training, on real data: every-step evaluation through a task switch, interpolation, recovery."""
import numpy as np
import pytest
import torch

from cl_helpers import evaluate, train_stream
from cl_helpers.experiments.after_training import interpolation_curve, probed_run, recovery_curve
from cl_helpers.strategies import Strategy


@pytest.fixture(scope="module")
def runs(request):
    # Permuted MNIST, two tasks of 1,000 images, 2 epochs of batch 128: 16 steps per task, evaluated every step.
    stream = request.getfixturevalue("make_stream")("permuted", n_tasks=2, train_size=1000, test_size=500)
    return stream, {m: probed_run(stream, m, every=1, n_test=500, epochs=2) for m in ("naive", "replay")}


def test_the_probe_changes_nothing_in_the_run(runs):
    stream, probed = runs
    plain = train_stream(stream, "naive", epochs=2, progress=False)
    assert np.array_equal(plain.acc_matrix, probed["naive"].result.acc_matrix)


def test_every_step_is_evaluated_and_matches_the_epoch_evaluations(runs):
    stream, probed = runs
    pr = probed["naive"]
    steps_per_task = pr.boundaries[1]
    assert list(pr.steps) == list(range(2 * steps_per_task + 1))
    for k, s in enumerate(pr.result.steps):          # the engine's per-epoch evaluations are among the probe's
        assert np.allclose(pr.acc[list(pr.steps).index(s)], pr.result.curve_acc[k], atol=1e-6)


def test_the_old_task_dips_right_after_the_switch(runs):
    _, probed = runs
    for m in ("naive", "replay"):
        gap = probed[m].gap(task=0, switch=1)
        assert gap["lowest"] < gap["before"] - 0.05, (m, gap)   # the dip, with replay too
    assert probed["replay"].gap(0, 1)["end"] > probed["naive"].gap(0, 1)["end"]


def test_interpolation_runs_from_one_model_to_the_other(runs):
    stream, probed = runs
    pr = probed["naive"]
    curve = interpolation_curve(pr.result.model, pr.starts[1], pr.final_state(), list(stream), [0.0, 0.5, 1.0])
    assert np.allclose(curve[0], pr.result.acc_matrix[0]) and np.allclose(curve[-1], pr.result.acc_matrix[1])
    assert curve[1, 0] > curve[2, 0] and curve[1, 1] > curve[0, 1]   # halfway: more old than the end, more new than the start


def test_recovery_starts_at_the_forgotten_accuracy_and_trains(runs):
    stream, probed = runs
    model = probed["naive"].result.model
    before = evaluate(model, stream[0], Strategy())
    curve = recovery_curve(model, stream[0], n_examples=100, steps=10)
    assert curve[0] == pytest.approx(before) and len(curve) == 11
    assert evaluate(model, stream[0], Strategy()) == before       # the model passed in is not changed
    assert curve.max() > curve[0]


def test_the_gap_reports_the_wobble_before_the_switch_and_the_epoch_ends(runs):
    _, probed = runs
    pr = probed["naive"]
    start, previous = pr.boundaries[1], pr.boundaries[0]
    g = pr.gap(0, 1)                                     # default: the second half of task 0
    half = (pr.steps > start - (start - previous) // 2) & (pr.steps <= start)
    assert g["lowest_before"] == pytest.approx(float(pr.acc[half, 0].min()))
    assert g["lowest_before"] <= g["before"]
    assert g["mean_before"] == pytest.approx(float(pr.acc[half, 0].mean()))
    inside = (pr.steps > start) & (pr.steps <= start + 4)
    assert pr.gap(0, 1, window=4)["mean_after"] == pytest.approx(float(pr.acc[inside, 0].mean()))
    g1 = pr.gap(0, 1, before=1)                          # one step: the switch itself
    assert g1["lowest_before"] == pytest.approx(g1["before"])
    assert np.allclose(pr.at(0, [start, int(pr.steps[-1])]), [g["before"], g["end"]])
    with pytest.raises(Exception):
        pr.gap(0, 1, before=0)
