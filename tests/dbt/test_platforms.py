"""Facebook, Instagram and LinkedIn through the dbt project: one `dbt build` with all four platforms enabled.

The raw dataset is raw_data.py's (roster + X) plus a few hand-made records per
new platform in the exact shapes of the connectors' module docstrings
(advocacy.connectors.{facebook,instagram,linkedin}); the roster copies gain the
employees' facebook_user_id / instagram_username / linkedin_member_urn. Each
test states what the records say and what the marts must make of them.
"""

from __future__ import annotations

import json

import pytest
import raw_data
from test_dbt_project import Dbt, _d, _raw_database

pytestmark = pytest.mark.slow

D1, D2 = raw_data.RUN_DAYS
FEB, MAR = _d("2026-02-01"), _d("2026-03-01")

FB_PAGE = "900"
IG_COMPANY = "17841400000000900"
LI_ORG = "urn:li:organization:777"

# roster handles: employee -> (facebook_user_id, instagram_username, linkedin_member_urn)
HANDLES = {
    "E001": ("1001", "Ada.Loves", "urn:li:person:AdaA1"),  # Ada: registered 2026-01-12
    "E002": ("", "@bob_builds", ""),  # Bob: registered 2026-02-01
    "E004": ("1004", "", "urn:li:person:DanD4"),  # Dan: registered 2026-01-25
}


def _vars() -> dict:
    from test_dbt_project import _dbt_vars

    v = _dbt_vars()
    v["enabled_platforms"] = ["x", "facebook", "instagram", "linkedin"]
    v["company_handles"] = {
        **v["company_handles"],
        "facebook": [FB_PAGE],
        "instagram": [IG_COMPANY],
        "linkedin": [LI_ORG],
    }
    return v


# --------------------------------------------------------------------------- records
def _fb_post(
    pid,
    created,
    *,
    day,
    author,
    role,
    handle=None,
    message=None,
    found="member_timeline",
    also=(),
    parent=None,
    tags=(),
    links=(),
    likes=0,
    comments=0,
    shares=0,
    impressions=None,
):
    rec = {
        "id": pid,
        "created_time": created,
        "updated_time": created,
        "permalink_url": f"https://www.facebook.com/{pid}",
        "status_type": "shared_story" if parent else "mobile_status_update",
        "from": {"name": "Someone", "id": author},
        "reactions": {"data": [], "summary": {"total_count": likes, "viewer_reaction": "NONE"}},
        "comments": {
            "data": [],
            "summary": {"total_count": comments, "order": "ranked", "can_comment": True},
        },
        "_found_via": found,
        "_also_found_via": list(also),
        "_author_id": author,
        "_author_role": role,
        "_author_employee_handle": handle,
        "_hashtags": [t.lower() for t in (message or "").split() if t.startswith("#") for t in [t[1:]]],
        "_mentions_company": any(t["id"] == FB_PAGE for t in tags),
        "_links": list(links),
        "_reshare_of": parent if parent and parent.startswith(FB_PAGE + "_") else None,
        "_is_pure_reshare": bool(parent) and not message,
        "_likes": likes,
        "_comments": comments,
        "_shares": shares,
        "_impressions": impressions,
        "_insights": {"post_media_view": impressions} if impressions is not None else None,
        "_insights_dropped": [],
    }
    if message is not None:
        rec["message"] = message
    if tags:
        rec["message_tags"] = [{**t, "offset": 0, "length": 5} for t in tags]
    if parent:
        rec["parent_id"] = parent
    if shares:
        rec["shares"] = {"count": shares}
    if links:
        rec["attachments"] = {
            "data": [{"type": "share", "url": links[0], "unshimmed_url": links[0], "title": "x"}]
        }
    return rec


