"""Facebook, Instagram, LinkedIn and GA4 parsing on the REAL recorded/documented payloads in
``tests/fixtures/api`` (each folder's PROVENANCE.md names the source), and the sandbox's
answers compared with them key by key."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import quote

import facebook
import pytest
import requests
from advocacy.connectors import facebook as fbc
from advocacy.connectors import instagram as igc
from advocacy.connectors import linkedin as lic
from advocacy.connectors.base import ConnectionInfo
from advocacy.connectors.graph import (
    GraphAuthError,
    GraphClient,
    GraphError,
    GraphPermissionError,
    GraphRateLimitError,
    parse_usage,
    split_next,
)
from advocacy.sandbox.files import GA4_COLUMNS
from advocacy.sandbox.server import running_sandbox

CONTRACTS = Path(__file__).resolve().parents[1] / "fixtures" / "api"

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)  # as in conftest.py


def contract(platform: str, name: str) -> dict:
    return json.loads((CONTRACTS / platform / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sandbox(social_company):
    with running_sandbox(company=social_company, now=NOW) as sb:
        yield sb


def graph_get(sb, path, **params) -> dict:
    return requests.get(
        sb.url + path, params={"access_token": "sandbox-graph-token", **params}, timeout=10
    ).json()


def shape(value):
    """The key structure of a JSON value (dict keys recursively, first element of lists)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


# --------------------------------------------------------------------------- Facebook
def test_recorded_feed_with_summaries_parses():
    body = contract("facebook", "page_feed__recorded_with_reaction_comment_summaries")["body"]
    page = "19292868552"
    for post in body["data"]:
        rec = fbc.annotate(post, "page", page_ids={page}, advocates=set())
        assert rec["_likes"] == post["reactions"]["summary"]["total_count"]
        assert rec["_comments"] == post["comments"]["summary"]["total_count"]
        assert rec["_shares"] == post["shares"]["count"]
        assert rec["_author_role"] == "company" and rec["_author_id"] == page
        assert fbc.parse_graph_time(post["created_time"]).tzinfo is dt.UTC
        assert any("utm_" in u or "fb.me" in u or "facebook.com" in u for u in rec["_links"])
    assert fbc.parse_graph_time("2021-07-09T19:09:52+0000") == dt.datetime(
        2021, 7, 9, 19, 9, 52, tzinfo=dt.UTC
    )
    path, args = split_next(body["paging"]["next"])
    assert path == "v10.0/19292868552/feed" and args["after"] == "after" and "access_token" not in args
    assert args["fields"].startswith("id,attachments{")


def test_recorded_post_without_shares_and_time_based_paging():
    post = contract("facebook", "post_single__recorded_shares_key_absent")["body"]
    rec = fbc.annotate(post, "lookup", page_ids={"175154750010052"}, advocates=set())
    assert "shares" not in post and rec["_shares"] == 0 and rec["_likes"] == 1 and rec["_comments"] == 0
    assert rec["_hashtags"] == [] and rec["_is_pure_reshare"] is False
    body = contract("facebook", "page_posts__recorded_time_based_paging")["body"]
    assert "cursors" not in body["paging"]
    path, args = split_next(body["paging"]["next"])
    assert path == "v10.0/4/posts"
    assert args["until"] == "1624385168" and args["since"] == "" and "__paging_token" in args
    assert "__previous" in args and "access_token" not in args  # every parameter kept, the token replaced


def test_recorded_errors_become_the_right_exceptions():
    gc = GraphClient(ConnectionInfo("facebook_graph", "", password="t"), "Facebook")
    cases = {
        "error_100__recorded_missing_permission": (GraphPermissionError, 100, False),
        "error_190__documented": (GraphAuthError, 190, False),
        "error_4__observed_app_request_limit": (GraphRateLimitError, 4, True),
    }
    for name, (cls, code, transient) in cases.items():
        body = contract("facebook", name)["body"]
        err = gc.error_from(facebook.GraphAPIError(body), "reading")
        assert type(err) is cls and err.code == code and err.transient is transient
        assert "facebook_graph" in str(err) and err.error == body["error"]
    assert (
        gc.error_from(
            facebook.GraphAPIError(contract("facebook", "error_190__documented")["body"]), "x"
        ).subcode
        == 460
    )
    html = gc.error_from(facebook.GraphAPIError("Maintype was not text, image, or querystring"), "reading")
    assert type(html) is GraphError and html.code is None and html.transient


