"""Every number in a chapter's prose is one the reader sees: printed above it, set in its code, or allow-listed.

The saved notebooks (both editions, full-mode outputs) are what a student reads on GitHub or opens in JupyterLab.
A number typed into Markdown goes stale when the code changes; this test finds it (tests/prose_check.py says
exactly what counts as a number and where it is looked for).
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from prose_check import check_notebook, prose_numbers, wall_seconds

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted(
    (ROOT / "notebooks" / "instructor").glob("[0-9][0-9]_*.ipynb"))

# Numbers in the prose that are not results of the chapter's run, per chapter, each with its reason. A figure
# from a paper is cited with the paper beside it; anything the run computes belongs in an output instead.
HSU_2018 = "Hsu et al. 2018, split MNIST class-IL table (FIELD_NOTES), cited beside the run's own numbers"
VDV_2018 = "van de Ven & Tolias 2018, Table 3 (split MNIST class-IL), cited beside the run's own numbers"
VDV_2019 = "van de Ven & Tolias 2019 (Three scenarios), split MNIST task-IL: none / EWC / SI, cited beside the run's"
SUBSET = "size of the course's MNIST subset in shared/data: a fact of the data, not a result"
LLAMA = "part of the course homework's model name, Llama-3.2-1B-Instruct: not a result"
FULL_MNIST = "full MNIST has about 12,000 training images per digit pair (Hsu et al. use all of them): a fact of the data"
ALLOWED: dict[str, dict[str, str]] = {
    "01": {"6309": SUBSET, "3.2": LLAMA, "19.7": HSU_2018, "19.90": VDV_2018},
    "02": {"6309": SUBSET, "3.2": LLAMA},
    "03": {"6309": SUBSET, "3.2": LLAMA},
    "04": {"6309": SUBSET, "3.2": LLAMA},
    "05": {"19.7": HSU_2018, "19.8": HSU_2018, "90.8": HSU_2018, "12000": FULL_MNIST, "3.2": LLAMA,
           "87.19": VDV_2019, "98.64": VDV_2019, "99.09": VDV_2019},
    "06": {"6309": SUBSET, "20": HSU_2018, "19.5": HSU_2018, "24.2": HSU_2018},
    "07": {"19.90": VDV_2018, "20.04": VDV_2018, "24.17": VDV_2018, "91.24": VDV_2018, "91.84": VDV_2018,
           "97.93": VDV_2018},
    "08": {"3.5": "part of a model's name in Qi et al. 2023 (GPT-3.5 Turbo): not a result", "3.2": LLAMA,
           "20": "the sweep's largest mixing share, set in the code as the fraction 0.2",
           "2.0": "part of a licence's name (SmolLM2 is released under Apache-2.0): not a result"},
    "09": {"6309": SUBSET},
}


def _chapter(path: Path) -> str:
    return path.name[:2]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_chapter_has_an_allow_list():
    assert {_chapter(p) for p in NOTEBOOKS} <= set(ALLOWED), "add the new chapter to ALLOWED (empty is fine)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_prose_numbers_are_shown_by_the_run(path):
    findings = check_notebook(_load(path), str(path.relative_to(ROOT)), ALLOWED[_chapter(path)])
    assert not findings, "numbers in the prose that the reader never sees:\n" + "\n".join(map(str, findings))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_allow_list_entries_are_still_used(path):
    """An allow-list entry that no prose uses any more is stale: it would excuse a future wrong number."""
    chapter = _chapter(path)
    written = {n.replace(",", "") for c in _load(path)["cells"] if c["cell_type"] == "markdown"
               for n, _ in prose_numbers("".join(c["source"]))}
    assert set(ALLOWED[chapter]) <= written, f"unused allow-list entries: {set(ALLOWED[chapter]) - written}"


def _planted(nb: dict) -> tuple[dict, int, str] | None:
    """A copy of nb in which one number that the prose quotes is changed in the one output that printed it."""
    cells = nb["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for number, _ in prose_numbers("".join(cell["source"])):
            if not re.fullmatch(r"\d+\.\d{3}", number):
                continue
            code = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
            hits = [(j, k) for j, c in enumerate(cells[:i]) if c["cell_type"] == "code"
                    for k, o in enumerate(c.get("outputs", [])) if number in "".join(o.get("text", ""))]
            if len(hits) == 1 and number not in code:
                bad = copy.deepcopy(nb)
                j, k = hits[0]
                out = bad["cells"][j]["outputs"][k]
                stale = f"{float(number) + 0.001:.3f}"
                out["text"] = "".join(out["text"]).replace(number, stale)
                return bad, i, number
    return None


def test_a_planted_stale_number_fails():
    """Change one printed number that the prose quotes: the check must name the chapter, the cell and the number."""
    for path in NOTEBOOKS:
        planted = _planted(_load(path))
        if planted is None:
            continue
        bad, cell, number = planted
        findings = check_notebook(bad, path.name, ALLOWED[_chapter(path)])
        assert any(f.cell == cell and f.number == number for f in findings), findings
        assert f"{path.name} cell {cell}: '{number}'" in str(findings[0]) or any(
            f"cell {cell}: '{number}'" in str(f) for f in findings)
        return
    pytest.fail("no chapter quotes a printed three-decimal number: the planted-number test has nothing to plant")


def _nb(markdown: list[str], outputs: list[str], code: str = "") -> dict:
    cells = []
    for text in outputs:
        cells.append({"cell_type": "code", "source": code, "metadata": {},
                      "outputs": [{"output_type": "stream", "name": "stdout", "text": text}]})
    cells += [{"cell_type": "markdown", "source": m, "metadata": {}} for m in markdown]
    return {"cells": cells}


@pytest.mark.parametrize("prose, printed, found", [
    ("ACC 是 0.824。", "ACC 0.824\n", True),
    ("ACC 是 0.82。", "ACC 0.824\n", False),           # at the precision written: 0.82 is not 0.824
    ("ACC 約0.824，", "ACC 0.824\n", True),             # a number right after a CJK character is still read
    ("忘了 82%。", "forgetting 0.82\n", True),           # a percentage may be printed as a fraction
    ("忘了 0.82。", "forgetting 82.0%\n", True),
    ("共 409,136 個參數", "409136 parameters\n", True),  # thousands separators do not matter
    ("共 5000 張", "5,000 images\n", True),
    ("FWT 是 -0.030", "FWT -0.031\n", False),
    ("lambda 1e4 時", "", True),                        # not a checked number
    ("2018 年的論文", "", True),                         # a year
    ("見 [arXiv:1809.10635](https://arxiv.org/abs/1809.10635)", "", True),
])
def test_what_counts_as_shown(prose, printed, found):
    findings = check_notebook(_nb([prose], [printed]), "x")
    assert (not findings) == found, findings


def test_a_number_printed_below_the_prose_does_not_count():
    nb = _nb(["ACC 是 0.824。"], [])
    nb["cells"].append({"cell_type": "code", "source": "", "metadata": {},
                        "outputs": [{"output_type": "stream", "name": "stdout", "text": "ACC 0.824"}]})
    assert [f.number for f in check_notebook(nb, "x")] == ["0.824"]


def test_settings_in_the_code_count():
    assert not check_notebook(_nb(["每個任務 5,000 張圖"], [""], code="train_size = 5000"), "x")


def test_the_header_run_time_is_the_saved_run_time():
    nb = _nb(["⏱️ 執行時間（full mode，實測）：2-core CPU 約 30 秒。"], ["x"])
    nb["cells"][0]["metadata"]["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00.000Z",
                                              "shell.execute_reply": "2026-01-01T00:00:31.500Z"}
    assert wall_seconds(nb) == 31.5 and not check_notebook(nb, "x")
    nb["cells"][0]["metadata"]["execution"]["shell.execute_reply"] = "2026-01-01T00:01:30.000Z"
    assert [f.number for f in check_notebook(nb, "x")] == ["30"]