def facebook_records() -> dict[str, list[tuple[str, dict]]]:
    out = {
        "facebook__pages": [],
        "facebook__users": [],
        "facebook__posts": [],
        "facebook__post_errors": [],
        "facebook__member_errors": [],
    }
    for day in (D1, D2):
        grow = 0 if day == D1 else 1
        out["facebook__pages"].append(
            (
                day,
                {
                    "id": FB_PAGE,
                    "name": "Northwind Robotics",
                    "username": "northwindrobotics",
                    "link": "https://www.facebook.com/northwindrobotics",
                    "fan_count": 5000,
                    "followers_count": 5200 + 10 * grow,
                    "_role": "company",
                    "_audience": 5200 + 10 * grow,
                },
            )
        )
        for uid, friends in (("1001", 350), ("1004", 120)):
            out["facebook__users"].append(
                (
                    day,
                    {
                        "id": uid,
                        "name": "Advocate",
                        "friends": {"data": [], "summary": {"total_count": friends}},
                        "_role": "advocate",
                        "_audience": friends,
                    },
                )
            )
        # the Page's own post: suggested copy, never in fct_posts
        out["facebook__posts"].append(
            (
                day,
                _fb_post(
                    f"{FB_PAGE}_1",
                    "2026-02-09T08:00:00+0000",
                    day=day,
                    author=FB_PAGE,
                    role="company",
                    message="Meet our new robot arm #NorthwindRobotics",
                    found="page",
                    likes=50,
                    comments=5,
                    shares=3,
                    impressions=2000 + 100 * grow,
                ),
            )
        )
        # Ada: programme (hashtag), personalised; no impressions on personal posts
        out["facebook__posts"].append(
            (
                day,
                _fb_post(
                    "1001_1",
                    "2026-02-10T09:00:00+0000",
                    day=day,
                    author="1001",
                    role="advocate",
                    handle="1001",
                    message="Proud of the team! #LifeAtNorthwind",
                    likes=10 + 2 * grow,
                    comments=2,
                    shares=0,
                ),
            )
        )
        # Dan: pure share of the Page's post -> programme, pure reshare, credited 0
        out["facebook__posts"].append(
            (
                day,
                _fb_post(
                    "1004_1",
                    "2026-02-11T12:00:00+0000",
                    day=day,
                    author="1004",
                    role="advocate",
                    handle="1004",
                    parent=f"{FB_PAGE}_1",
                    likes=4,
                    comments=1,
                    shares=1,
                ),
            )
        )
        # a non-employee tagging the Page (found with the Page token): community post
        out["facebook__posts"].append(
            (
                day,
                _fb_post(
                    "555_1",
                    "2026-02-12T12:00:00+0000",
                    day=day,
                    author="555",
                    role="other",
                    found="page_tagged",
                    message="Visited Northwind today",
                    tags=[{"id": FB_PAGE, "name": "Northwind Robotics", "type": "page"}],
                    likes=3,
                ),
            )
        )
        if day == D1:
            # Ada, off topic, seen on day 1 only; the lookup reports it missing on day 2 -> deleted
            out["facebook__posts"].append(
                (
                    day,
                    _fb_post(
                        "1001_2",
                        "2026-02-20T18:00:00+0000",
                        day=day,
                        author="1001",
                        role="advocate",
                        handle="1001",
                        message="Weekend hike",
                        likes=1,
                    ),
                )
            )
    out["facebook__post_errors"].append(
        (
            D2,
            {
                "id": "1001_2",
                "error": {
                    "message": "(#803) Some of the aliases you requested do not exist: 1001_2",
                    "type": "OAuthException",
                    "code": 803,
                },
                "_found_via": "lookup",
                "_error_kind": "not_found",
            },
        )
    )
    out["facebook__member_errors"].append(
        (
            D2,
            {
                "member": "1004",
                "_error_kind": "token_expired",
                "error": {"message": "Error validating access token", "code": 190, "error_subcode": 463},
                "_action": "ask the advocate to sign in to the programme's app again",
            },
        )
    )
    return out


def _ig_media(
    mid,
    ts,
    *,
    caption=None,
    found,
    also=(),
    author=None,
    role="unknown",
    handle=None,
    likes=None,
    comments=0,
    username=None,
    mentions_company=False,
    links=(),
):
    rec = {
        "id": mid,
        "media_type": "IMAGE",
        "media_product_type": "FEED",
        "comments_count": comments,
        "permalink": f"https://www.instagram.com/p/{mid}/",
        "timestamp": ts,
        "_found_via": found,
        "_also_found_via": list(also),
        "_hashtag_ids": ["17843000000000001"] if (found == "hashtag" or "hashtag" in also) else [],
        "_author_username": author,
        "_author_role": role,
        "_author_employee_handle": handle,
        "_hashtags": [w[1:].lower() for w in (caption or "").split() if w.startswith("#")],
        "_mentions_company": mentions_company,
        "_links": list(links),
        "_reshare_of": None,
        "_is_pure_reshare": False,
        "_likes": likes,
        "_likes_hidden": likes is None,
        "_comments": comments,
        "_shares": None,
        "_impressions": None,
    }
    if caption is not None:
        rec["caption"] = caption
    if likes is not None:
        rec["like_count"] = likes
    if username:
        rec["username"] = username
    return rec


