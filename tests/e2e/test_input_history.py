"""Ordinary exports and reruns never rewrite the past (issue 10): real nights through real Airflow,
a real PostgreSQL and dbt, the platforms in the HTTP sandbox.

One programme, night after night, on one warehouse:

1. N1 with a roster whose department has a typo, then N1 rerun with the corrected export
   (a same-day corrected rerun: it replaces that day's roster version);
2. N2: the roster as a Norwegian Excel export (';', BOM, CRLF, dd.mm.yyyy, ja/nei,
   headers in words), one employee with programme posts in March left out, the May #1's
   hire date an impossible day (a bad cell), another consent 'kanskje'; the sessions with
   pandas-style '1.0' conversions;
3. N3: the roster's date_format forgotten (every date unreadable: refused) and the
   sessions' conversions 'n/a' (refused): the platforms still land, the night fails at
   the end naming the refused files;
   The marts are still built, validated and published on the last good inputs.

After each night the closed months' roster-driven KPIs (adoption, participation,
programme posts, referrals) must equal N1's.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import yaml
from advocacy import cli, landing
from advocacy.sandbox.company import ROSTER_COLUMNS
from advocacy.sandbox.server import airflow_connections, running_sandbox
from advocacy.settings import load_settings

from . import harness

# four real nights (~8 min each on a shared 2-core machine) in the module fixture
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(3600)]

N1, N2, N3 = (dt.date(2026, 11, d) for d in (19, 20, 21))
CLOSED_BEFORE = dt.date(2026, 11, 1)
PLATFORMS = ("x", "facebook", "instagram", "linkedin")
ADOPTION_ALL = (
    "select invited, registered, active from marts.kpi_adoption_monthly"
    " where month = %s and department = 'ALL'"
)


def _clock(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(3), dt.UTC)


def q(target, sql, *args):
    with target.connect() as conn:
        return conn.execute(sql, args).fetchall()


def closed_months(target) -> dict[str, list]:
    """The roster-driven KPIs of every closed month (before November), row by row."""
    return {
        "adoption": q(
            target,
            "select month, department, invited, registered, active from marts.kpi_adoption_monthly"
            " where month < %s order by 1, 2",
            CLOSED_BEFORE,
        ),
        "participation": q(
            target,
            "select month, employee_id, status, programme_posts from marts.kpi_participation_monthly"
            " where month < %s order by 1, 2",
            CLOSED_BEFORE,
        ),
        "programme_posts": q(
            target,
            "select platform, post_id, employee_id, is_programme_post, is_community_post"
            " from marts.fct_posts where created_at < %s order by 1, 2",
            CLOSED_BEFORE,
        ),
        "referrals": q(
            target,
            "select month, platform, sessions, conversions from marts.kpi_referrals_monthly"
            " where month < %s order by 1, 2",
            CLOSED_BEFORE,
        ),
    }


def _csv(rows: list[dict], delimiter=",", header=ROSTER_COLUMNS, newline="\n") -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(header), delimiter=delimiter, lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _norwegian(rows: list[dict]) -> bytes:
    """The roster as Excel saves it in a Norwegian locale."""

    def day_first(value: str) -> str:
        return dt.date.fromisoformat(value).strftime("%d.%m.%Y") if len(value) == 10 else value

    out = []
    for r in rows:
        r = {k: (day_first(v) if k.endswith("_at") else v) for k, v in r.items()}
        r["consent_public"] = {"true": "ja", "false": "nei"}.get(r["consent_public"], r["consent_public"])
        out.append({c.replace("_", " ").title(): v for c, v in r.items()})
    header = [c.replace("_", " ").title() for c in ROSTER_COLUMNS]
    return ("\ufeff" + _csv(out, ";", header, "\r\n")).encode("utf-8")


@pytest.fixture(scope="module")
def world(pg_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("history_inputs")
    target = harness.fresh_database(pg_server, "e2e_inputs")
    settings_file = harness.demo_programme(tmp)
    mp = pytest.MonkeyPatch()
    mp.setenv("ADVOCACY_SETTINGS", str(settings_file))
    mp.setenv("ADVOCACY_WAREHOUSE_URL", target.url)
    with running_sandbox(now=_clock(N1)) as sandbox:
        for name, value in airflow_connections(sandbox).items():
            mp.setenv(name, value)
        cli.use_warehouse()
        yield {"tmp": tmp, "target": target, "sandbox": sandbox, "settings_file": settings_file}
    mp.undo()


def _settings(world, roster_options: dict | None = None):
    raw = yaml.safe_load(world["settings_file"].read_text())
    path = str(world["tmp"] / "roster.csv")
    raw["inputs"]["roster"] = {"path": path, **roster_options} if roster_options else path
    world["settings_file"].write_text(yaml.safe_dump(raw))
    return load_settings(world["settings_file"])


def _night(world, day: dt.date, roster: bytes, sessions=lambda text: text) -> int:
    sandbox = world["sandbox"]
    sandbox.set_now(_clock(day))
    sandbox.reset_rate_limits()
    settings = load_settings(world["settings_file"])
    (world["tmp"] / "roster.csv").write_bytes(roster)
    cli.write_demo_files(sandbox.company, settings, _clock(day))
    path = world["tmp"] / "sessions.csv"
    path.write_text(sessions(path.read_text()))
    return cli.run_dag(day)


def _with_conversions(fmt):
    def rewrite(text: str) -> str:
        rows = list(csv.DictReader(io.StringIO(text)))
        for r in rows:
            r["conversions"] = fmt(r["conversions"] or "0")
        return _csv(rows, header=list(rows[0]))

    return rewrite


@pytest.fixture(scope="module")
def nights(world):
    company, target = world["sandbox"].company, world["target"]
    out: dict = {}
    rows = company.roster_rows(_clock(N1))
    typo = next(r for r in rows if r["department"])
    out["typo"] = (typo["employee_id"], typo["department"])
    wrong = [{**r, "department": r["department"][::-1]} if r is typo else r for r in rows]

    _settings(world)
    out["rc_n1_typo"] = _night(world, N1, _csv(wrong).encode())
    out["rc_n1_fixed"] = _night(world, N1, _csv(rows).encode())  # the corrected export, same day
    out["n1"] = closed_months(target)
    march = dt.date(2026, 3, 1)
    [(leaver,)] = q(
        target,
        "select employee_id from marts.kpi_participation_monthly where month = %s and programme_posts > 0"
        " and employee_id in (select employee_id from marts.dim_employee where left_at is null)"
        " order by programme_posts desc, employee_id limit 1",
        march,
    )
    [(top, top_points)] = q(
        target,
        "select employee_id, points from marts.kpi_leaderboard_monthly where month = %s"
        " and employee_id in (select employee_id from marts.dim_employee) order by rank limit 1",
        dt.date(2026, 5, 1),
    )
    out.update(leaver=leaver, top=top, top_points=top_points)
    out["march_n1"] = q(
        target,
        ADOPTION_ALL,
        march,
    )[0]

    # N2: a Norwegian Excel export without the leaver; the May #1's hire date impossible
    rows2 = [dict(r) for r in company.roster_rows(_clock(N2)) if r["employee_id"] != leaver]
    other = next(r for r in rows2 if r["employee_id"] != top)
    other["consent_public"] = "kanskje"
    european = _norwegian(rows2)
    text = european.decode("utf-8")
    lines = text.split("\r\n")
    for i, line in enumerate(lines):
        if line.startswith(f"{top};"):
            cells = line.split(";")
            cells[5] = "31.02.2019"  # hired_at: no such day
            lines[i] = ";".join(cells)
    _settings(world, {"date_format": "dd.mm.yyyy"})
    out["rc_n2"] = _night(
        world, N2, "\r\n".join(lines).encode("utf-8"), _with_conversions(lambda c: f"{c}.0")
    )
    out["n2"] = closed_months(target)
    out["march_n2"] = q(
        target,
        ADOPTION_ALL,
        march,
    )[0]
    out["leaver_row"] = q(target, "select left_at from marts.dim_employee where employee_id = %s", leaver)
    out["top_n2"] = q(
        target,
        "select points from marts.kpi_leaderboard_monthly where month = %s and employee_id = %s",
        dt.date(2026, 5, 1),
        top,
    )
    out["runs_n2"] = {r[0]: r[1:] for r in q(
        target,
        "select source, outcome, rows_loaded, rows_quarantined from audit.source_runs"
        " where interval_start = %s",
        N2,
    )}  # fmt: skip

    # N3: the date_format forgotten, the sessions' conversions unreadable: both refused
    rows3 = [r for r in company.roster_rows(_clock(N3)) if r["employee_id"] != leaver]
    _settings(world)
    out["rc_n3"] = _night(world, N3, _norwegian(rows3), _with_conversions(lambda c: "n/a"))
    out["n3"] = closed_months(target)
    out["report_n3"] = (world["tmp"] / "reports" / N3.isoformat() / "index.html").is_file()
    out["landed_n3"] = {f.source for f in landing.list_files(str(world["tmp"] / "landing"), start=N3, end=N3)}
    out["runs_n3"] = {r[0]: r[1:] for r in q(
        target, "select source, outcome, message from audit.source_runs where interval_start = %s", N3
    )}  # fmt: skip

    print(
        "NUMBERS",
        {
            k: out[k]
            for k in ("typo", "leaver", "top", "top_points", "march_n1", "march_n2", "leaver_row", "top_n2")
        },
        {k: out[k] for k in ("rc_n1_typo", "rc_n1_fixed", "rc_n2", "rc_n3", "report_n3")},
        out["runs_n2"],
        out["runs_n3"],
    )
    return out


def test_every_good_night_succeeds_and_the_refused_one_fails_at_the_end(nights):
    assert (nights["rc_n1_typo"], nights["rc_n1_fixed"], nights["rc_n2"]) == (0, 0, 0)
    assert nights["rc_n3"] != 0
    assert nights["report_n3"]  # built, validated and published on the last good inputs


def test_a_same_day_corrected_rerun_replaces_that_days_version(world, nights):
    employee, department = nights["typo"]
    rows = q(
        world["target"],
        "select valid_from, department from intermediate.int_employee_history where employee_id = %s"
        " order by valid_from",
        employee,
    )
    assert rows[0] == (N1, department)  # one version for N1, the corrected one
    assert len({r[0] for r in rows}) == len(rows)


def test_a_leaver_dropped_from_the_export_keeps_every_past_month(nights):
    assert nights["march_n2"] == nights["march_n1"]
    assert nights["leaver_row"] == [(N2,)]  # closed from the roster day they were missing
    for month in ("n2", "n3"):
        assert nights[month]["participation"] == nights["n1"]["participation"], month
        assert nights[month]["adoption"] == nights["n1"]["adoption"], month
        assert nights[month]["programme_posts"] == nights["n1"]["programme_posts"], month


def test_a_bad_cell_keeps_the_employee_and_their_points(nights):
    assert nights["top_n2"] == [(nights["top_points"],)]
    outcome, loaded, quarantined = nights["runs_n2"]["roster"]
    assert outcome == "partial" and quarantined == 2 and loaded > 200


def test_pandas_decimals_and_a_refused_sessions_file_keep_referral_history(nights):
    assert nights["n1"]["referrals"]
    for month in ("n2", "n3"):
        assert nights[month]["referrals"] == nights["n1"]["referrals"], month
    assert nights["runs_n2"]["sessions"][0] == "ok"


def test_a_refused_roster_does_not_block_the_platforms(nights):
    assert set(PLATFORMS) <= nights["landed_n3"]  # every platform landed tonight
    assert "roster" not in nights["landed_n3"] and "web" not in nights["landed_n3"]
    outcome, message = nights["runs_n3"]["roster"]
    assert (
        outcome == "refused"
        and "roster.csv" in message
        and "inputs.roster.date_format: dd.mm.yyyy" in (message + str(nights["runs_n3"]))
    )
    assert nights["runs_n3"]["sessions"][0] == "refused"
    assert {p: nights["runs_n3"].get(p, ("none",))[0] for p in PLATFORMS} != dict.fromkeys(
        PLATFORMS, "failed"
    )
