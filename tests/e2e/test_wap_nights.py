"""Write, audit, publish with real nights: real Airflow (``cli.run_dag``), dbt, GX, PostgreSQL.

Night N passes and is what BI reads. Night N+1 gets a sessions export holding only this
month (an export run with the wrong date range): the gate refuses it because it would
shrink the closed months' referral sessions, and BI keeps reading night N's marts, which
the night's status says. Night N+1,
fixed and rerun, replaces them. A rerun of night N then reloads N's raw data but does not
take BI back to N.
"""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from advocacy import cli, night
from advocacy.sandbox.server import airflow_connections, running_sandbox
from advocacy.settings import load_settings

from . import harness

# four whole nights through Airflow: longer than one test's default budget
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(3000)]

N = dt.date(2026, 11, 22)
N1 = N + dt.timedelta(days=1)
CLOCK = dt.datetime(2026, 11, 23, 3, tzinfo=dt.UTC)


def status(target, day):
    with target.connect() as conn:
        return night.for_night(conn, day)


def loaded_at(target, day):
    with target.connect() as conn:
        return conn.execute(
            "select max(loaded_at) from audit.load_log where interval_start = %s", (day,)
        ).fetchone()[0]


def marts_message(target, day):
    with target.connect() as conn:
        return conn.execute(
            "select message from audit.marts_nights where interval_start = %s", (day,)
        ).fetchone()[0]


def bi_sees(target) -> dict:
    """What a BI user (a member of bi_reader) reads: the digest of every mart."""
    with target.connect() as conn:
        conn.execute("set role bi_reader")
        rows = {
            m: conn.execute(
                f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from marts.{m} t"
            ).fetchone()[0]
            for m in harness.MARTS
        }
        conn.rollback()
    return rows


@pytest.fixture(scope="module")
def nights(pg_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wap")
    target = harness.fresh_database(pg_server, "wap")
    settings_file = harness.demo_programme(tmp)
    mp = pytest.MonkeyPatch()
    mp.setenv("ADVOCACY_SETTINGS", str(settings_file))
    mp.setenv("ADVOCACY_WAREHOUSE_URL", target.url)
    seen = {}
    with running_sandbox(now=CLOCK, roster_path=str(tmp / "roster.csv")) as sandbox:
        for name, value in airflow_connections(sandbox).items():
            mp.setenv(name, value)
        cli.write_demo_files(sandbox.company, load_settings(), CLOCK)
        cli.use_warehouse()

        seen["rc_n"] = cli.run_dag(N)
        seen["bi_n"], seen["status_n"] = bi_sees(target), status(target, N)
        seen["index_n"] = (tmp / "reports" / "index.html").read_bytes()

        sandbox.set_now(CLOCK + dt.timedelta(days=1))
        cli.write_demo_files(sandbox.company, load_settings(), CLOCK + dt.timedelta(days=1))
        sessions = tmp / "sessions.csv"
        full = sessions.read_text()
        with sessions.open(newline="") as f:
            rows = list(csv.DictReader(f))
        with sessions.open("w", newline="") as f:  # only November's sessions: valid lines, fewer
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(r for r in rows if r["session_start"] >= "2026-11-01")
        seen["rc_bad"] = cli.run_dag(N1)
        seen["bi_bad"], seen["status_bad"] = bi_sees(target), status(target, N1)
        seen["message_bad"] = marts_message(target, N1)
        seen["index_bad"] = (tmp / "reports" / "index.html").read_bytes()
        seen["report_bad"] = (tmp / "reports" / N1.isoformat() / "index.html").read_text()

        sessions.write_text(full)  # the right export
        seen["rc_fixed"] = cli.run_dag(N1)
        seen["bi_fixed"], seen["status_fixed"] = bi_sees(target), status(target, N1)

        before_rerun = loaded_at(target, N)
        seen["rc_rerun"] = cli.run_dag(N)
        seen["bi_rerun"], seen["status_rerun"] = bi_sees(target), status(target, N)
        seen["reloaded"] = loaded_at(target, N) > before_rerun
        seen["status_latest"] = status(target, N1)
        yield seen
    mp.undo()


def test_a_passing_night_is_what_bi_reads(nights):
    assert nights["rc_n"] == 0
    assert (nights["status_n"].marts, nights["status_n"].marts_as_of) == ("current", N)
    assert all(nights["bi_n"].values())


def test_a_failed_night_keeps_yesterdays_marts_and_says_so(nights):
    assert nights["rc_bad"] != 0
    assert nights["bi_bad"] == nights["bi_n"]  # BI never saw the empty marts
    s = nights["status_bad"]
    assert (s.marts, s.marts_as_of) == ("held_back", N) and not s.complete
    # the refused night's report is built from the marts BI still reads, and says so
    assert nights["index_bad"] != nights["index_n"]
    assert "Held back: BI shows the night of" in nights["report_bad"]


def test_the_gate_names_the_closed_month_kpi_it_would_shrink_and_how_to_accept_it(nights):
    message = nights["message_bad"]
    assert (
        "closed month 2026-01: referral sessions would shrink from" in message and "to 0 (-100.0%" in message
    )
    assert "add '2026-01' to gate.accept_shrink_months in" in message and "closed month 2026-10" in message


def test_the_fixed_night_replaces_them(nights):
    assert nights["rc_fixed"] == 0
    assert (nights["status_fixed"].marts, nights["status_fixed"].marts_as_of) == ("current", N1)
    assert nights["bi_fixed"] != nights["bi_n"]


def test_rerunning_an_old_night_reloads_it_but_does_not_rewind_bi(nights):
    assert nights["rc_rerun"] == 0 and nights["reloaded"]
    assert nights["bi_rerun"] == nights["bi_fixed"]  # still as of the latest night
    assert (nights["status_rerun"].marts, nights["status_rerun"].marts_as_of) == ("held_back", N1)
    assert (nights["status_latest"].marts, nights["status_latest"].marts_as_of) == ("current", N1)
