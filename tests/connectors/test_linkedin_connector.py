"""The LinkedIn REST connector (plain requests) against the sandbox over HTTP (no mocks)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from advocacy.connectors import linkedin as lic
from advocacy.connectors.base import ConnectionInfo, RateLimitError, TokenExpiredError
from advocacy.sandbox.server import running_sandbox

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)  # as in conftest.py
WINDOW_END = dt.datetime(2026, 11, 21, 23, 0, tzinfo=dt.UTC)
START = WINDOW_END - dt.timedelta(days=75)
ORG_TOKEN = "sandbox-linkedin-token"


@pytest.fixture(scope="module")
def sandbox(social_company):
    with running_sandbox(company=social_company, now=NOW) as sb:
        yield sb


@pytest.fixture(scope="module")
def org(social_company) -> str:
    return social_company.social.ids()["linkedin_organization_urn"]


@pytest.fixture(scope="module")
def tokens(social_company) -> dict:
    return social_company.member_tokens("linkedin", NOW)


@pytest.fixture(scope="module")
def advocates(social_truth) -> list[str]:
    return [
        e["linkedin_member_urn"]
        for e in social_truth["employees"]
        if e["registered_at"] and e["linkedin_member_urn"]
    ]


def conn(sb, tokens=None, token=ORG_TOKEN, **extra) -> ConnectionInfo:
    extra = {"api_version": "202610", "timeout": 10, "member_tokens": tokens or {}, **extra}
    return ConnectionInfo("linkedin_api", sb.url, password=token, extra=extra)


def run(c, org, advocates, *, start=START, end=WINDOW_END, lookback=(), lookback_start=None):
    return lic.extract(
        c,
        advocate_usernames=advocates,
        company_handles=[org],
        hashtags=["#LifeAtNorthwind"],
        company_domains=["northwind.example"],
        window_start=start,
        window_end=end,
        lookback_ids=list(lookback),
        lookback_start=lookback_start,
    )


def _t(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def result(sandbox, org, tokens, advocates):
    sandbox.reset_stats()
    res = run(conn(sandbox, tokens, page_size=20), org, advocates)
    return res, sandbox.stats()


def test_window_run_reads_organisation_and_granted_members(result, social_truth, org, tokens, advocates):
    res, served = result
    assert set(res) == set(lic.STREAMS)
    posts = {p["id"]: p for p in res["posts"]}
    li = [
        p
        for p in social_truth["posts"] + social_truth["company_posts"]
        if p["platform"] == "linkedin" and not p["deleted_at"] and START <= _t(p["created_at"]) < WINDOW_END
    ]
    assert set(posts) == {p["id"] for p in li if p["author_id"] == org or p["author_id"] in tokens}
    assert {p["id"] for p in res["posts"] if p["_found_via"] == "organization"} == {
        p["id"] for p in li if p["author_id"] == org
    }
    assert res.stats.by_phase["organization"]["requests"] >= 2  # page_size 20: start/count paging
    assert res.stats.requests == served["total_requests"] and res.stats.requests == res.stats.min_requests
    errors = {e["member"]: e["_error_kind"] for e in res["member_errors"]}
    assert errors == {a: "no_token" for a in advocates if a not in tokens}
    for p in res["posts"]:
        assert (
            isinstance(p["createdAt"], int)
            and START.timestamp() * 1000 <= p["createdAt"] < WINDOW_END.timestamp() * 1000
        )


def test_records_carry_the_truth(result, social_truth, org, tokens):
    res, _ = result
    truth = {p["id"]: p for p in social_truth["posts"] + social_truth["company_posts"]}
    employees = {e["linkedin_member_urn"]: e for e in social_truth["employees"] if e["linkedin_member_urn"]}
    statuses = set()
    for p in res["posts"]:
        t = truth[p["id"]]
        assert p["_likes"] == t["counters"]["likes"] and p["_comments"] == t["counters"]["comments"]
        assert p["_impressions"] == t["counters"]["impressions"] and p["_shares"] == t["counters"]["shares"]
        assert p["_is_pure_reshare"] == t["is_pure_reshare"]
        if t["referenced"]:
            assert p["_reshare_of"] == t["referenced"]["id"] == p["reshareContext"]["parent"]
            assert p["_reshared_author"] == org
        assert p["_mentions_company"] == t["markers"]["mentions_company"]
        has_tag = any(h in ("lifeatnorthwind", "northwindrobotics") for h in p["_hashtags"])
        assert has_tag == t["markers"]["has_programme_hashtag"]
        if p["_author_role"] == "company":
            assert p["_share_statistics"]["impressionCount"] == p["_impressions"]
            assert p["_analytics_status"] == "not_applicable"
        else:
            e = employees[p["author"]]
            assert p["_author_employee_handle"] == p["author"] and t["employee_id"] == e["employee_id"]
            assert p["_analytics_status"] == ("ok" if e["api_access"]["linkedin_analytics"] else "forbidden")
            statuses.add(p["_analytics_status"])
            if p["_analytics_status"] == "forbidden":
                assert p["_impressions"] is None and p["_member_analytics"] is None
    assert statuses == {"ok", "forbidden"}
    sizes = {n["_urn"]: n for n in res["network_sizes"]}
    audience = {
        a["account_id"]: a["audience"] for a in social_truth["audiences"] if a["platform"] == "linkedin"
    }
    assert set(sizes) == {org, *tokens}
    assert all(n["firstDegreeSize"] == audience[u] for u, n in sizes.items())
    assert sizes[org]["_role"] == "company" and sizes[org]["_edge_type"] == "COMPANY_FOLLOWED_BY_MEMBER"


def test_lookback_refresh_uses_the_token_allowed_to_read_each_post(
    sandbox, social_truth, org, tokens, advocates
):
    """Members' posts are refreshed with their own token (their listing reaches back to the
    lookback start); the organisation token reads only its posts and members' reshares of
    them; a refusal is reported as not_authorized (kept), only a 404 as not_found (deleted)."""
    li = [p for p in social_truth["posts"] + social_truth["company_posts"] if p["platform"] == "linkedin"]
    company_posts = {p["id"] for p in li if p["author_id"] == org}
    tokens = dict(sorted(tokens.items())[: len(tokens) // 2])  # the others have no token tonight
    gone = [p["id"] for p in li if p["deleted_at"]][:3]
    alive = [p for p in li if not p["deleted_at"] and "2026-11-01" <= p["created_at"] < "2026-11-18"]
    readable = {
        p["id"]
        for p in alive
        if p["author_id"] == org
        or p["author_id"] in tokens
        or (p["referenced"] and p["referenced"]["id"] in company_posts)
    }
    refused = {p["id"] for p in alive} - readable
    assert len(gone) == 3 and len(readable) > 20 and refused
    res = run(
        conn(sandbox, tokens),
        org,
        advocates,
        start=WINDOW_END - dt.timedelta(days=1),
        lookback=[p["id"] for p in alive] + gone,
        lookback_start=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )
    kinds = {e["id"]: e["_error_kind"] for e in res["post_errors"]}
    assert kinds == {**{u: "not_found" for u in gone}, **{u: "not_authorized" for u in refused}}
    assert {p["id"] for p in res["posts"] if p["_found_via"] == "lookup"} == readable
    assert all(p["_likes"] is not None for p in res["posts"])  # social metadata with the right token
    assert any("could not be refreshed" in g for g in res.stats.gaps)
    # the organisation token never asked for a member's own post: member posts were listed
    member_refreshed = {p["id"] for p in alive if p["author_id"] in tokens}
    assert member_refreshed and member_refreshed <= {p["id"] for p in res["posts"]}


def test_connections_size_is_the_documented_v2_call(sandbox, org, tokens):
    """GET /v2/connections/urn:li:person:X with the member's token (r_1st_connections_size);
    the undocumented /rest/connections answers 404 and an organisation token 403."""
    import requests

    member = sorted(tokens)[0]
    ok = requests.get(
        f"{sandbox.url}/v2/connections/{member}", headers={"Authorization": f"Bearer {tokens[member]}"}
    )
    assert ok.status_code == 200 and set(ok.json()) == {"firstDegreeSize"}
    org_token = requests.get(
        f"{sandbox.url}/v2/connections/{member}", headers={"Authorization": f"Bearer {ORG_TOKEN}"}
    )
    assert org_token.status_code == 403 and org_token.json()["code"] == "ACCESS_DENIED"
    old = requests.get(
        f"{sandbox.url}/rest/connections/{lic.encode_urn(member)}",
        headers={"Authorization": f"Bearer {tokens[member]}", "LinkedIn-Version": "202610"},
    )
    assert old.status_code == 404


def test_expired_tokens(social_company, org, tokens):
    members = sorted(tokens)[:3]
    with running_sandbox(company=social_company, now=NOW, expired_tokens={tokens[members[0]]}) as sb:
        res = run(conn(sb, {m: tokens[m] for m in members}), org, members)
        errors = {e["member"]: e for e in res["member_errors"]}
        assert set(errors) == {members[0]} and errors[members[0]]["_error_kind"] == "token_expired"
        assert errors[members[0]]["error"]["code"] == "EXPIRED_ACCESS_TOKEN"
        assert "60 days" in errors[members[0]]["_action"]
        assert {n["_urn"] for n in res["network_sizes"]} == {org, *members[1:]}
        sb.expire_token(ORG_TOKEN)
        with pytest.raises(TokenExpiredError) as exc:
            run(conn(sb), org, [])
    message = str(exc.value)
    assert exc.value.status == 401 and exc.value.code == "EXPIRED_ACCESS_TOKEN"
    assert "linkedin_api" in message and "60 days" in message and "password" in message
    assert ORG_TOKEN not in message


def test_versions_and_throttling(social_company, org):
    with running_sandbox(
        company=social_company, now=NOW, rate_limits={"linkedin.posts": 2}, rate_window_seconds=1
    ) as sb:
        with pytest.raises(lic.LinkedInError, match="extra.api_version"):
            run(conn(sb, api_version="202401"), org, [])
        with pytest.raises(lic.LinkedInError, match="YYYYMM"):
            run(conn(sb, api_version="2026-10"), org, [])
        sb.reset_rate_limits()
        started = time.monotonic()
        res = run(
            conn(sb, page_size=5, rate_limit_fallback_wait=0.4),
            org,
            [],
            start=WINDOW_END - dt.timedelta(days=30),
        )
        assert res.stats.rate_limited >= 1 and time.monotonic() - started < 10
        assert len([p for p in res["posts"] if p["_found_via"] == "organization"]) > 5
        sb.reset_rate_limits()
        with pytest.raises(RateLimitError, match="linkedin_api"):
            run(
                conn(sb, page_size=5, max_rate_limit_retries=0),
                org,
                [],
                start=WINDOW_END - dt.timedelta(days=30),
            )


def test_pure_helpers():
    text = "Proud! {hashtag|\\#|LifeAtNorthwind} #extra Thanks @[Northwind Robotics](urn:li:organization:42)"
    assert lic.little_text_hashtags(text) == ["lifeatnorthwind", "extra"]
    assert lic.little_text_mentions(text) == ["urn:li:organization:42"]
    assert lic.encode_urn("urn:li:share:1") == "urn%3Ali%3Ashare%3A1"
    assert (
        lic.restli_list(["urn:li:share:1", "urn:li:ugcPost:2"])
        == "List(urn%3Ali%3Ashare%3A1,urn%3Ali%3AugcPost%3A2)"
    )
    assert lic.reactions_total({"reactionSummaries": {"LIKE": {"count": 3}, "PRAISE": {"count": 2}}}) == 5
    assert lic.reactions_total(None) is None


def test_little_text_escapes_are_undone_once():
    """Little Text Format escapes reserved characters with a backslash; links and hashtags the
    connector takes from the text carry none (the warehouse unescapes post_text the same way)."""
    text = (
        "Our robots \\(finally\\) ship! Read https://northwind.example/launch?utm\\_source=linkedin "
        "{hashtag|\\#|LifeAtNorthwind} \\#NotATemplate \\@\\[not a mention\\] "
        "@[Northwind](urn:li:organization:42)"
    )
    plain = lic.little_text_plain(text)
    assert plain == (
        "Our robots (finally) ship! Read https://northwind.example/launch?utm_source=linkedin "
        "#LifeAtNorthwind #NotATemplate @[not a mention] Northwind"
    )
    rec = lic.annotate(
        {"id": "urn:li:share:1", "author": "urn:li:organization:42", "commentary": text},
        "organization",
        orgs={"urn:li:organization:42"},
        advocates=set(),
    )
    assert rec["_links"] == ["https://northwind.example/launch?utm_source=linkedin"]
    assert "lifeatnorthwind" in rec["_hashtags"] and "notatemplate" in rec["_hashtags"]
    assert rec["_mentions_company"] and lic.little_text_mentions(text) == ["urn:li:organization:42"]


def test_every_record_loads_with_its_declared_key_and_time(result):
    import json

    from advocacy.load import parse_time, stream_spec

    res, _ = result
    assert res["member_errors"] and res["network_sizes"]
    for stream, records in res.items():
        spec = stream_spec(lic.STREAMS[stream])
        json.dumps(records)  # landing writes JSON lines
        for rec in records:
            assert rec.get(spec.key) not in (None, ""), (stream, rec)
            if spec.time:
                parsed = parse_time(rec[spec.time])
                assert parsed.tzinfo is not None and parsed.year == 2026  # epoch milliseconds


def test_permanent_errors_fail_fast(sandbox, org):
    """A sunset version, a refused token or a 404 on a documented path cannot be fixed by a
    retry (the pipeline fails the task at once); throttling and 5xx can."""
    from advocacy.connectors.base import ConnectorError, is_permanent

    with pytest.raises(lic.LinkedInError) as sunset:
        run(conn(sandbox, api_version="202401"), org, [])
    assert sunset.value.status == 426 and is_permanent(sunset.value)
    with pytest.raises(lic.LinkedInError) as refused:
        run(conn(sandbox, token="not-a-token"), org, [])
    assert refused.value.status == 401 and is_permanent(refused.value)
    assert is_permanent(ConnectorError("gone", status=404))
    assert not is_permanent(ConnectorError("busy", status=503, transient=True))
    assert not is_permanent(RateLimitError("slow down", status=429, transient=True))


def test_only_published_posts_are_kept():
    """lifecycleState: DRAFT, PUBLISH_REQUESTED and PUBLISH_FAILED posts are not live posts."""
    client = lic.LinkedInClient(ConnectionInfo("linkedin_api", "http://127.0.0.1:9", password="t", extra={}))
    org = "urn:li:organization:1"
    run_ = lic._Run(client, None, [org], [], {})
    base = {"author": org, "createdAt": 1_700_000_000_000, "commentary": ""}
    assert run_.add(
        {**base, "id": "urn:li:share:1", "lifecycleState": "PUBLISHED"}, "organization", "organization"
    )
    for i, state in enumerate(("DRAFT", "PUBLISH_REQUESTED", "PUBLISH_FAILED"), start=2):
        assert not run_.add(
            {**base, "id": f"urn:li:share:{i}", "lifecycleState": state}, "organization", "organization"
        )
    assert list(run_.posts) == ["urn:li:share:1"] and run_.not_published == 3


def test_a_connections_size_404_costs_one_advocate_not_the_night(social_company, org, tokens):
    """The first real night's failure: a 404 on the connections call must not fail the whole
    LinkedIn extract; that advocate's audience is missing and said so."""
    members = sorted(tokens)[:3]
    with running_sandbox(company=social_company, now=NOW) as sb:
        sb.inject_fault("linkedin.connections", "empty_404", times=1)
        res = run(
            conn(sb, {m: tokens[m] for m in members}), org, members, start=WINDOW_END - dt.timedelta(days=7)
        )
    errors = [e for e in res["member_errors"] if e["_error_kind"] == "connections_size_error"]
    assert len(errors) == 1 and errors[0]["error"]["status"] == 404
    assert len([n for n in res["network_sizes"] if n["_role"] == "advocate"]) == 2
    assert res["posts"]  # the night's posts still came


