"""A few W3C WebDriver calls to Debian's chromedriver over plain HTTP (no selenium dependency):
enough to fill a login form, click, and read what the page shows."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import requests

CHROMIUM = os.environ.get("ADVOCACY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ADVOCACY_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    def __init__(self, profile: str):
        self.port = free_port()
        self.proc = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{self.base}/status", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"binary": CHROMIUM, "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--window-size=1400,1000", f"--user-data-dir={profile}"]}}}}  # fmt: skip
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method: str, path: str, body: dict | None = None):
        resp = requests.request(method, f"{self.base}{path}", json=body, timeout=120)
        value = resp.json().get("value")
        if resp.status_code >= 400:
            raise RuntimeError(f"webdriver {method} {path}: {value}")
        return value

    def _s(self, path: str) -> str:
        return f"/session/{self.session}{path}"

    def get(self, url: str) -> None:
        self._call("POST", self._s("/url"), {"url": url})

    @property
    def url(self) -> str:
        return self._call("GET", self._s("/url"))

    def text(self) -> str:
        return self._call(
            "POST", self._s("/execute/sync"), {"script": "return document.body.innerText", "args": []}
        )

    def find(self, css: str) -> str | None:
        found = self._call("POST", self._s("/elements"), {"using": "css selector", "value": css})
        return found[0][ELEMENT] if found else None

    def wait_for(self, css: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while (el := self.find(css)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{css} did not appear on {self.url}: {self.text()[:500]}")
            time.sleep(0.5)
        return el

    def wait_for_text(self, *texts: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while not all(t in (body := self.text()) for t in texts):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{texts} not all on {self.url}: {body[:1500]}")
            time.sleep(0.5)
        return body

    def type(self, element: str, text: str) -> None:
        self._call("POST", self._s(f"/element/{element}/value"), {"text": text})

    def click(self, element: str) -> None:
        self._call("POST", self._s(f"/element/{element}/click"), {})

    def screenshot(self, path) -> None:
        import base64

        with open(path, "wb") as f:
            f.write(base64.b64decode(self._call("GET", self._s("/screenshot"))))

    def close(self) -> None:
        try:
            self._call("DELETE", self._s(""))
        finally:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
