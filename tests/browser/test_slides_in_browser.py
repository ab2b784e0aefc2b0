"""A chapter as live slides: RISE (jupyterlab-rise) in Chromium shows the slide structure the build set, in hall-sized fonts.

The sliders are not checked here: with ipywidgets 8, jupyterlab-rise 0.43 shows widgets as their text summary
(an upstream bug, jupyterlab-contrib/rise#126); the sliders are checked in JupyterLab by
test_notebooks_in_browser.py, and JupyterLab's View > Presentation Mode keeps them live in a lecture.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CHAPTER = "02_metrics.ipynb"

pytestmark = pytest.mark.browser
pytest.importorskip("jupyterlab_rise", reason="RISE comes with the lab extra: pip install -e '.[lab]'")


def test_rise_shows_the_chapter_as_slides_in_hall_sized_fonts(page, lab, artifacts):
    nb = nbformat.read(NOTEBOOKS / CHAPTER, as_version=4)
    n_slides = sum(c.metadata["slideshow"]["slide_type"] == "slide" for c in nb.cells)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{lab.url}/rise/notebooks/{CHAPTER}?token={lab.token}")
    page.wait_for_selector(".reveal .slides > section")
    page.wait_for_function("n => document.querySelectorAll('.reveal .slides > section').length === n",
                           arg=n_slides, timeout=60_000)
    page.wait_for_function("() => { const p = document.querySelector('section.present .jp-RenderedMarkdown p');"
                           " return p && getComputedStyle(p).fontSize === '28px'; }", timeout=30_000)
    title = page.locator("section.present h1").first.inner_text()
    assert title.startswith("第 2 章"), title
    page.screenshot(path=str(artifacts / "rise_02_metrics_title.png"))
    page.keyboard.press("ArrowRight")  # the next slide: section 2.1, a heading and its code
    page.wait_for_function("() => location.hash === '#/slide-1-0'", timeout=30_000)
    assert page.locator("section.present h2").first.inner_text().startswith("2.1")
    page.screenshot(path=str(artifacts / "rise_02_metrics_slide2.png"))
