"""run_seeds: one run per seed and method, remembered; mean +- sd tables."""
import pytest

from cl_helpers import ConfigError, TrainConfig
from cl_helpers.experiments import seeds as sd


@pytest.fixture(scope="module")
def stream(make_stream):
    return make_stream("permuted", n_tasks=2, train_size=300, test_size=100)


def test_seeds_differ_and_are_remembered(stream, monkeypatch):
    sd.clear_seed_cache()
    cfg = TrainConfig(epochs=1, hidden=(32,))
    groups = sd.run_seeds(stream, ["naive", "ewc"], cfg, {"ewc": {"lam": 100.0}}, seeds=(0, 1), progress=False)
    assert [g[0].method for g in groups] == ["naive", "ewc"] and all(len(g) == 2 for g in groups)
    naive0, naive1 = groups[0]
    # (RunResult.config["seed"] holds the stream's seed, which stream.config overrides; compare the runs instead)
    assert (naive0.acc_matrix != naive1.acc_matrix).any()          # another seed, another run
    assert naive0.model is None                                   # only the numbers are kept
    # the same settings again: nothing is trained
    monkeypatch.setattr(sd, "train_stream", lambda *a, **k: pytest.fail("trained a remembered setting"))
    again = sd.run_seeds(stream, ["naive", "ewc"], cfg, {"ewc": {"lam": 100.0}}, seeds=(0, 1), progress=False)
    assert again[0][1] is naive1
    # another hyperparameter is another setting
    with pytest.raises(pytest.fail.Exception):
        sd.run_seeds(stream, ["ewc"], cfg, {"ewc": {"lam": 1000.0}}, seeds=(0,), progress=False)


def test_stats_and_table(stream):
    cfg = TrainConfig(epochs=1, hidden=(32,))
    groups = sd.run_seeds(stream, ["naive"], cfg, seeds=(0, 1, 2), progress=False)
    accs = [r.summary()["acc"] for r in groups[0]]
    mean, sdev = sd.seed_stats(groups[0])["acc"]
    assert mean == pytest.approx(sum(accs) / 3) and sdev > 0
    table = sd.format_seeds(groups).splitlines()
    assert "3 seeds" in table[0] and table[1].split()[0] == "naive" and f"{mean:.3f} ± {sdev:.3f}" in table[1]


def test_bad_seeds_or_method_fail_before_training(stream, monkeypatch):
    monkeypatch.setattr(sd, "train_stream", lambda *a, **k: pytest.fail("trained before checking"))
    for seeds in ((), (-1,), (0.5,)):
        with pytest.raises(ConfigError, match="seeds"):
            sd.run_seeds(stream, ["naive"], seeds=seeds)
    with pytest.raises(ConfigError):
        sd.run_seeds(stream, ["naive", "nope"], seeds=(0,))


def test_new_task_fwt_and_final_row_columns(stream):
    """The table's new-task and FWT columns, and the last-row table, are the runs' own numbers."""
    import numpy as np

    from cl_helpers.metrics import new_task_accuracy

    cfg = TrainConfig(epochs=1, hidden=(32,))
    groups = sd.run_seeds(stream, ["naive"], cfg, seeds=(0, 1, 2), progress=False)
    runs = groups[0]
    st = sd.seed_stats(runs)
    new = [new_task_accuracy(r.acc_matrix) for r in runs]
    assert st["new_task"][0] == pytest.approx(np.mean(new)) and st["new_task"][1] == pytest.approx(np.std(new, ddof=1))
    assert st["fwt"][0] == pytest.approx(np.mean([r.summary()["fwt"] for r in runs]))
    header, row = sd.format_seeds(groups).splitlines()
    assert "new task" in header and "FWT" in header
    assert f"{st['new_task'][0]:.3f} ± {st['new_task'][1]:.3f}" in row and f"{st['fwt'][0]:.3f}" in row.split()
    last = np.array([np.asarray(r.acc_matrix)[-1] for r in runs])
    assert sd.final_accuracies(runs) == pytest.approx(last.mean(axis=0))
    header, row = sd.format_final_accuracies(groups).splitlines()
    assert header.split()[:3] == ["method", "task", "0"] and "3 seeds" in header
    assert row.split()[0] == "naive"
    for j in range(last.shape[1]):
        assert f"{last[:, j].mean():.3f} ± {last[:, j].std(ddof=1):.3f}" in row
    # columns line up under their headers
    assert len(header.split("   (")[0]) == len(row)
