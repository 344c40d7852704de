"""A minimal W3C WebDriver client for Debian's chromedriver (plain HTTP, no selenium).

Enough for the report's browser test: start chromedriver on a free local port,
open a headless Chromium session (a desktop window or a phone through Chrome's
mobile emulation), navigate, run a script, take a full-page screenshot, read
the browser console, quit. Every process started here is ended by its own id.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

CHROMEDRIVER = os.environ.get("ADVOCACY_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM = os.environ.get("ADVOCACY_TEST_CHROMIUM", "/usr/bin/chromium")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


class WebDriverError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromeDriver:
    """One chromedriver process; ``session(...)`` opens browsers on it."""

    def __init__(self, log: Path):
        self.port = _free_port()
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [CHROMEDRIVER, f"--port={self.port}", "--allowed-ips=127.0.0.1"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/status")["value"].get("ready"):
                    return
            except (OSError, WebDriverError):
                pass
            time.sleep(0.2)
        self.close()
        raise WebDriverError(f"chromedriver did not start on port {self.port} (log: {log})")

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 120) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - localhost only
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise WebDriverError(f"{method} {path}: {e.code} {e.read()[:2000]!r}") from e

    def session(self, profile: Path, *, width: int, height: int, phone: bool = False) -> Session:
        options: dict = {"binary": CHROMIUM, "args": [*FLAGS, f"--user-data-dir={profile}"]}
        if phone:
            options["mobileEmulation"] = {
                "deviceMetrics": {
                    "width": width,
                    "height": height,
                    "pixelRatio": 1,
                    "touch": True,
                    "mobile": True,
                }
            }
        else:
            options["args"].append(f"--window-size={width},{height}")
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": options,
                    "goog:loggingPrefs": {"browser": "ALL"},
                }
            }
        }
        value = self.request("POST", "/session", caps)["value"]
        return Session(self, value["sessionId"])

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


class Session:
    def __init__(self, driver: ChromeDriver, session_id: str):
        self.driver = driver
        self.id = session_id

    def _call(self, method: str, path: str, body: dict | None = None):
        return self.driver.request(method, f"/session/{self.id}{path}", body)["value"]

    def get(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    def script(self, source: str, *args):
        return self._call("POST", "/execute/sync", {"script": source, "args": list(args)})

    def console(self) -> list[dict]:
        """Browser console entries since the last call (chromedriver's log endpoint)."""
        return self._call("POST", "/se/log", {"type": "browser"})

    def screenshot(self, path: Path, *, max_height: int | None = None, top: int = 0) -> None:
        """PNG of the page from ``top``: to its end, or at most ``max_height`` px (DevTools)."""
        width, height = self.script(
            "return [document.documentElement.clientWidth, document.documentElement.scrollHeight]"
        )
        height -= top
        if max_height:
            height = min(height, max_height)
        params = {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": top, "width": width, "height": height, "scale": 1},
        }
        value = self._call("POST", "/goog/cdp/execute", {"cmd": "Page.captureScreenshot", "params": params})
        path.write_bytes(base64.b64decode(value["data"]))

    def quit(self) -> None:
        with contextlib.suppress(OSError, WebDriverError):
            self.driver.request("DELETE", f"/session/{self.id}")
