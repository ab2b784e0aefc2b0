"""Numbers in a chapter's prose that the run does not show: the reference check behind tests/test_prose.py.

A number written in a Markdown cell (a decimal such as 0.824, a percentage such as 84% or 19.7 %, a count with
thousands separators such as 409,136, a count of four or more digits such as 5000, or a time such as 29 s / 29 秒)
must appear, at the precision written, in a text output of a code cell ABOVE that Markdown cell, or anywhere in
the chapter's code (a setting such as `train_size=5000` or `lam=5000`). "At the precision written" means as a
whole number token: the prose's 0.82 is not found in a printed 0.823, nor 5 in 0.5. A decimal may also be
found as a percentage (0.82 as 82% or 82.0%) and a percentage as a decimal (82% as 0.82), since the course
prints both. Thousands separators are ignored on both sides (5,000 = 5000). The one exception is the
chapter's measured run time in its header ("⏱️ 執行時間 ... 約 29 秒"), which no cell can print above itself: it
is compared with the saved run's own wall time from nbclient's timestamps.

Not results, so never checked: years (1900-2099 written alone), section and exercise numbers in headings or after
練習/習題/exercise/§/第...章, arXiv identifiers, numbers inside link targets, inline HTML and fenced code blocks. Everything else that is not a result (a figure from a
cited paper, a threshold of the homework) goes into the per-chapter allow-list in tests/test_prose.py, with a
reason.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.])(?:"
    r"(?P<count>\d{1,3}(?:,\d{3})+(?:\.\d+)?)"          # 409,136 or 1,100.5
    r"|(?P<dec>\d+\.\d+)"                                  # 0.824, 19.7
    r"|(?P<int>\d+)"                                       # 5000, 29 (kept only with % / seconds / 4+ digits)
    r")(?![A-Za-z0-9_.]*\d)(?![A-Za-z_])(?P<unit>\s?(?:%|％|s\b|秒|sec\b|seconds\b|min\b|分鐘))?"
)
_LINK_TARGET = re.compile(r"\]\([^)]*\)|<[^>]+>|https?://\S+|arXiv:\s?\d{4}\.\d{4,5}")
_SECTION = re.compile(
    r"^\s*#+\s*\d+(?:\.\d+)*[a-z]?|(?:練習|習題|[Ee]xercise|§|節|Section|section|章節)\s*\d+(?:\.\d+)*[a-z]?"
    r"|第\s*\d+(?:\.\d+)*\s*[章節]|[Cc]hapters?\s*\d+(?:\.\d+)?(?:\s*(?:-|–|and|to)\s*\d+)?"
    r"|\d+\.\d+\s*節|(?:章|chapter)\s*\d+")
TIME_LINE = re.compile(r"執行時間.*(?:秒|\bs\b)")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_THOUSANDS = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+)(?![\d])")
_TOKEN_END = r"(?![\d])(?!\.\d)"


@dataclass(frozen=True)
class Finding:
    """One number in the prose that no output above it and no code of the chapter shows."""

    notebook: str
    cell: int
    number: str
    line: str

    def __str__(self) -> str:
        return f"{self.notebook} cell {self.cell}: {self.number!r} is in no output above it nor in the code: {self.line}"


def _plain(text: str) -> str:
    return _THOUSANDS.sub(lambda m: m.group(1).replace(",", ""), text)


def prose_numbers(markdown: str) -> list[tuple[str, str]]:
    """(number as written without its unit, the line) for every checkable number of a Markdown source."""
    found, fence = [], False
    for raw in markdown.splitlines():
        if raw.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        if fence:  # code shown in the prose is code, not a result
            continue
        line = _LINK_TARGET.sub(" ", raw)
        line = _SECTION.sub(" ", line)
        for m in _NUMBER.finditer(line):
            unit = (m.group("unit") or "").strip()
            if m.group("int") is not None:
                n = m.group("int")
                if _YEAR.match(n) and not unit:
                    continue
                if not unit and len(n) < 4:
                    continue
            else:
                n = m.group("count") or m.group("dec")
            found.append((n, raw.strip()))
    return found


def variants(number: str) -> set[str]:
    """The ways an output may print a number written so in the prose (thousands separators already dropped)."""
    plain = number.replace(",", "")
    out = {plain}
    if re.fullmatch(r"\d+\.\d+", plain):
        digits = len(plain.split(".")[1])
        out.add(f"{float(plain) * 100:.{max(digits - 2, 0)}f}%")     # 0.82 -> 82%
        out.add(f"{float(plain) * 100:.{max(digits - 1, 1)}f}%")     # 0.82 -> 82.0%
    # a percentage may be printed as a fraction: 82 -> 0.82, 19.7 -> 0.197
    if re.fullmatch(r"\d+(\.\d+)?", plain):
        digits = len(plain.split(".")[1]) if "." in plain else 0
        out.add(f"{float(plain) / 100:.{digits + 2}f}")
    return out


def _present(number: str, text: str) -> bool:
    for v in variants(number):
        if v.endswith("%"):
            pattern = r"(?<![\d.])" + re.escape(v[:-1]) + r"\s?%"
        else:
            pattern = r"(?<![\d.])" + re.escape(v) + _TOKEN_END
        if re.search(pattern, text):
            return True
    return False


def _texts(outputs: list[dict]) -> str:
    parts = []
    for o in outputs:
        if "text" in o:
            parts.append("".join(o["text"]))
        for k in ("text/plain", "text/html", "text/markdown", "text/latex"):
            if k in o.get("data", {}):
                parts.append("".join(o["data"][k]))
        if o.get("output_type") == "error":
            parts.append(o.get("evalue", ""))
    return "\n".join(parts)


def wall_seconds(nb: dict) -> float | None:
    """Seconds from the first code cell's start to the last one's reply in the saved run (nbclient's timestamps)."""
    stamps = [c["metadata"]["execution"] for c in nb["cells"]
              if c["cell_type"] == "code" and "execution" in c.get("metadata", {})]
    if not stamps:
        return None
    start = datetime.fromisoformat(stamps[0]["iopub.execute_input"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(stamps[-1]["shell.execute_reply"].replace("Z", "+00:00"))
    return (end - start).total_seconds()


def _matches_run_time(number: str, line: str, wall: float | None) -> bool:
    # A chapter's "⏱️ 執行時間 ... 約 N 秒" is the saved run's own wall time (the outputs cannot print it above
    # the first cell): it must agree with nbclient's timestamps within a quarter or 5 s.
    if wall is None or not TIME_LINE.search(line) or not re.fullmatch(r"\d+(\.\d+)?", number):
        return False
    return abs(float(number) - wall) <= max(5.0, 0.25 * wall)


def check_notebook(nb: dict, name: str, allowed: dict[str, str] | None = None) -> list[Finding]:
    """Every number in the Markdown of `nb` that no output above it, no code of it and no allow-list entry shows."""
    allowed = allowed or {}
    cells = nb["cells"]
    wall = wall_seconds(nb)
    code = _plain("\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code"))
    seen, findings = "", []
    for i, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code":
            seen += "\n" + _plain(_texts(cell.get("outputs", [])))
            continue
        if cell["cell_type"] != "markdown" or "nav" in cell.get("metadata", {}).get("tags", []):
            continue
        for number, line in prose_numbers(source):
            plain = number.replace(",", "")
            if number in allowed or plain in allowed:
                continue
            if _present(plain, seen) or _present(plain, code) or _matches_run_time(plain, line, wall):
                continue
            findings.append(Finding(name, i, number, line[:100]))
    return findings


def check_file(path: Path, allowed: dict[str, str] | None = None) -> list[Finding]:
    """check_notebook on a saved notebook file."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return check_notebook(nb, str(path), allowed)
