"""The documented Bluesky payloads (tests/fixtures/api/bluesky) against the lexicons and the connector.

Every fixture parses with the atproto SDK's models (generated from the lexicons); the
connector's record mapping reads them as documented; the sandbox serves the same shapes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from advocacy.connectors import bluesky
from atproto_client import models
from atproto_client.models.utils import get_or_create

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "api" / "bluesky"
COMPANY = "northwindrobotics.bsky.social"
RESPONSES = {
    "getProfiles.json": models.AppBskyActorGetProfiles.Response,
    "getAuthorFeed.json": models.AppBskyFeedGetAuthorFeed.Response,
    "getPosts.json": models.AppBskyFeedGetPosts.Response,
    "searchPosts.json": models.AppBskyFeedSearchPosts.Response,
    "createSession.json": models.ComAtprotoServerCreateSession.Response,
}


def load(name: str):
    return json.loads((FIXTURES / name).read_text())["body"]  # the envelope: source, endpoint, ...


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_fixture_matches_the_lexicon(name):
    parsed = get_or_create(load(name), RESPONSES[name], strict=True)
    assert parsed is not None


def test_every_fixture_is_documented():
    readme = (FIXTURES / "PROVENANCE.md").read_text()
    assert all(p.name in readme for p in FIXTURES.glob("*.json"))


def _run():
    run = bluesky._Run(None, {"alice.example.com": "advocate", COMPANY: "company"}, [COMPANY], None)
    run.company_dids = {"did:plc:ewvi7nxzyoun6zhxrhs64oiz"}
    return run


def test_author_feed_items_map_to_posts_quotes_replies_and_reposts():
    run = _run()
    feed = load("getAuthorFeed.json")["feed"]
    recs = {}
    for item in feed:
        reason = str((item.get("reason") or {}).get("$type"))
        if reason.endswith("#reasonPin"):
            continue  # what the connector skips: a pinned post repeats an older one
        rec = run._repost(item, "timeline") if reason.endswith("#reasonRepost") else run._annotate(
            item["post"], "timeline")  # fmt: skip
        recs[rec["_post_type"]] = rec
    assert set(recs) == {"post", "repost", "quote", "reply"}
    post = recs["post"]
    assert post["_hashtags"] == ["lifeatnorthwind"]
    assert post["_mention_handles"] == [COMPANY] and post["_mentions_company"]
    assert post["_links"] == [post["record"]["facets"][2]["features"][0]["uri"]]
    assert (post["_likes"], post["_comments"], post["_shares"], post["_impressions"]) == (14, 1, 2, None)
    assert post["_author_role"] == "advocate" and post["_created_at"] == "2026-11-18T14:03:27.000Z"
    repost = recs["repost"]
    assert repost["uri"].split("/")[3] == "app.bsky.feed.repost" and repost["_is_pure_reshare"]
    assert repost["_reshare_of_author"] == COMPANY and repost["_likes"] is None
    assert repost["_created_at"] == "2026-11-17T12:30:00.000Z"
    quote = recs["quote"]
    assert quote["_reshare_of"] == repost["_reshare_of"] and quote["_reshare_of_author"] == COMPANY
    assert not quote["_is_pure_reshare"]
    assert recs["reply"]["record"]["reply"]["parent"]["uri"] == repost["_reshare_of"]


def test_get_posts_leaves_deleted_posts_out():
    asked = load("getPosts_request.json")["uris"]
    got = {p["uri"] for p in load("getPosts.json")["posts"]}
    assert len(asked) == 3 and len(got) == 2 and asked[2] not in got


def test_errors_and_rate_limit_headers():
    errors = load("errors.json")
    assert errors["rate_limited"]["status"] == 429
    reset = int(errors["rate_limited"]["headers"]["ratelimit-reset"])
    assert dt.datetime.fromtimestamp(reset, dt.UTC).year >= 2025  # epoch seconds, not a delay
    assert all(
        {"error", "message"} <= set(e["body"]) for k, e in errors.items() if k != "search_without_session"
    )


def test_the_sandbox_serves_the_documented_shapes(social_company):
    from advocacy.sandbox.bluesky import world

    w = world(social_company)
    ts = dt.datetime(2026, 11, 22, tzinfo=dt.UTC).timestamp()
    kinds = {}
    for p in w.posts:
        if p.visible_at(ts) and p.kind not in kinds and (p.kind != "quote" or p.ref.visible_at(ts)):
            kinds[p.kind] = w.feed_item(p, ts)
    assert {"company", "original", "quote", "reply", "repost"} <= set(kinds)
    body = {"feed": list(kinds.values()), "cursor": "x"}
    get_or_create(body, models.AppBskyFeedGetAuthorFeed.Response, strict=True)
    profiles = {"profiles": [w.profile(a, ts) for a in w.actors[:5]]}
    get_or_create(profiles, models.AppBskyActorGetProfiles.Response, strict=True)
    for item in kinds.values():  # facets point at the text they annotate
        record = item["post"]["record"]
        raw = record["text"].encode()
        for facet in record.get("facets", []):
            piece = raw[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode()
            feature = facet["features"][0]
            if feature["$type"].endswith("#tag"):
                assert piece == "#" + feature["tag"]
            elif feature["$type"].endswith("#mention"):
                assert piece.startswith("@")
