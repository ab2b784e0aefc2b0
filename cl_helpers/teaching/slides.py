"""Chapters as lecture slides: slide structure from the source, a measured "screenful", reveal.js export.

The same fonts serve both decks: the export puts SLIDE_CSS into each HTML deck, and the build writes
`deck_styles()` into each notebook's metadata, which jupyterlab-fonts applies while jupyterlab-slideshow
presents the notebook live in JupyterLab (and only then).

Every cell that starts something gets `slideshow.slide_type`, which jupyterlab-slideshow (live, in JupyterLab),
RISE and `jupyter nbconvert --to slides` (a static reveal.js deck) all read; a cell that continues the slide
carries no slide type at all, which all three read as "-" (jupyterlab-slideshow reads only a missing type so). `#`/`##` headings start a slide, `###` a sub-slide (reveal.js: the
down arrow), and other cells stay on the current slide until it is full, then open a sub-slide. A source
cell's own `slideshow` metadata (`# %% slideshow={"slide_type": "fragment"}`) always wins.

"Full" is measured, not guessed: the deck is 1280x720 px with the fonts in SLIDE_CSS (28 px text, 20 px
code: readable from the back of a hall), and `height()` estimates how many pixels a cell takes there, from
its source and, once run, from its saved outputs (text lines, the PNG's own size, tables). A slide holds
at most SCREEN_PX. At build time outputs are not known yet, so a plotting cell counts as a full-height
figure; the export re-measures with the real outputs and splits a markdown or code cell taller than a
screen at its blank lines.
Usage: python -m cl_helpers.teaching.slides NOTEBOOK... --out slides/
"""
from __future__ import annotations

import argparse
import base64
import copy
import re
import struct
import sys
import unicodedata
from pathlib import Path
from typing import Iterable

WIDTH_PX, HEIGHT_PX = 1280, 720
SCREEN_PX = 660                 # 720 minus reveal.js's 4% margins top and bottom
TEXT_LINE_PX, TEXT_COLS = 40, 80   # 28 px text, line height 1.4; ~15 px per half-width character over 1200 px
CODE_LINE_PX, CODE_COLS = 30, 100  # 20 px monospace, line height 1.5
OUTPUT_LINE_PX = 28
CELL_GAP_PX = 20
FIGURE_MAX_PX = 460             # SLIDE_CSS caps images at this height
WIDGET_PX = 300                 # sliders and the plot they drive, when no output was saved
HEADING_PX = {1: 80, 2: 66, 3: 54}
STARTS = ("slide", "subslide")
HIDE_INPUT = "slides_output_only"   # a code cell's outputs continued on a sub-slide of their own

# Font sizes of both decks (px): readable from the back of a hall, and what the screenful above is measured with.
TEXT_FONT, CODE_FONT, OUTPUT_FONT = 28, 20, 19
HEADING_FONT = {1: 52, 2: 44, 3: 36}

SLIDE_CSS = f"""
.reveal .jp-RenderedHTMLCommon, .reveal .jp-RenderedMarkdown p, .reveal li {{ font-size: {TEXT_FONT}px; line-height: 1.4; }}
.reveal .jp-RenderedMarkdown h1 {{ font-size: {HEADING_FONT[1]}px; }}
.reveal .jp-RenderedMarkdown h2 {{ font-size: {HEADING_FONT[2]}px; }}
.reveal .jp-RenderedMarkdown h3 {{ font-size: {HEADING_FONT[3]}px; }}
.reveal .jp-InputArea pre, .reveal .jp-InputArea code, .reveal .cm-editor .cm-content {{ font-size: {CODE_FONT}px; line-height: 1.5; }}
.reveal .jp-OutputArea pre {{ font-size: {OUTPUT_FONT}px; line-height: 1.45; }}
.reveal .jp-OutputArea img {{ max-height: {FIGURE_MAX_PX}px; width: auto; }}
.reveal .jp-InputPrompt, .reveal .jp-OutputPrompt {{ display: none; }}
"""

# jupyterlab-fonts applies a notebook's metadata styles under the notebook's own panel; `:is(...)` limits them to
# the time jupyterlab-slideshow presents, so that the notebook view keeps JupyterLab's usual sizes.
FONTS_METADATA_KEY = "@deathbeds/jupyterlab-fonts"
PRESENTING = ":is(body[data-jp-deck-mode='presenting'] *)"


def deck_styles() -> dict:
    """Notebook metadata for jupyterlab-fonts: SLIDE_CSS's sizes for the live deck, only while presenting."""
    return {"styles": {
        f".jp-Notebook{PRESENTING}": {
            "--jp-content-font-size1": f"{TEXT_FONT}px", "--jp-content-line-height": "1.4",
            **{f"--jp-content-font-size{6 - level}": f"{px}px" for level, px in HEADING_FONT.items()},  # h1: size5
            "--jp-code-font-size": f"{CODE_FONT}px", "--jp-code-line-height": "1.5",
            "--jp-widgets-font-size": f"{CODE_FONT}px"},
        f".jp-OutputArea-output img{PRESENTING}": {"max-height": f"{FIGURE_MAX_PX}px", "width": "auto"},
    }}


