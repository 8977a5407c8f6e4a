"""The parse workers' boundary matcher (`use_fast_boundaries`) gives the stdlib's results exactly.

It replaces `re` inside `email.feedparser` for the whole process, so the comparison runs in a
child process: every golden and malformed fixture, the demo mailbox and generated multipart
messages with awkward boundaries are parsed before and after switching it on, and every
`ParsedMessage` must be equal.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import random, sys
from datetime import UTC, datetime
from pathlib import Path
from intel.demo import write_demo_maildir
from intel.parse import message as module
from intel.parse.message import parse_message, use_fast_boundaries

fixtures, demo = Path(sys.argv[1]), Path(sys.argv[2])
write_demo_maildir(demo)
raws = [p.read_bytes() for p in sorted(fixtures.rglob("*.eml"))]
raws += [p.read_bytes() for p in sorted(demo.rglob("*harborlight*"))]
rng = random.Random(7)
awkward = ["simple", "a.b+c=d", "(paren)", "with space", "--dashes--", "x" * 70, "?*[]{}$^|\\", "ünïcode", ""]
for n in range(400):
    boundary = rng.choice(awkward) + str(rng.randrange(10**6)) * rng.randrange(2)
    end = rng.choice(["--", "--  ", "", "-- \t"])
    sep = rng.choice(["\n", "\r\n"])
    body = (
        f"MIME-Version: 1.0{sep}Content-Type: multipart/mixed; boundary=\"{boundary}\"{sep}{sep}"
        f"preamble{sep}--{boundary}{sep}Content-Type: text/plain{sep}{sep}part one {n}{sep}"
        f"--{boundary}x not a boundary{sep}--{boundary} {sep}Content-Type: text/html{sep}{sep}<p>two</p>{sep}"
        f"--{boundary}{end}{sep}epilogue{sep}"
    )
    raws.append(body.encode("utf-8", "surrogateescape"))
when = datetime(2026, 1, 1, tzinfo=UTC)
before = [parse_message(r, ingest_time=when) for r in raws]
use_fast_boundaries()
after = [parse_message(r, ingest_time=when) for r in raws]
assert module._TAIL_BY_LENGTH, "the fast matcher was never used"
different = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
print(len(raws), len(different))
sys.exit(1 if different else 0)
"""


def test_fast_boundaries_parse_exactly_like_the_stdlib(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT / "tests" / "fixtures" / "eml"), str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    parsed, different = map(int, result.stdout.split())
    assert parsed > 700 and different == 0
