"""The student and instructor editions are built from one source and stay in sync with it."""
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_notebooks as build  # noqa: E402

CHAPTERS = build.chapter_names()


def test_committed_notebooks_match_their_source():
    p = subprocess.run([sys.executable, str(ROOT / "tools" / "build_notebooks.py"), "--check"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_chapters_numbered_in_order():
    assert len(CHAPTERS) >= 7 and [c[:2] for c in CHAPTERS] == [f"{i:02d}" for i in range(1, len(CHAPTERS) + 1)], \
        CHAPTERS


# Chapter 8 (the language model) has no exercise yet: its editions carry the same code.
WITHOUT_EXERCISE = {"08_language_model"}


@pytest.mark.parametrize("name", CHAPTERS)
def test_student_edition_has_stubs_and_instructor_edition_solutions(name):
    source = (build.SRC / f"{name}.py").read_text(encoding="utf-8")
    n_solutions = len(re.findall(r"# BEGIN SOLUTION", source))
    student = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    teacher = nbformat.read(ROOT / "notebooks" / "instructor" / f"{name}.ipynb", as_version=4)
    s_code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    t_code = "\n".join(c.source for c in teacher.cells if c.cell_type == "code")
    assert s_code.count("raise NotImplementedError(") == n_solutions
    assert "SOLUTION" not in s_code and "SOLUTION" not in t_code
    assert t_code.count("raise NotImplementedError(") == 0
    if name not in WITHOUT_EXERCISE:
        assert n_solutions >= 1, f"{name} has no exercise"
    else:
        assert n_solutions == 0, f"{name} has an exercise now: take it out of WITHOUT_EXERCISE"


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").rglob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_metadata_and_links(path):
    if ".ipynb_checkpoints" in path.parts:
        pytest.skip("checkpoint")
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    first = nb["cells"][0]["source"]
    first = "".join(first) if isinstance(first, list) else first
    assert "colab.research.google.com" in first
    for link in re.findall(r"\]\(([0-9]{2}_[a-z_]+\.ipynb)\)", first):
        assert (path.parent / link).exists(), link


def test_stub_conversion_keeps_indentation():
    code = "def f(x):\n    y = 1\n    # BEGIN SOLUTION: do it\n    return x + y\n    # END SOLUTION\n"
    assert build.student_source(code) == ("def f(x):\n    y = 1\n    # YOUR CODE HERE / 在這裡寫你的程式\n"
                                          '    raise NotImplementedError("do it")')
    assert build.instructor_source(code) == "def f(x):\n    y = 1\n    return x + y"
    with pytest.raises(ValueError, match="without END"):
        build.student_source("# BEGIN SOLUTION\nx = 1\n")


def test_no_line_break_between_two_cjk_characters_and_no_marker_comments():
    # A soft break between two CJK characters renders as a stray space in Chromium; code fences keep theirs.
    assert build.join_cjk_lines("學 B 的，\n內積越負\n- 二\n```\n中\n文\n```\nEnglish\n中文") == \
        "學 B 的，內積越負\n- 二\n```\n中\n文\n```\nEnglish\n中文"
    cjk = re.compile("[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]\n[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                prose = re.sub(r"```.*?```", "", cell.source, flags=re.S)
                assert not cjk.search(prose), f"{path.name} cell {i}: a line break between two CJK characters"
            else:  # students see no test machinery: nbval reads tags instead of `# NBVAL_*` comments
                assert "NBVAL_" not in cell.source, f"{path.name} cell {i} shows an nbval marker"
    assert build.nbval_tags("# NBVAL_CHECK_OUTPUT\nprint(1)") == ("print(1)", ["nbval-check-output"])