COMPANY_CAPTION = "Life at Northwind: robots! #lifeatnorthwind"


def instagram_records() -> dict[str, list[tuple[str, dict]]]:
    out = {
        "instagram__accounts": [],
        "instagram__media": [],
        "instagram__hashtags": [],
        "instagram__account_errors": [],
    }
    for day in (D1, D2):
        grow = 0 if day == D1 else 1
        out["instagram__accounts"].append(
            (
                day,
                {
                    "id": IG_COMPANY,
                    "username": "northwindhq_ig",
                    "name": "Northwind",
                    "followers_count": 8000,
                    "follows_count": 10,
                    "media_count": 300,
                    "_role": "company",
                    "_audience": 8000,
                },
            )
        )
        for iid, uname, handle, followers in (
            ("178414000000001", "ada.loves", "Ada.Loves", 640 + 5 * grow),
            ("178414000000002", "bob_builds", "bob_builds", 210),
        ):
            out["instagram__accounts"].append(
                (
                    day,
                    {
                        "id": iid,
                        "username": uname,
                        "name": uname,
                        "followers_count": followers,
                        "follows_count": 100,
                        "media_count": 50,
                        "_role": "advocate",
                        "_audience": followers,
                        "_handle": handle,
                    },
                )
            )
        out["instagram__hashtags"].append((day, {"id": "17843000000000001", "_query": "lifeatnorthwind"}))
        media = out["instagram__media"]
        # the company's media: suggested copy
        media.append(
            (
                day,
                _ig_media(
                    "IGC1",
                    "2026-02-09T08:00:00+0000",
                    caption=COMPANY_CAPTION,
                    found="company_media",
                    author="northwindhq_ig",
                    role="company",
                    username="northwindhq_ig",
                    likes=400,
                    comments=20,
                ),
            )
        )
        # Ada (roster 'Ada.Loves', case-insensitive): hashtag, personalised; also found by the hashtag search
        media.append(
            (
                day,
                _ig_media(
                    "IG1",
                    "2026-02-10T09:00:00+0000",
                    caption="Our lab today #LifeAtNorthwind",
                    found="business_discovery",
                    also=["hashtag"],
                    author="ada.loves",
                    role="advocate",
                    handle="Ada.Loves",
                    likes=30 + 5 * grow,
                    comments=3,
                ),
            )
        )
        # Bob: mentions the company account, likes hidden (likes null, not 0)
        media.append(
            (
                day,
                _ig_media(
                    "IG2",
                    "2026-02-15T10:00:00+0000",
                    caption="Loving the new office with @northwindhq_ig",
                    found="business_discovery",
                    author="bob_builds",
                    role="advocate",
                    handle="bob_builds",
                    likes=None,
                    comments=1,
                    mentions_company=True,
                ),
            )
        )
        # Bob: the company's caption verbatim -> programme, not personalised
        media.append(
            (
                day,
                _ig_media(
                    "IG4",
                    "2026-02-16T10:00:00+0000",
                    caption=COMPANY_CAPTION,
                    found="business_discovery",
                    author="bob_builds",
                    role="advocate",
                    handle="bob_builds",
                    likes=7,
                    comments=0,
                ),
            )
        )
        # hashtag search only: nobody known -> community post
        media.append(
            (
                day,
                _ig_media(
                    "IG3",
                    "2026-02-17T10:00:00+0000",
                    caption="Cool robots #northwindrobotics",
                    found="hashtag",
                    likes=9,
                    comments=1,
                ),
            )
        )
    out["instagram__account_errors"].append(
        (
            D2,
            {
                "username": "cleo_personal",
                "error": {"message": "Invalid user id", "code": 110},
                "_error_kind": "not_found_or_personal",
            },
        )
    )
    return out


