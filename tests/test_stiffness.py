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
