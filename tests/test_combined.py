"""Methods combined ("ewc+replay"): every part's hooks run, in order, once; impossible pairs are refused."""
import numpy as np
import pytest
import torch

from cl_helpers import get_strategy, train_stream
from cl_helpers.errors import ConfigError
from cl_helpers.strategies import Combined, Strategy, combine


@pytest.fixture(scope="module")
def stream(request):
    # Class-incremental split MNIST, 3 pairs of digits, 300 training images each: a few seconds per run.
    return request.getfixturevalue("make_stream")("split", n_tasks=3, scenario="class", train_size=300,
                                                  test_size=300)


def _run(stream, method, **hp):
    return train_stream(stream, get_strategy(method, **hp), epochs=1, progress=False)


@pytest.mark.parametrize("alone", ["ewc", "replay", "si", "lwf"])
def test_naive_adds_nothing(stream, alone):
    """naive overrides no hook: naive+X must be X bit for bit (a hook called twice or skipped would show)."""
    a, b = _run(stream, alone), _run(stream, f"naive+{alone}")
    assert np.array_equal(a.acc_matrix, b.acc_matrix)
    assert all(torch.equal(p, q) for p, q in zip(a.model.state_dict().values(), b.model.state_dict().values()))


def test_ewc_and_replay_both_act(stream):
    both = _run(stream, "ewc+replay", lam=1000.0)
    ewc, replay = both.strategy.parts
    assert len(replay.buffer) > 0 and ewc.fishers, "each part kept its own state"
    penalty = both.strategy.penalty(both.model)
    assert torch.allclose(penalty, ewc.penalty(both.model)) and penalty > 0   # replay adds no penalty term
    alone = {m: _run(stream, m, **({"lam": 1000.0} if m == "ewc" else {})).acc_matrix for m in ("ewc", "replay")}
    assert not np.allclose(both.acc_matrix, alone["ewc"]) and not np.allclose(both.acc_matrix, alone["replay"])
    assert both.summary()["acc"] > alone["ewc"][-1].mean() + 0.1   # the replay part rescues class-IL


def test_penalties_add_up(stream):
    both = _run(stream, "ewc+si")
    ewc, si = both.strategy.parts
    assert torch.allclose(both.strategy.penalty(both.model), ewc.penalty(both.model) + si.penalty(both.model))


class _Recorder(Strategy):
    calls: list = []

    def before_task(self, model, task, stream):
        self.calls.append((self.name, "before_task"))

    def after_step(self, model):
        if not any(c == (self.name, "after_step") for c in self.calls):
            self.calls.append((self.name, "after_step"))

    def after_task(self, model, task, stream):
        self.calls.append((self.name, "after_task"))


class _First(_Recorder):
    name = "first"


class _Second(_Recorder):
    name = "second"


def test_hooks_run_in_the_order_named(stream):
    _Recorder.calls.clear()
    train_stream(stream, Combined([_Second(), _First()]), epochs=1, progress=False)  # not registered: private
    assert _Recorder.calls[:6] == [("second", "before_task"), ("first", "before_task"), ("second", "after_step"),
                                   ("first", "after_step"), ("second", "after_task"), ("first", "after_task")]


@pytest.mark.parametrize("pair, hook", [("lora+packnet", "the model"), ("replay+generative_replay", "make_batch"),
                                        ("agem+packnet", "after_backward"), ("lwf+generative_replay", "loss")])
def test_two_owners_of_one_step_are_refused(pair, hook):
    with pytest.raises(ConfigError) as err:
        get_strategy(pair)
    message = str(err.value)
    assert hook in message and "\n" not in message
    assert all(part in message for part in pair.split("+"))


def test_options_go_to_the_part_that_has_them():
    s = get_strategy("ewc+replay", lam=10, buffer_size=300)
    assert isinstance(s, Combined) and s.parts[0].lam == 10 and s.parts[1].buffer_size == 300
    assert s.hparams == {**{f"ewc.{k}": v for k, v in s.parts[0].hparams.items()},
                         **{f"replay.{k}": v for k, v in s.parts[1].hparams.items()}}
    assert get_strategy(["ewc", "replay"], ewc={"lam": 7}).parts[0].lam == 7
    with pytest.raises(ConfigError, match="both ewc and online_ewc"):
        get_strategy("ewc+online_ewc", lam=10)
    with pytest.raises(ConfigError, match="no part has it"):
        get_strategy("ewc+replay", c=1)
    with pytest.raises(ConfigError, match="unknown method 'nope'"):
        combine(["ewc", "nope"])
    with pytest.raises(ConfigError, match="twice"):
        get_strategy("ewc+ewc")


def test_the_cli_runs_a_combination(capsys, data_root):
    from cl_helpers.cli import main

    code = main(["compare", "--benchmark", "split", "--scenario", "class", "--tasks", "2", "--epochs", "1",
                 "--train-size", "200", "--test-size", "200", "--methods", "replay,ewc+replay",
                 "--ewc-lam", "100", "--quiet", "--data-dir", str(data_root), "--no-download"])
    out = capsys.readouterr().out
    assert code == 0 and "ewc+replay" in out
