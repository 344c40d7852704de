"""Numbers, money and dates for the report, in the reader's locale (Babel): 1.2K / 1,2k / 1.234.

``Formats(locale, currency)`` is what the templates and charts use; the module-level
``human_number`` / ``percent`` are its English shorthands. Platform names are proper
names and stay as they are in every language.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel import dates as bdates
from babel import numbers as bnumbers

from advocacy import platforms

MISSING = "–"

#: platform code -> the name printed (from the registry, advocacy/platforms.py)
PLATFORM_NAMES = platforms.display_names()


def _num(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return float(value)


@lru_cache(maxsize=16)
def _locale(name: str) -> Locale:
    return Locale.parse(name.replace("-", "_"))


class Formats:
    """Every number and date of one report, formatted for ``locale`` (a Babel / CLDR name)."""

    def __init__(self, locale: str = "en", currency: str = "EUR"):
        self.locale = _locale(locale)
        self.currency = currency
        self.minus = bnumbers.get_minus_sign_symbol(self.locale)
        self.plus = bnumbers.get_plus_sign_symbol(self.locale)

    # -- numbers ---------------------------------------------------------------------

    def integer(self, value) -> str:
        """Exact counts for tables: 12345 -> '12,345' / '12 345' / '12.345'."""
        v = _num(value)
        return MISSING if v is None else bnumbers.format_decimal(round(v), locale=self.locale)

    def decimal(self, value, digits: int = 1) -> str:
        v = _num(value)
        if v is None:
            return MISSING
        return bnumbers.format_decimal(
            v, format=f"#,##0.{'#' * digits}" if digits else "#,##0", locale=self.locale
        )

    def human(self, value) -> str:
        """Short form: 1234 -> '1.2K' (en) / '1,2k' (nb); exact below 1,000.

        Where the locale does not abbreviate (Italian thousands) the exact grouped
        number is shown: '15.234', never an ungrouped '15234'.
        """
        v = _num(value)
        if v is None:
            return MISSING
        a = abs(v)
        if a < 1000:  # exact: whole from 100 up, one decimal from 10, two below
            return self.decimal(v, 0 if a == int(a) or a >= 100 else (1 if a >= 10 else 2))
        exponent = int(math.floor(math.log10(a)))
        scaled = a / 10 ** (exponent - exponent % 3)
        digits = 0 if scaled >= 100 else 1
        text = bnumbers.format_compact_decimal(v, fraction_digits=digits, locale=self.locale)
        if not any(c.isalpha() for c in text):
            return self.integer(v)
        return text

    def compact(self, value) -> str:
        """Exact below 10,000, short above: headline counts."""
        v = _num(value)
        if v is not None and abs(v) < 10_000:
            return self.integer(v)
        return self.human(v)

    def percent(self, value, digits: int = 1) -> str:
        """0.531 -> '53.1%' / '53,1 %' (a share, not already multiplied by 100)."""
        v = _num(value)
        if v is None:
            return MISSING
        pattern = f"#,##0.{'0' * digits}%" if digits else "#,##0%"
        return bnumbers.format_percent(v, format=pattern, locale=self.locale)

    def signed_percent(self, value, digits: int = 0) -> str:
        """A relative change: 0.42 -> '+42%', -0.1 -> '−10%'."""
        v = _num(value)
        if v is None:
            return MISSING
        sign = self.plus if v >= 0 else self.minus
        return sign + self.percent(abs(v), digits)

    def points(self, value, digits: int = 1, unit: str = "pp") -> str:
        """A change of a rate in percentage points: 0.021 -> '+2.1 pp' (``unit`` is translated)."""
        v = _num(value)
        if v is None:
            return MISSING
        sign = self.plus if v >= 0 else self.minus
        return f"{sign}{self.decimal(abs(v) * 100, digits) if digits else self.integer(abs(v) * 100)}" + (
            f"\u00a0{unit}"
        )

    def money(self, value) -> str:
        """Earned media in the configured currency: '€1,985' / '1 985 €' / '€19.8K' / '19.850 €'."""
        v = _num(value)
        if v is None:
            return MISSING
        if abs(v) >= 10_000:
            text = bnumbers.format_compact_currency(v, self.currency, fraction_digits=1, locale=self.locale)
            if any(c.isalpha() for c in text.replace(self.currency, "")):
                return text
        pattern = self.locale.currency_formats["standard"].pattern
        if abs(v) >= 100:  # whole units: cents are noise at this size
            pattern, v = pattern.replace(".00", ""), round(v)
        return bnumbers.format_currency(
            v, self.currency, format=pattern, currency_digits=False, locale=self.locale
        )

    def value(self, value, kind: str) -> str:
        """By the catalog's kind: 'percent', 'change' (signed), 'money' or 'number'."""
        if kind == "change":
            return self.signed_percent(value)
        if kind == "percent":
            return self.percent(value)
        if kind == "money":
            return self.money(value)
        return self.human(value)

    def axis(self, value, kind: str) -> str:
        if kind in ("percent", "change"):
            return self.percent(value, 0)
        return self.human(value)

    # -- dates -----------------------------------------------------------------------

    def month(self, month: dt.date, *, with_year: bool = True) -> str:
        """'Dec 2026' / 'des. 2026' / 'dic 2026' (short: the axis) or without the year."""
        return bdates.format_skeleton("yMMM" if with_year else "MMM", month, locale=self.locale)

    def month_long(self, month: dt.date) -> str:
        """'December 2026' / 'desember 2026' / 'dicembre 2026' (headings)."""
        return bdates.format_skeleton("yMMMM", month, locale=self.locale)

    def day_month(self, day: dt.date) -> str:
        """'Dec 1' / '1. des.' / '1 dic'."""
        return bdates.format_skeleton("MMMd", day, locale=self.locale)

    def day_range(self, first: dt.date, last: dt.date) -> str:
        """'Mar 1 – 15' / '1.–15. mars' / '01–15 mar' (CLDR's interval format)."""
        return bdates.format_interval(first, last, "MMMd", locale=self.locale)

    def date(self, day: dt.date | None) -> str:
        """'December 1, 2026' / '1. desember 2026' / '1 dicembre 2026'."""
        if day is None:
            return MISSING
        if isinstance(day, dt.datetime):
            day = day.date()
        return bdates.format_date(day, "long", locale=self.locale)

    def when(self, value) -> str:
        """Dates and timestamps for humans (timestamps in UTC, said so)."""
        if value is None:
            return MISSING
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC)
            day = bdates.format_date(value, "medium", locale=self.locale)
            return f"{day} {bdates.format_time(value, 'short', locale=self.locale)} UTC"
        if isinstance(value, dt.date):
            return bdates.format_date(value, "medium", locale=self.locale)
        return str(value)


ENGLISH = Formats("en")


def human_number(value) -> str:
    """English short form: 1234 -> '1.2K'."""
    return ENGLISH.human(value)


def percent(value, digits: int = 1) -> str:
    """English percentage: 0.531 -> '53.1%'."""
    return ENGLISH.percent(value, digits)


def platform_name(code) -> str:
    """A platform's proper name ('ALL' and 'other' are translated by the caller)."""
    if code is None:
        return MISSING
    return PLATFORM_NAMES.get(str(code), str(code).replace("_", " ").title())
