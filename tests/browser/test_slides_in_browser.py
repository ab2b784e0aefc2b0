"""A chapter as live slides: jupyterlab-slideshow in Chromium shows the build's slides in hall-sized fonts, and a
slider on a slide still drives its plot (the kernel and the widgets are JupyterLab's own).

RISE is not used for the live deck: jupyterlab-rise 0.43 opens the notebook in a page of its own that cannot load
ipywidgets 8's widget manager (it needs @jupyterlab/console, which that page does not share), so the sliders show
as one line of text there (upstream jupyterlab-contrib/rise#119, #126).
"""
from __future__ import annotations

import re

import pytest

from browser_lab import assert_slider_moves_result, assert_widgets_rendered, open_notebook, run_all

CHAPTER = "03_ewc.ipynb"
SLIDER = "playground lambda"   # the 2-parameter playground: a move takes well under a second

pytestmark = pytest.mark.browser
pytest.importorskip("jupyterlab_slideshow", reason="jupyterlab-slideshow comes with the lab extra: "
                    "pip install -e '.[lab]'")

_ONSCREEN_JS = """() => Array.from(document.querySelectorAll('.jp-Deck .jp-Cell.jp-deck-mod-onscreen'))
  .map(c => c.innerText.split('\\n')[0])"""

_FONT_PX_JS = """(selector) => { const e = document.querySelector('.jp-Deck .jp-deck-mod-onscreen ' + selector);
  return e ? parseFloat(getComputedStyle(e).fontSize) : null; }"""


def _press_until(page, key: str, predicate_js: str, arg=None, max_presses: int = 60) -> int:
    """Press `key` (the presenter's clicker) until `predicate_js` holds; returns how many presses it took."""
    for n in range(max_presses + 1):
        if page.evaluate(predicate_js, arg):
            return n
        page.keyboard.press(key)
        page.wait_for_timeout(150)
    raise AssertionError(f"{key} x{max_presses} never reached the slide; on screen: {page.evaluate(_ONSCREEN_JS)}")


def test_live_deck_shows_slides_in_hall_sized_fonts_and_its_slider_works(page, lab, artifacts):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_notebook(page, lab, f"notebooks/{CHAPTER}")
    run_all(page)
    page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex = 0")
    page.evaluate("() => window.jupyterapp.commands.execute('deck:start')")
    page.wait_for_function("() => document.body.dataset.jpDeckMode === 'presenting'")

    # The first slide: the title, alone (the Colab badge is skipped), in the static deck's sizes.
    page.wait_for_function(f"() => {{ const t = ({_ONSCREEN_JS})(); return t.length > 0; }}")
    shown = page.evaluate(_ONSCREEN_JS)
    assert shown[0].startswith("第 3 章"), shown
    assert page.evaluate(_FONT_PX_JS, ".jp-RenderedMarkdown p") == 28
    assert page.evaluate(_FONT_PX_JS, "h1") == 52
    page.screenshot(path=str(artifacts / "deck_03_ewc_title.png"))

    page.keyboard.press("ArrowRight")  # the next slide: section 3.1
    page.wait_for_function(f"() => ({_ONSCREEN_JS})().some(t => /^3\\.1/.test(t))")

    # Space through the deck, as a presenter would, to the playground's slide; then move its slider there.
    presses = _press_until(page, "Space", """(label) => Array.from(document.querySelectorAll(
        '.jp-Deck .jp-deck-mod-onscreen .widget-slider .widget-label')).some(l => l.innerText.trim() === label)""",
                           SLIDER)
    assert presses > 0
    assert_widgets_rendered(page)
    slider_cell = page.locator(".jp-Deck .jp-deck-mod-onscreen").filter(has_text=re.compile(SLIDER))
    assert slider_cell.count() == 1
    assert page.evaluate(_FONT_PX_JS, ".widget-slider .widget-label") == 20
    assert_slider_moves_result(page, SLIDER, value=30.0, timeout_s=60,
                               screenshot=artifacts / "deck_03_ewc_playground.png")
    page.screenshot(path=str(artifacts / "deck_03_ewc_playground_slide.png"))

    # Out of the deck, the notebook has JupyterLab's own sizes again: the hall-sized fonts apply only while presenting.
    page.evaluate("() => window.jupyterapp.commands.execute('deck:stop')")
    page.wait_for_function("() => document.body.dataset.jpDeckMode !== 'presenting'")
    p = page.locator(".jp-RenderedMarkdown p").first
    assert p.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") == 14
    page.js_errors.assert_clean()
