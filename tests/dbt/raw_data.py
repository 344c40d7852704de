"""A small, hand-made but realistic `raw` schema for the dbt project's tests.

Everything here follows the loader's contract (plugins/README.md: one table
per source/stream, the same seven columns) and the record shapes of the X API
v2 plus the connector's `_` annotations (advocacy.connectors.x). Two nightly
runs (2026-03-01 and 2026-03-02) of a programme that started 2026-01-05;
the report date is 2026-03-03. Expected mart values are worked out by hand in
test_dbt_project.py from the comments below.

People (roster, identical on both runs):
  E001 Ada    Engineering  invited 01-10 registered 01-12  consent   @AdaL (mixed case)
  E002 Bob    Engineering  invited 01-10 registered 02-01  no consent @bobb
  E003 Cleo   Sales        invited 02-01 not registered    no consent @cleoc
  E004 Dan    Sales        invited 01-20 registered 01-25  consent   @dand
  E005 Eve    Marketing    never invited                    no consent (no X account)
  E006 Finn   Engineering  invited 01-10 registered 01-15 left 01-31, consent, @finnf
"""

from __future__ import annotations

import datetime as dt
import json

AS_OF = "2026-03-03"
RUN_DAYS = ("2026-03-01", "2026-03-02")
COMPANY_ID = "100"

RAW_TABLES = (
    "roster__employees",
    "x__users",
    "x__tweets",
    "x__tweet_errors",
    "x__user_errors",
    "web__sessions",
    "self_report__activity",
)

ROSTER = [
    # employee_id, email, full_name, department, country, hired_at, left_at, invited_at,
    # registered_at, consent_public, x_username, utm_code
    ("E001", "ada@northwind.example", "Ada Lovelace", "Engineering", "NL", "2024-05-01", "",
     "2026-01-10", "2026-01-12", "true", "AdaL", "ada1"),
    ("E002", "bob@northwind.example", "Bob Builder", "Engineering", "DE", "2023-02-01", "",
     "2026-01-10", "2026-02-01", "false", "@bobb", "bob2"),
    ("E003", "cleo@northwind.example", "Cleo Carter", "Sales", "NL", "2025-09-15", "",
     "2026-02-01", "", "false", "cleoc", "cle3"),
    ("E004", "dan@northwind.example", "Dan Dorsey", "Sales", "BE", "2022-11-01", "",
     "2026-01-20", "2026-01-25", "true", "dand", "dan4"),
    ("E005", "eve@northwind.example", "Eve Evans", "Marketing", "NL", "2025-01-01", "",
     "", "", "false", "", "eve5"),
    ("E006", "finn@northwind.example", "Finn Fox", "Engineering", "NL", "2021-03-01", "2026-01-31",
     "2026-01-10", "2026-01-15", "true", "finnf", "fin6"),
]  # fmt: skip

USERS = {  # username -> (id, followers on 03-01, followers on 03-02, role)
    "AdaL": ("11", 1000, 1010, "advocate"),
    "bobb": ("12", 500, 500, "advocate"),
    "cleoc": ("13", 300, 300, "advocate"),
    "dand": ("14", 800, 820, "advocate"),
    "finnf": ("16", 200, 200, "advocate"),
    "NorthwindHQ": (COMPANY_ID, 50000, 50100, "company"),
}
USER_IDS = {name: v[0] for name, v in USERS.items()}
USER_IDS["robofan"] = "555"

C1_TEXT = "Meet the robots that pack 1,000 boxes an hour #NorthwindRobotics https://t.co/c1AAAAAAAA"


def _tags(*tags):
    return [{"start": 0, "end": len(t) + 1, "tag": t} for t in tags]


def _urls(*pairs):
    return [
        {"start": 0, "end": 23, "url": tco, "expanded_url": exp, "display_url": exp.split("://")[1][:20]}
        for tco, exp in pairs
    ]


