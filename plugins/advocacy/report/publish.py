"""Writing to the publish location through fsspec (a local path or any fsspec URL).

Layout under the publish root::

    index.html            every published report, newest first, with its validation status
    reports.json          the manifest index.html is rendered from
    2026-11-22/index.html the report
    2026-11-22/kpi_*.csv  one CSV per KPI mart
"""

from __future__ import annotations

import json
import logging

import fsspec
from fsspec.implementations.local import LocalFileSystem

log = logging.getLogger(__name__)

MANIFEST = "reports.json"


class Publisher:
    def __init__(self, root: str):
        self.given = str(root).rstrip("/")
        self.fs, path = fsspec.core.url_to_fs(root)
        self.root = path.rstrip("/") or "/"
        self.local = isinstance(self.fs, LocalFileSystem)

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def url(self, *parts: str) -> str:
        """What to show a human: a plain path locally, else the URL in the form it was configured."""
        if self.local:
            return self.path(*parts)
        return "/".join([self.given, *parts])

    def write(self, relative: str, data: bytes | str) -> None:
        path = self.path(relative)
        parent = path.rsplit("/", 1)[0]
        if parent:
            self.fs.makedirs(parent, exist_ok=True)
        payload = data.encode("utf-8") if isinstance(data, str) else data
        with self.fs.open(path, "wb") as f:
            f.write(payload)

    def read_manifest(self) -> list[dict]:
        path = self.path(MANIFEST)
        if not self.fs.exists(path):
            return []
        with self.fs.open(path, "rb") as f:
            try:
                return list(json.loads(f.read().decode("utf-8")).get("reports", []))
            except (ValueError, AttributeError):
                log.warning("%s is not a valid manifest; starting a new one", self.url(MANIFEST))
                return []

    def record(self, entry: dict) -> list[dict]:
        """Add or replace the entry for its as-of date; returns the manifest newest first."""
        reports = [r for r in self.read_manifest() if r.get("as_of") != entry["as_of"]]
        reports.append(entry)
        reports.sort(key=lambda r: (r.get("as_of", ""), r.get("generated_at", "")), reverse=True)
        self.write(MANIFEST, json.dumps({"reports": reports}, indent=2) + "\n")
        return reports
