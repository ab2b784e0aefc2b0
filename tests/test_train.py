"""The training engine on real data: forgetting shows, joint is the upper bound, hooks run in order, seeds repeat."""
import numpy as np
import pytest
import torch

from cl_helpers import ConfigError, Strategy, TrainConfig, train_stream


@pytest.fixture(scope="module")
def course_runs(request):
    # The course's experiment: 3 permuted tasks, 5000/1000 images, 3 epochs, Adam 1e-3, batch 128.
    make_stream = request.getfixturevalue("make_stream")
    stream = make_stream("permuted", n_tasks=3, train_size=5000, test_size=1000, seed=0)
    return stream, {m: train_stream(stream, m, progress=False) for m in ("naive", "joint")}


def test_naive_forgets_task_0(course_runs, on_mnist):
    _, runs = course_runs
    R = runs["naive"].acc_matrix
    assert R[0, 0] > (0.85 if on_mnist else 0.80)          # learned
    assert R[0, 0] - R[2, 0] > 0.10                         # clearly forgotten at the end
    assert runs["naive"].summary()["bwt"] < -0.05


def test_joint_is_the_upper_bound(course_runs, on_mnist):
    _, runs = course_runs
    assert runs["joint"].summary()["acc"] > runs["naive"].summary()["acc"] + 0.05
    assert runs["joint"].summary()["acc"] > (0.88 if on_mnist else 0.80)
    assert runs["joint"].summary()["forgetting"] < 0.03


def test_result_shapes_and_curves(course_runs):
    stream, runs = course_runs
    r = runs["naive"]
    assert r.acc_matrix.shape == (3, 3) and r.init_acc.shape == (3,)
    steps_per_epoch = -(-len(stream[0].y_train) // 128)
    assert r.task_boundaries == [0, 3 * steps_per_epoch, 6 * steps_per_epoch]
    assert r.steps.tolist() == [k * steps_per_epoch for k in range(10)]
    assert r.curve_acc.shape == (10, 3)
    np.testing.assert_allclose(r.curve_acc[-1], r.acc_matrix[-1])
    np.testing.assert_allclose(r.curve_acc[0], r.init_acc)
    assert (r.init_acc < 0.3).all()                          # random init is near chance
    assert r.source == stream.source and r.config["epochs"] == 3 and r.seconds > r.train_seconds > 0
    d = r.to_dict()
    assert set(d) >= {"acc", "forgetting", "bwt", "fwt", "acc_matrix", "config", "source", "seconds"}


def test_same_seed_same_numbers(make_stream):
    stream = make_stream("permuted", n_tasks=2, train_size=600, test_size=200)
    a = train_stream(stream, "naive", epochs=1, seed=5, progress=False)
    b = train_stream(stream, "naive", epochs=1, seed=5, progress=False)
    c = train_stream(stream, "naive", epochs=1, seed=6, progress=False)
    np.testing.assert_array_equal(a.acc_matrix, b.acc_matrix)
    assert a.epoch_loss == b.epoch_loss
    assert a.epoch_loss != c.epoch_loss


class Recorder(Strategy):
    """Records the hook calls and checks that after_task_backward sees the task loss's gradient alone."""

    name = "recorder"

    def __init__(self):
        super().__init__()
        self.calls, self.task_grad_ok = [], []

    def setup(self, model, stream, config):
        self.calls.append("setup")
        self.anchor = [p.detach().clone() + 1.0 for p in model.parameters()]
        return super().setup(model, stream, config)

    def before_task(self, model, task, stream):
        self.calls.append(f"before_task {task.id}")

    def after_task_backward(self, model):
        self.grads = [p.grad.clone() for p in model.parameters()]

    def penalty(self, model):
        return sum(((p - a) ** 2).sum() for p, a in zip(model.parameters(), self.anchor))

    def after_backward(self, model):
        # total = task gradient + penalty gradient 2 (p - a): the engine must not mix them earlier
        ok = all(torch.allclose(p.grad, g + 2 * (p.detach() - a), atol=1e-5)
                 for p, g, a in zip(model.parameters(), self.grads, self.anchor))
        self.task_grad_ok.append(ok)

    def after_task(self, model, task, stream):
        self.calls.append(f"after_task {task.id}")


def test_hooks_run_in_order_and_separate_task_gradient(make_stream):
    stream = make_stream("permuted", n_tasks=2, train_size=256, test_size=64)
    rec = Recorder()
    train_stream(stream, rec, epochs=1, lr=1e-4, progress=False)
    assert rec.calls == ["setup", "before_task 0", "after_task 0", "before_task 1", "after_task 1"]
    assert len(rec.task_grad_ok) == 4 and all(rec.task_grad_ok)


def test_task_incremental_split_uses_heads(make_stream, on_mnist):
    stream = make_stream("split", scenario="task")
    r = train_stream(stream, "naive", epochs=1, progress=False)
    assert r.model.n_heads == 5
    # With the task id known at test time, even naive fine-tuning keeps most of each binary task.
    assert r.summary()["acc"] > (0.85 if on_mnist else 0.75)


def test_bad_config_is_one_line():
    for kwargs, msg in [(dict(epochs=0), "epochs 0 is out of range; allowed: 1..1000"),
                        (dict(lr=-1), "lr -1 is out of range; allowed: (0, 10]"),
                        (dict(optimizer="rmsprop"), "unknown optimizer 'rmsprop'; allowed: adam, sgd"),
                        (dict(batch_size=0), "batch_size 0 is out of range")]:
        with pytest.raises(ConfigError, match=msg.replace("(", r"\(").replace("[", r"\[").replace("]", r"\]")):
            TrainConfig(**kwargs)


def test_tqdm_disable_is_honoured_in_every_front_end(monkeypatch):
    from cl_helpers.train import _show_progress

    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert not _show_progress(True)
    monkeypatch.setenv("TQDM_DISABLE", "")
    assert _show_progress(True) and not _show_progress(False)
