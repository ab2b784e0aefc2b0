"""Pseudo-rehearsal: noise in the data's range, targets from the previous model, its limit class-incrementally."""
import torch

from cl_helpers import get_strategy, train_stream
from replay_stage import at_task_1_with_a_changed_model
from cl_helpers.strategies.generative_replay import generative_replay_loss


def test_noise_in_the_data_range_with_the_previous_models_soft_targets(make_stream):
    stream = make_stream("split", scenario="class", n_tasks=2, train_size=200, test_size=50)
    s = get_strategy("pseudo_rehearsal")
    assert s.distill                                              # Robins: the old network's outputs as targets
    model = at_task_1_with_a_changed_model(stream, s)
    x, y = stream[1].x_train[:64], stream[1].y_train[:64]
    bx, by, bt = s.make_batch(x, y, torch.ones(64, dtype=torch.long), 1)
    noise = bx[64:]
    lo, hi = float(stream[0].x_train.min()), float(stream[0].x_train.max())
    assert noise.min() >= lo and noise.max() <= hi
    assert abs(float(noise.mean()) - (lo + hi) / 2) < 0.05 * (hi - lo)   # uniform, nothing like the digits
    logits = model(bx)
    with torch.no_grad():
        old = s.old_model(noise).masked_fill(torch.arange(stream.n_outputs) >= 2, float("-inf"))
    expected = generative_replay_loss(logits[:64], y, logits[64:], old, 2, distill=True, temperature=s.temperature)
    assert torch.allclose(s.loss(model, bx, by, bt, logits), expected)
    assert s.generator_parameters() == 0 and s.generator is None


def test_does_not_rescue_class_incremental(make_stream):
    # The limit the chapter shows: noise carries no information about which old class real digits belong to.
    stream = make_stream("split", scenario="class", n_tasks=3, train_size=300, test_size=200)
    r = train_stream(stream, "pseudo_rehearsal", progress=False, epochs=2, hidden=(64, 64))
    naive = train_stream(stream, "naive", progress=False, epochs=2, hidden=(64, 64))
    print(r.summary()["acc"], naive.summary()["acc"])
    assert r.summary()["acc"] < 0.5                              # replay of real or generated digits: above 0.6
    assert r.summary()["acc"] < naive.summary()["acc"] + 0.2
