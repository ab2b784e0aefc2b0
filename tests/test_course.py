"""course.expect: a false claim fails CI (fast mode, CL_CHECK_CLAIMS=1) and is only a note for a student."""
import pytest

from cl_helpers import course
from cl_helpers.teaching.course import ClaimError, expect, strict_claims


def test_true_claim_passes_silently(monkeypatch, capsys):
    monkeypatch.setenv("CL_CHECK_CLAIMS", "1")
    assert expect(0.12 < 0.25, "ACC is below 0.25") is None
    assert capsys.readouterr().out == ""


def test_false_claim_raises_in_fast_mode(monkeypatch):
    monkeypatch.delenv("CL_CHECK_CLAIMS", raising=False)
    monkeypatch.setenv("CL_FAST", "1")
    with pytest.raises(ClaimError, match="replay beats naive"):
        course.expect(0.18 > 0.83, "replay beats naive")


def test_false_claim_raises_when_saving_outputs(monkeypatch):
    monkeypatch.delenv("CL_FAST", raising=False)
    monkeypatch.setenv("CL_CHECK_CLAIMS", "1")
    assert strict_claims()
    with pytest.raises(AssertionError):
        expect(False, "forgetting drops")


def test_false_claim_is_a_note_for_a_student(monkeypatch, capsys):
    monkeypatch.delenv("CL_FAST", raising=False)
    monkeypatch.delenv("CL_CHECK_CLAIMS", raising=False)
    expect(False, "EWC 忘得比 naive 少")
    out = capsys.readouterr().out
    assert "EWC 忘得比 naive 少" in out and out.count("\n") == 1


def test_check_claims_zero_turns_fast_mode_checks_off(monkeypatch, capsys):
    monkeypatch.setenv("CL_FAST", "1")
    monkeypatch.setenv("CL_CHECK_CLAIMS", "0")
    assert not strict_claims()
    expect(False, "x")
    assert "x" in capsys.readouterr().out


def test_numpy_booleans_are_accepted(monkeypatch):
    import numpy as np
    monkeypatch.setenv("CL_CHECK_CLAIMS", "1")
    expect(np.float64(0.3) > 0.2, "numpy comparison")
    with pytest.raises(ClaimError):
        expect(np.bool_(False), "numpy false")


def test_full_only_claims_are_skipped_in_fast_mode_and_checked_when_saving(monkeypatch, capsys):
    monkeypatch.setenv("CL_FAST", "1")
    monkeypatch.delenv("CL_CHECK_CLAIMS", raising=False)
    expect(False, "needs full sizes", full_only=True)
    assert capsys.readouterr().out == ""
    monkeypatch.delenv("CL_FAST")
    monkeypatch.setenv("CL_CHECK_CLAIMS", "1")
    with pytest.raises(ClaimError, match="needs full sizes"):
        expect(False, "needs full sizes", full_only=True)


def test_run_time_counts_from_setup(monkeypatch, capsys):
    monkeypatch.setenv("CL_FAST", "1")
    monkeypatch.setattr(course, "_STARTED", None)
    with pytest.raises(RuntimeError, match="setup"):
        course.run_time()
    course.setup(seed=0, quiet=True)
    monkeypatch.setattr(course, "_STARTED", course._STARTED - 42.4)   # as if the chapter had run 42 s
    course.run_time()
    assert capsys.readouterr().out.startswith("chapter run time: 42 s (fast mode, device: ")