def test_recorded_usage_headers_parse_and_documented_samples_are_tolerated():
    c = contract("facebook", "rate_limit_usage_headers__documented")
    assert parse_usage(c["headers"]) == (91.0, 0.0)
    raw = {k: v.split(": ", 1)[1] for k, v in c["headers_documented_sample_raw"].items()}
    assert parse_usage(raw) == (None, 0.0)  # comments and placeholders: not JSON, ignored
    assert parse_usage({}) == (None, 0.0)


def test_sandbox_feed_shape_matches_the_recording(sandbox, social_company):
    recorded = contract("facebook", "page_feed__recorded_with_reaction_comment_summaries")["body"]["data"][0]
    page = social_company.social.ids()["facebook_page_id"]
    fields = "id,created_time,message,message_tags,permalink_url,shares,status_type,updated_time,"
    fields += "comments.summary(true).limit(0),reactions.summary(true).limit(0)"
    ours = next(
        p
        for p in graph_get(sandbox, f"/v21.0/{page}/posts", fields=fields, limit=50)["data"]
        if "shares" in p
    )
    for key in ("id", "created_time", "message", "permalink_url", "shares", "status_type", "updated_time"):
        assert shape(ours[key]) == shape(recorded[key]), key
    assert shape(ours["reactions"]) == shape(recorded["reactions"])
    assert shape(ours["comments"]) == shape(recorded["comments"])


# --------------------------------------------------------------------------- Instagram
def test_recorded_hashtag_media_parse():
    page1 = contract("instagram", "hashtag_recent_media__recorded_page1")["body"]
    last = contract("instagram", "hashtag_recent_media__recorded_last_page")["body"]
    assert "paging" not in last and set(page1["paging"]) == {"cursors", "next"}
    for media in page1["data"] + last["data"]:
        rec = igc.annotate(
            media, "hashtag", author=None, role="unknown", company_username="northwindrobotics"
        )
        assert rec["_likes"] == media["like_count"] and rec["_comments"] == media["comments_count"]
        assert rec["_likes_hidden"] is False and rec["_author_username"] is None
    hidden = igc.annotate(
        {"id": "1", "comments_count": 2}, "hashtag", author=None, role="unknown", company_username=None
    )
    assert hidden["_likes"] is None and hidden["_likes_hidden"] is True
    top = contract("instagram", "hashtag_top_media__recorded_with_caption_permalink")["body"]["data"][0]
    rec = igc.annotate(top, "hashtag", author=None, role="unknown", company_username=None)
    assert "makkah__madinah" in rec["_hashtags"]
    path, args = split_next(page1["paging"]["next"])
    assert path == "v4.0/17843826142012701/top_media" and args["after"] == "after"
    documented = contract("instagram", "hashtag_recent_media__documented")["body"]
    assert set(documented["data"][0]) == {"id", "media_type", "comments_count", "like_count"}


def test_sandbox_instagram_shapes_match_the_recordings(sandbox, social_company):
    ids = social_company.social.ids()
    search = graph_get(
        sandbox, "/v21.0/ig_hashtag_search", user_id=ids["instagram_user_id"], q="LifeAtNorthwind"
    )
    assert shape(search) == shape(contract("instagram", "ig_hashtag_search__documented")["body"])
    recorded = contract("instagram", "hashtag_recent_media__recorded_page1")["body"]
    hid = search["data"][0]["id"]
    body = graph_get(
        sandbox,
        f"/v21.0/{hid}/recent_media",
        user_id=ids["instagram_user_id"],
        fields="id,media_type,comments_count,like_count",
        limit=1,
    )
    assert set(body) == set(recorded) and set(body["paging"]) == set(recorded["paging"])
    assert set(body["paging"]["cursors"]) == set(recorded["paging"]["cursors"])
    every = graph_get(
        sandbox,
        f"/v21.0/{hid}/recent_media",
        user_id=ids["instagram_user_id"],
        fields="id,media_type,comments_count,like_count",
        limit=50,
    )["data"]
    assert shape(next(m for m in every if "like_count" in m)) == shape(recorded["data"][0])
    top = contract("instagram", "hashtag_top_media__recorded_with_caption_permalink")["body"]["data"][0]
    fields = "caption,comments_count,id,like_count,media_type,media_url,permalink"
    media = graph_get(sandbox, f"/v21.0/{ids['instagram_user_id']}/media", fields=fields, limit=20)["data"]
    full = next(m for m in media if "like_count" in m)
    assert shape(full) == shape(top)


