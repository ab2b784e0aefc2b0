"""Build the student and instructor editions of every chapter from one source, notebooks/src/NN_name.py.

The source is in jupytext's "percent" format (read with jupytext): `# %%` starts a code cell (optionally with
metadata, `# %% tags=["a", "b"]` or `# %% slideshow={"slide_type": "fragment"}`), `# %% [markdown]` a Markdown
cell whose lines start with `# `. Inside code, a block

    # BEGIN SOLUTION: message for students
    ...the solution...
    # END SOLUTION

stays in the instructor edition (notebooks/instructor/) and becomes `raise NotImplementedError("message")` in the
student edition (notebooks/), at the same indentation (the markers are otter-grader's; the grader,
cl_helpers.teaching.grading, scores the filled-in stubs with the chapters' own checkers). Both editions get an
"Open in Colab" badge and prev/next links, slide types for the live deck (jupyterlab-slideshow) and reveal.js
(cl_helpers.teaching.slides: headings start slides, a full slide continues on a sub-slide), and the live deck's
hall-sized fonts in their metadata.
Usage: python tools/build_notebooks.py [--check]   (--check: exit 1 if a committed notebook's cells differ
from what the source gives, outputs ignored).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat


def _load_slides():
    # By path: importing the package would import torch, which building notebooks does not need.
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "cl_helpers" / "teaching" / "slides.py"
    spec = importlib.util.spec_from_file_location("cl_slides", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


slides = _load_slides()

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "notebooks" / "src"
EDITIONS = {"student": ROOT / "notebooks", "instructor": ROOT / "notebooks" / "instructor"}
REPO = os.environ.get("CL_COURSE_REPO", "cl-course/cl-course")  # GitHub owner/name, for the Colab badge
# Chapters whose Colab badge asks for a GPU runtime: chapter 8 fine-tunes real language models (Track B needs one).
GPU_CHAPTERS = ("08_language_model",)
BRANCH = "main"
_JUPYTEXT_KEYS = {"lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker", "region_name"}
_BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION(?::\s*(?P<msg>.*))?$")
_END = re.compile(r"^\s*# END SOLUTION\s*$")


def parse(text: str) -> list[nbformat.NotebookNode]:
    """The cells of a percent-format source, as jupytext reads them (its own bookkeeping metadata dropped)."""
    cells = jupytext.reads(text, fmt="py:percent").cells
    for cell in cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k not in _JUPYTEXT_KEYS}
    return cells


def student_source(code: str) -> str:
    """Replace each solution block by a NotImplementedError stub at the block's indentation."""
    out, inside = [], False
    for line in code.splitlines():
        m = _BEGIN.match(line)
        if m:
            if inside:
                raise ValueError("nested BEGIN SOLUTION")
            inside = True
            msg = (m.group("msg") or "請完成這裡 (fill in this part)").replace('"', "'")
            out.append(f"{m.group('indent')}# YOUR CODE HERE / 在這裡寫你的程式")
            out.append(f'{m.group("indent")}raise NotImplementedError("{msg}")')
        elif _END.match(line):
            if not inside:
                raise ValueError("END SOLUTION without BEGIN SOLUTION")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError("BEGIN SOLUTION without END SOLUTION")
    return "\n".join(out)


def instructor_source(code: str) -> str:
    """Drop the solution markers, keep the solutions."""
    return "\n".join(ln for ln in code.splitlines() if not (_BEGIN.match(ln) or _END.match(ln)))


def _nav(names: list[str], i: int, edition: str) -> tuple[str, str]:
    folder = "notebooks" if edition == "student" else "notebooks/instructor"
    url = f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/{folder}/{names[i]}.ipynb"
    badge = f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"
    prev_ = f"[← {names[i - 1]}]({names[i - 1]}.ipynb)" if i > 0 else ""
    next_ = f"[{names[i + 1]} →]({names[i + 1]}.ipynb)" if i + 1 < len(names) else ""
    links = " | ".join(x for x in (prev_, "[README](../README.md)" if edition == "student" else
                                   "[README](../../README.md)", next_) if x)
    edition_note = "" if edition == "student" else " · **Instructor edition (解答版)**"
    return f"{badge}{edition_note}\n\n{links}", f"---\n{links}"


_CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"  # CJK punctuation, ideographs, full-width forms
_ENDS_CJK = re.compile(f"[{_CJK}]$")
_STARTS_CJK = re.compile(f"\\s*[{_CJK}]")
# Full-width punctuation takes no space beside it, whatever the other side is ("、 Schulman" or "** （" look wrong).
_BLOCK_START = re.compile(r"\s*([-*+]\s|\d+[.)]\s|#|>|\||\$\$|<)")  # a new list item, heading, quote, table...
_ENDS_WIDE_PUNCT = re.compile("[\u3000-\u303f\uff01-\uff0f\uff1a-\uff1f]$")
_STARTS_WIDE_PUNCT = re.compile("\\s*[\u3000-\u303f\uff01-\uff0f\uff1a-\uff1f]")


def join_cjk_lines(text: str) -> str:
    """Markdown with each line break between two CJK characters removed (outside code fences).

    CommonMark turns a soft line break into a space, and Chromium (JupyterLab, Colab) shows it in the middle of a
    Chinese sentence; the source keeps its short lines, the notebook gets whole sentences.
    """
    out: list[str] = []
    fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            out.append(line)
        elif not fence and out and out[-1].strip() and line.strip() and not _BLOCK_START.match(line) and (
                (_ENDS_CJK.search(out[-1]) and _STARTS_CJK.match(line))
                or _ENDS_WIDE_PUNCT.search(out[-1]) or _STARTS_WIDE_PUNCT.match(line)):
            out[-1] += line.strip()
        else:
            out.append(line)
    return "\n".join(out)


