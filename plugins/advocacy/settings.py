"""Programme settings: one YAML file, typed and validated.

The path comes from ``ADVOCACY_SETTINGS`` (or an explicit argument); relative
paths inside the file are resolved against the file's own folder so a settings
file and its inputs can travel together.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

SETTINGS_ENV = "ADVOCACY_SETTINGS"
HOME_ENV = "ADVOCACY_HOME"
DEMO_SETTINGS = Path(__file__).parent / "sandbox" / "demo_programme.yml"


def advocacy_home() -> Path:
    """Where local state lives (embedded warehouse, landing, reports, Airflow home).

    ``ADVOCACY_HOME`` wins; otherwise ``.advocacy/`` at the repository root
    (the package is installed editable from it), which is git-ignored.
    """
    home = os.environ.get(HOME_ENV)
    path = Path(home) if home else Path(__file__).resolve().parents[2] / ".advocacy"
    path.mkdir(parents=True, exist_ok=True)
    return path


class SettingsError(ValueError):
    """A settings file is missing, malformed or has an invalid value."""


@dataclass(frozen=True)
class PlatformSettings:
    name: str
    enabled: bool = True
    connection_id: str = ""
    company_handles: tuple[str, ...] = ()
    # Airflow pool that caps concurrent calls to this platform's API across all
    # workers (one rate-limit budget, however many workers run extracts).
    pool: str = ""
    pool_slots: int = 1


@dataclass(frozen=True)
class LeaderboardWeights:
    # Defaults follow common advocacy-platform point schemes: creating content
    # is worth most, a share received outweighs a like.
    programme_post: float = 10.0
    like: float = 1.0
    comment: float = 3.0
    share_received: float = 5.0
    referral_session: float = 2.0
    conversion: float = 20.0


@dataclass(frozen=True)
class InputOptions:
    """How one input file is read (``inputs.<name>`` as a mapping; a bare path means defaults)."""

    delimiter: str | None = None  # None: sniffed among , ; and tab
    encoding: str = "utf-8"  # e.g. cp1252 for an old Excel export; a BOM is always handled
    date_format: str = "yyyy-mm-dd"  # or dd.mm.yyyy, dd/mm/yyyy, mm/dd/yyyy; never guessed
    max_invalid_share: float = 0.5  # more invalid lines than this: refuse the file, keep the last good one
    sheet: str | None = None  # .xlsx: the sheet to read (default: the first)


@dataclass(frozen=True)
class GateSettings:
    # A closed month's headline KPI may shrink by at most this share in one night.
    max_closed_month_shrink: float = 0.02
    # Accept a shrink on purpose: months (YYYY-MM) whose shrink is allowed tonight.
    accept_shrink_months: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportSettings:
    language: str = "en"  # en | nb | it
    locale: str | None = None  # Babel locale for numbers and dates; default from language
    headline: str = "last_complete_month"  # or month_to_date
    currency: str = "EUR"  # earned media value


@dataclass(frozen=True)
class AlertSettings:
    email: tuple[str, ...] = ()  # recipients of failure / late-night alerts
    smtp_connection_id: str = "smtp_default"  # Airflow connection of the SMTP transport
    webhook_connection_id: str | None = None  # Slack or generic webhook connection, if any
    deadline: str | None = None  # HH:MM in the programme's time zone: alert if no report by then


@dataclass(frozen=True)
class Settings:
    source_file: str
    name: str
    start_date: dt.date
    timezone: str
    hashtags: tuple[str, ...]
    company_domains: tuple[str, ...]
    utm_medium: str
    lookback_days: int
    baseline_months: int
    roster_path: str
    sessions_path: str | None
    self_reports_path: str | None
    landing_path: str
    publish_path: str
    platforms: dict[str, PlatformSettings] = field(default_factory=dict)
    weights: LeaderboardWeights = field(default_factory=LeaderboardWeights)
    suggested_copy: tuple[str, ...] = ()
    input_options: dict[str, InputOptions] = field(default_factory=dict)
    gate: GateSettings = field(default_factory=GateSettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)

    def input(self, name: str) -> InputOptions:
        """Reading options of input ``name`` (roster, sessions, self_reports)."""
        return self.input_options.get(name, InputOptions())

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def enabled_platforms(self) -> list[str]:
        return [p.name for p in self.platforms.values() if p.enabled]

    def dbt_vars(self) -> dict:
        """The settings dbt needs, passed as ``--vars`` (KPI formulas stay in dbt)."""
        return {
            "programme_start_date": self.start_date.isoformat(),
            "timezone": self.timezone,
            "hashtags": [h.lower() for h in self.hashtags],
            "company_domains": [d.lower() for d in self.company_domains],
            "company_handles": {
                p.name: [h.lower() for h in p.company_handles] for p in self.platforms.values() if p.enabled
            },
            "enabled_platforms": self.enabled_platforms(),
            "utm_medium": self.utm_medium,
            "baseline_months": self.baseline_months,
            "suggested_copy": list(self.suggested_copy),
            "leaderboard_weights": self.weights.__dict__,
        }


def _req(d: dict, key: str, where: str):
    if key not in d or d[key] in (None, ""):
        raise SettingsError(f"{where}: required setting '{key}' is missing")
    return d[key]


def _path(value: str, base: Path) -> str:
    value = str(value).replace("${ADVOCACY_HOME}", str(advocacy_home()))
    value = os.path.expandvars(value)
    if "://" in value:  # fsspec URL (s3://, gs://, memory://, file://)
        return value
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else (base / p).resolve())


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Read and validate the programme settings file."""
    path = Path(path or os.environ.get(SETTINGS_ENV) or DEMO_SETTINGS)
    if not path.is_file():
        raise SettingsError(
            f"settings file {path} not found: set {SETTINGS_ENV} to your programme YAML "
            f"(the demo one is {DEMO_SETTINGS})"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from exc
    except ValueError as exc:  # YAML's own date parsing, e.g. 2026-13-01
        raise SettingsError(f"{path}: invalid value ({exc}); dates must be YYYY-MM-DD") from exc
    where = str(path)
    prog = _req(raw, "programme", where)
    inputs = raw.get("inputs", {}) or {}
    base = path.parent
    # An input is a path or a mapping {path: ..., delimiter: ..., ...}.
    input_options = {}
    for key in ("roster", "sessions", "self_reports"):
        value = inputs.get(key)
        if isinstance(value, dict):
            opts = dict(value)
            inputs[key] = opts.pop("path", None)
            input_options[key] = InputOptions(**opts)

    try:
        start = dt.date.fromisoformat(str(_req(prog, "start_date", f"{where}: programme")))
    except ValueError as exc:
        raise SettingsError(f"{where}: programme.start_date must be YYYY-MM-DD") from exc
    tz = str(prog.get("timezone", "UTC"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"{where}: programme.timezone '{tz}' is not an IANA zone") from exc

    hashtags = tuple(str(h) if str(h).startswith("#") else f"#{h}" for h in prog.get("hashtags", []))
    for h in hashtags:
        if not re.fullmatch(r"#\w+", h):
            raise SettingsError(f"{where}: programme.hashtags: '{h}' is not a hashtag")

    platforms = {}
    for name, p in (raw.get("platforms") or {}).items():
        p = p or {}
        platforms[name] = PlatformSettings(
            name=name,
            enabled=bool(p.get("enabled", True)),
            connection_id=str(p.get("connection_id", f"{name}_api")),
            company_handles=tuple(str(h).lstrip("@") for h in p.get("company_handles", [])),
            pool=str(p.get("pool", f"{name}_api")),
            pool_slots=int(p.get("pool_slots", 1)),
        )
        if platforms[name].pool_slots < 1:
            raise SettingsError(f"{where}: platforms.{name}.pool_slots must be >= 1")
    if not platforms:
        raise SettingsError(f"{where}: 'platforms' lists no platform")

    lookback = int(prog.get("lookback_days", 30))
    if not 1 <= lookback <= 90:
        raise SettingsError(f"{where}: programme.lookback_days must be 1..90, got {lookback}")

    weights = LeaderboardWeights(**(raw.get("leaderboard_weights") or {}))
    return Settings(
        source_file=str(path.resolve()),
        name=str(prog.get("name", "Employee advocacy programme")),
        start_date=start,
        timezone=tz,
        hashtags=hashtags,
        company_domains=tuple(str(d).lower() for d in prog.get("company_domains", [])),
        utm_medium=str(prog.get("utm_medium", "employee_advocacy")),
        lookback_days=lookback,
        baseline_months=int(prog.get("baseline_months", 3)),
        roster_path=_path(_req(inputs, "roster", f"{where}: inputs"), base),
        sessions_path=_path(inputs["sessions"], base) if inputs.get("sessions") else None,
        self_reports_path=_path(inputs["self_reports"], base) if inputs.get("self_reports") else None,
        landing_path=_path(inputs.get("landing", "${ADVOCACY_HOME}/landing"), base),
        publish_path=_path(inputs.get("publish", "${ADVOCACY_HOME}/reports"), base),
        platforms=platforms,
        weights=weights,
        suggested_copy=tuple(prog.get("suggested_copy", [])),
        input_options=input_options,
        gate=GateSettings(**(raw.get("gate") or {})),
        report=ReportSettings(**(raw.get("report") or {})),
        alerts=AlertSettings(
            **{k: tuple(v) if k == "email" else v for k, v in (raw.get("alerts") or {}).items()}
        ),
    )
