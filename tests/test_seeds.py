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
