"""Task streams: permutations once per task, split scenarios, rotations, sizes."""
import pytest
import torch

from cl_helpers import ConfigError
from cl_helpers.tasks import rotate


def test_permuted_task0_is_identity_and_others_permute_every_image_the_same_way(make_stream, dataset):
    s = make_stream("permuted", n_tasks=3, train_size=300, test_size=100, seed=1)
    x0 = s[0].x_train
    torch.testing.assert_close(x0, dataset.x_train[:300].flatten(1))
    for task in s.tasks[1:]:
        perm = task.perm
        assert sorted(perm.tolist()) == list(range(x0.shape[1])) and not torch.equal(perm, s[0].perm)
        torch.testing.assert_close(task.x_train, x0[:, perm])
        torch.testing.assert_close(task.x_test, s[0].x_test[:, perm])
        torch.testing.assert_close(task.y_train, s[0].y_train)
    assert not torch.equal(s[1].x_train, s[2].x_train)
    assert s.n_heads == 1 and s.n_outputs == 10 and s.scenario == "domain"


def test_same_seed_same_stream_other_seed_other_permutations(make_stream):
    a = make_stream("permuted", n_tasks=2, train_size=50, test_size=20, seed=3)
    b = make_stream("permuted", n_tasks=2, train_size=50, test_size=20, seed=3)
    c = make_stream("permuted", n_tasks=2, train_size=50, test_size=20, seed=4)
    assert torch.equal(a[1].x_train, b[1].x_train)
    assert not torch.equal(a[1].x_train, c[1].x_train)


@pytest.mark.parametrize("scenario,outputs,heads,labels0,labels4",
                         [("task", 2, 5, [0, 1], [0, 1]), ("domain", 2, 1, [0, 1], [0, 1]),
                          ("class", 10, 1, [0, 1], [8, 9])])
def test_split_scenarios(make_stream, scenario, outputs, heads, labels0, labels4):
    s = make_stream("split", scenario=scenario)
    assert len(s) == 5 and s.n_outputs == outputs and s.n_heads == heads
    assert sorted(s[0].y_train.unique().tolist()) == labels0
    assert sorted(s[4].y_test.unique().tolist()) == labels4
    assert s[2].name == "digits 4/5"


def test_split_uses_only_its_classes(make_stream, dataset):
    s = make_stream("split", scenario="class")
    idx = torch.nonzero((dataset.y_train == 2) | (dataset.y_train == 3)).squeeze(1)
    torch.testing.assert_close(s[1].x_train, dataset.x_train[idx].flatten(1))


def test_rotated_spans_0_to_80_degrees(make_stream, dataset):
    s = make_stream("rotated", train_size=50, test_size=20)
    assert [t.name for t in s] == [f"rotation {a} deg" for a in (0, 20, 40, 60, 80)]
    torch.testing.assert_close(s[0].x_train, dataset.x_train[:50].flatten(1))
    assert not torch.allclose(s[4].x_train, s[0].x_train)


def test_rotate_90_degrees_matches_rot90():
    img = torch.arange(16.0).view(1, 4, 4)
    torch.testing.assert_close(rotate(img, 90.0), torch.rot90(img, 1, dims=(1, 2)), atol=1e-5, rtol=0)
    # corners rotated in from outside take the background value
    out = rotate(torch.zeros(1, 8, 8) + 5.0, 45.0, background=5.0)
    torch.testing.assert_close(out, torch.full_like(out, 5.0))


def test_class_incremental_permuted_gives_each_task_its_own_units(make_stream):
    s = make_stream("permuted", n_tasks=3, scenario="class", train_size=100, test_size=50)
    assert s.n_outputs == 30 and s[2].classes == tuple(range(20, 30))
    assert int(s[2].y_train.min()) >= 20


def test_bad_input_is_one_clear_line(make_stream, dataset):
    from cl_helpers.data import load_dataset
    from cl_helpers.tasks import make_stream as raw

    if dataset.is_fallback:  # a fallback caps MNIST-sized requests; the digits asked for by name do not
        dataset = load_dataset("digits", device="cpu")

    cases = [
        (dict(benchmark="shuffled"), "unknown benchmark 'shuffled'; allowed: permuted, split, rotated"),
        (dict(benchmark="split", n_tasks=6), "tasks 6 is out of range; allowed: 1..5"),
        (dict(n_tasks=0), "tasks 0 is out of range"),
        (dict(scenario="online"), "unknown scenario 'online'; allowed: task, domain, class"),
        (dict(train_size=10**6), f"train_size 1000000 is larger than the {len(dataset.y_train)} train images"),
        (dict(test_size=-1), "test_size -1 is out of range; allowed: >= 1"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ConfigError) as info:
            raw(dataset=dataset, **kwargs)
        assert message in str(info.value) and "\n" not in str(info.value)


def test_fallback_digits_cap_mnist_sizes(tmp_path, monkeypatch):
    from cl_helpers import data as data_mod
    from cl_helpers.data import load_dataset
    from cl_helpers.tasks import make_stream as raw

    monkeypatch.delenv("CL_HELPERS_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(data_mod, "_cache", {})

    fallback = load_dataset("mnist", root=tmp_path, device="cpu", download=False)
    assert fallback.is_fallback
    s = raw("permuted", dataset=fallback, train_size=5000, test_size=1000)
    assert len(s[0].y_train) == 1437 and len(s[0].y_test) == 360
    with pytest.raises(ConfigError, match="train_size 5000 is larger than the 1437 train images of digits"):
        raw("permuted", dataset="digits", train_size=5000, device="cpu")
