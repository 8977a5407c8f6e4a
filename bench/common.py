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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "BENCH_DIR",
    "RESULTS_PATH",
    "WORK_DIR",
    "ChildRun",
    "Timing",
    "TreeMonitor",
    "load_average",
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
    """Wall-clock and CPU seconds of repeated runs over the same `count` items."""

    seconds: list[float]
    count: int
    cpu_seconds: list[float] = field(default_factory=list)  # whole process tree, workers included

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

    @property
    def cpu_ms_per_item(self) -> float:
        """Median CPU milliseconds per item (NaN when CPU was not measured)."""
        return statistics.median(self.cpu_seconds) * 1000 / self.count if self.cpu_seconds else float("nan")


def time_runs(body: Callable[[], int], repeat: int, setup: Callable[[], None] | None = None) -> Timing:
    """Run `body` `repeat` times (after `setup`, which is not timed); `body` returns the item count.

    CPU time is that of this process and everything it starts, sampled by a `TreeMonitor`.
    """
    seconds: list[float] = []
    cpu: list[float] = []
    count = 0
    for _ in range(repeat):
        if setup is not None:
            setup()
        with TreeMonitor(interval=0.2) as monitor:
            start = time.perf_counter()
            count = body()
            seconds.append(time.perf_counter() - start)
        cpu.append(monitor.cpu_seconds)
    return Timing(seconds, count, cpu)


def load_average() -> str:
    """The 1-minute load average: other work on the machine skews wall-clock rates."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


# --- CPU and memory of a process tree -----------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _children(pid: int) -> list[int]:
    """Direct children of `pid`, from each of its threads' ``children`` file (CONFIG_PROC_CHILDREN)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            found.extend(int(child) for child in Path(f"/proc/{pid}/task/{tid}/children").read_text().split())
        except OSError:
            continue
    return found


def _tree(root: int) -> list[int]:
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(_children(pid))
    return pids


@dataclass
class _Sample:
    cpu_ticks: int  # utime + stime
    rss: int  # bytes, anonymous + file-backed + shared
    anon: int  # bytes, anonymous only (heap, DuckDB buffers): what the process really holds
    hwm: int  # bytes, VmHWM: the process's own peak RSS


def _sample(pid: int) -> _Sample | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    values: dict[str, int] = {}
    for line in status.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "RssAnon", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return _Sample(
        int(fields[11]) + int(fields[12]), values.get("VmRSS", 0), values.get("RssAnon", 0), values.get("VmHWM", 0)
    )


class TreeMonitor:
    """Samples a process and all its descendants (e.g. parse workers) from /proc while it runs.

    Gives the CPU seconds the tree used while monitored (processes that exit between two samples
    lose at most one interval), the peak of the summed RSS (total and anonymous only), and the
    largest per-process peak (VmHWM). Linux only; elsewhere every figure stays 0.
    """

    def __init__(self, root: int | None = None, interval: float = 0.05) -> None:
        self.root = root if root is not None else os.getpid()
        self.interval = interval
        self.peak_rss = 0
        self.peak_anon = 0
        self.root_hwm = 0
        self.max_other_hwm = 0
        self._start_ticks: dict[int, int] = {}
        self._last_ticks: dict[int, int] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._enabled = Path("/proc/self/stat").exists()

    def _tick(self) -> None:
        rss = anon = 0
        for pid in _tree(self.root):
            sample = _sample(pid)
            if sample is None:
                continue
            rss += sample.rss
            anon += sample.anon
            self._last_ticks[pid] = sample.cpu_ticks
            if pid == self.root:
                self.root_hwm = max(self.root_hwm, sample.hwm)
            else:
                self.max_other_hwm = max(self.max_other_hwm, sample.hwm)
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_anon = max(self.peak_anon, anon)

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            self._tick()

    def __enter__(self) -> TreeMonitor:
        if self._enabled:
            self._tick()
            self._start_ticks = dict(self._last_ticks)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._enabled:
            self._done.set()
            self._thread.join()
            self._tick()

    @property
    def cpu_seconds(self) -> float:
        ticks = sum(last - self._start_ticks.get(pid, 0) for pid, last in self._last_ticks.items())
        return ticks / _TICKS


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: its output, and what its process tree used."""

    stdout: str
    seconds: float
    cpu_seconds: float
    peak_rss_bytes: int  # summed over the child and its descendants, sampled
    peak_anon_bytes: int  # the same, anonymous memory only (no page cache of mapped files)
    child_hwm_bytes: int  # the child's own peak RSS (VmHWM)
    max_descendant_hwm_bytes: int  # the largest peak RSS of any descendant (e.g. a parse worker)


def run_child(argv: Sequence[str], sample_interval: float = 0.05) -> ChildRun:
    """Run `argv` to completion while a `TreeMonitor` samples it.

    (Not `ru_maxrss` from wait4 or RUSAGE_CHILDREN: Python starts children with vfork, and
    Linux then reports the parent's peak RSS as the child's when the parent was bigger.)

    Raises:
        subprocess.CalledProcessError: the child failed (its stderr is passed through).
    """
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, text=True)
    with TreeMonitor(proc.pid, sample_interval) as monitor:
        stdout, _ = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, list(argv), stdout)
    return ChildRun(
        stdout,
        seconds,
        monitor.cpu_seconds,
        monitor.peak_rss,
        monitor.peak_anon,
        monitor.root_hwm,
        monitor.max_other_hwm,
    )


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