def _li_post(
    pid,
    created_ms,
    *,
    author,
    commentary,
    found,
    role,
    handle=None,
    parent=None,
    parent_author=None,
    article=None,
    likes=0,
    comments=0,
    shares=None,
    impressions=None,
):
    import re

    rec = {
        "id": pid,
        "author": author,
        "commentary": commentary,
        "createdAt": created_ms,
        "publishedAt": created_ms,
        "lastModifiedAt": created_ms,
        "visibility": "PUBLIC",
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "_found_via": found,
        "_also_found_via": [],
        "_author_role": role,
        "_author_employee_handle": handle,
        "_hashtags": [t.lower() for t in re.findall(r"\{hashtag\|\\?#\|([^}]+)\}", commentary)],
        "_mentions_company": LI_ORG in commentary,
        "_links": [article] if article else [],
        "_reshare_of": parent if parent_author == LI_ORG else None,
        "_reshared_author": parent_author,
        "_is_pure_reshare": bool(parent) and commentary == "",
        "_social_metadata": {
            "reactionSummaries": {"LIKE": {"reactionType": "LIKE", "count": likes}},
            "commentSummary": {"count": comments, "topLevelCount": comments},
        },
        "_likes": likes,
        "_comments": comments,
        "_impressions": impressions,
        "_members_reached": None,
        "_shares": shares,
    }
    if parent:
        rec["reshareContext"] = {"parent": parent, "root": parent}
    if article:
        rec["content"] = {"article": {"source": article, "title": "Jobs"}}
    if role == "company":
        rec["_share_statistics"] = {
            "impressionCount": impressions,
            "shareCount": shares,
            "likeCount": likes,
            "commentCount": comments,
            "clickCount": 0,
            "engagement": 0.01,
        }
    else:
        rec["_member_analytics"] = (
            None if impressions is None else {"IMPRESSION": impressions, "RESHARE": shares}
        )
        rec["_analytics_status"] = "forbidden" if impressions is None else "ok"
    return rec


MS_FEB_10 = 1770714000000  # 2026-02-10T09:00:00Z


def linkedin_records() -> dict[str, list[tuple[str, dict]]]:
    out = {
        "linkedin__network_sizes": [],
        "linkedin__posts": [],
        "linkedin__post_errors": [],
        "linkedin__member_errors": [],
    }
    for day in (D1, D2):
        grow = 0 if day == D1 else 1
        for urn, size, role, edge in (
            (LI_ORG, 12000, "company", "COMPANY_FOLLOWED_BY_MEMBER"),
            ("urn:li:person:AdaA1", 900 + 10 * grow, "advocate", "FIRST_DEGREE_CONNECTION"),
            ("urn:li:person:DanD4", 450, "advocate", "FIRST_DEGREE_CONNECTION"),
        ):
            out["linkedin__network_sizes"].append(
                (day, {"firstDegreeSize": size, "_urn": urn, "_role": role, "_edge_type": edge})
            )
        posts = out["linkedin__posts"]
        posts.append(
            (
                day,
                _li_post(
                    "urn:li:share:1",
                    MS_FEB_10 - 86_400_000,
                    author=LI_ORG,
                    commentary="We are hiring {hashtag|\\#|NorthwindRobotics}",
                    found="organization",
                    role="company",
                    likes=100,
                    comments=10,
                    shares=7,
                    impressions=5000,
                ),
            )
        )
        # Ada: reshare with own words mentioning the organisation -> quote, programme, personalised
        posts.append(
            (
                day,
                _li_post(
                    "urn:li:share:2",
                    MS_FEB_10,
                    author="urn:li:person:AdaA1",
                    commentary=f"Great news from @[Northwind Robotics]({LI_ORG})",
                    found="member",
                    role="advocate",
                    handle="urn:li:person:AdaA1",
                    parent="urn:li:share:1",
                    parent_author=LI_ORG,
                    likes=20 + 5 * grow,
                    comments=4,
                    shares=1,
                    impressions=800 + 200 * grow,
                ),
            )
        )
        # Dan: pure reshare, no analytics permission -> credited 0, impressions null
        posts.append(
            (
                day,
                _li_post(
                    "urn:li:share:3",
                    MS_FEB_10 + 3_600_000,
                    author="urn:li:person:DanD4",
                    commentary="",
                    found="member",
                    role="advocate",
                    handle="urn:li:person:DanD4",
                    parent="urn:li:share:1",
                    parent_author=LI_ORG,
                    likes=2,
                    comments=1,
                ),
            )
        )
        # Ada: link to a company subdomain -> programme
        posts.append(
            (
                day,
                _li_post(
                    "urn:li:ugcPost:4",
                    MS_FEB_10 + 7_200_000,
                    author="urn:li:person:AdaA1",
                    commentary="Come work with me",
                    found="member",
                    role="advocate",
                    handle="urn:li:person:AdaA1",
                    article="https://careers.northwind.example/jobs/1",
                    likes=5,
                    comments=0,
                    shares=0,
                    impressions=200,
                ),
            )
        )
        if day == D1:
            posts.append(
                (
                    day,
                    _li_post(
                        "urn:li:share:5",
                        MS_FEB_10 + 86_400_000,
                        author="urn:li:person:DanD4",
                        commentary="Off-topic musings",
                        found="member",
                        role="advocate",
                        handle="urn:li:person:DanD4",
                        likes=1,
                    ),
                )
            )
    out["linkedin__post_errors"].append(
        (
            D2,
            {
                "id": "urn:li:share:5",
                "status": 404,
                "code": "NOT_FOUND",
                "message": "Not found",
                "_found_via": "lookup",
                "_error_kind": "not_found",
            },
        )
    )
    return out


