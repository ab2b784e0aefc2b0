"""What a notebook user types into the Python API: NumPy integers work, every bad value is one ConfigError line.

Each case is one from issue 11, tried as a new user would from a notebook cell.
"""
import math

import numpy as np
import pytest
import torch

from cl_helpers import MLP, ConfigError, TrainConfig, get_strategy, train_stream
from cl_helpers.buffer import ReplayBuffer
from cl_helpers.fisher import fisher_diagonal
from cl_helpers.tasks import make_stream as make_stream_fn


def one_line(excinfo) -> str:
    message = str(excinfo.value)
    assert message and "\n" not in message and excinfo.type is ConfigError
    return message


@pytest.fixture(scope="module")
def stream(make_stream):
    return make_stream("permuted", n_tasks=2, train_size=200, test_size=100)


@pytest.mark.parametrize("value", [-5, 0])
def test_eval_batch_size_must_be_positive(stream, value):
    # -5 used to return every accuracy as 0.0 (an empty evaluation loop), 0 a deep traceback
    with pytest.raises(ConfigError) as e:
        train_stream(stream, "naive", eval_batch_size=value, progress=False)
    assert one_line(e) == f"eval_batch_size {value} is out of range; allowed: >= 1"


def test_train_config_keeps_converted_values():
    c = TrainConfig(epochs=2.0, batch_size=np.int64(64), lr=np.float32(0.5), seed=np.int64(3),
                    hidden=np.array([16, 8]), eval_batch_size=np.int32(100), reset_optimizer=np.bool_(False))
    assert (c.epochs, c.batch_size, c.seed, c.hidden, c.eval_batch_size) == (2, 64, 3, (16, 8), 100)
    assert all(type(v) is int for v in (c.epochs, c.batch_size, c.seed, c.eval_batch_size, *c.hidden))
    assert type(c.lr) is float and c.lr == 0.5
    assert c.reset_optimizer is False


@pytest.mark.parametrize("kwargs,message", [
    (dict(lr="0.01"), "lr must be a number, got '0.01'; allowed: (0, 10]"),
    (dict(epochs=2.5), "epochs must be an integer, got 2.5; allowed: 1..1000"),
    (dict(epochs=True), "epochs must be an integer, got True; allowed: 1..1000"),
    (dict(epochs=math.inf), "epochs must be an integer, got inf; allowed: 1..1000"),
    (dict(epochs=math.nan), "epochs must be an integer, got nan; allowed: 1..1000"),
    (dict(batch_size="64"), "batch_size must be an integer, got '64'; allowed: >= 1"),
    (dict(lr=True), "lr must be a number, got True; allowed: (0, 10]"),
    (dict(lr=math.nan), "lr nan is out of range; allowed: (0, 10]"),
    (dict(hidden=256), "hidden must be a list of layer widths such as (256, 256) or (256,), got 256"),
    (dict(hidden="256"), "hidden must be a list of layer widths such as (256, 256) or (256,), got '256'"),
    (dict(hidden=(256, 0.5)), "hidden[1] must be an integer, got 0.5; allowed: 1..1000000"),
    (dict(reset_optimizer="no"), "reset_optimizer must be True or False, got 'no'"),
    (dict(reset_optimizer=0), "reset_optimizer must be True or False, got 0"),
    (dict(seed=-1), "seed -1 is out of range; allowed: 0..4294967295"),
    (dict(seed=2**70), f"seed {2**70} is out of range; allowed: 0..4294967295"),
    (dict(optimizer="Adam"), "unknown optimizer 'Adam'; allowed: adam, sgd"),
])
def test_train_config_rejects_with_one_line(kwargs, message):
    with pytest.raises(ConfigError) as e:
        TrainConfig(**kwargs)
    assert one_line(e) == message


def test_numpy_values_from_sliders_train(stream):
    r = train_stream(stream, "naive", epochs=np.int64(2), batch_size=np.int64(32), hidden=np.arange(16, 17),
                     seed=np.int64(3), progress=False)
    assert r.config["epochs"] == 2 and r.config["seed"] == 3
    assert r.acc_matrix[-1, -1] > 0.3                 # learnt something (chance is 0.1)


