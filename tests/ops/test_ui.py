"""``advocacy ui`` serves Airflow's UI on the home the runs used: a real headless Chromium
(Debian's chromium + chromedriver) logs in with the printed login and sees the DAG and its last
run's task states (the failing night of ``conftest.failing_night``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from ops.webdriver import CHROMEDRIVER, CHROMIUM, Browser, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
        reason=f"{CHROMIUM} or {CHROMEDRIVER} missing: apt-get install chromium chromium-driver",
    ),
]


@pytest.fixture(scope="module")
def ui(failing_night):
    port = free_port()
    exe = Path(sys.executable).with_name("advocacy")
    proc = subprocess.Popen([str(exe), "ui", "--port", str(port)], env=failing_night["env"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    url, deadline = f"http://localhost:{port}", time.monotonic() + 600
    while True:
        assert proc.poll() is None, "".join(lines[-40:])
        assert time.monotonic() < deadline, "".join(lines[-40:])
        try:
            if requests.get(f"{url}/api/v2/monitor/health", timeout=5).ok:
                break
        except requests.ConnectionError:
            pass
        time.sleep(2)
    (printed,) = [line for line in lines if line.startswith("Airflow UI:")]
    login = re.search(r"login: (\S+) / (\S+);", printed)
    assert url in printed
    yield {"url": url, "user": login.group(1), "password": login.group(2)}
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0


def test_the_ui_shows_the_dag_and_its_last_runs_task_states(ui, failing_night, tmp_path):
    browser = Browser(str(tmp_path / "profile"))
    try:
        browser.get(ui["url"] + "/")
        browser.type(browser.wait_for("input[name=username]"), ui["user"])
        browser.type(browser.find("input[name=password]"), ui["password"])
        browser.click(browser.find("button[type=submit]"))
        browser.wait_for_text("Dags")
        assert "/auth/login" not in browser.url

        browser.get(f"{ui['url']}/dags/advocacy_nightly")
        page = browser.wait_for_text("advocacy_nightly", "extract_files", "publish_report")
        assert "0 3 * * *" in page  # the DAG's schedule

        run_id = failing_night["run_id"]
        browser.get(f"{ui['url']}/dags/advocacy_nightly/runs/{run_id}")
        page = browser.wait_for_text(run_id, "extract_files", "sources_complete")
        browser.screenshot(tmp_path / "run.png")
        states = failing_night["states"]
        assert states["extract_files"] == "failed" and states["prepare_warehouse"] == "success"
        for state in {s.replace("_", " ") for s in states.values()}:
            assert re.search(state, page, re.IGNORECASE), f"state {state!r} not shown: {page[:2000]}"
    finally:
        browser.close()
