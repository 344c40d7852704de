"""KPI values computed independently from the sandbox's ground truth (docs/metrics.md formulas)."""

from __future__ import annotations

import calendar
import datetime as dt


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    y, m = map(int, month.split("-"))
    return dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])


def _d(value) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def _ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _invited_registered(truth: dict, month: str, department: str = "ALL"):
    start, end = month_bounds(month)
    emps = [e for e in truth["employees"] if department in ("ALL", e["department"])]
    invited = [
        e for e in emps
        if _d(e["invited_at"]) and _d(e["invited_at"]) <= end
        and not (_d(e["left_at"]) and _d(e["left_at"]) < start)
    ]  # fmt: skip
    registered = [e for e in invited if _d(e["registered_at"]) and _d(e["registered_at"]) <= end]
    return invited, registered


def self_reported_posts(truth: dict, month: str) -> dict[str, int]:
    """Self-reported posts of registered employees (docs/metrics.md: a self-reported post counts).

    The sandbox never self-reports a platform the pipeline has API data for, so
    no row is dropped as a double count here.
    """
    _, registered = _invited_registered(truth, month)
    ids = {e["employee_id"] for e in registered}
    out: dict[str, int] = {}
    for r in truth["self_reports"]:
        if r["month"] == month and r["employee_id"] in ids:
            out[r["employee_id"]] = out.get(r["employee_id"], 0) + int(r["posts"])
    return out


def adoption(truth: dict, month: str, department: str = "ALL") -> dict:
    invited, registered = _invited_registered(truth, month, department)
    active_ids = {p["employee_id"] for p in programme_posts(truth, month)}
    active_ids |= {e for e, n in self_reported_posts(truth, month).items() if n > 0}
    active = [e for e in registered if e["employee_id"] in active_ids]
    return {
        "invited": len(invited),
        "registered": len(registered),
        "active": len(active),
        "adoption_rate": len(registered) / len(invited) if invited else None,
        "activation_rate": len(active) / len(registered) if registered else None,
    }


def visible(truth: dict, window_end: dt.datetime) -> list[dict]:
    """Posts the pipeline can have seen: created in its window, not deleted before the run."""
    clock = _ts(truth["as_of"])
    out = []
    for p in truth["posts"]:
        if _ts(p["created_at"]) >= window_end:
            continue
        if p.get("deleted_at") and _ts(p["deleted_at"]) <= clock:
            continue
        out.append(p)
    return out


def programme_posts(truth: dict, month: str) -> list[dict]:
    return [
        p for p in truth["_visible"]
        if p["is_programme_post"] and p["employee_id"] and p["month_local"] == month
    ]  # fmt: skip


def interactions(p: dict) -> int:
    if p["is_pure_reshare"]:
        return 0  # a pure reshare's engagement belongs to the original post
    return p["counters"]["interactions"]  # likes + comments + shares, whatever the platform


def top_contributors(truth: dict, month: str) -> list[dict]:
    consent = {e["employee_id"]: e["consent_public"] for e in truth["employees"]}
    per: dict[str, dict] = {}
    for p in programme_posts(truth, month):
        row = per.setdefault(p["employee_id"], {"posts": 0, "interactions": 0})
        row["posts"] += 1
        row["interactions"] += interactions(p)
    for eid, n in self_reported_posts(truth, month).items():  # posts count; their engagement doesn't rank
        per.setdefault(eid, {"posts": 0, "interactions": 0})["posts"] += n
    per = {k: v for k, v in per.items() if v["posts"] >= 1}
    ranked = sorted(per.items(), key=lambda kv: (-kv[1]["interactions"], -kv[1]["posts"], kv[0]))
    return [
        {
            "rank": i,
            "employee_id": eid if consent[eid] else "anonymous",
            "programme_posts": r["posts"],
            "interactions": r["interactions"],
        }
        for i, (eid, r) in enumerate(ranked, start=1)
    ]
