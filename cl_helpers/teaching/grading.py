"""Grade a folder of submitted student notebooks with the chapters' own checkers; write points to a CSV.

    python -m cl_helpers grade SUBMISSIONS_DIR --out grades.csv [--chapter 02] [--timeout 120] [--jobs 2]

SUBMISSIONS_DIR holds either one notebook per student (`alice.ipynb`) or one folder per student
(`alice/02_metrics.ipynb`). The exercises of a chapter come from the installed package,
cl_helpers.teaching.exercises.catalogue: each names a checker (an `Exercise` from cl_helpers.teaching.exercises)
and the student's function it grades, as the chapter's `exercise.check(function)` does. An exercise is worth one
point per checker case; the student gets the cases their function passes.

Each submission runs in a fresh kernel, in its own temporary copy of the notebook (so a submission that
deletes the files around it only deletes its own copy), in fast mode, from the top down to the chapter's
last checker cell; then the grader runs each checker on the student's function in a cell of its own.
Every cell has a time limit (`--timeout`; a student's cell or checker `--exercise-timeout`) and the whole
submission a budget (`--budget`); a kernel past its limit is interrupted, one that dies is replaced by
nothing: a crash, an endless loop or a raised error costs that exercise's points (noted in the CSV), never
the run or another student's grade. This guards against accidents, not against a student who attacks the
grader from inside the kernel (the checker runs in the student's kernel).
"""
from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError

_GRADE_TAG = "cl-grade"


@dataclass(frozen=True)
class Graded:
    """One auto-graded exercise: the checker's module and name, the student's function, the points it is worth."""

    module: str
    checker: str
    function: str
    points: int


@dataclass
class Result:
    """One student's points per exercise (by checker name) and notes on what went wrong."""

    student: str
    points: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def exercises(chapter: str) -> list[Graded]:
    """The auto-graded exercises of a chapter given as '02' or '02_metrics', from the package's catalogue."""
    from .exercises.catalogue import GRADED

    if not re.fullmatch(r"\d\d(_\w+)?", chapter) or chapter[:2] not in GRADED:
        raise ConfigError(f"chapter {chapter!r} has no auto-graded exercise; allowed: {', '.join(GRADED)}")
    found = []
    for module, checker, function in GRADED[chapter[:2]]:
        name = f"{__package__}.exercises.{module}"
        found.append(Graded(name, checker, function, getattr(importlib.import_module(name), checker).n_cases))
    return found


def find_submissions(folder: Path) -> list[tuple[str, Path]]:
    """(student, notebook) pairs: `NAME.ipynb` directly in the folder, or `NAME/` holding one notebook."""
    if not folder.is_dir():
        raise ConfigError(f"submissions folder {folder} does not exist")
    found = [(p.stem, p) for p in sorted(folder.glob("*.ipynb"))]
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        notebooks = sorted(sub.glob("*.ipynb"))
        if len(notebooks) == 1:
            found.append((sub.name, notebooks[0]))
        elif notebooks:
            raise ConfigError(f"{sub} holds {len(notebooks)} notebooks; one per student folder is allowed")
    if not found:
        raise ConfigError(f"no .ipynb submissions in {folder}")
    return found


def guess_chapter(path: Path) -> str:
    """A submission's chapter from its file name (02_metrics.ipynb) or its cells' ids (02-013)."""
    m = re.match(r"(\d\d)_", path.name)
    if m:
        return m.group(1)
    ids = {str(c.get("id", ""))[:3] for c in json.loads(path.read_text(encoding="utf-8")).get("cells", [])}
    chapters = {i[:2] for i in ids if re.fullmatch(r"\d\d-", i)}
    if len(chapters) == 1:
        return chapters.pop()
    raise ConfigError(f"cannot tell which chapter {path} is: name it NN_*.ipynb or pass --chapter NN")


def _grading_cell(ex: Graded, marker: str) -> str:
    return f"""# {_GRADE_TAG}
import json as _cl_json
from {ex.module} import {ex.checker} as _cl_ex
try:
    _cl_fn = {ex.function}
except NameError:
    _cl_res = {{"note": "{ex.function} is not defined"}}
else:
    if _cl_fn is _cl_ex.reference:
        _cl_res = {{"note": "{ex.function} is the checker's reference solution"}}
    else:
        _cl_rep = _cl_ex.run(_cl_fn)
        _cl_res = {{"passed": len(_cl_rep.passed), "failed": _cl_rep.failed,
                    "not_implemented": _cl_rep.not_implemented}}
print("{marker}" + _cl_json.dumps(_cl_res))
"""


def _runs_student_code(source: str, graded: list[Graded]) -> bool:
    return _GRADE_TAG in source or ".check(" in source or \
        any(re.search(rf"\bdef {g.function}\b", source) for g in graded)