# --------------------------------------------------------------------------- LinkedIn
def test_recorded_linkedin_post_parses():
    post = contract("linkedin", "post_single__fixture_ebx")["body"]
    rec = lic.annotate(post, "organization", orgs={"urn:li:organization:5515715"}, advocates=set())
    assert rec["_author_role"] == "company" and rec["_is_pure_reshare"] is False and rec["_links"] == []
    assert lic.STREAMS["posts"].time == "createdAt" and isinstance(post["createdAt"], int)
    assert dt.datetime.fromtimestamp(post["createdAt"] / 1000, dt.UTC).year == 2021  # milliseconds
    stats = contract("linkedin", "org_share_statistics_element__documented_specific_share")["body"]
    assert isinstance(stats["totalShareStatistics"]["engagement"], float)


def test_sandbox_linkedin_shapes_match_the_recordings(sandbox, social_company):
    ids = social_company.social.ids()
    org = ids["linkedin_organization_urn"]
    headers = {"Authorization": "Bearer sandbox-linkedin-token", "LinkedIn-Version": "202610"}

    def get(path, query):
        return requests.get(f"{sandbox.url}{path}?{query}", headers=headers, timeout=10).json()

    sizes = get(f"/rest/networkSizes/{quote(org, safe='')}", "edgeType=CompanyFollowedByMember")
    assert shape(sizes) == shape(contract("linkedin", "network_sizes__recorded_postman_example")["body"])
    posts = get("/rest/posts", f"q=author&author={quote(org, safe='')}&count=5")["elements"]
    fixture = contract("linkedin", "post_single__fixture_ebx")["body"]
    common = set(fixture) - {"adContext", "content"}  # a sponsored video post in the fixture
    assert common <= set(posts[0])
    for key in common:
        assert type(posts[0][key]) is type(fixture[key]), key
    element = contract("linkedin", "org_share_statistics_element__documented_specific_share")["body"]
    q = f"q=organizationalEntity&organizationalEntity={quote(org, safe='')}"
    q += f"&shares=List({quote(posts[0]['id'], safe='')})"
    ours = get("/rest/organizationalEntityShareStatistics", q)["elements"][0]
    assert shape(ours) == shape(element)
    assert shape(sizes) == shape(contract("linkedin", "network_sizes__documented")["body"])
    # connections size: the documented v2 path, the member's own token, the documented body
    member, token = sorted(social_company.member_tokens("linkedin", NOW).items())[0]
    size = requests.get(
        f"{sandbox.url}/v2/connections/{member}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert size.status_code == 200
    assert shape(size.json()) == shape(contract("linkedin", "connections_size__documented")["body"])


# --------------------------------------------------------------------------- GA4
def test_ga4_variant_uses_the_documented_field_names():
    fields = contract("analytics", "ga4_bigquery_export_traffic_source_fields")["body"][
        "collected_traffic_source"
    ]["fields"]
    ours = [c.split(".", 1)[1] for c in GA4_COLUMNS if c.startswith("collected_traffic_source.")]
    assert ours and set(ours) <= set(fields)
    assert {"event_timestamp", "event_date"} <= set(GA4_COLUMNS)


def test_uri_form_connection_extras_are_strings():
    from advocacy.connectors.base import as_list, member_tokens_of

    assert as_list("post_media_view, post_impressions", ()) == ["post_media_view", "post_impressions"]
    assert as_list('["IMPRESSION","RESHARE"]', ()) == ["IMPRESSION", "RESHARE"]
    assert as_list(None, ("a",)) == ["a"]
    c = ConnectionInfo(
        "linkedin_api", "", password="t", extra={"member_tokens": '{"urn:li:person:A": "tok"}'}
    )
    assert member_tokens_of(c) == {"urn:li:person:A": "tok"}


def test_every_fixture_names_its_source():
    """Each recorded/documented payload says where it came from, in the file and in the
    platform's PROVENANCE.md."""
    for folder in sorted(p for p in CONTRACTS.iterdir() if p.is_dir()):
        provenance = (folder / "PROVENANCE.md").read_text(encoding="utf-8")
        files = sorted(folder.glob("*.json"))
        assert files, folder
        for f in files:
            data = json.loads(f.read_text(encoding="utf-8"))
            assert data.get("source") and data.get("provenance"), f
            assert f"`{f.name}`" in provenance, f
