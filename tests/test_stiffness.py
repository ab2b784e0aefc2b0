"""restore_by_importance: resetting the top-Fisher weights of an EWC run to theta* and re-measuring a task."""
import pytest

from cl_helpers import ConfigError, get_strategy, train_stream
from cl_helpers.experiments.stiffness import restore_by_importance


@pytest.fixture(scope="module")
def ewc_run(make_stream):
    stream = make_stream("permuted", n_tasks=3, train_size=1000, test_size=300)
    return train_stream(stream, get_strategy("ewc", lam=1e5), epochs=1, hidden=(64,), progress=False)


def test_nothing_restored_is_the_final_accuracy_everything_is_the_task_end(ewc_run):
    R = ewc_run.acc_matrix
    got = restore_by_importance(ewc_run, task=0, fractions=(0.0, 1.0))
    assert got[0.0] == pytest.approx(R[-1, 0], abs=1e-6)
    assert got[1.0] == pytest.approx(R[0, 0], abs=1e-6)   # every weight back at theta*_0
    got1 = restore_by_importance(ewc_run, task=1, fractions=(1.0,))
    assert got1[1.0] == pytest.approx(R[1, 1], abs=1e-6)


def test_the_final_model_is_left_alone(ewc_run):
    before = {k: v.clone() for k, v in ewc_run.model.state_dict().items()}
    restore_by_importance(ewc_run, task=0, fractions=(0.5, 1.0))
    assert all((before[k] == v).all() for k, v in ewc_run.model.state_dict().items())


def test_bad_input_is_one_line(ewc_run, make_stream):
    naive = train_stream(make_stream("permuted", n_tasks=2, train_size=200, test_size=50), "naive", epochs=1,
                         hidden=(16,), progress=False)
    for call, words in [(lambda: restore_by_importance(naive), "keeps no per-task Fisher"),
                        (lambda: restore_by_importance(ewc_run, task=3), "task 3 has no stored Fisher"),
                        (lambda: restore_by_importance(ewc_run, fractions=(1.5,)), "fraction 1.5")]:
        with pytest.raises(ConfigError, match=words) as err:
            call()
        assert "\n" not in str(err.value)


def test_exactly_the_fraction_is_restored_even_with_tied_zeros(ewc_run):
    # Many Fisher entries are exactly 0 (weights of ReLU units silent on the Fisher inputs); a threshold on the
    # value would restore all of them at once. Fraction f must reset round(f * n) weights and no more.
    from cl_helpers.experiments.stiffness import zero_fisher_split
    split = zero_fisher_split(ewc_run, task=0)
    assert 0 < split["zero_fraction"] < 0.5
    keep = 1 - split["zero_fraction"]
    got = restore_by_importance(ewc_run, task=0, fractions=(keep,))
    # restoring exactly the nonzero-Fisher weights is the same as zero_fisher_split's "restore_nonzero"
    assert got[keep] == pytest.approx(split["restore_nonzero"], abs=1e-6)


def test_zero_fisher_split_on_a_stiff_run(ewc_run):
    from cl_helpers.experiments.stiffness import silent_units, zero_fisher_split
    R = ewc_run.acc_matrix
    s = zero_fisher_split(ewc_run, task=0)
    assert s["final"] == pytest.approx(R[-1, 0]) and s["at_task_end"] == pytest.approx(R[0, 0])
    assert s["zero_count"] == round(s["zero_fraction"] * s["weights"])
    # lambda 1e5 pins the weights the Fisher sees: they move far less than the free (zero-Fisher) ones
    assert s["move_nonzero"] < 0.5 * s["move_zero"]
    # the zero-Fisher weights are (almost all) the weights into and out of silent ReLU units
    assert s["zero_on_silent"] > 0.9
    rows = silent_units(ewc_run, task=0)
    assert [r["units"] for r in rows] == [64] and 0 < rows[0]["silent"] < 64
    r = rows[0]
    # silent on all training / test images at theta* is a subset of silent on the Fisher draw (part of the training set)
    assert 0 <= r["silent_train"] <= r["silent"] and 0 <= r["silent_test"] <= r["silent"]
    # woken: of the units silent on the test images at theta*, those that fire on the same test images at the end
    assert 0 <= r["woken"] <= r["silent_test"]
    # restoring both groups is restoring everything: the two restorations bracket the damage
    assert max(s["restore_zero"], s["restore_nonzero"]) <= R[0, 0] + 0.05


def test_silent_units_needs_the_mlp(ewc_run):
    import dataclasses
    from torch import nn
    from cl_helpers.experiments.stiffness import silent_units
    odd = dataclasses.replace(ewc_run, model=nn.Linear(784, 10))
    with pytest.raises(ConfigError, match="course's MLP"):
        silent_units(odd, task=0)


def test_silent_units_compares_the_same_images_before_and_after(ewc_run):
    # the final model of a one-task "run" is theta*_0 itself: nothing silent there can have woken up
    import copy
    import dataclasses
    import torch
    from cl_helpers.experiments.stiffness import silent_units
    anchor = ewc_run.strategy.anchors[0]
    model = copy.deepcopy(ewc_run.model)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(anchor[name])
    rows = silent_units(dataclasses.replace(ewc_run, model=model), task=0)
    assert rows[0]["woken"] == 0 and rows[0]["silent_test"] > 0
