"""The HTML report as a person sees it: rendered by headless Chromium, offline.

The report comes from the hostile fixture mailbox of tests/unit/test_report_html.py. Chromium's
own parse of the page (``--dump-dom``, after any script would have run) must hold only our tags
with the payloads as text, and its screenshot must show a laid-out page: text, the key-number
cards and charts in their palette colours, not a blank or unstyled page.

Without Chromium the tests are skipped with the reason, except under ``CI=true``, where a
missing Chromium is a failure (``scripts/install-system-deps.sh`` installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from intel.config import ReportSettings
from intel.reports.html import build_report
from intel.store.publish import open_snapshot
from tests.report_pages import page_problems, parse_page
from tests.unit.test_report_html import EVIL_ADDRESS, IMG, SCRIPT, hostile_snapshot

WIDTH = 1280
HEIGHT = 2400
# Chromium as root in a sandbox with no network: no setuid sandbox, no GPU, nothing fetched.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    reason = "needs Chromium (Debian package chromium): run scripts/install-system-deps.sh"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    con = open_snapshot(hostile_snapshot(root))
    try:
        return build_report(con, ReportSettings(timezone="Europe/London", top=20), root / "out").html
    finally:
        con.close()


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_the_browser_parses_only_our_markup_with_payloads_as_text(page: Path, tmp_path: Path) -> None:
    dom = _run(["--dump-dom", page.as_uri()], tmp_path / "profile").stdout
    tags = {tag for tag, _ in parse_page(dom).tags}
    assert "table" in tags and "svg" in tags
    problems, shown = page_problems(dom)
    assert problems == []
    for payload in (SCRIPT, IMG, EVIL_ADDRESS):
        assert payload in shown, payload


def test_the_screenshot_shows_a_laid_out_report(page: Path, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    _run([f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={png}", page.as_uri()], tmp_path / "profile")
    with Image.open(png) as shot:
        image = shot.convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    pixels = Counter(image.get_flattened_data())
    total = WIDTH * HEIGHT
    background, share = pixels.most_common(1)[0]
    assert background == (255, 255, 255) and share < 0.95 * total  # a white page with things on it
    # Text: dark pixels in a few per cent of the page, with anti-aliasing shades around them.
    dark = sum(n for (r, g, b), n in pixels.items() if r + g + b < 200)
    assert 0.002 * total < dark < 0.3 * total, dark / total
    assert len(pixels) > 200
    # The style sheet applied: the soft grey of the key-number cards and table heads.
    assert pixels[_hex("#f5f7fa")] > 0.01 * total
    # The charts are drawn: the inbound blue and the outbound orange, each over a visible area.
    for colour in ("#0072B2", "#E69F00"):
        assert pixels[_hex(colour)] > 500, colour
    # Content runs down the page: the lower half is not empty.
    lower = Counter(image.crop((0, HEIGHT // 2, WIDTH, HEIGHT)).get_flattened_data())
    assert lower[(255, 255, 255)] < 0.97 * (WIDTH * HEIGHT // 2)