def test_a_methods_hyperparameter_points_to_get_strategy(stream):
    with pytest.raises(ConfigError) as e:
        train_stream(stream, "ewc", lam=10, progress=False)
    assert one_line(e) == ("lam is a hyperparameter of ewc, not of training; pass it to the method: "
                           "train_stream(stream, get_strategy('ewc', lam=10))")
    with pytest.raises(ConfigError, match=r"get_strategy\('replay', buffer_size=50\)"):
        train_stream(stream, get_strategy("replay"), buffer_size=50, progress=False)
    with pytest.raises(ConfigError) as e:
        train_stream(stream, "naive", epoch=2, progress=False)
    assert one_line(e).startswith("unknown option 'epoch' for train_stream; allowed: epochs, batch_size, lr")


@pytest.mark.parametrize("make,message", [
    (lambda: get_strategy("replay", buffer_size=math.inf), "replay buffer_size must be an integer, got inf"),
    (lambda: get_strategy("lora", rank=math.inf), "lora rank must be an integer, got inf"),
    (lambda: get_strategy("agem", buffer_size=True), "agem buffer_size must be an integer, got True"),
    (lambda: get_strategy("ewc", lam=True), "ewc lam must be a number, got True"),
    (lambda: get_strategy("si", c="1"), "si c must be a number, got '1'"),
    (lambda: get_strategy("ewc", fisher_kind=None), "unknown ewc fisher_kind None"),
    (lambda: ReplayBuffer(math.inf), "buffer_size must be an integer, got inf"),
    (lambda: ReplayBuffer(True), "buffer_size must be an integer, got True"),
    (lambda: MLP(hidden=(np.inf,)), "hidden[0] must be an integer, got inf"),
    (lambda: make_stream_fn("permuted", n_tasks=math.inf), "tasks must be an integer, got inf"),
])
def test_integer_and_number_checks(make, message):
    with pytest.raises(ConfigError) as e:
        make()
    assert one_line(e).startswith(message)


def test_numpy_integers_are_integers():
    assert get_strategy("replay", buffer_size=np.int64(50)).buffer_size == 50
    assert type(get_strategy("lora", rank=np.int32(2)).rank) is int
    assert type(get_strategy("ewc", lam=np.int64(10)).lam) is float


def test_make_stream_seed_and_device(dataset):
    for seed, shown in ((-1, "-1"), (2**70, str(2**70)), (1.5, "1.5")):
        with pytest.raises(ConfigError) as e:
            make_stream_fn("permuted", dataset=dataset, train_size=50, test_size=20, seed=seed)
        assert shown in one_line(e) and "0..4294967295" in one_line(e)
    s = make_stream_fn("permuted", dataset=dataset, train_size=50, test_size=20, seed=np.int64(4), device="cpu")
    assert s[1].x_train.device.type == "cpu" and s.config["seed"] == 4
    if not torch.cuda.is_available():
        # used to be ignored silently with a data set object; now honoured, or refused when impossible
        with pytest.raises(ConfigError, match="no CUDA GPU is available"):
            make_stream_fn("permuted", dataset=dataset, train_size=50, test_size=20, device="cuda")
    with pytest.raises(ConfigError) as e:
        make_stream_fn("permuted", dataset=3)
    assert one_line(e).startswith("dataset must be a name or an ImageData, got int")


def test_fisher_diagonal_bad_labels_and_float64_inputs(stream):
    torch.manual_seed(0)
    model = MLP(stream.input_size, (8,), 10)
    x, y = stream[0].x_test[:20], stream[0].y_test[:20]
    with pytest.raises(ConfigError) as e:
        fisher_diagonal(model, x, y.float(), kind="empirical")
    assert one_line(e) == "labels must be integer class ids, got dtype torch.float32; allowed: torch.long"
    for bad in (10, -1):
        wrong = y.clone()
        wrong[3] = bad
        with pytest.raises(ConfigError) as e:
            fisher_diagonal(model, x, wrong, kind="empirical")
        assert one_line(e) == f"label {bad} is out of range for a model with 10 outputs; allowed: 0..9"
    # float64 data (from NumPy) is computed in the model's dtype: the same Fisher
    f32 = fisher_diagonal(model, x, y, kind="empirical")
    f64 = fisher_diagonal(model, x.double(), y, kind="empirical")
    for k in f32:
        assert f64[k].dtype == torch.float32
        torch.testing.assert_close(f64[k], f32[k])
    with pytest.raises(ConfigError, match="inputs must be floating point"):
        fisher_diagonal(model, (x * 50).to(torch.uint8), y)


