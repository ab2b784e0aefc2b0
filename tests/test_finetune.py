"""Full fine-tuning vs LoRA on real data (permuted MNIST, or the offline digits), and the LoRA strategies."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from cl_helpers import ConfigError, count_parameters, train_stream  # noqa: E402
from cl_helpers import plots  # noqa: E402
from cl_helpers.experiments import finetune as ft  # noqa: E402
from cl_helpers.models import build_model  # noqa: E402



@pytest.fixture(scope="module")
def pair(dataset):
    """Two permuted tasks at the course's sizes (5000 / 1000 on MNIST; all 1437 / 360 digits offline)."""
    from cl_helpers.tasks import make_stream

    sizes = {} if dataset.name == "mnist" else dict(train_size=1437, test_size=360)
    return make_stream("permuted", 2, dataset=dataset, **sizes)


@pytest.fixture(scope="module")
def compared(pair):
    ft.clear_pretrained_cache()
    return ft.compare_finetuning(pair, rank=8, epochs=5)


def test_lora_learns_less_and_forgets_less_than_full_finetuning(pair, compared, on_mnist):
    full, lora = compared
    n_in = pair.input_size
    assert full.trainable == count_parameters(build_model(pair)) == n_in * 256 + 256 + 256 * 256 + 256 + 2570
    assert lora.trainable == 8 * (n_in + 256) + 8 * (256 + 256) + 8 * (256 + 10)
    assert lora.total == full.trainable + lora.trainable
    # one denominator for every share in the course: the base model's parameters
    assert full.share == 1.0 and lora.share == pytest.approx(lora.trainable / full.trainable)
    # Same pretrained model for both; it learnt task 0, and knows nothing of the permuted task 1.
    assert full.old_before == lora.old_before > (0.88 if on_mnist else 0.8)
    assert full.new_before == lora.new_before < 0.25
    # Both learn the new task; full fine-tuning learns it at least as well ...
    assert lora.new_after > lora.new_before + 0.3
    assert full.new_after >= lora.new_after
    # ... and forgets much more of the old one (MNIST: 0.13 vs 0.06; digits: 0.27 vs 0.04).
    assert full.forgetting > 0.08
    assert lora.forgetting < full.forgetting - 0.05
    assert lora.old_after > full.old_after


def test_rank_sweep_reuses_the_pretrained_model_and_higher_rank_learns_more(pair, compared, monkeypatch):
    calls = []
    real = ft.train_stream
    monkeypatch.setattr(ft, "train_stream", lambda *a, **k: calls.append(1) or real(*a, **k))
    sweep = ft.rank_sweep(pair, ranks=(2, 16), full=False)
    assert len(calls) == 2  # one fine-tuning per rank, no new pretraining
    assert [r.rank for r in sweep] == [2, 16] and all(r.targets == "body" for r in sweep)
    assert all(r.old_before == compared[0].old_before for r in sweep)
    low, high = sweep
    assert high.trainable == 8 * low.trainable
    assert high.new_after > low.new_after + 0.05
    ft.pretrained_model(pair, epochs=1)
    assert len(calls) == 3  # another setting: pretrained anew


def test_table_and_plots(compared):
    table = ft.format_finetuning(compared)
    assert "LoRA r=8" in table and f"{compared[1].forgetting:.4f}" in table and f"{compared[0].trainable:,}" in table
    fig = plots.plot_finetuning(compared)
    acc_ax, fgt_ax = fig.axes[:2]
    assert len(acc_ax.patches) == 4 and len(fgt_ax.patches) == 2
    assert "accuracy" not in fgt_ax.get_ylabel()
    fig = plots.plot_rank_sweep(compared)
    assert len(fig.axes[0].lines) == 3   # LoRA, full fine-tuning, and the zero line
    named = ft.format_finetuning(compared, labels=["full", "LoRA r=8, every layer"]).splitlines()
    assert named[2].startswith("LoRA r=8, every layer ") and f"{compared[1].forgetting:.4f}" in named[2]
    assert len({len(line) for line in named}) == 1  # the method column widens for the longest label
    with pytest.raises(ConfigError, match="1 labels for 2 results"):
        ft.format_finetuning(compared, labels=["full"])


def test_bad_settings_fail_before_any_training(pair, make_stream, monkeypatch):
    monkeypatch.setattr(ft, "train_stream", lambda *a, **k: pytest.fail("trained before checking"))
    with pytest.raises(ConfigError, match=r"LoRA rank 16 is out of range for head .*allowed: 1..10"):
        ft.rank_sweep(pair, ranks=(4, 16), targets="all")
    with pytest.raises(ConfigError, match="unknown LoRA target 'body.9'"):
        ft.compare_finetuning(pair, targets="body.9")
    with pytest.raises(ConfigError, match="at least 2 tasks"):
        ft.compare_finetuning(make_stream("permuted", n_tasks=1, train_size=50, test_size=20))
    with pytest.raises(ConfigError, match="new_task 0 is the old task"):
        ft.finetune(pair, rank=4, new_task=0)


@pytest.fixture(scope="module")
def three(dataset):
    """Three permuted tasks and the epochs that give each task about 96 steps (MNIST 3000 x 4, digits 1437 x 8)."""
    from cl_helpers.tasks import make_stream

    if dataset.name == "mnist":
        return make_stream("permuted", 3, dataset=dataset, train_size=3000, test_size=500), 4
    return make_stream("permuted", 3, dataset=dataset, train_size=1437, test_size=360), 8


@pytest.fixture(scope="module")
def naive3(three):
    stream, epochs = three
    return train_stream(stream, "naive", epochs=epochs, progress=False)


def test_lora_per_task_does_not_forget_and_uses_the_base_for_future_tasks(three, naive3):
    run = train_stream(*three[:1], "lora_per_task", epochs=three[1], progress=False)
    R, b = run.acc_matrix, run.init_acc
    # Nothing an earlier task uses changes afterwards: accuracies are exactly those after each task.
    assert R[2, 0] == R[1, 0] == R[0, 0] and R[2, 1] == R[1, 1]
    assert run.summary()["forgetting"] == 0.0
    # Task 2 before its adapter exists is evaluated on the base (trained on task 0 only).
    assert R[1, 2] == R[0, 2]
    for t in (1, 2):
        assert R[t, t] > b[t] + 0.4  # each adapter learnt its task (MNIST 0.76, 0.74; digits 0.66, 0.64)
    assert naive3.summary()["forgetting"] > 0.05


def test_sequential_lora_forgets_the_pretrained_task_less_than_naive(three, naive3):
    run = train_stream(*three[:1], "lora", epochs=three[1], progress=False)
    R, N = run.acc_matrix, naive3.acc_matrix
    assert R[0, 0] == N[0, 0]  # task 0 trains the full model in both
    # Task 1 costs task 0 less with an adapter (MNIST 0.05 vs 0.14; digits 0.11 vs 0.36) ...
    assert N[0, 0] - N[1, 0] > R[0, 0] - R[1, 0] + 0.05
    assert R[2, 0] > N[2, 0]
    assert N[1, 1] >= R[1, 1]  # ... and the adapter learns task 1 less
