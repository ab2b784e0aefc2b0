"""Every chapter presents as slides: structure from the sources, a static reveal.js deck, no slide over a screenful."""
import base64
import io
import re
import struct
import sys
from pathlib import Path

import nbformat
import pytest

from cl_helpers.teaching import slides

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_notebooks as build  # noqa: E402

CHAPTERS = build.chapter_names()


def _png(width: int, height: int) -> str:
    """A base64 PNG header of the given size (enough for png_size and height)."""
    head = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", width, height) + bytes(20)
    return base64.b64encode(head).decode()


def _types(nb):
    return [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]


@pytest.mark.parametrize("name", CHAPTERS)
def test_headings_start_slides_and_navigation_is_skipped(name):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    types = _types(nb)
    # "-" is spelled as no slide type: jupyterlab-slideshow reads a "-" as unknown and hides the cell.
    assert set(types) <= {"slide", "subslide", "fragment", "skip", "notes", None}
    assert types[0] == types[-1] == "skip"
    for cell, kind in zip(nb.cells, types):
        first = cell.source.split("\n", 1)[0]
        if cell.cell_type == "markdown" and re.match(r"#{1,2} ", first):
            assert kind == "slide", first
        if cell.cell_type == "markdown" and first.startswith("### "):
            assert kind == "subslide", first
    assert types.count("slide") >= 3


@pytest.mark.parametrize("name", CHAPTERS)
def test_live_deck_fonts_are_hall_sized_and_only_while_presenting(name):
    for folder in (ROOT / "notebooks", ROOT / "notebooks" / "instructor"):
        styles = nbformat.read(folder / f"{name}.ipynb", as_version=4).metadata[slides.FONTS_METADATA_KEY]["styles"]
        assert all(sel.endswith(slides.PRESENTING) for sel in styles), list(styles)
        sizes = styles[".jp-Notebook" + slides.PRESENTING]
        assert sizes["--jp-content-font-size1"] == "28px" and sizes["--jp-code-font-size"] == "20px"
        assert "font-size: 28px" in slides.SLIDE_CSS  # the static deck measures the same text


def test_source_override_and_filling():
    text = ('# %% [markdown]\n# ## Title\n#\n# one line\n\n# %%\nx = 1\n\n'
            '# %% slideshow={"slide_type": "fragment"}\ny = 2\n\n# %%\n' + "\n".join(f"z{i} = {i}" for i in range(18))
            + '\n\n# %% [markdown]\n# A paragraph after a full slide.\n')
    cells = build.parse(text)
    assert cells[2].metadata == {"slideshow": {"slide_type": "fragment"}}
    explicit = [c.metadata.get("slideshow", {}).get("slide_type") for c in cells]
    # heading, small code on the same slide, the override, then 18 lines of code overflow onto a sub-slide
    assert slides.slide_types(cells, explicit) == ["slide", "-", "fragment", "subslide", "-"]


def test_height_measures_text_width_code_and_figures():
    assert slides.markdown_height("a" * 80) == slides.TEXT_LINE_PX
    assert slides.markdown_height("中" * 41) == 2 * slides.TEXT_LINE_PX  # CJK characters are two columns wide
    assert slides.png_size(_png(1000, 400)) == (1000, 400)
    cell = {"cell_type": "code", "source": "plt.show()", "metadata": {},
            "outputs": [{"output_type": "display_data", "data": {"image/png": _png(2400, 800)}}]}
    assert slides.height(cell) == slides.code_height("plt.show()") + 800 * 1200 // 2400
    tall = {**cell, "outputs": [{"output_type": "display_data", "data": {"image/png": _png(800, 1600)}}]}
    assert slides.height(tall) == slides.code_height("plt.show()") + slides.FIGURE_MAX_PX


def test_tall_cells_are_split_for_the_deck():
    long_md = "\n\n".join(f"Paragraph {i}: " + "word " * 30 for i in range(12))
    printed = {"output_type": "stream", "name": "stdout", "text": "".join(f"line {i}\n" for i in range(60))}
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## A slide\n\n" + long_md, metadata={"slideshow": {"slide_type": "slide"}}),
        nbformat.v4.new_code_cell("for i in range(60):\n    print('line', i)", outputs=[printed],
                                  metadata={"slideshow": {"slide_type": "-"}}),
    ])
    assert slides.overfull(nb)
    arranged = slides.for_slides(nb)
    assert not slides.overfull(arranged)
    text = "".join(c.source for c in arranged.cells if c.cell_type == "markdown")
    assert all(f"Paragraph {i}:" in text for i in range(12))  # nothing lost, only cut at blank lines
    lines = "".join(o["text"] for c in arranged.cells if c.cell_type == "code" for o in c.outputs)
    assert lines == printed["text"]
    assert len({c.id for c in arranged.cells}) == len(arranged.cells)


