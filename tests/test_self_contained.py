"""The repository stands alone: nothing in it points outside the checkout, and the
confinement .ci/run switches on really catches a test that reads beside the clone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Built in pieces so this file does not match itself.
OUTSIDE = re.compile("|".join([r"\.\./" + "shared", "/work/" + "shared", "KPI" + "_SPEC"]), re.I)


def test_no_tracked_file_points_outside_the_checkout():
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    if listed.returncode == 0:
        files = listed.stdout.split()
    else:  # a source archive without git metadata: every file but local state
        skip = {".venv", ".advocacy", ".git", "target", "dbt_packages"}
        files = [
            str(p.relative_to(REPO)) for p in REPO.rglob("*") if not skip & set(p.relative_to(REPO).parts)
        ]
    hits = []
    for name in files:
        path = REPO / name
        if not path.is_file() or path.suffix in (".png", ".mo", ".gz", ".parquet", ".xlsx"):
            continue
        for no, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{name}:{no}: {line.strip()[:100]}")
    assert not hits, "\n".join(hits)


def test_confinement_fails_a_test_that_reads_beside_the_clone(tmp_path):
    # a throw-away test module inside the checkout's tests (so conftest.py applies) that opens
    # a file next to the checkout
    beside = REPO.parent.resolve()
    # tests may read the temp folder and the system's folders (conftest._confine), so beside a
    # checkout inside one of them nothing can be refused
    open_roots = [Path(tempfile.gettempdir()).resolve()] + [Path(p) for p in ("/var", "/usr", "/etc", "/run")]
    if any(beside == r or r in beside.parents for r in open_roots):
        pytest.skip(f"the checkout lies in {beside}, where tests may read: clone elsewhere to check this")
    probe = REPO / "tests" / f"test_zz_confine_probe_{os.getpid()}.py"
    probe.write_text(
        "from pathlib import Path\n"
        "def test_reads_a_sibling():\n"
        "    try:\n"
        "        open(Path(__file__).resolve().parents[2] / 'shared-sibling' / 'x.md')\n"
        "    except OSError:\n"
        "        pass\n"
    )
    try:
        env = {**os.environ, "ADVOCACY_CONFINE_TESTS": "1", "ADVOCACY_TEST_HOME": str(tmp_path / "home")}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(probe)],
            cwd=REPO, env=env, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        probe.unlink()
    assert run.returncode != 0, run.stdout
    assert "outside the checkout" in run.stdout and "shared-sibling" in run.stdout