def _metrics(likes, replies, retweets, quotes, impressions=None, bookmarks=0):
    m = {"retweet_count": retweets, "reply_count": replies, "like_count": likes, "quote_count": quotes}
    if impressions is not None:  # 6 keys; otherwise the 4-key form
        m["bookmark_count"] = bookmarks
        m["impression_count"] = impressions
    return m


# Posts: id -> the tweet object (without public_metrics) and where each run saw it.
# occurrences: run day -> (found_via, also_found_via, public_metrics) ; metrics per run day.
POSTS = {
    # company post, suggested copy (company timeline on 03-01, and the hashtag search on 03-02)
    "9001": dict(
        author="NorthwindHQ", created="2026-01-30T09:00:00.000Z", text=C1_TEXT,
        entities={"hashtags": _tags("NorthwindRobotics"),
                  "urls": _urls(("https://t.co/c1AAAAAAAA", "https://northwind.example/robots?utm_source=x"))},
        seen={"2026-03-01": ("company_timeline", [], _metrics(40, 5, 12, 2, 9000)),
              "2026-03-02": ("search", [], _metrics(45, 5, 13, 2, 9900))},
    ),
    "9002": dict(
        author="NorthwindHQ", created="2026-03-01T09:00:00.000Z",
        text="We are hiring engineers! #LifeAtNorthwind https://t.co/c2BBBBBBBB",
        entities={"hashtags": _tags("LifeAtNorthwind"),
                  "urls": _urls(("https://t.co/c2BBBBBBBB", "https://northwind.example/jobs"))},
        seen={"2026-03-01": ("company_timeline", [], _metrics(10, 1, 3, 0, 2000))},
    ),
    # P1 Ada, original with hashtag; timeline both runs, search too on 03-02 (timeline+search)
    "1001": dict(
        author="AdaL", created="2026-02-03T10:00:00.000Z",
        text="Proud of my team shipping the new gripper today #LifeAtNorthwind",
        entities={"hashtags": _tags("LifeAtNorthwind")},
        seen={"2026-03-01": ("timeline", [], _metrics(10, 2, 3, 1, 500)),
              "2026-03-02": ("timeline", ["search"], _metrics(12, 2, 4, 1, 650))},
    ),
    # P2 Ada, the company's copy verbatim (other t.co link, other case/whitespace);
    # 23:30 UTC on Jan 31 = Feb 1 in Amsterdam -> a February post
    "1002": dict(
        author="AdaL", created="2026-01-31T23:30:00.000Z",
        text="Meet the robots that  pack 1,000 boxes an hour #northwindrobotics https://t.co/v2CCCCCCCC",
        entities={"hashtags": _tags("northwindrobotics"),
                  "urls": _urls(("https://t.co/v2CCCCCCCC", "https://northwind.example/robots?utm_content=ada1"))},
        seen={"2026-03-01": ("timeline", [], _metrics(3, 0, 1, 0, 200)),
              "2026-03-02": ("lookup", [], _metrics(4, 1, 1, 0, 260))},
    ),
    # P3 Dan, retweet of the company post: a pure reshare (X reports the original's retweets)
    "1003": dict(
        author="dand", created="2026-02-06T08:00:00.000Z", text="RT @NorthwindHQ: " + C1_TEXT,
        entities={"hashtags": _tags("NorthwindRobotics"),
                  "mentions": [{"start": 3, "end": 15, "username": "NorthwindHQ", "id": COMPANY_ID}]},
        referenced=[("retweeted", "9001", "NorthwindHQ")],
        seen={"2026-03-01": ("timeline", [], _metrics(0, 0, 12, 0, 0)),
              "2026-03-02": ("lookup", [], _metrics(0, 0, 13, 0, 0))},
    ),
    # P4 Dan, quote of the company post with own words; the connector could not resolve the
    # quoted author (null): the quoted id is a known company post. 4-key metrics (no impressions).
    "1004": dict(
        author="dand", created="2026-02-20T15:00:00.000Z",
        text="This is what our team built, so proud! https://t.co/q4DDDDDDDD",
        entities={"urls": _urls(("https://t.co/q4DDDDDDDD", "https://twitter.com/NorthwindHQ/status/9001"))},
        referenced=[("quoted", "9001", None)],
        seen={"2026-03-01": ("timeline", [], _metrics(5, 1, 0, 0)),
              "2026-03-02": ("lookup", [], _metrics(6, 1, 1, 0))},
    ),
    # P5 Ada, off-topic: not a programme post
    "1005": dict(
        author="AdaL", created="2026-02-10T17:00:00.000Z", text="Weekend hike in the dunes, lovely weather",
        entities=None,
        seen={"2026-03-01": ("timeline", [], _metrics(20, 3, 1, 0, 900))},
    ),
    # P6 Bob (no consent), mentions the company
    "1006": dict(
        author="bobb", created="2026-03-02T08:00:00.000Z",
        text="Loving the new office in Utrecht @NorthwindHQ",
        entities={"mentions": [{"start": 33, "end": 45, "username": "NorthwindHQ", "id": COMPANY_ID}]},
        seen={"2026-03-02": ("timeline", [], _metrics(4, 1, 0, 0, 120))},
    ),
    # P7 Ada, link to a company subdomain; deleted: the lookup of 03-02 reports it missing
    "1007": dict(
        author="AdaL", created="2026-03-01T11:00:00.000Z", text="Join us! https://t.co/j7EEEEEEEE",
        entities={"urls": _urls(("https://t.co/j7EEEEEEEE",
                                 "https://careers.northwind.example/jobs?utm_medium=employee_advocacy"))},
        seen={"2026-03-01": ("timeline", [], _metrics(2, 0, 0, 0, 40))},
    ),
    # P8 Cleo, invited but not registered: hashtag post found by search -> neither programme
    # nor community
    "1008": dict(
        author="cleoc", created="2026-03-01T13:00:00.000Z",
        text="Excited to join the programme soon #LifeAtNorthwind",
        entities={"hashtags": _tags("LifeAtNorthwind")},
        seen={"2026-03-01": ("search", [], _metrics(1, 0, 0, 0, 30))},
    ),
    # P9 community: not an employee, found by the hashtag search on both runs
    "2001": dict(
        author="robofan", created="2026-03-01T14:00:00.000Z",
        text="Northwind robots are amazing #NorthwindRobotics",
        entities={"hashtags": _tags("NorthwindRobotics")},
        seen={"2026-03-01": ("search", [], _metrics(1, 0, 0, 0, 50)),
              "2026-03-02": ("search", [], _metrics(3, 1, 0, 0, 80))},
    ),
    # P10 Finn (left 01-31), January programme post
    "1010": dict(
        author="finnf", created="2026-01-20T10:00:00.000Z", text="My last project at #LifeAtNorthwind",
        entities={"hashtags": _tags("LifeAtNorthwind")},
        seen={"2026-03-01": ("timeline", [], _metrics(8, 0, 0, 0, 300))},
    ),
    # P11 only ever returned by the metric-refresh lookup: never becomes a post
    "1011": dict(
        author="AdaL", created="2026-02-25T10:00:00.000Z", text="Something #LifeAtNorthwind",
        entities={"hashtags": _tags("LifeAtNorthwind")},
        seen={"2026-03-02": ("lookup", [], _metrics(1, 0, 0, 0, 10))},
    ),
}  # fmt: skip

