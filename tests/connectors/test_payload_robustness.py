"""Real recorded payloads, changed the ways platforms change them, through the connectors'
record code, the landing store and the loader into a real warehouse.

Optional fields go missing, new fields appear, texts carry emoji, right-to-left script or
100,000 characters, and ids grow beyond 64 bits (kept as strings): nothing may fail, no id
may change, and what lands in raw is exactly what the connector returned.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from advocacy import landing, load
from advocacy.connectors import facebook, instagram, linkedin, x
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CONTRACTS = Path(__file__).resolve().parents[1] / "fixtures" / "api"  # PROVENANCE.md per platform
DAY = dt.date(2026, 11, 22)

TEXTS = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "Proud of the team 🤖🚀👩🏽‍💻 #LifeAtNorthwind",
            "فخورون بفريقنا #LifeAtNorthwind https://northwind.example/jobs",  # right-to-left
            "שלום עולם @NorthwindHQ ‏#NorthwindRobotics‏",
            "x" * 100_000,
            "null byte \x00 inside",
            "",
        ]
    ),
)
BIG_ID = st.integers(min_value=2**64, max_value=2**80).map(str)
NEW_FIELDS = st.dictionaries(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=12).map(lambda k: "new_" + k),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20), st.lists, max_leaves=5),
    max_size=3,
)


def contract_body(platform: str, name: str):
    return json.loads((CONTRACTS / platform / f"{name}.json").read_text(encoding="utf-8"))["body"]


def mutate(obj: dict, data, text_key: str, required: tuple[str, ...]) -> dict:
    """Drop some optional fields, add new ones, rewrite the text, grow the id beyond 64 bits."""
    out = {k: v for k, v in obj.items() if k in required or not data.draw(st.booleans())}
    out.update(data.draw(NEW_FIELDS))
    out[text_key] = data.draw(TEXTS)
    out["id"] = data.draw(BIG_ID)
    return out


def check_record(rec: dict, sent: dict) -> None:
    assert rec["id"] == sent["id"] and isinstance(rec["id"], str)
    for k, v in sent.items():  # the platform's own fields, new ones included, pass through
        assert rec[k] == v, k
    assert isinstance(rec["_hashtags"], list) and isinstance(rec["_links"], list)
    assert all(h == h.lower() and not h.startswith("#") for h in rec["_hashtags"])
    json.dumps(rec)  # lands as JSON


PROFILE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROFILE
@given(data=st.data())
def test_facebook_posts_survive_drift(data):
    for post in contract_body("facebook", "page_feed__recorded_with_reaction_comment_summaries")["data"]:
        sent = mutate(post, data, "message", required=())
        rec = facebook.annotate(sent, "page_feed", page_ids={"20531316728"}, advocates=set())
        check_record(rec, sent)
        assert rec["_likes"] is None or rec["_likes"] >= 0


@PROFILE
@given(data=st.data())
def test_instagram_media_survive_drift(data):
    for media in contract_body("instagram", "hashtag_recent_media__recorded_page1")["data"]:
        sent = mutate(media, data, "caption", required=())
        rec = instagram.annotate(sent, "hashtag", author=None, role="unknown", company_username="northwindhq")
        check_record(rec, sent)


@PROFILE
@given(data=st.data())
def test_linkedin_posts_survive_drift(data):
    post = contract_body("linkedin", "post_single__fixture_ebx")
    sent = mutate(post, data, "commentary", required=("author",))
    rec = linkedin.annotate(sent, "organization", orgs={"urn:li:organization:2414183"}, advocates=set())
    check_record(rec, sent)


@PROFILE
@given(data=st.data())
def test_x_tweets_survive_drift(data):
    """X's parsing helpers on a tweet whose optional fields come and go."""
    for tweet in contract_body("x", "tweets_lookup__documented_full_fields")["data"]:
        sent = mutate(tweet, data, "text", required=())
        metrics = x.normalise_public_metrics(sent.get("public_metrics"))
        assert all(v is None or v >= 0 for v in metrics.values())
        created = x.parse_created_at(sent.get("created_at"))
        assert created is None or created.tzinfo is not None
        json.dumps(sent)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(
    st.fixed_dictionaries({"id": BIG_ID, "text": TEXTS, "created_at": st.just("2026-11-22T10:00:00.000Z")})
    .flatmap(lambda r: NEW_FIELDS.map(lambda extra: {**extra, **r})),
    min_size=1, max_size=5, unique_by=lambda r: r["id"],
))  # fmt: skip
def test_drifted_records_land_and_load_unchanged(warehouse, tmp_path_factory, records):
    root = str(tmp_path_factory.mktemp("landing"))
    f = landing.write(root, "x", "tweets", DAY, records, dt.datetime.now(dt.UTC))
    spec = load.StreamSpec(key="id", time="created_at")
    assert load.load_file(warehouse, f, spec) == len(records)
    with warehouse.connect() as conn:
        rows = conn.execute(
            "select _record_key, record from raw.x__tweets where _landing_file = %s order by _line_no",
            (f.path,),
        ).fetchall()
    assert [r[0] for r in rows] == [r["id"] for r in records]  # ids beyond 64 bits, exact strings
    assert [r[1] for r in rows] == [stored(r) for r in records]


def stored(value):
    """What PostgreSQL can hold: U+0000 (valid JSON, refused by jsonb) becomes U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [stored(v) for v in value]
    if isinstance(value, dict):
        return {stored(k): stored(v) for k, v in value.items()}
    return value