def test_replay_buffer_add_numpy_task_id_and_bad_batches():
    buf = ReplayBuffer(10)
    buf.add(torch.zeros(4, 3), torch.arange(4), np.int64(2))
    assert buf.task_counts() == {2: 4}
    for x, y, t, message in [
        (torch.zeros(4, 3), torch.arange(4), 1.5, "task id must be an integer, got 1.5"),
        (torch.zeros(4, 3), torch.arange(4).float(), 0, "labels y must be integers, got dtype torch.float32"),
        (torch.zeros(4, 3), torch.arange(3), 0, "x of shape (4, 3) and y of shape (3,) do not match"),
        (torch.zeros(4, 5), torch.arange(4), 0, "x of shape (4, 5) (torch.float32) does not match the stored"),
        (np.zeros((4, 3)), torch.arange(4), 0, "x must be a tensor of inputs, one row per example, got ndarray of shape (4, 3)"),
    ]:
        with pytest.raises(ConfigError) as e:
            buf.add(x, y, t)
        assert one_line(e).startswith(message)
    with pytest.raises(ConfigError) as e:
        buf.sample(0)
    assert one_line(e) == "replay batch size 0 is out of range; allowed: >= 1"


def test_a_model_that_does_not_fit_the_stream(stream):
    with pytest.raises(ConfigError) as e:
        train_stream(stream, "naive", model=MLP(10, (8,), 10), progress=False)
    assert one_line(e).startswith("the model does not fit this stream (RuntimeError")
    with pytest.raises(ConfigError) as e:
        train_stream(stream, "naive", model=MLP(stream.input_size, (8,), 3), progress=False)
    assert one_line(e).startswith("the model gives (3,) outputs, the stream has labels up to 9")


def test_sliders_take_numpy_values_and_refuse_the_rest():
    from cl_helpers.teaching.widgets import explore, int_slider, log_slider

    s = int_slider("epochs", np.int64(3), np.int64(1), np.int64(10))
    assert (s.value, s.min, s.max) == (3, 1, 10)
    assert log_slider("lambda", np.float32(100), 1, 1e4).value == pytest.approx(100)
    for make, message in [
        (lambda: int_slider("epochs", True, 1, 10), "epochs must be an integer, got True; allowed: 1..10"),
        (lambda: int_slider("epochs", 3, 1, math.inf), "epochs max must be an integer, got inf"),
        (lambda: log_slider("lambda", "100", 1, 1e4), "lambda must be a number, got '100'"),
        (lambda: log_slider("lambda", 100, 1, math.nan), "lambda max nan is out of range"),
        (lambda: int_slider(3, 3, 1, 10), "a slider's description must be a string such as 'lambda', got 3"),
    ]:
        with pytest.raises(ConfigError) as e:
            make()
        assert one_line(e).startswith(message)
    explorer = explore(lambda epochs: epochs, lambda r: f"epochs = {r}", epochs=int_slider("epochs", 2, 1, 5))
    assert explorer.set(epochs=np.int64(4)) == 4 and type(explorer.result) is int
    with pytest.raises(ConfigError) as e:
        explorer.set(epochs=4.5)
    assert one_line(e) == "epochs must be an integer, got 4.5; allowed: 1..5"


def test_run_methods_names_and_hyperparameters(stream):
    # (hyperparameters of methods not run are ignored: chapter 6 passes one dict to several calls)
    from cl_helpers import run_methods

    with pytest.raises(ConfigError) as e:
        run_methods(stream, ["naive", "ewc"], hparams={"ewc": 10}, progress=False)
    assert one_line(e) == "hparams['ewc'] must be a dict such as {'lam': 100}, got 10"
    with pytest.raises(ConfigError) as e:
        run_methods(stream, "naive,ewcc", progress=False)          # a comma list, as on the CLI
    assert one_line(e).startswith("unknown method 'ewcc'; allowed: naive, joint, ewc")
