"""Fisher importance maps and the comparison of Fisher kinds, on hand-made tensors and on real data."""
import dataclasses

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cl_helpers import ConfigError, train_stream  # noqa: E402
from cl_helpers.fisher import fisher_diagonal  # noqa: E402
from cl_helpers.experiments.fisher_kinds import compare_fisher_kinds, fisher_kind_stats, format_fisher_kinds  # noqa: E402
from cl_helpers.plots import pixel_importance, plot_importance_maps  # noqa: E402



def test_pixel_importance_sums_over_hidden_units_and_unpermutes():
    w = torch.tensor([[1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]])
    fisher = {"body.0.weight": w, "body.0.bias": torch.ones(2)}
    assert torch.equal(pixel_importance(fisher, (2, 2)), torch.tensor([[11.0, 22.0], [33.0, 44.0]]))
    # input i shows original pixel perm[i]: input 0 (value 11) goes back to pixel 2, and so on
    perm = torch.tensor([2, 0, 3, 1])
    assert torch.equal(pixel_importance(fisher, (2, 2), perm=perm), torch.tensor([[22.0, 44.0], [11.0, 33.0]]))


def test_bad_layer_shape_or_perm_is_one_line():
    fisher = {"body.0.weight": torch.ones(3, 4)}
    for call, words in [(lambda: pixel_importance(fisher, (2, 2), layer="head.weight"), "no Fisher entry"),
                        (lambda: pixel_importance(fisher, (3, 3)), "does not read 9 pixels"),
                        (lambda: pixel_importance(fisher, (2, 2), perm=torch.arange(3)), "does not match 4")]:
        with pytest.raises(ConfigError, match=words) as err:
            call()
        assert "\n" not in str(err.value)


@pytest.fixture(scope="module")
def trained(make_stream):
    """Models trained on task 0 and on the permuted task 1 alone (same seed, small sizes)."""
    stream = make_stream("permuted", n_tasks=2, train_size=1000, test_size=100)
    m0 = train_stream(stream, "naive", epochs=1, hidden=(64,), progress=False).model
    only_1 = dataclasses.replace(stream, tasks=[stream[1]])
    m1 = train_stream(only_1, "naive", epochs=1, hidden=(64,), progress=False).model
    return stream, m0, m1


def test_permuted_task_map_is_scrambled_until_unpermuted(trained):
    stream, m0, m1 = trained
    f0 = fisher_diagonal(m0, stream[0].x_train[:300])
    f1 = fisher_diagonal(m1, stream[1].x_train[:300])
    a = pixel_importance(f0, stream.image_shape).flatten().numpy()
    raw = pixel_importance(f1, stream.image_shape).flatten().numpy()
    back = pixel_importance(f1, stream.image_shape, perm=stream[1].perm).flatten().numpy()
    assert np.corrcoef(a, back)[0, 1] > 0.9   # the same digits: importance sits where the ink is
    assert abs(np.corrcoef(a, raw)[0, 1]) < 0.4


def test_fisher_kinds_agree_in_shape_and_differ_in_size(trained):
    stream, m0, _ = trained
    x, y = stream[0].x_train[:300], stream[0].y_train[:300]
    fishers, seconds = compare_fisher_kinds(m0, x, y)
    assert list(fishers) == ["exact", "sampled", "empirical", "argmax"] and set(seconds) == set(fishers)
    again, _ = compare_fisher_kinds(m0, x, y, kinds=["sampled"])
    assert all(torch.equal(again["sampled"][k], fishers["sampled"][k]) for k in fishers["sampled"])  # seeded
    stats = fisher_kind_stats(fishers)
    assert stats["exact"]["ratio"] == pytest.approx(1.0) and stats["exact"]["corr"] == pytest.approx(1.0)
    for kind in ("sampled", "empirical", "argmax"):
        assert stats[kind]["corr"] > 0.8, (kind, stats[kind])
    # the predicted class has the largest probability and so the smallest log-likelihood gradient
    assert stats["argmax"]["ratio"] < 0.95
    table = format_fisher_kinds(fishers, seconds)
    assert table.splitlines()[0].split()[:2] == ["kind", "total"] and len(table.splitlines()) == 5
    with pytest.raises(ConfigError, match="reference kind 'exact'"):
        fisher_kind_stats({"argmax": fishers["argmax"]})


def test_plot_has_one_image_per_map(trained):
    stream, m0, _ = trained
    f = fisher_diagonal(m0, stream[0].x_train[:50])
    fig = plot_importance_maps({"a": pixel_importance(f, stream.image_shape), "b": torch.zeros(2, 2)}, title="t")
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 2 and images[0].get_title() == "a"
    # one shared colour scale (sizes compare across panels) and one colour bar for all of them
    assert images[0].images[0].get_clim() == images[1].images[0].get_clim()
    assert len(fig.axes) == 3
    own = plot_importance_maps({"a": pixel_importance(f, stream.image_shape), "b": torch.ones(2, 2)},
                               shared_scale=False)
    panels = [ax for ax in own.axes if ax.images]
    assert panels[0].images[0].get_clim() != panels[1].images[0].get_clim() and len(own.axes) == 4
    with pytest.raises(ConfigError):
        plot_importance_maps({})


def test_sampled_fisher_converges_to_exact_over_draws(trained):
    from cl_helpers.experiments.fisher_kinds import sampled_fisher_ratios
    stream, m0, _ = trained
    x = stream[0].x_train[:200]
    ratios = sampled_fisher_ratios(m0, x, draws=32, seed=0)
    assert ratios.shape == (32,) and ratios.std() > 0.01          # one draw is a noisy estimate
    assert abs(ratios.mean() - 1) < 0.05                           # unbiased: the mean tends to the exact total
    assert abs(ratios.mean() - 1) < abs(ratios - 1).mean()
    assert (sampled_fisher_ratios(m0, x, draws=32, seed=0) == ratios).all()   # seeded
    with pytest.raises(ConfigError, match="draws 0"):
        sampled_fisher_ratios(m0, x, draws=0)
