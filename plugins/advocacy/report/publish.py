"""Writing to the publish location through fsspec (a local path or any fsspec URL).

Layout under the publish root::

    index.html            every published report, newest first, with its validation status
    reports.json          the manifest index.html is rendered from
    2026-11-22/index.html the report
    2026-11-22/kpi_*.csv  one CSV per KPI mart

Every file is written under a temporary name beside its place (``.<name>.tmp-<random>``)
and renamed onto it once complete, so a reader never finds a half-written file: a full
disk, a refused permission or a killed process leaves the previous file as it was. A
report's files are *staged* (``Publisher(root, staged=True)``): they are renamed into
place only when the report is recorded in the manifest (``record``), after all of them
were written; ``index.html`` is rewritten last. A publish that fails or is killed before
that leaves the previous report, the manifest and the index untouched (at most hidden
temporary files stay behind; the next publish of that folder removes them).

Every ``.csv`` is made safe for spreadsheets on the way (``advocacy.safe_csv``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets

import fsspec
from fsspec.implementations.local import LocalFileSystem

from advocacy.safe_csv import safe_csv

log = logging.getLogger(__name__)

MANIFEST = "reports.json"
TMP_MARK = ".tmp-"


class Publisher:
    def __init__(self, root: str, *, staged: bool = False):
        self.given = str(root).rstrip("/")
        self.fs, path = fsspec.core.url_to_fs(root)
        self.root = path.rstrip("/") or "/"
        self.local = isinstance(self.fs, LocalFileSystem)
        # (temporary path, final path) of the files written but not yet renamed into place
        self.staged: list[tuple[str, str]] | None = [] if staged else None

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def url(self, *parts: str) -> str:
        """What to show a human: a plain path locally, else the URL in the form it was configured."""
        if self.local:
            return self.path(*parts)
        return "/".join([self.given, *parts])

    def write(self, relative: str, data: bytes | str) -> None:
        """Write one file atomically (or stage it: see the module docstring)."""
        path = self.path(relative)
        parent, _, name = path.rpartition("/")
        if parent:
            self.fs.makedirs(parent, exist_ok=True)
        if relative.endswith(".csv"):
            payload = safe_csv(data)
        else:
            payload = data.encode("utf-8") if isinstance(data, str) else data
        tmp = f"{parent}/.{name}{TMP_MARK}{secrets.token_hex(4)}"
        try:
            with self.fs.open(tmp, "wb") as f:
                f.write(payload)
                if self.local:
                    f.flush()
                    os.fsync(f.fileno())  # complete on disk before its name is
        except BaseException:
            self._remove(tmp)
            raise
        if self.staged is not None:
            self.staged.append((tmp, path))
        else:
            self._rename(tmp, path)

    def _rename(self, tmp: str, path: str) -> None:
        if self.local:
            os.replace(tmp, path)  # atomic on one file system
        else:
            self.fs.mv(tmp, path)  # object stores: the object appears whole, or not at all

    def _remove(self, tmp: str) -> None:
        with contextlib.suppress(OSError):  # FileNotFoundError included
            self.fs.rm(tmp)

    def commit(self) -> None:
        """Rename every staged file into place, then remove leftovers of earlier killed publishes."""
        if not self.staged:
            return
        staged, self.staged = self.staged, []
        for tmp, path in staged:
            self._rename(tmp, path)
        for folder in sorted({path.rpartition("/")[0] for _, path in staged}):
            try:
                names = self.fs.ls(folder, detail=False)
            except (FileNotFoundError, OSError):
                continue
            for leftover in names:
                if TMP_MARK in leftover.rpartition("/")[2]:
                    self._remove(leftover)

    def discard(self) -> None:
        """Forget the staged files (a publish that failed half-way): nothing replaces anything."""
        staged = self.staged or []
        if self.staged is not None:
            self.staged = []
        for tmp, _ in staged:
            self._remove(tmp)

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
        """Put the staged files in place, then add or replace the entry for its as-of date in the
        manifest; returns the manifest newest first."""
        self.commit()
        self.staged = None  # from here (the manifest, then the index) each file is in place at once
        reports = [r for r in self.read_manifest() if r.get("as_of") != entry["as_of"]]
        reports.append(entry)
        reports.sort(key=lambda r: (r.get("as_of", ""), r.get("generated_at", "")), reverse=True)
        self.write(MANIFEST, json.dumps({"reports": reports}, indent=2) + "\n")
        return reports