KEYS = {
    "facebook__pages": "id",
    "facebook__users": "id",
    "facebook__posts": "id",
    "facebook__post_errors": "id",
    "facebook__member_errors": "member",
    "instagram__accounts": "id",
    "instagram__media": "id",
    "instagram__hashtags": "id",
    "instagram__account_errors": "username",
    "linkedin__network_sizes": "_urn",
    "linkedin__posts": "id",
    "linkedin__post_errors": "id",
    "linkedin__member_errors": "member",
}


def _record_time(table: str, rec: dict) -> str | None:
    if table == "facebook__posts":
        return rec["created_time"]
    if table == "instagram__media":
        return rec["timestamp"]
    if table == "linkedin__posts":
        import datetime as dt

        return dt.datetime.fromtimestamp(rec["createdAt"] / 1000, dt.UTC).isoformat()
    return None


def load_platforms(conn) -> dict[str, int]:
    """Raw tables of the three platforms in the loader's layout + the roster's handles."""
    counts = {}
    extracted = {
        d: conn.execute(
            "select max(_extracted_at) from raw.x__users where _interval_start = %s", (d,)
        ).fetchone()[0]
        for d in (D1, D2)
    }
    for table, rows in {**facebook_records(), **instagram_records(), **linkedin_records()}.items():
        conn.execute(
            f"""create table raw.{table} (
                _interval_start date not null, _extracted_at timestamptz not null,
                _landing_file text not null, _line_no integer not null, _record_key text,
                _record_time timestamptz, record jsonb not null)"""
        )
        line: dict[str, int] = {}
        for day, rec in rows:
            line[day] = line.get(day, 0) + 1
            source, stream = table.split("__")
            path = (
                f"/landing/{source}/{stream}/interval={day}/{extracted[day].strftime('%Y%m%dT%H%M%S')}.jsonl"
            )
            conn.execute(
                f"insert into raw.{table} values (%s, %s, %s, %s, %s, %s, %s)",
                (
                    day,
                    extracted[day],
                    path,
                    line[day],
                    str(rec[KEYS[table]]),
                    _record_time(table, rec),
                    json.dumps(rec),
                ),
            )
        counts[table] = len(rows)
    for emp, (fb, ig, li) in HANDLES.items():
        conn.execute(
            "update raw.roster__employees set record = record || %s::jsonb "
            "where record ->> 'employee_id' = %s",
            (json.dumps({"facebook_user_id": fb, "instagram_username": ig, "linkedin_member_urn": li}), emp),
        )
    conn.commit()
    return counts


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def warehouse(pg_server):
    gen = _raw_database(pg_server)
    target = next(gen)
    with target.connect() as conn:
        load_platforms(conn)
    yield target
    next(gen, None)


