"""The synthetic company on Facebook, Instagram and LinkedIn, and its sessions and self-report files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter, defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from advocacy import platforms as registry
from advocacy import utm
from advocacy.sandbox.company import Company
from advocacy.sandbox.files import GA4_COLUMNS, SELF_REPORT_COLUMNS, SESSION_COLUMNS
from advocacy.sandbox.social import PLATFORMS, hashtag_id

SOCIAL_NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)  # as in conftest.py
NEW = set(PLATFORMS)
ALL = set(registry.names())  # the sandbox company posts on every platform the demo enables
TZ = ZoneInfo("Europe/Amsterdam")


def _ts(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def test_the_x_history_is_the_same_whether_or_not_other_platforms_exist():
    a, b = Company(seed=7, size=60), Company(seed=7, size=60)
    for p in PLATFORMS:
        b.social[p]  # generate the other platforms first
    ts = SOCIAL_NOW.timestamp()
    for author in range(0, len(a.x_users), 5):
        assert [p.id for p in a.posts_of(author, ts)] == [p.id for p in b.posts_of(author, ts)]
    assert [e.x_username for e in a.employees] == [e.x_username for e in b.employees]


def test_worlds_are_deterministic_per_seed():
    ids = {p: [x.id for x in Company(seed=3, size=40).social[p].posts[:50]] for p in PLATFORMS}
    again = {p: [x.id for x in Company(seed=3, size=40).social[p].posts[:50]] for p in PLATFORMS}
    other = {p: [x.id for x in Company(seed=4, size=40).social[p].posts[:50]] for p in PLATFORMS}
    assert ids == again and ids != other
    assert hashtag_id("#LifeAtNorthwind") == hashtag_id("lifeatnorthwind")  # static and global


def test_truth_posts_of_every_platform(social_truth):
    posts = social_truth["posts"]
    assert {p["platform"] for p in posts} == ALL
    assert all(_ts(p["created_at"]) <= SOCIAL_NOW for p in posts)
    employees = {e["employee_id"]: e for e in social_truth["employees"]}
    for p in posts:
        if p["platform"] not in NEW:  # X and Bluesky: their own tests (sandbox x, dbt bluesky)
            continue
        if p["is_programme_post"]:
            emp = employees[p["employee_id"]]
            assert emp["registered_at"] and emp["registered_at"] <= p["created_at"][:10]
            assert any(p["markers"].values())
        assert not (p["is_programme_post"] and p["is_community_post"])
        if p["kind"] == "reshare":
            assert p["is_pure_reshare"] and p["referenced"]["type"] == "shared"
        c = p["counters"]
        assert c["interactions"] == sum(v for v in (c["likes"], c["comments"], c["shares"]) if v is not None)
        if p["utm_content"]:  # an advocate's tracked link carries their own code
            assert employees[p["true_employee_id"]]["utm_code"] == p["utm_content"]
            assert utm.parse_utm(p["links"][0])["utm_source"] == p["platform"]
    li = [p for p in posts if p["platform"] == "linkedin" and p["markers"]["has_programme_hashtag"]]
    assert li and all(re.search(r"\{hashtag\|\\#\|\w+\}", p["text"]) for p in li)
    ig_hidden = [p for p in posts if p["platform"] == "instagram" and p["counters"]["likes"] is None]
    assert ig_hidden and all(p["counters"]["shares"] is None for p in ig_hidden)
    fb = [p for p in posts if p["platform"] == "facebook"]
    assert {p["kind"] for p in fb} == {"original", "verbatim_copy", "quote", "reshare", "offtopic"}
    assert all(p["counters"]["impressions"] is None for p in fb)  # personal posts: no insights
    assert all(
        p["counters"]["impressions"] for p in social_truth["company_posts"] if p["platform"] == "facebook"
    )


def test_instagram_personal_accounts_are_not_attributable(social_truth):
    ig = [p for p in social_truth["posts"] if p["platform"] == "instagram"]
    hidden_authors = [p for p in ig if not p["attributable"]]
    assert hidden_authors
    for p in hidden_authors:
        assert p["employee_id"] is None and p["true_employee_id"] is not None
        assert p["is_community_post"] and not p["is_programme_post"]
        assert p["markers"]["has_programme_hashtag"]  # only their hashtag media can be seen at all
    access = {e["employee_id"]: e["api_access"] for e in social_truth["employees"]}
    assert all(not access[p["true_employee_id"]]["instagram_professional"] for p in hidden_authors)


def test_one_advocate_posts_on_several_platforms(social_truth):
    platforms = defaultdict(set)
    for p in social_truth["posts"]:
        if p["is_programme_post"]:
            platforms[p["employee_id"]].add(p["platform"])
    assert max(len(v) for v in platforms.values()) == len(ALL)
    assert sum(1 for v in platforms.values() if len(v) >= 3) >= 10


def test_audiences_follow_the_benchmarks(social_truth):
    by = defaultdict(list)
    for a in social_truth["audiences"]:
        if a["role"] == "employee":
            by[a["platform"]].append(a["audience"])
    mean = {p: sum(v) / len(v) for p, v in by.items()}
    assert 380 < mean["linkedin"] < 600 and 360 < mean["facebook"] < 520  # benchmarks: 459 / 433
    assert set(mean) == ALL
    company = {a["platform"]: a for a in social_truth["audiences"] if a["role"] == "company"}
    assert set(company) == ALL and all(a["observable"] for a in company.values())


def test_member_tokens_only_for_registered_advocates_who_granted(social_company, social_truth):
    employees = {e["employee_id"]: e for e in social_truth["employees"]}
    by_handle = {e["facebook_user_id"]: e for e in employees.values() if e["facebook_user_id"]}
    tokens = social_truth["member_tokens"]["facebook"]
    assert tokens and all(t == f"sandbox-fb-member-{h}" for h, t in tokens.items())
    for handle in tokens:
        e = by_handle[handle]
        assert e["registered_at"] and e["api_access"]["facebook"]
    li = social_truth["member_tokens"]["linkedin"]
    assert all(
        h.startswith("urn:li:person:") and t == "sandbox-li-member-" + h.rsplit(":", 1)[1]
        for h, t in li.items()
    )
    earlier = social_company.member_tokens("linkedin", dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    assert set(earlier) < set(li)  # tokens start working when advocates register
    world = social_company.social["linkedin"]
    acc = world.account(next(iter(li)))
    assert world.account_for_token(li[acc.handle], SOCIAL_NOW.timestamp()) is acc
    assert world.account_for_token("sandbox-li-member-nobody", SOCIAL_NOW.timestamp()) is None


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_sessions_file_matches_the_referral_truth(social_company, social_truth):
    rows = _rows(social_company.sessions_csv(SOCIAL_NOW))
    assert list(rows[0]) == list(SESSION_COLUMNS)
    assert all(_ts(r["session_start"]) <= SOCIAL_NOW for r in rows)
    assert len({r["session_id"] for r in rows}) == len(rows)
    codes = {e["utm_code"]: e["employee_id"] for e in social_truth["employees"]}
    monthly, by_emp, baseline = Counter(), Counter(), Counter()
    for r in rows:
        month = _ts(r["session_start"]).astimezone(TZ).strftime("%Y-%m")
        if r["utm_source"] in ("x", "linkedin", "facebook", "instagram") and month in (
            "2025-10",
            "2025-11",
            "2025-12",
        ):
            baseline[r["utm_source"]] += 1
        if r["utm_medium"] != "employee_advocacy":
            continue
        monthly[(month, r["utm_source"])] += 1
        monthly[(month, "ALL")] += 1
        if r["utm_content"] in codes:
            by_emp[(month, codes[r["utm_content"]])] += 1
    ref = social_truth["referrals"]
    assert {(m["month"], m["platform"]): m["sessions"] for m in ref["monthly"]} == dict(monthly)
    assert {(m["month"], m["employee_id"]): m["sessions"] for m in ref["by_employee"]} == dict(by_emp)
    assert ref["baseline"]["months"] == ["2025-10", "2025-11", "2025-12"]
    assert ref["baseline"]["sessions"] == pytest.approx(sum(baseline.values()) / 3)
    assert {m["month"] for m in ref["monthly"]} >= {"2026-02", "2026-10"}
    assert not any(m["month"] < "2026-01" for m in ref["monthly"])  # no advocacy before the programme
    assert ref["unattributed_sessions"] > 0  # links that lost utm_content: a platform, no employee
    oct_all = next(m for m in ref["monthly"] if m["month"] == "2026-10" and m["platform"] == "ALL")
    assert oct_all["sessions"] > ref["baseline"]["sessions"]  # the programme lifts referrals
    sources = {r["utm_source"] for r in rows}
    assert {"x", "linkedin", "facebook", "instagram", "google", ""} <= sources


def test_sessions_ga4_variant_carries_the_same_sessions(social_company):
    as_of = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    kpi = {r["session_id"]: r for r in _rows(social_company.sessions_csv(as_of))}
    ga4 = _rows(social_company.sessions_csv(as_of, "ga4"))
    assert list(ga4[0]) == list(GA4_COLUMNS) and len(ga4) == len(kpi)
    for r in ga4[:3000]:
        k = kpi[r["session_id"]]
        assert r["collected_traffic_source.manual_source"] == k["utm_source"]
        assert r["collected_traffic_source.manual_content"] == k["utm_content"]
        assert int(r["event_timestamp"]) == int(_ts(k["session_start"]).timestamp() * 1_000_000)
        assert r["event_date"] == _ts(k["session_start"]).astimezone(TZ).strftime("%Y%m%d")
        parsed = utm.parse_utm(r["page_location"])
        assert (parsed["utm_medium"] or "") == k["utm_medium"] and (parsed["utm_content"] or "") == k[
            "utm_content"
        ]
    with pytest.raises(ValueError, match="style"):
        social_company.sessions_csv(as_of, "bigquery")


def test_self_reports_never_overlap_api_data(social_company, social_truth, tmp_path):
    path = social_company.write_self_reports_csv(tmp_path / "in" / "self_reports.csv", SOCIAL_NOW)
    with open(path, encoding="utf-8") as fh:
        rows = _rows(fh.read())
    assert rows and list(rows[0]) == list(SELF_REPORT_COLUMNS)
    assert len(rows) == len(social_truth["self_reports"])
    employees = {e["employee_id"]: e for e in social_truth["employees"]}
    api = {(p.get("true_employee_id") or p["employee_id"], p["platform"]) for p in social_truth["posts"]}
    assert {r["platform"] for r in rows} == {"tiktok", "other", "linkedin"}
    for r in rows:
        e = employees[r["employee_id"]]
        assert (r["employee_id"], r["platform"]) not in api
        assert e["registered_at"] and e["registered_at"][:7] <= r["month"] and r["month"] >= "2026-01"
        assert r["month"] < SOCIAL_NOW.strftime("%Y-%m")  # only finished months are reported
        if r["platform"] == "linkedin":
            assert e["linkedin_member_urn"] and not e["api_access"]["linkedin"]
        assert int(r["posts"]) >= 1 and re.fullmatch(r"\d{4}-\d\d", r["month"])
    early = social_company.self_report_rows(dt.date(2026, 3, 2))
    assert {r["month"] for r in early} <= {"2026-01"}  # February's reports arrive from March 3rd


def test_demo_programme_names_the_sandbox_accounts(social_company):
    path = Path(__file__).resolve().parents[2] / "plugins" / "advocacy" / "sandbox" / "demo_programme.yml"
    platforms = yaml.safe_load(path.read_text(encoding="utf-8"))["platforms"]
    assert set(platforms) == ALL and all(p["enabled"] for p in platforms.values())
    ids = social_company.social.ids()  # seed 42, the demo's
    assert platforms["facebook"]["company_handles"] == [ids["facebook_page_id"]]
    assert platforms["instagram"]["company_handles"] == [ids["instagram_user_id"]]
    assert platforms["linkedin"]["company_handles"] == [ids["linkedin_organization_urn"]]
    assert {p: platforms[p]["connection_id"] for p in NEW} == {
        "facebook": "facebook_graph",
        "instagram": "instagram_graph",
        "linkedin": "linkedin_api",
    }