def nbval_tags(source: str) -> tuple[str, list[str]]:
    """The source without its `# NBVAL_*` marker lines, and the same markers as nbval's cell tags.

    A student sees no test machinery in the code; nbval reads the tag (nbval-check-output) instead.
    """
    lines, tags = [], []
    for line in source.splitlines():
        marker = line.strip().lstrip("#").strip()
        if line.strip().startswith("#") and re.fullmatch(r"NBVAL_[A-Z_]+", marker):
            tags.append(marker.lower().replace("_", "-"))
        else:
            lines.append(line)
    return "\n".join(lines), tags


def build(name: str, names: list[str], edition: str) -> nbformat.NotebookNode:
    """The notebook of one chapter in one edition (no outputs)."""
    cells = parse((SRC / f"{name}.py").read_text(encoding="utf-8"))
    top, bottom = _nav(names, names.index(name), edition)
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "colab": {"provenance": []},
    }
    if name in GPU_CHAPTERS:  # Colab opens these on a GPU runtime; the others say a CPU is enough
        nb.metadata["accelerator"] = "GPU"
    nb.cells.append(nbformat.v4.new_markdown_cell(top, metadata={"tags": ["nav"]}))
    for cell in cells:
        meta = dict(cell.metadata)
        if cell.cell_type == "markdown":  # a text taller than a slide: cells that fit, so the live deck shows it all
            for k, piece in enumerate(slides.markdown_pieces(join_cjk_lines(cell.source))):
                nb.cells.append(nbformat.v4.new_markdown_cell(piece, metadata=meta if k == 0 else {}))
        else:
            src = student_source(cell.source) if edition == "student" else instructor_source(cell.source)
            src, tags = nbval_tags(src)
            if tags:
                meta["tags"] = list(meta.get("tags", [])) + tags
            nb.cells.append(nbformat.v4.new_code_cell(src.replace("__REPO__", REPO), metadata=meta))
    nb.cells.append(nbformat.v4.new_markdown_cell(bottom, metadata={"tags": ["nav"]}))
    explicit = [None if i in (0, len(nb.cells) - 1) else c.metadata.get("slideshow", {}).get("slide_type")
                for i, c in enumerate(nb.cells)]
    explicit[0] = explicit[-1] = "skip"  # Colab badges and links say nothing in a lecture hall
    for cell, kind in zip(nb.cells, slides.slide_types(nb.cells, explicit)):
        cell.metadata.pop("slideshow", None)
        if kind != "-":  # a continuing cell carries no slide type: the one reading jupyterlab-slideshow shares
            cell.metadata["slideshow"] = {"slide_type": kind}
    nb.metadata[slides.FONTS_METADATA_KEY] = slides.deck_styles()  # hall-sized fonts in the live deck
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:03d}"  # stable ids: rebuilding does not churn the diff
    return nb


def chapter_names() -> list[str]:
    """Chapter sources, in order."""
    return sorted(p.stem for p in SRC.glob("[0-9][0-9]_*.py"))


def signature(nb) -> list:
    """What must match between source and committed notebook: cell kinds, sources, tags, slide types, deck fonts."""
    return [(c.cell_type, c.source, list(c.get("metadata", {}).get("tags", [])),
             c.get("metadata", {}).get("slideshow", {}).get("slide_type")) for c in nb.cells] + [
        nb.metadata.get(slides.FONTS_METADATA_KEY), nb.metadata.get("accelerator")]


def write(nb, path: Path) -> None:
    """Write a notebook whole or not at all, keeping outputs of unchanged cells of the existing file."""
    if path.exists():
        old = nbformat.read(path, as_version=4)
        if signature(old) == signature(nb):
            return
        previous = {(c.cell_type, c.source): c for c in old.cells}
        # A code cell whose only change is a marker comment moved into a tag keeps its outputs.
        previous.update({(c.cell_type, nbval_tags(c.source)[0]): c for c in old.cells
                         if c.cell_type == "code" and (c.cell_type, nbval_tags(c.source)[0]) not in previous})
        for key in ("language_info", "widgets"):  # written by the saved run: the widgets' state, the Python version
            if key in old.metadata:
                nb.metadata[key] = old.metadata[key]
        for cell in nb.cells:
            prev = previous.get((cell.cell_type, cell.source))
            if cell.cell_type == "code" and prev is not None:
                cell.outputs, cell.execution_count = prev.outputs, prev.execution_count
                if "execution" in prev.metadata:  # nbclient's timings of the saved run
                    cell.metadata["execution"] = prev.metadata["execution"]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        nbformat.write(nb, fh)
    os.replace(tmp, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if anything differs")
    parser.add_argument("chapters", nargs="*", help="chapter numbers or names to build (default: all), e.g. 04 09")
    args = parser.parse_args(argv)
    names, stale = chapter_names(), []
    chosen = [n for n in names if not args.chapters or any(n.startswith(c) for c in args.chapters)]
    if args.chapters and not chosen:
        parser.error(f"no chapter matches {' '.join(args.chapters)}; chapters: {', '.join(names)}")
    for name in chosen:
        for edition, folder in EDITIONS.items():
            nb, path = build(name, names, edition), folder / f"{name}.ipynb"
            if args.check:
                if not path.exists() or signature(nbformat.read(path, as_version=4)) != signature(nb):
                    stale.append(str(path.relative_to(ROOT)))
            else:
                write(nb, path)
    if stale:
        print("out of sync with notebooks/src (run: python tools/build_notebooks.py): " + ", ".join(stale))
        return 1
    print(f"{'checked' if args.check else 'built'} {len(chosen)} chapters x {len(EDITIONS)} editions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