def grade_one(student: str, path: Path, graded: list[Graded], timeout: float = 120, exercise_timeout: float = 30,
              budget: float = 600, env: dict[str, str] | None = None) -> Result:
    """Run one submission in its own kernel and temporary folder; score each exercise."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    result = Result(student)
    start = time.monotonic()
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # an unreadable file is that student's problem only
        result.notes.append(f"unreadable notebook: {type(exc).__name__}: {exc}")
        result.points = {g.checker: 0 for g in graded}
        return result
    code = [c for c in nb.cells if c.cell_type == "code"]
    last = max((i for i, c in enumerate(code) if _runs_student_code(c.source, graded)), default=len(code) - 1)
    marker = f"CL_GRADE_{secrets.token_hex(8)} "
    nb.cells = code[:last + 1] + [nbformat.v4.new_code_cell(_grading_cell(g, marker)) for g in graded]
    for cell in nb.cells:
        cell.outputs = []
    deadline = start + budget

    def limit(cell) -> int:
        own = exercise_timeout if _runs_student_code(cell.source, graded) else timeout
        return int(max(1, min(own, deadline - time.monotonic())))

    safe = re.sub(r"[^\w-]", "_", student)
    work = Path(tempfile.mkdtemp(prefix=f"cl-grade-{safe}-"))
    try:
        shutil.copy(path, work / "submission.ipynb")
        client = NotebookClient(nb, timeout=int(timeout), timeout_func=limit, kernel_name="python3",
                                allow_errors=True, interrupt_on_timeout=True, record_timing=False,
                                resources={"metadata": {"path": str(work)}})
        kernel_env = {**os.environ, "CL_FAST": "1", "TQDM_DISABLE": "1", "MPLBACKEND": "Agg", **(env or {})}
        try:
            client.execute(env=kernel_env, stderr=subprocess.DEVNULL)  # the kernel's own log lines
        except DeadKernelError:
            result.notes.append("the kernel died")
        except Exception as exc:  # the grader survives whatever the submission does
            result.notes.append(f"stopped: {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for g, cell in zip(graded, nb.cells[-len(graded):]):
        result.points[g.checker] = _score(g, cell, marker, result.notes)
    result.seconds = time.monotonic() - start
    return result


def _score(g: Graded, cell, marker: str, notes: list[str]) -> int:
    text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
    lines = [ln for ln in text.splitlines() if ln.startswith(marker)]
    if not lines:
        errors = [o.get("ename", "") for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        why = "timed out" if "KeyboardInterrupt" in errors else f"raised {errors[0]}" if errors else "no result"
        notes.append(f"{g.checker}: {why}")
        return 0
    res = json.loads(lines[-1][len(marker):])
    if "note" in res:
        notes.append(f"{g.checker}: {res['note']}")
        return 0
    if res["not_implemented"]:
        notes.append(f"{g.checker}: not implemented")
        return 0
    notes += [f"{g.checker}: {msg}" for msg in res["failed"]]
    return min(int(res["passed"]), g.points)


def grade(folder: Path, out: Path, chapter: str | None = None, timeout: float = 120,
          exercise_timeout: float = 30, budget: float = 600, jobs: int = 1) -> list[Result]:
    """Grade every submission in `folder` and write the CSV `out` (whole or not at all)."""
    from ..io import atomic_write

    subs = find_submissions(folder)
    chapters = {chapter or guess_chapter(p) for _, p in subs}
    if len(chapters) != 1:
        raise ConfigError(f"the submissions are of several chapters ({', '.join(sorted(chapters))}); "
                          "grade one chapter per folder or pass --chapter")
    graded = exercises(chapters.pop())
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda sp: grade_one(*sp, graded, timeout, exercise_timeout, budget), subs))
    header = ["student"] + [f"{g.checker} (of {g.points})" for g in graded] + ["total", "max", "notes"]
    rows = [[r.student] + [r.points[g.checker] for g in graded] +
            [sum(r.points.values()), sum(g.points for g in graded), " | ".join(r.notes)] for r in results]

    def write(fh):
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)

    atomic_write(out, write)
    return results


def add_parser(sub) -> None:
    """Add the `grade` command to the CLI's subcommands."""
    p = sub.add_parser("grade", help="grade submitted student notebooks with the chapters' checkers",
                       description=__doc__.split("\n\n")[1], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("submissions", type=Path, help="folder of NAME.ipynb files or NAME/ folders")
    p.add_argument("--out", type=Path, default=Path("grades.csv"))
    p.add_argument("--chapter", default=None, help="NN (default: from the file names or cell ids)")
    p.add_argument("--timeout", type=float, default=120, help="seconds per set-up cell")
    p.add_argument("--exercise-timeout", type=float, default=30, help="seconds per exercise or checker cell")
    p.add_argument("--budget", type=float, default=600, help="seconds per submission in all")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """The `grade` command: grade, write the CSV, print one line per student."""
    for name in ("timeout", "exercise_timeout", "budget", "jobs"):
        if getattr(args, name) <= 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    results = grade(args.submissions, args.out, args.chapter, args.timeout, args.exercise_timeout, args.budget,
                    args.jobs)
    for r in results:
        print(f"{r.student:<20} {sum(r.points.values()):>3} points  {r.seconds:5.1f} s  "
              f"{'; '.join(r.notes)[:100]}")
    print(f"wrote {args.out}")
    return 0

