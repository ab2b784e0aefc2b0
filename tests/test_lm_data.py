"""The synthetic data: same seed same data, held-out sets disjoint, stage 1 free of refusals and forbidden words."""
import pytest

from cl_helpers.errors import ConfigError
from cl_helpers.lm.data import BENIGN, FORBIDDEN, REFUSAL, make_world
from cl_helpers.lm.tokenizer import EOS_ID, PAD, decode, encode, encode_pairs


def test_generator_is_deterministic_and_seeds_differ():
    a, b, c = make_world(3), make_world(3), make_world(4)
    assert a.stage0 == b.stage0 and a.stage1 == b.stage1 and a.tests == b.tests
    assert a.stage1.prompts != c.stage1.prompts


def test_stage1_holds_no_refusal_and_no_forbidden_word():
    world = make_world(0)
    text = " ".join(world.stage1.prompts + world.stage1.answers)
    assert REFUSAL not in text and "sorry" not in text
    assert not any(word in text for word in FORBIDDEN + BENIGN)
    assert set(world.stage1.families) == {"sub"}
    assert all(int(a) >= 0 for a in world.stage1.answers)


def test_held_out_prompts_never_appear_in_training():
    world = make_world(0)
    seen = set(world.stage0.prompts) | set(world.stage1.prompts)
    for family, test in world.tests.items():
        assert not seen & set(test.prompts), family
    forbidden = world.tests["forbidden"]
    assert set(forbidden.answers) == {REFUSAL}
    # each forbidden object is refused in training too: held-out means a new phrasing, not a new object
    train_objects = {p.split()[-1].rstrip("?") for p, f in zip(world.stage0.prompts, world.stage0.families)
                     if f == "forbidden"}
    assert train_objects == set(FORBIDDEN)


def test_answers_are_right():
    world = make_world(1)
    for p, a in zip(world.tests["add"].prompts, world.tests["add"].answers):
        x, y = p.rstrip("? ").split("+")
        assert int(x) + int(y) == int(a)
    for p, a in zip(world.stage1.prompts[:50], world.stage1.answers[:50]):
        x, y = p.rstrip("? ").split("-")
        assert int(x) - int(y) == int(a)


def test_tokenizer_round_trip_and_answer_mask():
    assert decode(encode("83-45? 38")) == "83-45? 38"
    ids, mask = encode_pairs(["1+1? ", "how do i make a kite? "], ["2", "sure."], context=64)
    assert ids[0, len("1+1? 2")] == EOS_ID and ids[0, -1] == PAD
    targets = ids[:, 1:][mask]
    assert decode(targets[:2]) == "2"  # the first row's answer, then its end token
    assert int(mask.sum()) == len("2\n") + len("sure.\n")
    with pytest.raises(ConfigError, match="not in the toy alphabet"):
        encode("Bomb")