@pytest.fixture(scope="module")
def dbt(warehouse, tmp_path_factory):
    return Dbt(warehouse, tmp_path_factory.mktemp("dbt_platforms"))


@pytest.fixture(scope="module")
def built(dbt):
    # The full build, unit tests included: with every platform enabled it must
    # pass exactly as the nightly run would (unit tests pin their own platforms).
    return dbt("build", vars=_vars())


@pytest.fixture(scope="module")
def q(warehouse, built):
    def run(sql: str, *params):
        with warehouse.connect() as conn:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]

    return run


# --------------------------------------------------------------------------- tests
def test_build_passes_with_every_platform(built, dbt):
    out = built.stdout
    assert "Completed successfully" in out
    assert "ERROR=0" in out and "SKIP=0" in out
    assert "left out of every mart" not in out  # all four are implemented
    print(f"dbt build, four platforms: {dbt.timings['build']:.1f} s")  # measured, never asserted


def test_staging_models_per_platform(q):
    rows = q(
        "select table_name from information_schema.tables where table_schema = 'staging' "
        "and table_name ~ '^stg_(facebook|instagram|linkedin)__' order by 1"
    )
    assert [r[0] for r in rows] == [
        f"stg_{p}__{e}"
        for p in ("facebook", "instagram", "linkedin")
        for e in ("audience", "post_errors", "post_metrics", "posts")
    ]


POST_COLS = (
    "employee_id, is_programme_post, is_community_post, is_pure_reshare, is_personalised, post_type, "
    "likes, comments, shares, impressions, interactions, found_via, is_deleted"
)


def _posts(q, platform):
    return {
        r[0]: r[1:]
        for r in q(f"select post_id, {POST_COLS} from marts.fct_posts where platform = %s", platform)
    }


def test_facebook_posts(q):
    # employee, programme, community, pure reshare, personalised, type, likes, comments, shares,
    # impressions, interactions,
    # found_via, deleted. The Page's own post 900_1 is not there (company account: suggested copy).
    assert _posts(q, "facebook") == {
        # day-2 counters: 12 reactions + 2 comments + 0 shares; personal posts have no impressions
        "1001_1": ("E001", True, False, False, True, "original", 12, 2, 0, None, 14, "timeline", False),
        # a share of the Page's post without words: programme (reshare of a company post), credited 0
        "1004_1": ("E004", True, False, True, False, "reshare", 0, 0, 0, None, 0, "timeline", False),
        # someone outside the roster tagging the Page, read with the Page token: community
        "555_1": (None, False, True, False, True, "original", 3, 0, 0, None, 3, "search", False),
        # off topic; missing from the day-2 lookup -> deleted, keeps its day-1 counters
        "1001_2": ("E001", False, False, False, True, "original", 1, 0, 0, None, 1, "timeline", True),
    }
    # the tag of the Page counts as a company mention
    assert q("select mentions_company from marts.fct_posts where post_id = '555_1'") == [(True,)]


def test_instagram_posts(q):
    assert _posts(q, "instagram") == {
        # roster 'Ada.Loves' matched case-insensitively; found by her account and by the hashtag search
        "IG1": (
            "E001",
            True,
            False,
            False,
            True,
            "original",
            35,
            3,
            None,
            None,
            38,
            "timeline+search",
            False,
        ),
        # company mention (@northwindhq_ig = the business account); likes hidden -> null, not 0
        "IG2": ("E002", True, False, False, True, "original", None, 1, None, None, 1, "timeline", False),
        # the company's caption verbatim: programme, not personalised
        "IG4": ("E002", True, False, False, False, "original", 7, 0, None, None, 7, "timeline", False),
        # hashtag search only, no author: community
        "IG3": (None, False, True, False, True, "original", 9, 1, None, None, 10, "search", False),
    }
    assert q("select mentions_company, is_suggested_copy from marts.fct_posts where post_id = 'IG2'") == [
        (True, False)
    ]
    assert q("select is_suggested_copy from marts.fct_posts where post_id = 'IG4'") == [(True,)]


