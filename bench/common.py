"""Shared helpers for the benchmarks: machine info, timing, memory, tables, RESULTS.md sections.

Every benchmark writes only its own ``## <title>`` section of ``bench/RESULTS.md`` through
`write_section`, which replaces that section (or appends it) and refreshes the header with
the machine info; other sections are kept byte for byte. Writers take a lock, so two
benchmarks finishing at the same time do not lose each other's section.
"""

from __future__ import annotations

import fcntl
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "BENCH_DIR",
    "RESULTS_PATH",
    "WORK_DIR",
    "ChildRun",
    "Timing",
    "machine_info",
    "machine_line",
    "markdown_table",
    "run_child",
    "text_table",
    "time_runs",
    "utc_now",
    "write_section",
]

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / ".work"  # git-ignored: generated mailboxes, databases, locks
RESULTS_PATH = BENCH_DIR / "RESULTS.md"

_HEADER_TITLE = "# Benchmark results"
_HEADER_NOTE = (
    "Written by the benchmarks in `bench/` (`make bench` runs them all; see bench/README.md). "
    "Each `##` section belongs to one benchmark and is replaced only by it."
)
_FENCE = re.compile(r"^\s*(```|~~~)")


# --- machine ---------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def machine_info() -> dict[str, str]:
    """What the numbers were measured on: CPU, usable cores, memory, OS, Python, DuckDB."""
    try:
        import duckdb

        duckdb_version = str(duckdb.__version__)
    except ImportError:
        duckdb_version = "not installed"
    return {
        "cpu": _cpu_model(),
        "cores": str(_cores()),
        "memory": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "duckdb": duckdb_version,
    }


def machine_line(info: dict[str, str] | None = None) -> str:
    info = info or machine_info()
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['memory']} RAM, {info['os']}, "
        f"Python {info['python']}, DuckDB {info['duckdb']}"
    )


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- timing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of repeated runs over the same `count` items."""

    seconds: list[float]
    count: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rate(self) -> float:
        """Items per second at the median time."""
        return self.count / self.median if self.median > 0 else float("inf")

    @property
    def spread(self) -> str:
        """Min-max of the per-run rates, for judging noise."""
        rates = sorted(self.count / s for s in self.seconds if s > 0)
        return f"{rates[0]:,.0f}-{rates[-1]:,.0f}" if rates else "-"


def time_runs(body: Callable[[], int], repeat: int, setup: Callable[[], None] | None = None) -> Timing:
    """Run `body` `repeat` times (after `setup`, which is not timed); `body` returns the item count."""
    seconds: list[float] = []
    count = 0
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        count = body()
        seconds.append(time.perf_counter() - start)
    return Timing(seconds, count)


# --- memory of a child process tree ------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _tree_rss(root: int) -> int:
    children = _children_map()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_bytes(pid)
        stack.extend(children.get(pid, ()))
    return total


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: its output, max RSS and the peak RSS summed over its process tree."""

    stdout: str
    max_rss_bytes: int  # from wait4: the largest single process among the child and what it reaped
    peak_tree_rss_bytes: int  # sampled from /proc: child + all its descendants (parse workers, ...)
    seconds: float


def run_child(argv: Sequence[str], sample_interval: float = 0.05, env: dict[str, str] | None = None) -> ChildRun:
    """Run `argv` to completion, sampling the RSS of its whole process tree.

    Raises:
        subprocess.CalledProcessError: the child failed (its stderr is passed through).
    """
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, text=True, env=env)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            if Path("/proc").is_dir():
                peak = max(peak, _tree_rss(proc.pid))
            done.wait(sample_interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stdout is not None
    stdout = proc.stdout.read()  # the child writes little; reading to EOF cannot deadlock
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, list(argv), stdout)
    # ru_maxrss is in KiB on Linux.
    return ChildRun(stdout, usage.ru_maxrss * 1024, peak, seconds)


# --- tables ----------------------------------------------------------------------------------


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain aligned table for the terminal (first column left, others right)."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(cells)
        ).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    align = ["---"] + ["---:"] * (len(headers) - 1)
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    out.extend("| " + " | ".join(str(c) for c in row) + " |" for row in rows)
    return "\n".join(out)


# --- RESULTS.md --------------------------------------------------------------------------------


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    lock_path = WORK_DIR / f"{path.name}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _split_sections(text: str) -> tuple[str, list[tuple[str, str]]]:
    """(text before the first ``## `` heading, [(title, section text including its heading)])."""
    preamble: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    in_fence = False
    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            in_fence = not in_fence
        if not in_fence and line.startswith("## "):
            sections.append((line[3:].strip(), [line]))
        elif sections:
            sections[-1][1].append(line)
        else:
            preamble.append(line)
    return "".join(preamble), [(title, "".join(lines)) for title, lines in sections]


def _header(info: dict[str, str]) -> str:
    return f"{_HEADER_TITLE}\n\n{_HEADER_NOTE}\n\nLast written {utc_now()} on: {machine_line(info)}.\n\n"


def write_section(title: str, markdown: str, path: Path = RESULTS_PATH) -> Path:
    """Replace the ``## {title}`` section of `path` with `markdown` (append it if absent).

    The header (title + machine info) is rewritten; every other section is kept as it is and
    in its place. `markdown` is the section body, without its ``##`` heading.
    """
    title = title.removeprefix("## ").strip()
    body = markdown.strip("\n")
    new_section = f"## {title}\n\n{body}\n\n"
    with _locked(path):
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        _, sections = _split_sections(old)
        replaced = False
        parts: list[str] = []
        for existing_title, text in sections:
            if existing_title == title:
                if not replaced:
                    parts.append(new_section)
                replaced = True
            else:
                parts.append(text if text.endswith("\n\n") else text.rstrip("\n") + "\n\n")
        if not replaced:
            parts.append(new_section)
        content = (_header(machine_info()) + "".join(parts)).rstrip("\n") + "\n"
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(content, encoding="utf-8")
        os.replace(tmp, path)
    return path


if __name__ == "__main__":  # `python bench/common.py`: show what the header would say
    print(machine_line(), file=sys.stdout)