def test_members_calls_side_by_side_give_the_same_records_and_accounting(sandbox, org, tokens, advocates):
    """``extra.concurrency``: members' connections-size and analytics calls run several at once;
    the records and the request accounting are those of a run one call after another, and a
    member whose analytics stall does not hold up the others."""
    import json

    def canonical(res):
        return {s: sorted(json.dumps(r, sort_keys=True) for r in recs) for s, recs in res.items()}

    serial = run(conn(sandbox, tokens, page_size=20, concurrency=1), org, advocates)
    side_by_side = run(conn(sandbox, tokens, page_size=20, concurrency=6), org, advocates)
    assert canonical(side_by_side) == canonical(serial)
    for key in ("requests", "min_requests", "by_endpoint", "by_phase", "records"):
        assert side_by_side.stats.as_dict()[key] == serial.stats.as_dict()[key], key
    assert serial.stats.by_endpoint["member_analytics"] > 50  # there was something to spread

    # an expired member token met by several workers at once is one member error, once
    expired = {m: t for m, t in tokens.items()}
    victim = next(iter(expired))
    sandbox.expire_token(expired[victim])
    try:
        res = run(conn(sandbox, expired, page_size=20, concurrency=6), org, advocates)
    finally:
        sandbox.expired_tokens.discard(expired[victim])
    errors = [e for e in res["member_errors"] if e["member"] == victim]
    assert [e["_error_kind"] for e in errors] == ["token_expired"]