def test_linkedin_posts(q):
    assert _posts(q, "linkedin") == {
        # reshare with own words mentioning the organisation: quote, personalised
        "urn:li:share:2": ("E001", True, False, False, True, "quote", 25, 4, 1, 1000, 30, "timeline", False),
        # pure reshare: credited 0; no analytics permission -> impressions null
        "urn:li:share:3": ("E004", True, False, True, False, "reshare", 0, 0, 0, None, 0, "timeline", False),
        # a link to careers.northwind.example (subdomain of a company domain)
        "urn:li:ugcPost:4": (
            "E001",
            True,
            False,
            False,
            True,
            "original",
            5,
            0,
            0,
            200,
            5,
            "timeline",
            False,
        ),
        # off topic, deleted on day 2
        "urn:li:share:5": (
            "E004",
            False,
            False,
            False,
            True,
            "original",
            1,
            0,
            None,
            None,
            1,
            "timeline",
            True,
        ),
    }
    assert q(
        "select references_company_post, mentions_company from marts.fct_posts "
        "where post_id = 'urn:li:share:2'"
    ) == [(True, True)]
    assert q("select links_company_domain from marts.fct_posts where post_id = 'urn:li:ugcPost:4'") == [
        (True,)
    ]


def test_company_posts_are_suggested_copy_not_advocacy(q):
    assert q(
        "select platform, post_id from intermediate.int_company_posts where platform <> 'x' order by 1, 2"
    ) == [("facebook", "900_1"), ("instagram", "IGC1"), ("linkedin", "urn:li:share:1")]
    assert q("select count(*) from marts.fct_posts where post_id in ('900_1', 'IGC1', 'urn:li:share:1')") == [
        (0,)
    ]


def test_default_vars_leave_the_new_platforms_out(dbt, built):
    """With X alone enabled in the settings the three folders and sources are disabled: X builds alone."""
    from test_dbt_project import _dbt_vars

    proc = dbt(
        "ls",
        "--resource-type",
        "model",
        "--resource-type",
        "source",
        "--output",
        "name",
        vars=_dbt_vars(),
        label="ls",
    )
    names = proc.stdout
    assert "stg_x__posts" in names
    for p in ("facebook", "instagram", "linkedin"):
        assert f"stg_{p}__" not in names and f"{p}." not in names, p


def test_engagement_and_reach_have_every_platform_and_all(q):
    platforms = ["ALL", "facebook", "instagram", "linkedin", "x"]
    for mart in ("kpi_engagement_monthly", "kpi_reach_monthly"):
        rows = q(f"select distinct platform from marts.{mart} where month = %s order by 1", FEB)
        assert [r[0] for r in rows] == platforms, mart


def test_reach_counts_the_new_platforms_audiences(q):
    # February: active advocates per platform = employees with a programme post created in February.
    # facebook: Ada (1001_1) + Dan (1004_1, pure reshare counts as activity): 350 + 120 friends
    # instagram: Ada + Bob, linkedin: Ada + Dan. The snapshots are March's (640 / 645, 900 / 910):
    # February, before the first snapshot, gets the earliest one carried back (640 + 210, 900 + 450).
    rows = q(
        "select platform, active_advocates, potential_reach from marts.kpi_reach_monthly "
        "where month = %s and platform <> 'x' and platform <> 'ALL' order by 1",
        FEB,
    )
    assert rows == [("facebook", 2, 470), ("instagram", 2, 850), ("linkedin", 2, 1350)]


def test_freshness_mart_lists_the_new_streams(q):
    rows = q(
        "select source, stream from marts.fct_source_freshness "
        "where source in ('facebook', 'instagram', 'linkedin') "
        "order by 1, 2"
    )
    assert rows == [
        ("facebook", "post_errors"),
        ("facebook", "posts"),
        ("instagram", "accounts"),
        ("instagram", "media"),
        ("linkedin", "network_sizes"),
        ("linkedin", "post_errors"),
        ("linkedin", "posts"),
    ]


def test_source_freshness_covers_the_new_sources(dbt, built):
    proc = dbt("source", "freshness", vars=_vars(), check=False, label="freshness")
    assert proc.returncode == 0, proc.stdout[-4000:]
    for s in ("facebook.posts", "instagram.media", "linkedin.posts"):
        assert s in proc.stdout, s
