"""Run every benchmark (``bench/bench_*.py``), each in its own process, in name order.

Usage: ``python bench/run.py [--quick] [-k SUBSTRING]``. ``make bench`` runs it with no
arguments (the full sizes). Each benchmark writes its own section of ``bench/RESULTS.md``
(``--quick`` runs write nothing there). Exits non-zero when any benchmark failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_PATH = BENCH_DIR / "RESULTS.md"


def discover(pattern: str | None = None) -> list[Path]:
    """The benchmark scripts, in name order, optionally only those whose name contains `pattern`."""
    scripts = sorted(BENCH_DIR.glob("bench_*.py"))
    return [s for s in scripts if pattern is None or pattern in s.stem]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every bench/bench_*.py in name order.")
    parser.add_argument("--quick", action="store_true", help="pass --quick: small smoke runs, RESULTS.md untouched")
    parser.add_argument("-k", dest="pattern", help="only benchmarks whose file name contains this")
    args = parser.parse_args(argv)

    scripts = discover(args.pattern)
    if not scripts:
        print(f"no benchmark matches {args.pattern!r} in {BENCH_DIR}", file=sys.stderr)
        return 2
    failed: list[str] = []
    for script in scripts:
        command = [sys.executable, str(script), *(["--quick"] if args.quick else [])]
        print(f"\n=== {script.name}{' --quick' if args.quick else ''} ===", flush=True)
        start = time.perf_counter()
        code = subprocess.run(command, check=False).returncode
        elapsed = time.perf_counter() - start
        status = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"=== {script.name}: {status} in {elapsed:.1f}s ===", flush=True)
        if code != 0:
            failed.append(script.name)

    print()
    if args.quick:
        print("quick runs: results were printed above; bench/RESULTS.md was not changed")
    else:
        print(f"results: {RESULTS_PATH}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