# Web sessions (the whole file is landed on both run days; S99 is only in the 03-01 copy,
# so the staging model, reading the latest copy only, never sees it).
# Baseline months (var baseline_months 3 before the programme start month 2026-01):
# Oct, Nov, Dec 2025. Social sources there (any medium): linkedin 1 (S01), x 2 (S02, S03).
SESSIONS = [
    # session_id, session_start (UTC), landing_page, source, medium, campaign, content, conversions, ga4
    ("S01", "2025-10-05T10:00:00Z", "/", "linkedin", "social", "", "", "0", False),
    ("S02", "2025-11-10T10:00:00Z", "/", "twitter", "organic", "", "", "0", False),
    ("S03", "2025-12-01T10:00:00Z", "/", "t.co", "", "", "", "1", False),
    ("S04", "2025-09-15T10:00:00Z", "/", "x", "social", "", "", "0", False),  # before the baseline window
    ("S05", "2025-12-20T10:00:00Z", "/", "newsletter", "email", "", "", "0", False),  # not social
    ("S06", "2026-02-03T10:00:00Z", "/robots", "x", "employee_advocacy", "Launch", "ADA1", "1", False),
    ("S07", "2026-02-10T10:00:00Z", "/robots", "lnkd.in", "Employee_Advocacy", "launch", "ada1", "0", False),
    # 23:30 UTC on Jan 31 = February in Amsterdam; from a GA4 export
    ("S08", "2026-01-31T23:30:00Z", "/jobs", "twitter", "employee_advocacy", "hiring", "dan4", "2", True),
    ("S09", "2026-03-01T09:00:00Z", "/jobs", "x", "employee_advocacy", "hiring", "bob2", "0", False),
    ("S10", "2026-03-02T09:00:00Z", "/", "newsletter", "employee_advocacy", "hiring", "zzz9", "1", False),
    ("S11", "2026-01-15T10:00:00Z", "/", "x", "social", "", "", "0", False),  # not the advocacy medium
]  # fmt: skip
SESSIONS_DAY1_ONLY = [
    ("S99", "2026-02-15T10:00:00Z", "/", "x", "employee_advocacy", "launch", "ada1", "5", False),
]

