"""Tracked links for advocates: build one, build one per registered advocate, parse one back.

A tracked link is the page URL plus ``utm_source=<platform>``,
``utm_medium=employee_advocacy`` (the programme's medium), ``utm_campaign=<campaign>``
and ``utm_content=<the advocate's utm_code>``. The referral marts attribute a web
session to the advocate whose ``utm_code`` equals its ``utm_content`` and to the
platform named by ``utm_source`` (docs/metrics.md), so what :func:`build_link` writes,
:func:`parse_utm` reads back exactly (property-tested).

Intended command line (wired in ``cli.py``; :func:`add_arguments` and
:func:`main_utm` are the whole implementation)::

    advocacy utm --employee E --url U --campaign C [--platform P] [--medium M]
        prints the tracked link for one employee (employee_id or e-mail)
    advocacy utm --all --url U --campaign C [--platform P] [--out links.csv]
        writes a CSV (LINK_COLUMNS) with a link for every registered advocate
        who has a utm_code (stdout without --out)

``--platform`` defaults to the registry's ``UTM_DEFAULT_PLATFORM``; every spelling of a
platform in the registry (``utm_aliases``) gives its ``utm_source``.
The roster rows come from the caller (``inputs.read_roster``).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sys
from collections.abc import Iterable, Mapping
from typing import IO, Any
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from advocacy import platforms

DEFAULT_MEDIUM = "employee_advocacy"
DEFAULT_PLATFORM = platforms.UTM_DEFAULT_PLATFORM
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "utm_id")
#: Accepted spellings of a platform -> the utm_source written (from the registry, advocacy/platforms.py).
PLATFORM_SOURCES = platforms.utm_sources()
LINK_COLUMNS = ("employee_id", "full_name", "department", "utm_code", "platform", "campaign", "link")
_SET_BY_US = ("utm_source", "utm_medium", "utm_campaign", "utm_content")
_SAFE = "-._~"  # RFC 3986 unreserved: everything else in a value is percent-encoded


class UtmError(ValueError):
    """A link cannot be built (bad URL, missing utm_code, unknown employee...)."""


def source_for(platform: str) -> str:
    """The ``utm_source`` for a platform name (case-insensitive; unknown names pass through)."""
    p = (platform or "").strip().lower()
    if not p:
        raise UtmError(f"a platform is needed (utm_source), e.g. {', '.join(platforms.names())}")
    return PLATFORM_SOURCES.get(p, p)


def _key(piece: str) -> str:
    return unquote_plus(piece.split("=", 1)[0]).strip().lower()


def build_link(url: str, *, utm_code: str, campaign: str, platform: str, medium: str = DEFAULT_MEDIUM) -> str:
    """``url`` with the advocate's UTM parameters.

    Existing query parameters and the fragment are kept verbatim (byte for
    byte, in order); any ``utm_source/medium/campaign/content`` already present
    (in any case) is replaced so the link carries exactly one of each;
    ``utm_term``/``utm_id`` stay. Values are percent-encoded (spaces as
    ``%20``, ``&``, ``=``, ``#``, non-ASCII as UTF-8). Raises :class:`UtmError`
    for a URL that is not absolute http(s) or an empty code/campaign/medium.
    """
    raw = (url or "").strip()
    parts = urlsplit(raw)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise UtmError(f"not an absolute http(s) URL: {url!r}")
    values = {
        "utm_source": source_for(platform),
        "utm_medium": (medium or "").strip(),
        "utm_campaign": (campaign or "").strip(),
        "utm_content": (utm_code or "").strip(),
    }
    for key, value in values.items():
        if not value:
            raise UtmError(f"{key} would be empty (utm_code, campaign and medium are required)")
    kept = [p for p in parts.query.split("&") if p and _key(p) not in _SET_BY_US]
    ours = [f"{k}={quote(v, safe=_SAFE)}" for k, v in values.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "&".join(kept + ours), parts.fragment))


def parse_utm(url: str) -> dict[str, str | None]:
    """The UTM parameters of a URL (or of a bare query string), robustly.

    Keys are matched case-insensitively and after percent-decoding
    (``UTM_Source``, ``utm%5Fsource``); values are percent-decoded (``+`` is a
    space) and stripped; for a parameter given twice the first non-empty value
    wins; ``utm_source`` and ``utm_medium`` are lower-cased (GA4 and the KPI
    joins treat them as names), the others keep their case. Returns every key
    of ``UTM_KEYS``, None where absent or empty.
    """
    text = (url or "").strip()
    if "?" in text:
        query = text.split("?", 1)[1]
    elif "=" in text and "://" not in text:
        query = text
    else:
        query = ""
    query = query.split("#", 1)[0]
    out: dict[str, str | None] = dict.fromkeys(UTM_KEYS)
    for piece in query.split("&"):
        if not piece:
            continue
        key = _key(piece)
        if key not in out or out[key] is not None:
            continue
        value = unquote_plus(piece.split("=", 1)[1]).strip() if "=" in piece else ""
        if value:
            out[key] = value.lower() if key in ("utm_source", "utm_medium") else value
    return out


def _registered(row: Mapping[str, Any]) -> bool:
    return bool((row.get("registered_at") or "").strip()) and not (row.get("left_at") or "").strip()


def build_links_for_roster(
    roster_rows: Iterable[Mapping[str, Any]],
    url: str,
    campaign: str,
    platform: str,
    *,
    medium: str = DEFAULT_MEDIUM,
) -> list[dict[str, str]]:
    """One row (``LINK_COLUMNS``) per registered advocate with a ``utm_code``.

    Registered = ``registered_at`` set and no ``left_at`` (the roster as HR
    exported it); rows are ordered by ``employee_id``. Duplicate utm_codes in the
    roster would make referrals ambiguous: they raise :class:`UtmError`.
    """
    out, seen = [], {}
    for row in roster_rows:
        code = (row.get("utm_code") or "").strip()
        if not code or not _registered(row):
            continue
        emp = str(row.get("employee_id") or "").strip()
        if code.lower() in seen and seen[code.lower()] != emp:
            raise UtmError(f"utm_code {code!r} belongs to {seen[code.lower()]} and {emp}")
        seen[code.lower()] = emp
        out.append(
            {
                "employee_id": emp,
                "full_name": row.get("full_name") or "",
                "department": row.get("department") or "",
                "utm_code": code,
                "platform": source_for(platform),
                "campaign": campaign.strip(),
                "link": build_link(url, utm_code=code, campaign=campaign, platform=platform, medium=medium),
            }
        )
    return sorted(out, key=lambda r: r["employee_id"])


def find_employee(roster_rows: Iterable[Mapping[str, Any]], employee: str) -> Mapping[str, Any]:
    """The roster row whose ``employee_id`` or ``email`` equals ``employee`` (case-insensitive)."""
    wanted = (employee or "").strip().lower()
    for row in roster_rows:
        ids = {str(row.get("employee_id") or "").strip().lower(), str(row.get("email") or "").strip().lower()}
        if wanted and wanted in ids:
            return row
    raise UtmError(f"no employee {employee!r} in the roster (give an employee_id or an e-mail)")


def link_for_employee(
    roster_rows: Iterable[Mapping[str, Any]],
    employee: str,
    url: str,
    campaign: str,
    platform: str = DEFAULT_PLATFORM,
    *,
    medium: str = DEFAULT_MEDIUM,
) -> str:
    """The tracked link of one employee; :class:`UtmError` if unknown or without a utm_code."""
    row = find_employee(roster_rows, employee)
    code = (row.get("utm_code") or "").strip()
    if not code:
        raise UtmError(f"employee {row.get('employee_id')} has no utm_code in the roster")
    return build_link(url, utm_code=code, campaign=campaign, platform=platform, medium=medium)


def links_csv(rows: Iterable[Mapping[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=LINK_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_links_csv(rows: Iterable[Mapping[str, str]], path: str | os.PathLike) -> str:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    from advocacy.safe_csv import safe_csv

    with open(path, "wb") as fh:  # opened in Excel by marketing: formula-safe, UTF-8 with BOM
        fh.write(safe_csv(links_csv(rows)))
    return path


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``advocacy utm`` options (see the module docstring)."""
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--employee", help="employee_id or e-mail of one advocate")
    who.add_argument("--all", action="store_true", help="a CSV with a link for every registered advocate")
    parser.add_argument("--url", required=True, help="the page to link to (https://...)")
    parser.add_argument("--campaign", required=True, help="utm_campaign, e.g. 202611-launch")
    parser.add_argument(
        "--platform", default=DEFAULT_PLATFORM, help=f"utm_source (default {DEFAULT_PLATFORM})"
    )
    parser.add_argument("--medium", default=DEFAULT_MEDIUM, help="utm_medium (default employee_advocacy)")
    parser.add_argument("--out", help="with --all: write the CSV here instead of stdout")
    return parser


def main_utm(
    args: argparse.Namespace, roster_rows: list[Mapping[str, Any]], stdout: IO[str] | None = None
) -> int:
    """Run ``advocacy utm`` for parsed ``args``; returns the exit code (2 on a UtmError)."""
    stdout = stdout or sys.stdout
    try:
        if getattr(args, "all", False):
            rows = build_links_for_roster(
                roster_rows, args.url, args.campaign, args.platform, medium=args.medium
            )
            if args.out:
                write_links_csv(rows, args.out)
                print(f"{len(rows)} links written to {args.out}", file=stdout)
            else:
                stdout.write(links_csv(rows))
            return 0
        link = link_for_employee(
            roster_rows, args.employee, args.url, args.campaign, args.platform, medium=args.medium
        )
        print(link, file=stdout)
        return 0
    except UtmError as exc:
        print(f"advocacy utm: {exc}", file=sys.stderr)
        return 2


_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")


def is_valid_code(code: str) -> bool:
    """A utm_code that survives any analytics tool unchanged: 2-32 of ``a-z 0-9 _ -``."""
    return bool(_CODE_RE.fullmatch(code or ""))
