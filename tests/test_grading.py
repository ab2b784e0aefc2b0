"""The grader scores filled-in student notebooks with the chapters' checkers and survives hostile submissions.

Fixture submissions are chapter 2's student edition with its exercise cell filled in six ways; each runs
in a real kernel (fast mode).
"""
import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cl_helpers.teaching import grading

ROOT = Path(__file__).resolve().parents[1]

CORRECT_FORGETTING = """def average_forgetting(R):
    R = np.asarray(R, dtype=float)
    T = len(R)
    return float(np.mean([R[:T - 1, j].max() - R[T - 1, j] for j in range(T - 1)]))
"""
CORRECT_BWT = """def backward_transfer(R):
    R = np.asarray(R, dtype=float)
    T = len(R)
    return float(np.mean([R[T - 1, j] - R[j, j] for j in range(T - 1)]))
"""
SIGN_FLIPPED = CORRECT_FORGETTING.replace("return float(np.mean([R[:T - 1, j].max() - R[T - 1, j]",
                                          "return float(np.mean([R[T - 1, j] - R[:T - 1, j].max()")
DIAGONAL_NOT_MAX = CORRECT_FORGETTING.replace("R[:T - 1, j].max()", "R[j, j]")
RAISES = CORRECT_FORGETTING.replace("R[T - 1, j] for", "R[T, j] for")  # off by one: IndexError
ENDLESS = CORRECT_FORGETTING.replace("    R = np.asarray", "    while True:\n        pass\n    R = np.asarray")
DELETES = "import os\nfor _f in os.listdir('.'):\n    os.remove(_f)\n"

SUBMISSIONS = {  # student: (exercise cell, points for 2.1 forgetting (of 5), points for 2.2 BWT (of 5), note)
    "correct": (CORRECT_FORGETTING + CORRECT_BWT, 5, 5, None),
    "sign_flipped": (SIGN_FLIPPED + CORRECT_BWT, 0, 5, "可能的錯誤：正負號相反"),
    # R[j, j] equals the column max in three of the five cases: "task 0 peaks after task 1" and "task 1 is best
    # before it was trained" catch it
    "diagonal": (DIAGONAL_NOT_MAX + CORRECT_BWT, 3, 5, "可能的錯誤：用了 R[j, j]"),
    "blank": (None, 0, 0, "not implemented"),
    # sorts first, so it runs before or beside the others: it deletes every file in its folder, then raises
    "a_raises": (DELETES + RAISES + CORRECT_BWT, 0, 5, "執行時發生 IndexError"),
    "endless": (ENDLESS + CORRECT_BWT, 0, 5, "forgetting_exercise: timed out"),
}


def _submission(cell_source):
    nb = nbformat.read(ROOT / "notebooks" / "02_metrics.ipynb", as_version=4)
    if cell_source is not None:
        cell = next(c for c in nb.cells if "exercise" in c.metadata.get("tags", []))
        cell.source = "import numpy as np\n\n" + cell_source
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    for student, (source, *_) in SUBMISSIONS.items():
        nbformat.write(_submission(source), folder / f"{student}.ipynb")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    out = tmp_path_factory.mktemp("out") / "grades.csv"
    results = grading.grade(folder, out, chapter="02", timeout=120, exercise_timeout=4, budget=120, jobs=2)
    return results, out, folder, before


_IMPORT = re.compile(r"from\s+cl_helpers\.teaching\.exercises\.(\w+)\s+import\s+([\w \t,]+)")
_CHECK = re.compile(r"\b(\w+)\.check\(\s*(\w+)\s*\)")


def _checks_in_source(path: Path) -> list[tuple[str, str, str]]:
    """(module, checker, function) of every `checker.check(function)` in a chapter's source, loops left out."""
    text = path.read_text(encoding="utf-8")
    modules = {name.strip(): m.group(1) for m in _IMPORT.finditer(text) for name in m.group(2).split(",")}
    return [(modules[checker], checker, function) for checker, function in _CHECK.findall(text)
            if checker in modules and not checker.endswith("loop_exercise")]


def test_the_catalogue_is_what_the_chapters_check():
    """The grader reads the package's catalogue; it must name exactly the exercises each chapter's source checks."""
    from cl_helpers.teaching.exercises.catalogue import GRADED

    sources = {p.name[:2]: _checks_in_source(p) for p in sorted((ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py"))}
    assert {ch: list(entries) for ch, entries in GRADED.items()} == {ch: c for ch, c in sources.items() if c}
    for chapter in GRADED:
        assert all(g.points >= 1 for g in grading.exercises(chapter))
    ch2 = grading.exercises("02_metrics")
    assert [(g.checker, g.function, g.points) for g in ch2] == [
        ("forgetting_exercise", "average_forgetting", 5), ("bwt_exercise", "backward_transfer", 5)]


def test_the_grader_works_from_an_installed_wheel(tmp_path):
    """Built as a wheel and installed elsewhere (no repository around it), the grader still scores a submission."""
    wheels, site, subs, project = (tmp_path / name for name in ("wheels", "site", "subs", "project"))
    subs.mkdir()
    # Built from a copy: setuptools writes build/ and *.egg-info beside the project it builds.
    shutil.copytree(ROOT / "cl_helpers", project / "cl_helpers", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(project)], check=True,
                   cwd=tmp_path, capture_output=True)
    wheel = next(wheels.glob("cl_helpers-*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--no-compile", "--target", str(site), str(wheel)], check=True,
                   capture_output=True)
    nbformat.write(_submission(CORRECT_FORGETTING + CORRECT_BWT), subs / "alice.ipynb")
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = ("import sys, cl_helpers; assert cl_helpers.__file__.startswith(sys.argv[1]), cl_helpers.__file__; "
            "from cl_helpers.cli import main; sys.exit(main(sys.argv[2:]))")
    done = subprocess.run([sys.executable, "-c", code, str(site), "grade", str(subs), "--chapter", "02",
                           "--out", str(tmp_path / "g.csv"), "--exercise-timeout", "20"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    row = next(csv.DictReader((tmp_path / "g.csv").open(encoding="utf-8")))
    assert (row["student"], row["total"], row["max"]) == ("alice", "10", "10"), row


def test_points_per_exercise_per_student(graded):
    results, out, _, _ = graded
    rows = {r["student"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert set(rows) == set(SUBMISSIONS)
    for student, (_, forgetting, bwt, note) in SUBMISSIONS.items():
        row = rows[student]
        got = (int(row["forgetting_exercise (of 5)"]), int(row["bwt_exercise (of 5)"]), int(row["total"]))
        assert got == (forgetting, bwt, forgetting + bwt), (student, row)
        assert row["max"] == "10"
        if note:
            assert note in row["notes"], (student, row["notes"])
        else:
            assert row["notes"] == "", (student, row["notes"])


def test_hostile_submissions_harm_nobody_else(graded):
    results, _, folder, before = graded
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # deleting ran in its own copy
    endless = next(r for r in results if r.student == "endless")
    assert endless.seconds < 60  # two 4 s limits (its own check cell, then the grader's), not forever


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    from cl_helpers.cli import main

    (tmp_path / "x.ipynb").write_text("{}", encoding="utf-8")
    assert main(["grade", str(tmp_path), "--chapter", "99"]) == 2
    assert "chapter '99' has no auto-graded exercise" in capsys.readouterr().err
    assert main(["grade", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["grade", str(tmp_path), "--jobs", "0"]) == 2
    assert "--jobs must be positive" in capsys.readouterr().err