def _balanced(markdown: str) -> bool:
    return sum(1 for line in markdown.splitlines() if line.lstrip().startswith(("```", "~~~"))) % 2 == 0


def test_markdown_is_never_cut_inside_a_fence_a_table_or_a_list_item(tmp_path, monkeypatch):
    """A long chapter text is cut into slide-sized cells only between whole blocks and whole list items."""
    code = "\n".join(f"x{i} = {i}  # a line of the example" for i in range(20))
    fenced = f"```python\n{code[:200]}\n\n# after the epochs:\n{code}\n```"
    table = "| a | b |\n|---|---|\n" + "\n".join(f"| {i} | {i * i} |" for i in range(25))
    items = "\n".join(f"- item {i}: " + "word " * 40 + "\n  continued line of the same item" for i in range(8))
    text = "## Long\n\nIntro " + "word " * 60 + "\n\n" + fenced + "\n\n" + table + "\n\n" + items
    source = "# %% [markdown]\n" + "\n".join("# " + line if line else "#" for line in text.split("\n"))
    src = tmp_path / "src"
    src.mkdir()
    (src / "01_demo.py").write_text(source + "\n", encoding="utf-8")
    monkeypatch.setattr(build, "SRC", src)
    nb = build.build("01_demo", ["01_demo"], "student")
    pieces = [c.source for c in nb.cells if c.cell_type == "markdown" and "nav" not in c.metadata.get("tags", [])]
    assert len(pieces) > 2, "the text is taller than a slide: it must be cut"
    assert all(_balanced(p) for p in pieces), pieces
    assert sum(fenced in p for p in pieces) == 1               # the code block whole, in one cell
    assert sum(table in p for p in pieces) == 1
    for i in range(8):
        assert sum(f"- item {i}: " in p and f"- item {i}: " + "word " * 40 + "\n  continued" in p
                   for p in pieces) == 1
    assert "\n".join(pieces).replace("\n\n", "\n") == text.replace("\n\n", "\n")  # nothing lost


def test_a_heading_inside_a_text_starts_a_cell_of_its_own():
    """Even a short text is cut before a later heading (outside code), so the heading starts its slide."""
    from cl_helpers.teaching.slides import markdown_pieces

    text = "A checker note.\n\n## 2.4 Next section\n\nIts intro.\n\n```python\n# not a heading\n```\n### A sub-slide\nmore"
    assert markdown_pieces(text) == ["A checker note.", "## 2.4 Next section\n\nIts intro.\n\n```python\n# not a heading\n```",
                                     "### A sub-slide\nmore"]
    assert markdown_pieces("## Title\n\nbody") == ["## Title\n\nbody"]


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_built_markdown_cell_has_balanced_fences(name):
    for path in (ROOT / "notebooks" / f"{name}.ipynb", ROOT / "notebooks" / "instructor" / f"{name}.ipynb"):
        cells = nbformat.read(path, as_version=4).cells
        bad = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and not _balanced(c.source)]
        assert not bad, f"{path.name}: markdown cells {bad} open a code fence they do not close"


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_chapter_exports_to_a_deck_with_its_plots(name, tmp_path):
    path = ROOT / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    if not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
        pytest.skip(f"{name} has no saved outputs yet (make notebooks): nothing to put on its slides")
    arranged = slides.for_slides(nb)
    assert not slides.overfull(arranged), f"slides taller than {slides.SCREEN_PX} px: {slides.overfull(arranged)}"
    html = slides.export(path, tmp_path).read_text(encoding="utf-8")
    n_slides = len(slides.slides(arranged.cells))
    assert html.count("<section") >= n_slides > 5
    n_plots = sum("image/png" in o.get("data", {}) for c in arranged.cells if c.cell_type == "code"
                  for o in c.outputs)
    assert n_plots >= 1 and html.count('<img alt="No description has been provided for this image" '
                                       'class="" src="data:image/png;base64,') == n_plots
    assert "font-size: 28px" in html and "width: 1280" in html
