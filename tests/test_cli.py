"""The `advocacy` command line, run as a user would (a real subprocess)."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import yaml
from advocacy.settings import DEMO_SETTINGS
from advocacy.utm import parse_utm

EXE = str(Path(sys.executable).with_name("advocacy"))


def _env(tmp_path, roster_rows):
    header = list(roster_rows[0])
    roster = tmp_path / "roster.csv"
    with roster.open("w", newline="") as fh:
        w = csv.DictWriter(fh, header)
        w.writeheader()
        w.writerows(roster_rows)
    settings = yaml.safe_load(DEMO_SETTINGS.read_text())
    settings["inputs"] = {"roster": str(roster)}
    f = tmp_path / "p.yml"
    f.write_text(yaml.safe_dump(settings))
    return {**os.environ, "ADVOCACY_SETTINGS": str(f)}


def test_utm_links_for_one_and_all(tmp_path):
    import datetime as dt

    from advocacy.sandbox.company import Company

    rows = Company(seed=3).roster_rows(dt.date(2026, 6, 1))
    env = _env(tmp_path, rows)
    advocate = next(r for r in rows if r["registered_at"] and r["utm_code"])
    out = subprocess.run(
        [EXE, "utm", "--employee", advocate["employee_id"], "--url", "https://northwind.example/jobs?ref=1",
         "--campaign", "202606-hiring", "--platform", "x"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    utm = parse_utm(out)
    assert utm["utm_content"] == advocate["utm_code"]
    assert (utm["utm_source"], utm["utm_medium"]) == ("x", "employee_advocacy")
    assert utm["utm_campaign"] == "202606-hiring"
    assert "ref=1" in out

    csv_path = tmp_path / "links.csv"
    subprocess.run(
        [EXE, "utm", "--all", "--url", "https://northwind.example/", "--campaign", "c",
         "--out", str(csv_path)],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    links = list(csv.DictReader(csv_path.open()))
    registered = [r for r in rows if r["registered_at"] and r["utm_code"] and not r["left_at"]]
    assert len(links) == len(registered) > 10


def test_unknown_employee_is_a_clear_error(tmp_path):
    import datetime as dt

    from advocacy.sandbox.company import Company

    env = _env(tmp_path, Company(seed=3).roster_rows(dt.date(2026, 6, 1)))
    r = subprocess.run(
        [EXE, "utm", "--employee", "NOPE", "--url", "https://northwind.example/", "--campaign", "c"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 2 and "NOPE" in r.stderr


def test_warehouse_url_masks_the_password(tmp_path):
    env = {**os.environ, "ADVOCACY_WAREHOUSE_URL": "postgresql://bi:hunter2@db.example:5432/dw"}
    run = subprocess.run([EXE, "warehouse", "url"], env=env, capture_output=True, text=True, check=True)
    out = run.stdout
    assert out.strip() == "postgresql://bi:***@db.example:5432/dw"


def test_report_periods():
    import argparse
    import datetime as dt

    from advocacy import cli

    ns = argparse.Namespace(date=None, month="2026-02", start=None, end=None)
    assert cli.report_days(ns) == [dt.date(2026, 2, 28)]
    ns = argparse.Namespace(date=None, month=None, start=dt.date(2025, 11, 1), end=dt.date(2026, 1, 1))
    assert cli.report_days(ns) == [dt.date(2025, 11, 30), dt.date(2025, 12, 31), dt.date(2026, 1, 31)]