# Self-reports (whole file landed on both run days; the 03-01 copy had Bob's linkedin posts as 9).
SELF_REPORTS = [
    # employee_id, month, platform, posts, likes, comments, shares
    ("E001", "2026-02", "X", "2", "50", "5", "5"),  # Ada has API x posts in Feb: ignored
    ("E001", "2026-02", "tiktok", "1", "10", "2", "1"),
    ("E002", "2026-02", "LinkedIn", "2", "4", "1", "0"),  # makes registered Bob active in Feb
    ("E003", "2026-03", "other", "1", "1", "0", "0"),  # Cleo is not registered: does not count
    ("E004", "2026-03", "x", "1", "3", "0", "2"),  # Dan has no API post in March: counts
]

TWEET_ERRORS = {  # run day -> post ids the lookup reported missing
    "2026-03-02": ["1007"],
}


def tweet_record(post_id: str, day: str) -> dict:
    p = POSTS[post_id]
    found_via, also, metrics = p["seen"][day]
    rec = {
        "id": post_id,
        "text": p["text"],
        "edit_history_tweet_ids": [post_id],
        "author_id": USER_IDS[p["author"]],
        "created_at": p["created"],
        "conversation_id": post_id,
        "public_metrics": metrics,
    }
    if p.get("entities"):
        rec["entities"] = p["entities"]
    refs = p.get("referenced") or []
    if refs:
        rec["referenced_tweets"] = [{"type": t, "id": i} for t, i, _ in refs]
    rec["_found_via"] = found_via
    rec["_also_found_via"] = list(also)
    rec["_author_username"] = p["author"]
    rec["_referenced"] = [
        {"type": t, "id": i, "author_id": USER_IDS.get(a) if a else None, "author_username": a}
        for t, i, a in refs
    ]
    return rec