def _wrapped(line: str, cols: int) -> int:
    """How many screen lines a text line takes: CJK characters are two columns wide."""
    width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
    return max(1, -(-width // cols))


def markdown_height(source: str) -> int:
    """Pixels a markdown cell takes on a slide."""
    px, fence = 0, False
    for line in source.splitlines():
        s = line.strip()
        if _FENCE.match(line):
            fence = not fence
        heading = None if fence else re.match(r"^(#{1,6})\s", s)   # a comment in a code block is one code line
        if fence or _FENCE.match(line):   # a fenced block renders as code: code font, line height and width
            px += CODE_LINE_PX * _wrapped(line, CODE_COLS)
        elif not s:
            px += 14
        elif heading:
            px += HEADING_PX.get(len(heading.group(1)), 46)
        elif s.startswith("$$"):
            px += 60
        elif s.startswith("|"):
            px += 0 if set(s) <= set("|-: ") else TEXT_LINE_PX
        else:
            px += TEXT_LINE_PX * _wrapped(s, TEXT_COLS)
    return px


def code_height(source: str) -> int:
    """Pixels a code cell's input takes."""
    return 24 + CODE_LINE_PX * sum(_wrapped(line, CODE_COLS) for line in source.splitlines() or [""])


def png_size(b64: str) -> tuple[int, int]:
    """(width, height) of a base64 PNG, from its header."""
    head = base64.b64decode(b64[:44])
    return struct.unpack(">II", head[16:24])


def output_height(output: dict) -> int:
    """Pixels one saved output takes."""
    if output.get("output_type") == "stream":
        return OUTPUT_LINE_PX * len(str(output.get("text", "")).rstrip("\n").splitlines())
    data = output.get("data", {})
    if "image/png" in data:
        w, h = png_size(data["image/png"])
        return min(FIGURE_MAX_PX, int(h * min(1.0, (WIDTH_PX - 80) / max(w, 1))))
    if "application/vnd.jupyter.widget-view+json" in data:
        return WIDGET_PX
    if "text/html" in data:
        return 32 * max(1, str(data["text/html"]).count("<tr"))
    if output.get("output_type") == "error":
        return OUTPUT_LINE_PX * 3
    return OUTPUT_LINE_PX * len(str(data.get("text/plain", "")).splitlines())


def _expected_output(source: str) -> int:
    """At build time: what a code cell's output will probably take."""
    if re.search(r"plt\.show\(\)|\bplot_\w+\(", source):
        return FIGURE_MAX_PX
    if re.search(r"Explorer\(|interact", source):
        return WIDGET_PX
    return OUTPUT_LINE_PX * 2 * len(re.findall(r"\bprint\(", source))


def height(cell: dict) -> int:
    """Pixels a cell takes on a slide: its saved outputs when it has any, else an estimate from its source."""
    if cell["cell_type"] == "markdown":
        return markdown_height(cell["source"])
    outputs = cell.get("outputs") or []
    out = sum(output_height(o) for o in outputs) if outputs else _expected_output(cell["source"])
    hidden = HIDE_INPUT in cell.get("metadata", {}).get("tags", [])
    return (0 if hidden else code_height(cell["source"])) + out


def _explicit(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def _heading_type(cell: dict) -> str | None:
    if cell["cell_type"] != "markdown":
        return None
    first = cell["source"].lstrip().split("\n", 1)[0]
    if re.match(r"^#{1,2}\s", first):
        return "slide"
    if first.startswith("### "):
        return "subslide"
    return None


def slide_types(cells: list[dict], explicit: list[str | None] | None = None) -> list[str]:
    """The slide_type of every cell: explicit values first, then headings, then fill each slide to SCREEN_PX."""
    explicit = explicit or [_explicit(c) for c in cells]
    types, used = [], 0
    for cell, fixed in zip(cells, explicit):
        h = height(cell)
        kind = fixed or _heading_type(cell) or ("subslide" if used and used + h > SCREEN_PX else "-")
        if kind in STARTS or not types:
            used = h
        elif kind in ("-", "fragment"):
            used += CELL_GAP_PX + h
        types.append(kind)
    return types


def slides(cells: list[dict]) -> list[list[dict]]:
    """Group cells into the (sub)slides a deck shows, dropping skipped cells and speaker notes."""
    groups: list[list[dict]] = []
    for cell in cells:
        kind = _explicit(cell) or "-"
        if kind in ("skip", "notes"):
            continue
        if kind in STARTS or not groups:
            groups.append([])
        groups[-1].append(cell)
    return groups


def slide_height(group: list[dict]) -> int:
    """Pixels a whole slide takes."""
    return sum(height(c) for c in group) + CELL_GAP_PX * (len(group) - 1)


_FENCE = re.compile(r"^\s*(```|~~~)")
_ITEM = re.compile(r"\s*([-*+]|\d+\.)\s")
_HEADING = re.compile(r"\s*#+\s")


def _markdown_blocks(source: str) -> list[tuple[str, bool]]:
    """(block, whole) for each blank-line separated block; a fenced code block, a table or a $$ formula is one
    block with the blank lines inside it, and `whole` marks those: they must never be cut."""
    blocks: list[tuple[str, bool]] = []
    current: list[str] = []
    fence = math = whole = False
    for line in source.split("\n"):
        if not fence and not math and not line.strip():
            if current:
                blocks.append(("\n".join(current), whole))
            current, whole = [], False
            continue
        if _FENCE.match(line):
            fence, whole = not fence, True
        elif not fence and line.strip().startswith("$$"):
            whole = True
            if line.strip() == "$$" or line.strip().count("$$") == 1:
                math = not math
        elif not fence and line.lstrip().startswith("|"):
            whole = True
        current.append(line)
    if current:
        blocks.append(("\n".join(current), whole))
    return blocks


def _list_items(block: str) -> list[str]:
    """A Markdown block as its list items, each with its continuation lines (and any fence inside it)."""
    items: list[str] = []
    fence = False
    for line in block.split("\n"):
        starts = not fence and bool(_ITEM.match(line) or _HEADING.match(line))
        if _FENCE.match(line):
            fence = not fence
        if items and not starts:
            items[-1] += "\n" + line
        else:
            items.append(line)
    return items


def _split_source(cell: dict) -> list[str]:
    """A cell's source in screen-sized pieces, cut at blank lines; a block taller than that at its list items (a
    Markdown paragraph at its lines). Markdown is never cut inside a fenced code block, a table, a $$ formula or
    a list item: a piece taller than the screen is better than a code block rendered as paragraphs."""
    budget = SCREEN_PX - 120

    def fits(text: str) -> bool:
        return height({**cell, "source": text, "outputs": []}) <= budget

    markdown = cell["cell_type"] == "markdown"
    blocks = _markdown_blocks(cell["source"]) if markdown else [
        (b, False) for b in re.split(r"\n\s*\n", cell["source"])]
    units: list[tuple[str, str]] = []   # (text, what joins it to the text before)
    for block, whole in blocks:
        if whole or fits(block):
            units.append((block, "\n\n"))
            continue
        items = _list_items(block) if markdown else block.split("\n")
        is_list = markdown and any(_ITEM.match(item) for item in items)
        for k, item in enumerate(items):
            parts = [item] if fits(item) or is_list else item.split("\n")
            units += [(part, "\n\n" if k == j == 0 else "\n") for j, part in enumerate(parts)]
    pieces, current = [], ""
    for text, sep in units:
        candidate = f"{current}{sep}{text}" if current else text
        if current and not fits(candidate):
            pieces.append(current)
            current = text
        else:
            current = candidate
    return pieces + [current]


def _heading_sections(source: str) -> list[str]:
    """The source cut before every heading that is not its first line (outside fenced code), so that a heading
    always starts a cell and therefore its slide."""
    sections: list[list[str]] = [[]]
    fence = False
    for line in source.split("\n"):
        if _FENCE.match(line):
            fence = not fence
        if not fence and re.match(r"#{1,3}\s", line) and any(x.strip() for x in sections[-1]):
            sections.append([])
        sections[-1].append(line)
    return ["\n".join(lines).strip("\n") for lines in sections]


def markdown_pieces(source: str) -> list[str]:
    """A Markdown source as pieces that each fit on a slide and each heading starting one, cut at blank lines;
    [source] when it fits whole and has no heading after its first line."""
    pieces = []
    for section in _heading_sections(source):
        if markdown_height(section) <= SCREEN_PX:
            pieces.append(section)
        else:
            pieces += _split_source({"cell_type": "markdown", "source": section, "metadata": {}})
    return pieces


def _output_groups(outputs: list[dict]) -> list[list[dict]]:
    """Outputs packed into screen-sized groups; a stream longer than a screen is cut into screen-sized pieces."""
    per_screen = (SCREEN_PX - 40) // OUTPUT_LINE_PX
    atoms = []
    for out in outputs:
        lines = str(out.get("text", "")).splitlines(keepends=True)
        if out.get("output_type") == "stream" and len(lines) > per_screen:
            atoms += [{**out, "text": "".join(lines[i:i + per_screen])} for i in range(0, len(lines), per_screen)]
        else:
            atoms.append(out)
    groups: list[list[dict]] = []
    for out in atoms:
        if groups and sum(map(output_height, groups[-1])) + output_height(out) <= SCREEN_PX:
            groups[-1].append(out)
        else:
            groups.append([out])
    return groups


def _pieces(cell: dict) -> list[dict]:
    """One cell as the screen-sized cells a static deck shows: source cut at blank lines, outputs on sub-slides."""
    if height(cell) <= SCREEN_PX:
        return [cell]
    tall = height({**cell, "outputs": []}) > SCREEN_PX - 120
    parts = [{**copy.deepcopy(cell), "source": s, "outputs": []} if cell["cell_type"] == "code" else
             {**copy.deepcopy(cell), "source": s} for s in (_split_source(cell) if tall else [cell["source"]])]
    if cell["cell_type"] == "code":
        groups = _output_groups(cell.get("outputs") or [])
        if groups and height({**parts[-1], "outputs": groups[0]}) <= SCREEN_PX:
            parts[-1]["outputs"] = groups.pop(0)
        for group in groups:
            meta = copy.deepcopy(cell.get("metadata", {}))
            meta["tags"] = list(meta.get("tags", [])) + [HIDE_INPUT]
            parts.append({**copy.deepcopy(cell), "source": "", "outputs": group, "metadata": meta})
    for i, part in enumerate(parts[1:], 1):
        part["id"] = f"{cell.get('id', 'cell')}-{i}"
        part.setdefault("metadata", {})["slideshow"] = {"slide_type": "subslide"}
    return parts


def for_slides(nb: dict) -> dict:
    """A copy of a run notebook arranged for a static deck: too-tall cells split, full slides continued on a sub-slide."""
    nb = copy.deepcopy(nb)
    cells = [part for cell in nb["cells"] for part in _pieces(cell)]
    used = 0
    for cell in cells:
        slideshow = cell.setdefault("metadata", {}).setdefault("slideshow", {})
        kind, h = slideshow.get("slide_type", "-"), height(cell)
        if kind in ("skip", "notes"):
            continue
        if kind not in STARTS and used and used + CELL_GAP_PX + h > SCREEN_PX:
            kind = slideshow["slide_type"] = "subslide"
        used = h if kind in STARTS else used + CELL_GAP_PX + h
    nb["cells"] = cells
    return _notebook_node(nb)


def _notebook_node(nb: dict):
    import nbformat

    return nbformat.from_dict(nb)


def overfull(nb: dict) -> list[tuple[int, int, str]]:
    """Slides taller than SCREEN_PX: (slide number from 1, pixels, its first line)."""
    return [(i, slide_height(g), g[0]["source"].strip().split("\n", 1)[0][:60])
            for i, g in enumerate(slides(nb["cells"]), 1) if slide_height(g) > SCREEN_PX]


def export(path: Path, out_dir: Path, assets: str | None = None) -> Path:
    """Write one notebook as a static reveal.js deck (plots embedded) into out_dir; returns the HTML path."""
    import nbformat
    from nbconvert import SlidesExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    from cl_helpers.io import atomic_write

    nb = for_slides(nbformat.read(path, as_version=4))
    exporter = SlidesExporter(reveal_width=str(WIDTH_PX), reveal_height=str(HEIGHT_PX), reveal_theme="white",
                              reveal_transition="none", reveal_number="c/t", exclude_input_prompt=True,
                              exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={HIDE_INPUT}), enabled=True)
    if assets:  # local copies (make slides-offline): the deck then needs no network at all
        exporter.reveal_url_prefix = f"{assets}/reveal.js"
        exporter.require_js_url = f"{assets}/requirejs/require.js"
        exporter.jquery_url = f"{assets}/jquery/dist/jquery.min.js"
        exporter.mathjax_url = f"{assets}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
    html, _ = exporter.from_notebook_node(nb)
    html = html.replace("</head>", f"<style>{SLIDE_CSS}</style>\n</head>", 1)
    out = out_dir / f"{path.stem}.slides.html"
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda fh: fh.write(html))
    return out


def main(argv: Iterable[str] | None = None) -> int:
    """Export notebooks to decks and report any slide taller than a screen."""
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("slides"))
    parser.add_argument("--assets", default=None, help="folder, relative to the decks, holding npm's reveal.js, "
                        "requirejs, jquery and mathjax (default: their CDN addresses, nbconvert's defaults)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    for path in args.notebooks:
        out = export(path, args.out, args.assets)
        arranged = for_slides(nbformat.read(path, as_version=4))
        print(f"{out}: {len(slides(arranged['cells']))} slides")
        for number, px, first in overfull(arranged):
            print(f"  slide {number} is {px} px tall (screen {SCREEN_PX} px): {first}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
