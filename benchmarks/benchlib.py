"""What every benchmark section shares: repeated timing, the machine's description, and an atomic write."""
from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch


@dataclass
class Timing:
    """Seconds of each repeat of one measurement, with the value the last repeat returned."""

    seconds: list[float]
    result: Any = field(default=None, repr=False)
    results: list[Any] = field(default_factory=list, repr=False)

    @property
    def best(self) -> float:
        """The fastest repeat: the least disturbed by other work on a shared machine."""
        return min(self.seconds)

    @property
    def median(self) -> float:
        """The median repeat."""
        return statistics.median(self.seconds)

    def text(self, digits: int = 2) -> str:
        """'1.23 s (median 1.30)' or '1.23 s' for one repeat."""
        if len(self.seconds) == 1:
            return f"{self.best:.{digits}f} s"
        return f"{self.best:.{digits}f} s (median {self.median:.{digits}f})"


def sync(device: torch.device | str) -> None:
    """Wait for queued GPU work, so that a clock reading covers it."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[int], Any], repeats: int, device: torch.device | str = "cpu") -> Timing:
    """Call fn(repeat_index) `repeats` times; the seconds of each call and every result (the last as `.result`)."""
    seconds, results = [], []
    for i in range(repeats):
        sync(device)
        start = time.perf_counter()
        results.append(fn(i))
        sync(device)
        seconds.append(time.perf_counter() - start)
    return Timing(seconds, results[-1], results)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (platform's guess elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(device: torch.device) -> dict[str, str]:
    """The facts a reader needs to compare numbers: CPU, cores, threads, torch, device, load."""
    info = {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "torch threads": str(torch.get_num_threads()),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; a results file is for everyone
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def table(header: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table (a '|' inside a cell is escaped)."""
    def cell(c: Any) -> str:
        return str(c).replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(value: float, target: float, higher_is_better: bool = True) -> str:
    """'met' or 'MISSED' against a target."""
    ok = value >= target if higher_is_better else value <= target
    return "met" if ok else "MISSED"
