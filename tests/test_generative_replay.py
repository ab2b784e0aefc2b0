"""Generative replay: the loss by hand, labels from the previous model, far above naive class-incrementally,
and a generator that keeps producing old classes because it replays itself."""
import pytest
import torch
import torch.nn.functional as F

from replay_stage import at_task_1_with_a_changed_model
from cl_helpers import TrainConfig, build_model, get_strategy, train_stream
from cl_helpers.cli import main
from cl_helpers.strategies.generative_replay import GenerativeReplay, generative_replay_loss, mix_losses

SMALL = dict(hidden=(100, 100), epochs=5)


def test_mixing_weights_and_labels_by_hand():
    logits = torch.tensor([[2.0, 0.0, -1.0, 0.5]])
    y = torch.tensor([1])
    replay = torch.tensor([[0.0, 3.0, 0.0, 0.0], [1.0, 0.0, 2.0, 0.0]])
    old = torch.tensor([[4.0, 1.0, float("-inf"), float("-inf")], [0.0, 2.0, float("-inf"), float("-inf")]])
    current = F.cross_entropy(logits, y)
    replayed = F.cross_entropy(replay, torch.tensor([0, 1]))     # the OLD model's argmax, not the new one's (1, 2)
    for t in (1, 2, 3, 5):
        expected = current / t + (1 - 1 / t) * replayed
        assert torch.allclose(generative_replay_loss(logits, y, replay, old, t), expected)
        assert torch.allclose(mix_losses(current, replayed, t), expected)
    T = 2.0
    p_old = F.softmax(old / T, 1)
    assert p_old[:, 2:].eq(0).all()                              # unseen classes get no target mass
    soft = T ** 2 * (p_old[:, :2] * (p_old[:, :2].log() - F.log_softmax(replay / T, 1)[:, :2])).sum(1).mean()
    assert torch.allclose(generative_replay_loss(logits, y, replay, old, 3, distill=True, temperature=T),
                          current / 3 + 2 / 3 * soft)


class CurrentModelLabels(GenerativeReplay):
    """The classic mistake: replayed inputs labelled by the model being trained instead of the previous one."""

    def loss(self, model, x, y, tids, logits):
        if self.old_model is None:
            return F.cross_entropy(logits, y)
        n = self.n_current
        own = logits[n:].detach().masked_fill(~self.seen_units, float("-inf"))
        return generative_replay_loss(logits[:n], y[:n], logits[n:], own, self.tasks_seen)


@pytest.fixture(scope="module")
def class_il(make_stream, on_mnist):
    # Split MNIST class-incremental, first 3 tasks (digits 0-5), 400 training images per pair on MNIST (all
    # ~290 of the digits' pairs offline); batch 64 (32 on the digits) gives ~30-45 steps per task.
    stream = make_stream("split", scenario="class", n_tasks=3,
                         **({"train_size": 400, "test_size": 300} if on_mnist else {}))
    config = TrainConfig(batch_size=64 if on_mnist else 32, **SMALL)
    hp = {"generator_steps": 150}
    runs = {name: train_stream(stream, s, config, progress=False)
            for name, s in [("naive", "naive"), ("gr", get_strategy("generative_replay", **hp)),
                            ("wrong", CurrentModelLabels(**hp))]}
    return stream, runs


def test_class_incremental_acc_far_above_naive(class_il):
    _, runs = class_il
    naive, gr = runs["naive"].summary()["acc"], runs["gr"].summary()["acc"]
    assert naive < 0.4                                            # only the last pair of digits
    assert gr > naive + 0.25
    assert runs["gr"].acc_matrix[-1, 0] > 0.3                     # the first pair is still recognised


def test_labels_from_the_current_model_forget(class_il):
    _, runs = class_il
    assert runs["wrong"].summary()["acc"] < runs["gr"].summary()["acc"] - 0.2


def test_replayed_labels_come_from_the_previous_model(make_stream):
    stream = make_stream("split", scenario="class", n_tasks=2, train_size=200, test_size=50)
    s = get_strategy("generative_replay", generator_steps=5)
    at_task_1_with_a_changed_model(stream, s)
    x, y = stream[1].x_train[:16], stream[1].y_train[:16]
    bx, by, bt = s.make_batch(x, y, torch.ones(16, dtype=torch.long), 1)
    assert len(bx) == 32 and torch.equal(bx[:16], x) and (bt[16:] == 0).all()
    with torch.no_grad():
        old = s.old_model(bx[16:])
    assert torch.equal(by[16:], old[:, :2].argmax(1))             # the old model's choice among classes seen
    assert set(by[16:].tolist()) <= {0, 1}


@pytest.fixture(scope="module")
def judge(dataset):
    """A classifier trained separately, on all ten digits, to say which digit a generated image shows."""
    torch.manual_seed(0)
    x, y = dataset.x_train.flatten(1)[:2000], dataset.y_train[:2000]
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(8):
        for i in range(0, len(y), 64):
            opt.zero_grad()
            F.cross_entropy(model(x[i:i + 64]), y[i:i + 64]).backward()
            opt.step()
    return model.eval()


class NoSelfReplay(GenerativeReplay):
    """The generator learns each task without replaying its own samples: it forgets the old classes."""

    def train_generator(self, task):
        old, self.old_generator = self.old_generator, None
        super().train_generator(task)
        self.old_generator = old


@pytest.fixture(scope="module")
def generators(make_stream, on_mnist):
    stream = make_stream("split", scenario="class", n_tasks=3, **({"train_size": 400, "test_size": 50}
                                                                 if on_mnist else {}))
    out = {}
    for cls in (GenerativeReplay, NoSelfReplay):
        s = cls(generator_steps=200)
        model = s.setup(build_model(stream, (32,)), stream, TrainConfig())
        for task in stream.tasks[:2]:
            s.before_task(model, task, stream)
            s.after_task(model, task, stream)
            out.setdefault(cls.__name__, []).append(s.generator.sample(400, torch.Generator().manual_seed(1)))
    return out


def test_samples_after_task_1_show_task_1_digits(generators, judge):
    with torch.no_grad():
        digit = judge(generators["GenerativeReplay"][0]).argmax(1)
    assert (digit <= 1).float().mean() > 0.8                      # digits 0 and 1


def test_generator_that_replays_itself_keeps_old_digits(generators, judge):
    with torch.no_grad():
        good = judge(generators["GenerativeReplay"][1]).argmax(1)
        bad = judge(generators["NoSelfReplay"][1]).argmax(1)
    # measured: 22% (MNIST subset) and 41% (digits) of the samples are 0 or 1, against 0.25% and 0% without replay
    assert (good <= 1).float().mean() > 0.1 and (good <= 3).float().mean() > 0.8
    assert (bad <= 1).float().mean() < 0.03                       # "100% forgetting" of the generator itself


def test_cli_runs_the_four_methods(data_root, capsys):
    common = ["compare", "--benchmark", "split", "--tasks", "2", "--epochs", "1", "--train-size", "60",
              "--test-size", "30", "--data-dir", str(data_root), "--no-download", "--quiet"]
    assert main([*common, "--methods", "generative_replay,pseudo_rehearsal", "--generative-replay-distill", "true",
                 "--generative-replay-generator-steps", "3"]) == 0
    assert main([*common, "--scenario", "task", "--methods", "progressive,packnet", "--packnet-prune", "0.7"]) == 0
    out = capsys.readouterr().out
    assert all(m in out for m in ("generative_replay", "pseudo_rehearsal", "progressive", "packnet"))
    assert main([*common, "--methods", "packnet"]) == 2
    assert "scenario 'task'" in capsys.readouterr().err
