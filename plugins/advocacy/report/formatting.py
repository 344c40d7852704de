"""Human-readable numbers for the report: 1.2k, 53.1%, +2.1 pp, and platform names."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

MISSING = "–"

PLATFORM_NAMES = {
    "ALL": "All platforms",
    "x": "X",
    "linkedin": "LinkedIn",
    "facebook": "Facebook",
    "instagram": "Instagram",
}


def _num(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return float(value)


def _trim(text: str) -> str:
    return text[:-2] if text.endswith(".0") else text


def human_number(value) -> str:
    """1234 -> '1.2k', 53_100 -> '53.1k', 250_000 -> '250k', 3_400_000 -> '3.4M', 12 -> '12'."""
    v = _num(value)
    if v is None:
        return MISSING
    sign = "-" if v < 0 else ""
    a = abs(v)
    # 999,960 reads 1M (not 1000k); below 1,000 numbers stay exact
    for size, suffix, floor in ((1e9, "B", 0.9995e9), (1e6, "M", 0.9995e6), (1e3, "k", 1e3)):
        if a >= floor:
            scaled = a / size
            text = f"{scaled:.0f}" if scaled >= 100 else _trim(f"{scaled:.1f}")
            return f"{sign}{text}{suffix}"
    if a == int(a):
        return f"{sign}{int(a)}"
    return f"{sign}{_trim(f'{a:.1f}')}" if a >= 10 else f"{sign}{a:.2f}".rstrip("0").rstrip(".")


def percent(value, digits: int = 1) -> str:
    """0.531 -> '53.1%' (a share, not already multiplied by 100)."""
    v = _num(value)
    return MISSING if v is None else f"{v * 100:.{digits}f}%"


def signed_percent(value, digits: int = 0) -> str:
    """0.42 -> '+42%', -0.1 -> '−10%' (a relative change)."""
    v = _num(value)
    if v is None:
        return MISSING
    text = f"{abs(v) * 100:.{digits}f}%"
    return ("+" if v >= 0 else "−") + text


def points(value, digits: int = 1) -> str:
    """A change of a rate in percentage points: 0.021 -> '+2.1 pp'."""
    v = _num(value)
    if v is None:
        return MISSING
    return ("+" if v >= 0 else "−") + f"{abs(v) * 100:.{digits}f} pp"


def integer(value) -> str:
    """Exact counts for tables: 12345 -> '12,345'."""
    v = _num(value)
    return MISSING if v is None else f"{v:,.0f}"


def compact(value) -> str:
    """Exact below 10,000 (1,234), human above (15.2k): headline counts."""
    v = _num(value)
    if v is not None and abs(v) < 10_000:
        return integer(v)
    return human_number(v)


def fmt_value(value, kind: str) -> str:
    """Format by the catalog's kind: 'percent', 'number' or 'money'."""
    if kind == "percent":
        return percent(value)
    return human_number(value)


def month_label(month: dt.date, *, with_year: bool = True) -> str:
    return month.strftime("%b %Y" if with_year else "%b")


def platform_name(code) -> str:
    if code is None:
        return MISSING
    return PLATFORM_NAMES.get(str(code), str(code).replace("_", " ").title())


def when(value) -> str:
    """Dates and timestamps for humans (UTC for timestamps)."""
    if value is None:
        return MISSING
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
