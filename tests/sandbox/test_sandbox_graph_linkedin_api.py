"""The Graph (Facebook + Instagram) and LinkedIn look-alikes over real HTTP: shapes, paging, errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from advocacy.sandbox.server import running_sandbox

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)  # as in conftest.py
PAGE_TOKEN = "sandbox-graph-token"
LI_TOKEN = "sandbox-linkedin-token"
GRAPH_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")
SUMMARY = "reactions.summary(true).limit(0),comments.summary(true).limit(0)"


@pytest.fixture(scope="module")
def sandbox(social_company):
    with running_sandbox(company=social_company, now=NOW, expired_tokens={"expired-page-token"}) as sb:
        yield sb


@pytest.fixture(scope="module")
def ids(social_company) -> dict:
    return social_company.social.ids()


def graph(sb, path, token=PAGE_TOKEN, **params) -> requests.Response:
    if token:
        params["access_token"] = token
    return requests.get(sb.url + path, params=params, timeout=10)


def li(sb, path, query="", token=LI_TOKEN, version="202610") -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "X-Restli-Protocol-Version": "2.0.0"}
    if version:
        headers["LinkedIn-Version"] = version
    return requests.get(sb.url + path + (f"?{query}" if query else ""), headers=headers, timeout=10)


def error_of(r: requests.Response) -> dict:
    body = r.json()
    assert set(body) == {"error"} and {"message", "type", "code", "fbtrace_id"} <= set(body["error"])
    return body["error"]


# --------------------------------------------------------------------------- Facebook
def test_page_posts_time_based_paging_drops_since_like_the_recording(sandbox, ids):
    page = ids["facebook_page_id"]
    since = int(dt.datetime(2026, 10, 1, tzinfo=dt.UTC).timestamp())
    fields = f"id,message,created_time,shares,{SUMMARY}"
    r = graph(sandbox, f"/v21.0/{page}/posts", fields=fields, since=since, limit=5)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert len(body["data"]) == 5 and set(body["paging"]) == {"previous", "next"}
    for post in body["data"]:
        assert re.fullmatch(rf"{page}_\d+", post["id"]) and GRAPH_TIME.match(post["created_time"])
        assert post["reactions"] == {
            "data": [],
            "summary": {
                "total_count": post["reactions"]["summary"]["total_count"],
                "viewer_reaction": "NONE",
            },
        }
        assert list(post["comments"]["summary"]) == ["order", "total_count", "can_comment"]
    nxt = parse_qs(urlsplit(body["paging"]["next"]).query, keep_blank_values=True)
    assert nxt["since"] == [""] and nxt["until"] and nxt["__paging_token"] and "cursors" not in body["paging"]
    seen, url, older = [], body["paging"]["next"], False
    while url:
        page_body = requests.get(url, timeout=10).json()
        seen += page_body["data"]
        older = older or any(p["created_time"] < "2026-10-01" for p in page_body["data"])
        url = page_body.get("paging", {}).get("next")
    assert older, "following next verbatim leaves the since bound behind: a client must stop itself"
    times = [p["created_time"] for p in body["data"] + seen]
    assert times == sorted(times, reverse=True) and len(set(times)) == len(times)


def test_omitted_fields_shares_and_message(sandbox, social_company, ids):
    world = social_company.social["facebook"]
    ts = NOW.timestamp()
    zero = next(p for p in world.company_posts if p.visible_at(ts) and p.metrics_at(ts)["shares"] == 0)
    body = graph(sandbox, f"/v21.0/{zero.id}", fields="id,message,shares,created_time").json()
    assert "shares" not in body and body["message"]
    pure = next(p for p in reversed(world.posts) if p.kind == "reshare" and p.visible_at(ts))
    token = social_company.member_tokens("facebook", NOW)[world.accounts[pure.author].handle]
    body = graph(sandbox, f"/v21.0/{pure.id}", token=token, fields="id,message,parent_id,status_type").json()
    assert (
        "message" not in body and body["parent_id"] == pure.ref_id and body["status_type"] == "shared_story"
    )


def test_member_posts_cursor_paging_and_friends(sandbox, social_company):
    tokens = social_company.member_tokens("facebook", NOW)
    world = social_company.social["facebook"]
    handle, token = max(tokens.items(), key=lambda kv: len(world.by_author[world.account(kv[0]).idx]))
    body = graph(sandbox, f"/v21.0/{handle}", token=token, fields="id,name,friends.limit(0)").json()
    assert body["friends"] == {
        "data": [],
        "summary": {"total_count": world.account(handle).audience_at(NOW.timestamp())},
    }
    ids_seen, url = [], None
    r = graph(sandbox, f"/v21.0/{handle}/posts", token=token, fields="id,created_time", limit=3)
    while True:
        page = r.json()
        ids_seen += [p["id"] for p in page["data"]]
        if "next" not in page.get("paging", {}):
            break
        assert set(page["paging"]["cursors"]) == {"before", "after"}
        url = page["paging"]["next"]
        r = requests.get(url, timeout=10)
    expected = [p.id for p in world.visible_of(world.account(handle), NOW.timestamp())]
    assert ids_seen == expected and len(expected) > 3
    # someone else's posts, or the Page token on a profile: the recorded permission error
    other = next(h for h in tokens if h != handle)
    err = error_of(graph(sandbox, f"/v21.0/{other}/posts", token=token))
    assert err["code"] == 100 and "pages_read_engagement" in err["message"]
    assert error_of(graph(sandbox, f"/v21.0/{handle}"))["code"] == 100


def test_graph_errors_have_the_graph_shape(sandbox, ids):
    page = ids["facebook_page_id"]
    assert error_of(graph(sandbox, f"/v21.0/{page}", token=None))["code"] == 104
    err = error_of(graph(sandbox, f"/v21.0/{page}", token="nope"))
    assert err["code"] == 190 and "error_subcode" not in err
    err = error_of(graph(sandbox, f"/v21.0/{page}", token="expired-page-token"))
    assert (err["code"], err["error_subcode"]) == (190, 463) and "expired" in err["message"]
    err = error_of(graph(sandbox, f"/v21.0/{page}", fields="id,nonsense"))
    assert err["code"] == 100 and "(nonsense)" in err["message"]
    post = graph(sandbox, f"/v21.0/{page}/posts", limit=1).json()["data"][0]["id"]
    err = error_of(graph(sandbox, "/v21.0/", ids=f"{post},{page}_1", fields="id"))
    assert err["code"] == 803 and err["message"].endswith(f": {page}_1")
    r = graph(sandbox, "/v24.0/", ids=post, fields="id,insights.metric(post_impressions,post_media_view)")
    assert (
        r.status_code == 400 and error_of(r)["message"] == "(#100) The value must be a valid insights metric"
    )
    ok = graph(sandbox, "/v24.0/", ids=post, fields="insights.metric(post_media_view)").json()[post]
    insight = ok["insights"]["data"][0]
    assert insight["period"] == "lifetime" and insight["id"] == f"{post}/insights/post_media_view/lifetime"
    assert isinstance(insight["values"][0]["value"], int)


def test_usage_headers_and_the_rate_limit_error(social_company, ids):
    with running_sandbox(company=social_company, now=NOW, rate_limits={"graph.node": 4}) as sb:
        r = graph(sb, f"/v21.0/{ids['facebook_page_id']}")
        usage = json.loads(r.headers["x-app-usage"])  # JSON inside a string, percentages
        assert usage["call_count"] == 25
        buc = json.loads(r.headers["x-business-use-case-usage"])
        assert list(buc) == [ids["facebook_page_id"]] and buc[ids["facebook_page_id"]][0]["type"] == "pages"
        for _ in range(3):
            graph(sb, f"/v21.0/{ids['facebook_page_id']}")
        r = graph(sb, f"/v21.0/{ids['facebook_page_id']}")
        err = error_of(r)
        assert r.status_code == 403 and err["code"] == 4 and err["is_transient"] is True
        entry = json.loads(r.headers["x-business-use-case-usage"])[ids["facebook_page_id"]][0]
        assert entry["estimated_time_to_regain_access"] >= 1 and entry["call_count"] >= 100


def test_injected_faults(social_company, ids):
    with running_sandbox(company=social_company, now=NOW) as sb:
        sb.inject_fault("graph.node", "html_502")
        sb.inject_fault("graph.node", "no_content_type")
        sb.inject_fault("graph", "rate_limit_613")
        r = graph(sb, f"/v21.0/{ids['facebook_page_id']}")
        assert r.status_code == 502 and r.headers["Content-Type"].startswith("text/html")
        r = graph(sb, f"/v21.0/{ids['facebook_page_id']}")
        assert r.status_code == 200 and "Content-Type" not in r.headers
        err = error_of(graph(sb, f"/v21.0/{ids['facebook_page_id']}/posts"))
        assert err["code"] == 613 and err["is_transient"]
        assert graph(sb, f"/v21.0/{ids['facebook_page_id']}").status_code == 200
        requests.post(
            sb.url + "/_sandbox/faults", json={"endpoint": "graph.node", "fault": "empty_404"}, timeout=5
        )
        r = graph(sb, f"/v21.0/{ids['facebook_page_id']}")
        assert r.status_code == 404 and "error" not in r.json()


# --------------------------------------------------------------------------- Instagram
def test_hashtag_search_and_recent_media(sandbox, social_company, ids):
    ig = ids["instagram_user_id"]
    r = graph(sandbox, "/v21.0/ig_hashtag_search", user_id=ig, q="LifeAtNorthwind")
    hid = r.json()["data"][0]["id"]
    assert r.json() == {"data": [{"id": hid}]}
    assert (
        graph(sandbox, "/v21.0/ig_hashtag_search", user_id=ig, q="lifeatnorthwind").json()["data"][0]["id"]
        == hid
    )
    fields = "id,caption,media_type,comments_count,like_count,permalink,timestamp"
    media, url = [], None
    r = graph(sandbox, f"/v21.0/{hid}/recent_media", user_id=ig, fields=fields, limit=1)
    pages = 0
    while True:
        body = r.json()
        pages += 1
        media += body["data"]
        if "paging" not in body:
            break
        assert set(body["paging"]) == {"cursors", "next"} and set(body["paging"]["cursors"]) == {"after"}
        if body["paging"]["next"] == url:
            break  # the repeated-cursor variant
        url = body["paging"]["next"]
        r = requests.get(url, timeout=10)
    world = social_company.social["instagram"]
    ts = NOW.timestamp()
    expected = {
        p.id
        for p in world.posts_between(ts - 86400, ts + 1)
        if p.visible_at(ts) and "lifeatnorthwind" in {t.lower() for t in p.hashtags}
    }
    assert {m["id"] for m in media} == expected and len(expected) >= 2 and pages >= 2
    for m in media:
        assert GRAPH_TIME.match(m["timestamp"]) and "username" not in m
        hidden = world.accounts[world.by_post_id[m["id"]].author].hides_likes
        assert ("like_count" in m) is not hidden
    err = error_of(graph(sandbox, f"/v21.0/{hid}/recent_media", user_id=ig, fields="id,username"))
    assert err["code"] == 100 and "(username)" in err["message"]
    assert len(graph(sandbox, f"/v21.0/{hid}/recent_media", user_id=ig, limit=500).json()["data"]) <= 50


def test_recent_media_last_page_omits_paging_or_repeats_the_cursor(social_company, ids):
    world = social_company.social["instagram"]
    hid = None
    variants = set()
    with running_sandbox(company=social_company, now=NOW) as sb:
        hid = graph(
            sb, "/v21.0/ig_hashtag_search", user_id=ids["instagram_user_id"], q="NorthwindRobotics"
        ).json()
        hid = hid["data"][0]["id"]
        for hours in range(0, 72, 3):
            now = NOW - dt.timedelta(hours=hours)
            ts = now.timestamp()
            n = sum(
                1
                for p in world.posts_between(ts - 86400, ts + 1)
                if p.visible_at(ts) and "northwindrobotics" in {t.lower() for t in p.hashtags}
            )
            if n < 2:
                continue
            sb.set_now(now)
            first = graph(
                sb, f"/v21.0/{hid}/recent_media", user_id=ids["instagram_user_id"], limit=n - 1
            ).json()
            last = requests.get(first["paging"]["next"], timeout=10).json()
            repeat = int(hashlib.md5(f"{hid}:{int(ts // 3600)}".encode()).hexdigest(), 16) % 2 == 0
            if repeat:
                assert last["paging"]["cursors"]["after"] == first["paging"]["cursors"]["after"]
                assert requests.get(last["paging"]["next"], timeout=10).json()["data"] == last["data"]
            else:
                assert "paging" not in last
            variants.add(repeat)
    assert variants == {True, False}


def test_business_discovery(sandbox, social_company, ids):
    world = social_company.social["instagram"]
    pro = next(a for a in world.accounts if a.role == "employee" and a.granted)
    personal = next(a for a in world.accounts if a.role == "employee" and not a.granted)
    media = "media.limit(2){id,timestamp}"
    fields = f"business_discovery.username({pro.handle}){{username,followers_count,{media}}}"
    body = graph(sandbox, f"/v21.0/{ids['instagram_user_id']}", fields=fields).json()
    found = body["business_discovery"]
    assert found["username"] == pro.handle and found["followers_count"] == pro.audience_at(NOW.timestamp())
    assert len(found["media"]["data"]) <= 2 and "cursors" in found["media"]["paging"]
    fields = f"business_discovery.username({personal.handle}){{username}}"
    err = error_of(graph(sandbox, f"/v21.0/{ids['instagram_user_id']}", fields=fields))
    assert (err["code"], err["error_subcode"]) == (110, 2207013)


# --------------------------------------------------------------------------- LinkedIn
def test_linkedin_posts_finder_paging_and_shapes(sandbox, social_company, ids):
    org = ids["linkedin_organization_urn"]
    got, query = [], f"q=author&author={quote(org, safe='')}&count=40&start=0"
    while True:
        body = li(sandbox, "/rest/posts", query).json()
        assert set(body) == {"paging", "elements"} and set(body["paging"]) == {"start", "count", "links"}
        got += body["elements"]
        nxt = [link["href"] for link in body["paging"]["links"] if link["rel"] == "next"]
        if not nxt:
            break
        query = nxt[0].split("?", 1)[1]
    world = social_company.social["linkedin"]
    assert [p["id"] for p in got] == [p.id for p in world.visible_of(world.company_account, NOW.timestamp())]
    post = got[0]
    assert isinstance(post["createdAt"], int) and post["createdAt"] > 1.7e12  # epoch milliseconds
    assert post["author"] == org and post["id"].startswith("urn:li:share:")
    assert {"lifecycleState", "visibility", "distribution", "commentary", "publishedAt"} <= set(post)


def test_linkedin_errors(sandbox, social_company, ids):
    org = ids["linkedin_organization_urn"]
    query = f"q=author&author={quote(org, safe='')}"
    r = li(sandbox, "/rest/posts", query, version=None)
    assert r.status_code == 400 and r.json()["code"] == "VERSION_MISSING"
    r = li(sandbox, "/rest/posts", query, version="202407")
    assert r.status_code == 426 and r.json()["code"] == "NONEXISTENT_VERSION"
    r = li(sandbox, "/rest/posts", query, token="nope")
    assert r.status_code == 401 and r.json() == {
        "status": 401,
        "serviceErrorCode": 65600,
        "code": "INVALID_ACCESS_TOKEN",
        "message": "Invalid access token",
    }
    r = li(sandbox, f"/rest/networkSizes/{org}", "edgeType=COMPANY_FOLLOWED_BY_MEMBER")
    assert r.status_code == 400  # URNs in paths must be URL-encoded
    r = li(sandbox, f"/rest/networkSizes/{quote(org, safe='')}", "edgeType=COMPANY_FOLLOWED_BY_MEMBER")
    assert set(r.json()) == {"firstDegreeSize"}
    with running_sandbox(
        company=social_company, now=NOW, expired_tokens={LI_TOKEN}, rate_limits={"linkedin.post": 0}
    ) as sb:
        r = li(sb, "/rest/posts", query)
        assert r.status_code == 401 and r.json()["code"] == "EXPIRED_ACCESS_TOKEN"
    with running_sandbox(company=social_company, now=NOW, rate_limits={"linkedin.social_metadata": 0}) as sb:
        r = li(sb, f"/rest/socialMetadata/{quote(org, safe='')}")
        assert r.status_code == 429 and "x-rate-limit-reset" not in r.headers and r.json()["status"] == 429


def test_linkedin_social_metadata_statistics_and_member_analytics(sandbox, social_company, ids):
    world = social_company.social["linkedin"]
    ts = NOW.timestamp()
    org = ids["linkedin_organization_urn"]
    org_post = world.visible_of(world.company_account, ts)[0]
    gone = next(p for p in world.posts if p.deleted is not None and p.deleted <= ts)
    urns = [org_post.id, gone.id]
    body = li(
        sandbox, "/rest/socialMetadata", "ids=List(" + ",".join(quote(u, safe="") for u in urns) + ")"
    ).json()
    assert set(body) == {"results", "statuses", "errors"}
    meta = body["results"][org_post.id]
    assert sum(v["count"] for v in meta["reactionSummaries"].values()) == org_post.metrics_at(ts)["reactions"]
    assert body["errors"][gone.id]["status"] == 404
    q = f"q=organizationalEntity&organizationalEntity={quote(org, safe='')}"
    q += f"&shares=List({quote(org_post.id, safe='')})"
    element = li(sandbox, "/rest/organizationalEntityShareStatistics", q).json()["elements"][0]
    assert set(element) == {"totalShareStatistics", "share", "organizationalEntity"}
    assert isinstance(element["totalShareStatistics"]["engagement"], float)
    tokens = social_company.member_tokens("linkedin", NOW)
    analysed = next(
        a for a in world.accounts if a.analytics and a.handle in tokens and world.visible_of(a, ts)
    )
    post = world.visible_of(analysed, ts)[0]
    kind = "share" if post.id.startswith("urn:li:share:") else "ugc"
    q = f"q=entity&entity=({kind}:{quote(post.id, safe='')})&queryType=IMPRESSION&aggregation=TOTAL"
    body = li(sandbox, "/rest/memberCreatorPostAnalytics", q, token=tokens[analysed.handle]).json()
    element = body["elements"][0]
    assert element["count"] == post.metrics_at(ts)["impressions"] and element["targetEntity"] == {
        kind: post.id
    }
    assert list(element["metricType"].values()) == ["IMPRESSION"]
    other = next(
        a
        for a in world.accounts
        if a.granted and not a.analytics and a.handle in tokens and world.visible_of(a, ts)
    )
    post = world.visible_of(other, ts)[0]
    kind = "share" if post.id.startswith("urn:li:share:") else "ugc"
    q = f"q=entity&entity=({kind}:{quote(post.id, safe='')})&queryType=IMPRESSION&aggregation=TOTAL"
    r = li(sandbox, "/rest/memberCreatorPostAnalytics", q, token=tokens[other.handle])
    assert r.status_code == 403 and r.json()["code"] == "ACCESS_DENIED"


def test_linkedin_enforces_who_may_read_what(sandbox, social_company, ids):
    """As documented (docs/platforms/linkedin.md): the organisation token reads its posts and
    members' reshares of them; a member's own post needs that member's token (403
    ACCESS_DENIED per URN in a batch get, and on a single get); a member token cannot read
    another member's post nor the organisation's follower count; /rest/connections is not a
    LinkedIn resource (404)."""
    world = social_company.social["linkedin"]
    ts = NOW.timestamp()
    tokens = social_company.member_tokens("linkedin", NOW)
    org_urn = ids["linkedin_organization_urn"]
    company_posts = {p.id for p in world.visible_of(world.company_account, ts)}
    members = [a for a in world.accounts if a.handle in tokens and world.visible_of(a, ts)]
    a, b = members[0], members[1]
    own = next(p for p in world.visible_of(a, ts) if p.ref_id not in company_posts)
    urns = "List(" + quote(own.id, safe="") + ")"
    for path in ("/rest/posts", "/rest/socialMetadata"):
        body = li(sandbox, path, f"ids={urns}").json()  # organisation token
        assert own.id not in body["results"] and body["errors"][own.id]["status"] == 403
        assert body["errors"][own.id]["code"] == "ACCESS_DENIED"
        assert own.id in li(sandbox, path, f"ids={urns}", token=tokens[a.handle]).json()["results"]
        assert (
            li(sandbox, path, f"ids={urns}", token=tokens[b.handle]).json()["errors"][own.id]["status"] == 403
        )
    single = li(sandbox, f"/rest/socialMetadata/{quote(own.id, safe='')}")
    assert single.status_code == 403 and single.json()["code"] == "ACCESS_DENIED"
    reshare = next(
        (p for p in world.posts if p.author != 0 and p.ref_id in company_posts and p.visible_at(ts)), None
    )
    if reshare is not None:  # a member's reshare of an organisation post: the organisation may read it
        r = li(sandbox, "/rest/posts", "ids=List(" + quote(reshare.id, safe="") + ")").json()
        assert reshare.id in r["results"]
    sizes = li(
        sandbox,
        f"/rest/networkSizes/{quote(org_urn, safe='')}",
        "edgeType=COMPANY_FOLLOWED_BY_MEMBER",
        token=tokens[a.handle],
    )
    assert sizes.status_code == 403
    assert li(sandbox, f"/rest/connections/{quote(a.id, safe='')}", token=tokens[a.handle]).status_code == 404
    v2 = li(sandbox, f"/v2/connections/{a.id}", token=tokens[a.handle], version=None)
    assert v2.status_code == 200 and set(v2.json()) == {"firstDegreeSize"}


def test_admin_endpoints_for_files_and_tokens(sandbox):
    tokens = requests.get(sandbox.url + "/_sandbox/member_tokens", timeout=10).json()
    assert set(tokens) == {"facebook", "linkedin"} and tokens["linkedin"]
    sessions = requests.get(sandbox.url + "/_sandbox/sessions.csv?as_of=2025-10-02T00:00:00Z", timeout=10)
    assert sessions.text.startswith("session_id,session_start,landing_page,utm_source")
    ga4 = requests.get(
        sandbox.url + "/_sandbox/sessions.csv?as_of=2025-10-02T00:00:00Z&style=ga4", timeout=10
    )
    assert "collected_traffic_source.manual_source" in ga4.text.splitlines()[0]
    reports = requests.get(sandbox.url + "/_sandbox/self_reports.csv", timeout=10)
    assert reports.text.startswith("employee_id,month,platform,posts,likes,comments,shares")
    truth = requests.get(
        sandbox.url + "/_sandbox/truth?as_of=2026-01-20T00:00:00Z&platforms=linkedin,x", timeout=30
    ).json()
    assert {p["platform"] for p in truth["posts"]} == {"x", "linkedin"}
