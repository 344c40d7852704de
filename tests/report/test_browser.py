"""The published report in a real headless browser (Debian's chromium).

The page must render with no console message at all (it has no script; any
message is a failed load, a blocked resource or a parse problem), every
``<svg class="chart">`` must draw at least one mark, and screenshots (the
first 1280x3000 px, and the whole page at 1280x7000) are kept in
``test-output/`` at the repository root (git-ignored) for a reviewer.

Skipped, with the reason, where ``/usr/bin/chromium`` is missing (the
project's setup installs it; ``$ADVOCACY_TEST_CHROMIUM`` points elsewhere).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from advocacy.report import build_report
from advocacy.settings import load_settings
from report_data import create_marts

REPO = Path(__file__).resolve().parents[2]
OUTPUT = REPO / "test-output"
CHROMIUM = os.environ.get("ADVOCACY_TEST_CHROMIUM", "/usr/bin/chromium")
AS_OF = dt.date(2026, 4, 30)
TIMEOUT = 90  # seconds per browser run; a cold start takes about 2 s

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)),
    reason=f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium; the project's "
    "setup does) or set ADVOCACY_TEST_CHROMIUM to a chromium binary",
)

MARKS = {"path", "rect", "circle", "line", "polyline", "polygon"}
DRAWN = {"path", "rect", "circle"}  # what a chart draws its data with


def chromium(url: str, *extra: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """One headless chromium run on ``url`` with a throwaway profile; stderr carries the console."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *extra,
        url,
    ]
    # its own process group, so a hung browser and its helpers are ended together (ours only)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"chromium did not finish within {TIMEOUT} s: {' '.join(cmd)}")
    return subprocess.CompletedProcess(
        cmd, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
    )


def console_messages(stderr: str) -> list[str]:
    """The page's console output as chromium logs it (``...:CONSOLE(1)] "text", source: ...``)."""
    return [line for line in stderr.splitlines() if re.search(r":CONSOLE[:(]", line)]


class ChartMarks(HTMLParser):
    """For each ``<svg class="chart">``: its title and the count of each drawing element in it."""

    def __init__(self):
        super().__init__()
        self.charts: list[dict] = []
        self._depth = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg" and "chart" in (attrs.get("class") or "").split():
            self.charts.append({"title": "", "marks": {}})
            self._depth = 1
            return
        if self._depth:
            if tag == "svg":
                self._depth += 1
            if tag in MARKS:
                marks = self.charts[-1]["marks"]
                marks[tag] = marks.get(tag, 0) + 1
            self._in_title = tag == "title" and not self.charts[-1]["title"]

    def handle_endtag(self, tag):
        if self._depth and tag == "svg":
            self._depth -= 1
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title and self._depth:
            self.charts[-1]["title"] += data


@pytest.fixture
def report(warehouse, tmp_path) -> Path:
    path = tmp_path / "programme.yml"
    path.write_text(
        "programme:\n  name: Acme Robots advocacy\n  start_date: 2025-11-01\n"
        "inputs:\n  roster: roster.csv\n  publish: published\n"
        "platforms:\n  x: {}\n  linkedin: {}\n"
    )
    create_marts(warehouse)
    index = build_report(
        warehouse, load_settings(path), as_of=AS_OF, validation={"success": True, "run_id": "browser-test"}
    )
    return Path(index)


def test_the_console_check_sees_a_console_error(tmp_path):
    """The harness itself: a page that logs an error is caught (so 'no messages' means something)."""
    page = tmp_path / "noisy.html"
    page.write_text("<!doctype html><title>t</title><script>console.error('boom-7f3')</script>")
    run = chromium(page.as_uri(), "--dump-dom", tmp_path=tmp_path)
    assert any("boom-7f3" in m for m in console_messages(run.stderr)), run.stderr[-2000:]


def test_report_renders_in_chromium_without_errors_and_every_chart_draws(report, tmp_path):
    url = report.as_uri()

    dom = chromium(url, "--dump-dom", tmp_path=tmp_path)
    assert dom.returncode == 0, dom.stderr[-3000:]
    assert console_messages(dom.stderr) == [], "console messages while rendering the report"
    assert "Scorecard — Apr 2026" in dom.stdout  # the browser parsed and kept the whole page
    assert "</footer>" in dom.stdout

    parser = ChartMarks()
    parser.feed(dom.stdout)
    charts = parser.charts
    assert len(charts) >= 11, [c["title"] for c in charts]  # 7 trends + benchmarks, reach, uplift, referrals
    blank = [c["title"] for c in charts if not any(c["marks"].get(t) for t in DRAWN)]
    assert blank == [], f"charts with no path / rect / circle: {blank}"

    OUTPUT.mkdir(exist_ok=True)
    screenshot = OUTPUT / "report-2026-04-30.png"
    screenshot.unlink(missing_ok=True)
    shot = chromium(url, f"--screenshot={screenshot}", "--window-size=1280,3000", tmp_path=tmp_path)
    assert shot.returncode == 0, shot.stderr[-3000:]
    assert console_messages(shot.stderr) == []
    assert screenshot.is_file() and screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank canvas
    # the lower sections (referrals, earned media, freshness) lie below 3000 px: one tall shot too
    full = OUTPUT / "report-2026-04-30-full.png"
    tall = chromium(url, f"--screenshot={full}", "--window-size=1280,7000", tmp_path=tmp_path)
    assert tall.returncode == 0 and full.is_file(), tall.stderr[-3000:]
    # the page itself beside the screenshots, so a reviewer can open it too
    shutil.copytree(report.parent, OUTPUT / "report-2026-04-30", dirs_exist_ok=True)
