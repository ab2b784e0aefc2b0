"""Each chapter in a real JupyterLab: Run All without errors, then a slider moved by keyboard changes the result.

A checker that never fails proves nothing, so the same checks run on fixture notebooks first: a working
explorer must pass, an explorer whose slider is disconnected from its plot and widgets that do not render
must fail. Screenshots after each slider move: test-artifacts/browser/.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from browser_lab import assert_no_cell_errors, assert_slider_moves_result, assert_widgets_rendered, open_notebook, \
    run_all

# (notebook under notebooks/, description label of its slider, value to type into the slider's readout)
CHAPTERS = [
    ("01_forgetting.ipynb", "epochs", 2),
    ("03_ewc.ipynb", "EWC λ", 1e5),
    ("04_lora.ipynb", "LoRA rank", 16),
    ("05_replay.ipynb", "buffer size", 1000),
    ("09_after_training.ipynb", "a", 0.8),   # chapter 8 runs a real language model: nbval covers it, not Run All here
]

# Further sliders moved in the same Run All of a chapter: (label, value).
MORE_SLIDERS = {
    "03_ewc.ipynb": [("playground lambda", 30.0)],   # the 2-parameter playground: EWC's end point moves
}

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

pytestmark = pytest.mark.browser


def check_notebook(page, lab, relpath: str, label: str, value=None, keys=None, screenshot: Path | None = None):
    """Open, Run All, check cells and widgets, move the slider `label`, check the result follows it."""
    open_notebook(page, lab, relpath)
    run_all(page)
    assert_widgets_rendered(page)
    assert_slider_moves_result(page, label, value=value, keys=keys, screenshot=screenshot)
    assert_widgets_rendered(page)
    assert_no_cell_errors(page)
    page.js_errors.assert_clean()


@pytest.mark.parametrize("notebook,label,value", CHAPTERS, ids=[c[0] for c in CHAPTERS])
def test_chapter_slider_updates_result(page, lab, artifacts, notebook, label, value):
    if not (NOTEBOOKS / notebook).exists():
        pytest.fail(f"chapter not found: notebooks/{notebook} (listed in CHAPTERS of {Path(__file__).name})",
                    pytrace=False)
    check_notebook(page, lab, f"notebooks/{notebook}", label, value=value,
                   screenshot=artifacts / f"{Path(notebook).stem}.png")
    for k, (more_label, more_value) in enumerate(MORE_SLIDERS.get(notebook, []), start=2):
        assert_slider_moves_result(page, more_label, value=more_value,
                                   screenshot=artifacts / f"{Path(notebook).stem}_{k}.png")
        assert_no_cell_errors(page)
        page.js_errors.assert_clean()


def test_checker_passes_working_explorer_typed_value(page, lab, artifacts):
    check_notebook(page, lab, "fixtures/sine_explorer.ipynb", "frequency", value=3.5)
    # A log slider's readout takes the value itself, not its exponent.
    assert_slider_moves_result(page, "amplitude", value=10.0, screenshot=artifacts / "fixture_sine_explorer.png")
    page.js_errors.assert_clean()


def test_checker_passes_working_explorer_arrow_keys(page, lab):
    # Two steps right of 1.0 is 2.0, a value never computed before: a real recomputation, not the cache.
    check_notebook(page, lab, "fixtures/sine_explorer.ipynb", "frequency", keys=("ArrowRight", 2))


def test_checker_fails_when_slider_is_disconnected_from_plot(page, lab, artifacts):
    with pytest.raises(AssertionError, match="result text (did not change|does not name the new value)"):
        check_notebook(page, lab, "fixtures/sine_explorer_broken.ipynb", "frequency", value=3.5,
                       screenshot=artifacts / "fixture_sine_explorer_broken.png")


def test_checker_fails_on_widgets_that_do_not_render(page, lab):
    open_notebook(page, lab, "fixtures/widgets_not_rendered.ipynb")
    run_all(page)
    with pytest.raises(AssertionError) as failure:
        assert_widgets_rendered(page)
    assert "Error displaying widget" in str(failure.value)
    assert "raw widget text instead of a widget: \"IntSlider(" in str(failure.value)
