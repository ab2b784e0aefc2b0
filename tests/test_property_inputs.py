"""Random values thrown at the public constructors: either one ConfigError line or a valid object, nothing else.

Hypothesis draws what a notebook user might type or a slider/NumPy might hand over: NumPy scalars, bools,
strings, None, inf, NaN, huge and negative numbers, lists. Valid sizes are kept small so that an accepted
value never allocates much.
"""
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cl_helpers import MLP, ConfigError, TrainConfig, available_strategies, get_strategy
from cl_helpers.buffer import ReplayBuffer
from cl_helpers.data import load_dataset
from cl_helpers.strategies import REGISTRY
from cl_helpers.tasks import make_stream

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)

# Values that are no valid integer count anywhere (huge ones exceed every cap), and anything at all.
NOT_A_COUNT = st.one_of(
    st.none(), st.booleans(), st.text(max_size=4), st.integers(-2**70, 0), st.integers(2**40, 2**70),
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda f: not (f.is_integer() and f >= 1)),
    st.builds(np.int64, st.integers(-10, 0)), st.just(np.bool_(True)), st.just([3]), st.just(object()))
SMALL_COUNT = st.one_of(st.integers(1, 24), st.builds(np.int64, st.integers(1, 24)),
                        st.builds(float, st.integers(1, 24)))


def mostly(good, bad=NOT_A_COUNT):
    """`good` four times in five, else `bad`: several arguments together are then often all valid."""
    return st.integers(0, 4).flatmap(lambda k: bad if k == 0 else good)


ANYTHING = st.one_of(NOT_A_COUNT, SMALL_COUNT, st.floats(-1e13, 1e13), st.builds(np.float32, st.floats(-1e6, 1e6, width=32)),
                     st.integers(-10, 2**33), st.sampled_from(["exact", "reservoir", "balanced", "all", "adam", "cpu"]))


def outcome(make):
    """The object `make()` returns, or None after a one-line ConfigError; any other exception fails the test."""
    try:
        return make()
    except ConfigError as exc:
        message = str(exc)
        assert message and "\n" not in message, repr(message)
        return None


@SETTINGS
@given(st.fixed_dictionaries({}, optional={
    "epochs": mostly(SMALL_COUNT), "batch_size": mostly(SMALL_COUNT), "eval_batch_size": mostly(SMALL_COUNT),
    "lr": mostly(st.one_of(st.floats(1e-6, 10), st.builds(np.float32, st.floats(0.0625, 1, width=32))), ANYTHING),
    "optimizer": mostly(st.sampled_from(["adam", "sgd"]), ANYTHING),
    "seed": mostly(st.one_of(st.integers(0, 2**32 - 1), st.builds(np.int64, st.integers(0, 99)))),
    "reset_optimizer": mostly(st.one_of(st.booleans(), st.just(np.bool_(False))), ANYTHING),
    "hidden": mostly(st.lists(mostly(SMALL_COUNT), max_size=3), st.one_of(SMALL_COUNT, NOT_A_COUNT))}))
def test_train_config(kwargs):
    c = outcome(lambda: TrainConfig(**kwargs))
    if c is not None:
        assert all(type(v) is int for v in (c.epochs, c.batch_size, c.seed, c.eval_batch_size, *c.hidden))
        assert type(c.lr) is float and math.isfinite(c.lr) and c.lr > 0
        assert type(c.reset_optimizer) is bool and c.optimizer in ("adam", "sgd")


@pytest.mark.parametrize("name", available_strategies())
@SETTINGS
@given(data=st.data())
def test_get_strategy(name, data):
    params = REGISTRY[name].params
    keys = st.sampled_from(sorted(params) + ["lam", "nonsense"])
    kwargs = data.draw(st.dictionaries(keys, mostly(SMALL_COUNT, ANYTHING), max_size=3))
    s = outcome(lambda: get_strategy(name, **kwargs))
    if s is not None:
        for key, spec in params.items():
            value = getattr(s, key)
            if spec.choices is not None:
                assert value in spec.choices
            elif spec.type in (int, float) and value is not None:
                assert type(value) is spec.type and math.isfinite(value)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", device="cpu")


@SETTINGS
@given(benchmark=mostly(st.sampled_from(["permuted", "split", "rotated"]), st.sampled_from(["shuffled", 3, None])),
       n_tasks=mostly(st.one_of(st.none(), st.integers(1, 4))),
       scenario=mostly(st.sampled_from([None, "task", "domain", "class"]), st.sampled_from(["Task", 0, 1.5])),
       sizes=st.tuples(mostly(st.one_of(st.none(), st.integers(1, 60)), st.one_of(st.integers(2000, 10**9),
                                                                                   NOT_A_COUNT)),
                       mostly(st.one_of(st.none(), st.integers(1, 40)))),
       seed=mostly(st.one_of(st.integers(0, 2**32 - 1), st.builds(np.int64, st.integers(0, 99)))),
       device=mostly(st.sampled_from([None, "cpu"]), st.sampled_from(["gpu", 7, "cuda:x"])))
def test_make_stream_with_the_offline_digits(digits, benchmark, n_tasks, scenario, sizes, seed, device):
    stream = outcome(lambda: make_stream(benchmark, n_tasks, scenario, dataset=digits, train_size=sizes[0],
                                         test_size=sizes[1], seed=seed, device=device))
    if stream is not None:
        assert len(stream) >= 1
        for task in stream:
            assert len(task.y_train) >= 1 and len(task.y_test) >= 1
            assert torch.isfinite(task.x_train).all() and torch.isfinite(task.x_test).all()
            assert int(task.y_train.max()) < stream.n_outputs * (stream.n_heads if stream.scenario != "task" else 1)


@SETTINGS
@given(capacity=mostly(SMALL_COUNT), policy=mostly(st.sampled_from(["reservoir", "balanced"]), ANYTHING),
       seed=mostly(st.integers(0, 99)), device=mostly(st.sampled_from([None, "cpu"]), st.sampled_from(["tpu", 3])),
       task_id=mostly(st.one_of(st.integers(0, 9), st.builds(np.int64, st.integers(0, 9)))))
def test_replay_buffer(capacity, policy, seed, device, task_id):
    buf = outcome(lambda: ReplayBuffer(capacity, policy, seed, device))
    if buf is not None:
        assert outcome(lambda: buf.add(torch.zeros(30, 4), torch.arange(30) % 3, task_id)) is None
        assert len(buf) in (0, min(30, buf.capacity))
        if len(buf):
            x, y, t = buf.sample(5)
            assert x.shape == (5, 4) and (t == int(task_id)).all()


@SETTINGS
@given(input_size=mostly(SMALL_COUNT), n_outputs=mostly(SMALL_COUNT), n_heads=mostly(st.integers(1, 3)),
       hidden=mostly(st.lists(mostly(SMALL_COUNT), max_size=3), st.one_of(SMALL_COUNT, NOT_A_COUNT)))
def test_mlp(input_size, n_outputs, n_heads, hidden):
    model = outcome(lambda: MLP(input_size, hidden, n_outputs, n_heads))
    if model is not None:
        out = model(torch.zeros(2, int(input_size)), 0)
        assert out.shape == (2, int(n_outputs)) and torch.isfinite(out).all()
