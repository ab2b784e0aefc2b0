"""The MLP: sizes, parameter count, and the multi-head gather."""
import pytest
import torch

from cl_helpers import MLP, ConfigError, count_parameters


def test_course_mlp_parameter_count():
    model = MLP()  # 784-256-256-10
    assert count_parameters(model) == 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10 == 269_322


def test_multi_head_picks_each_examples_head():
    torch.manual_seed(0)
    model = MLP(20, (16,), n_outputs=3, n_heads=4)
    x = torch.randn(8, 20)
    tids = torch.tensor([0, 1, 2, 3, 3, 2, 1, 0])
    mixed = model(x, tids)
    for i, t in enumerate(tids.tolist()):
        torch.testing.assert_close(mixed[i], model(x[i:i + 1], t)[0])
    full = model.head(model.body(x)).view(8, 4, 3)
    torch.testing.assert_close(model(x, 2), full[:, 2])
    with pytest.raises(ValueError, match="task id"):
        model(x)


def test_bad_sizes():
    with pytest.raises(ConfigError, match="n_heads 0 is out of range"):
        MLP(n_heads=0)
    with pytest.raises(ConfigError, match="hidden\\[1\\] -3"):
        MLP(hidden=(10, -3))