def records() -> dict[str, list[tuple[str, dict]]]:
    """table -> [(run day, record)] in landing-file order."""
    out: dict[str, list[tuple[str, dict]]] = {t: [] for t in RAW_TABLES}
    for day in RUN_DAYS:
        for row in ROSTER:
            keys = ("employee_id", "email", "full_name", "department", "country", "hired_at", "left_at",
                    "invited_at", "registered_at", "consent_public", "x_username", "utm_code")  # fmt: skip
            rec = dict(zip(keys, row, strict=True))
            rec.update(linkedin_member_urn="", facebook_user_id="", instagram_username="")
            out["roster__employees"].append((day, rec))
        for name, (uid, f1, f2, role) in USERS.items():
            followers = f1 if day == RUN_DAYS[0] else f2
            out["x__users"].append(
                (
                    day,
                    {
                        "id": uid,
                        "name": name.title(),
                        "username": name,
                        "public_metrics": {
                            "followers_count": followers,
                            "following_count": 100,
                            "tweet_count": 1000,
                            "listed_count": 3,
                        },
                        "_role": role,
                    },
                )
            )
        for post_id, p in POSTS.items():
            if day in p["seen"]:
                out["x__tweets"].append((day, tweet_record(post_id, day)))
        for sid, start, page, src, med, camp, content, conv, ga4 in SESSIONS + (
            SESSIONS_DAY1_ONLY if day == RUN_DAYS[0] else []
        ):
            rec = {"session_id": sid, "session_start": start, "landing_page": page,
                   "utm_source": src, "utm_medium": med, "utm_campaign": camp,
                   "utm_content": content, "conversions": conv}  # fmt: skip
            if ga4:
                rec["_format"] = "ga4"
            out["web__sessions"].append((day, rec))
        for emp, month, platform, posts, likes, comments, shares in SELF_REPORTS:
            if day == RUN_DAYS[0] and emp == "E002":
                posts = "9"
            rec = {"employee_id": emp, "month": month, "platform": platform, "posts": posts,
                   "likes": likes, "comments": comments, "shares": shares,
                   "_row_key": f"{emp}|{month}|{platform.lower()}"}  # fmt: skip
            out["self_report__activity"].append((day, rec))
        for post_id in TWEET_ERRORS.get(day, []):
            out["x__tweet_errors"].append(
                (
                    day,
                    {
                        "value": post_id,
                        "detail": f"Could not find tweet with ids: [{post_id}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "ids",
                        "resource_id": post_id,
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                        "_found_via": "lookup",
                        "_error_kind": "not_found",
                    },
                )
            )
    return out


KEY_FIELD = {
    "roster__employees": "employee_id",
    "x__users": "id",
    "x__tweets": "id",
    "x__tweet_errors": "resource_id",
    "x__user_errors": "resource_id",
    "web__sessions": "session_id",
    "self_report__activity": "_row_key",
}
TIME_FIELD = {"x__tweets": "created_at", "web__sessions": "session_start"}


def load_raw(conn, now: dt.datetime | None = None) -> dict[str, int]:
    """Create the raw tables (the loader's DDL) and fill them; returns rows per table.

    `_extracted_at` is relative to ``now`` (03:00 after each run day in real life;
    here a few hours ago so that `dbt source freshness` passes).
    """
    now = now or dt.datetime.now(dt.UTC)
    extracted = {RUN_DAYS[0]: now - dt.timedelta(hours=30), RUN_DAYS[1]: now - dt.timedelta(hours=6)}
    counts = {}
    for table, rows in records().items():
        conn.execute(
            f"""create table if not exists raw.{table} (
                _interval_start date not null,
                _extracted_at timestamptz not null,
                _landing_file text not null,
                _line_no integer not null,
                _record_key text,
                _record_time timestamptz,
                record jsonb not null)"""
        )
        line = {}
        for day, rec in rows:
            line[day] = line.get(day, 0) + 1
            source, stream = table.split("__")
            at = extracted[day]
            path = f"/landing/{source}/{stream}/interval={day}/{at.strftime('%Y%m%dT%H%M%S')}.jsonl"
            conn.execute(
                f"insert into raw.{table} values (%s, %s, %s, %s, %s, %s, %s)",
                (
                    day,
                    at,
                    path,
                    line[day],
                    str(rec[KEY_FIELD[table]]),
                    rec.get(TIME_FIELD[table]) if table in TIME_FIELD else None,
                    json.dumps(rec),
                ),
            )
        counts[table] = len(rows)
    conn.commit()
    return counts
