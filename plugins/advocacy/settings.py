"""Programme settings: one YAML file, typed and validated.

The path comes from ``ADVOCACY_SETTINGS`` (or an explicit argument); relative
paths inside the file are resolved against the file's own folder so a settings
file and its inputs can travel together.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from advocacy import platforms as platforms_registry

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


def connector_platforms() -> list[str]:
    """The platform names this installation can extract: each ``advocacy.connectors`` module
    with a top-level ``extract`` function (read from the source, nothing imported).

    A new platform is a new connector module; the settings accept its name without edits here.
    """
    import ast

    import advocacy.connectors as connectors

    names = []
    for path in sorted(Path(connectors.__path__[0]).glob("*.py")):
        if path.stem.startswith("_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.FunctionDef) and n.name == "extract" for n in tree.body):
            names.append(path.stem)
    return names


class SettingsError(ValueError):
    """A settings file is missing, malformed or has an invalid value.

    The message names the file, the line and the key path of every problem and its fix,
    one per line; the CLI prints it as it is (no traceback).
    """


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


#: weekday names as the settings write them, Monday first (date.weekday())
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class GateSettings:
    # A closed month's headline KPI may shrink by at most this share in one night.
    max_closed_month_shrink: float = 0.02
    # Accept a shrink on purpose: months (YYYY-MM) whose shrink is allowed tonight.
    accept_shrink_months: tuple[str, ...] = ()
    # The night's raw checks read only tonight's interval; whole raw tables are checked on
    # this weekday's night (or every night).
    whole_raw_checks: str = "sunday"

    def checks_whole_raw(self, interval: dt.date) -> bool:
        """Whether the night of ``interval`` checks the whole raw tables (else only its rows)."""
        return self.whole_raw_checks in ("every_night", WEEKDAYS[interval.weekday()])  # not %A: locale


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
            # what dbt reads of each platform (the registry; the dbt project's default is a copy)
            "platform_registry": platforms_registry.dbt_registry(),
            "utm_medium": self.utm_medium,
            "baseline_months": self.baseline_months,
            "suggested_copy": list(self.suggested_copy),
            "leaderboard_weights": self.weights.__dict__,
        }


# --------------------------------------------------------------------------------------------
# The schema of the settings file. Each section is a pydantic model that refuses unknown keys;
# load_settings() turns a valid file into the frozen dataclasses above (what the code uses).
# `advocacy settings schema` prints SettingsFile's JSON Schema for editors.


def _iso_date(value: Any) -> Any:
    # Dates stay strings in our YAML loader (no guessing of 2026-1-5 or 05.01.2026).
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date written YYYY-MM-DD, e.g. 2026-01-05")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a calendar date (YYYY-MM-DD)") from exc


def _text(value: Any) -> Any:
    # Ids written without quotes (a Page id 625492073216927) arrive as ints: they are text.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Handle = Annotated[StrictStr, BeforeValidator(_text), Field(min_length=1)]
ConnId = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
Share = Annotated[StrictFloat, Field(ge=0, le=1)]
Weight = Annotated[StrictFloat, Field(ge=0, le=1000)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProgrammeSection(_Section):
    """`programme:` who and what the programme is."""

    name: StrictStr = Field("Employee advocacy programme", min_length=1, description="Shown in the report.")
    start_date: IsoDate = Field(
        description="First day of the programme (YYYY-MM-DD); history loads from here."
    )
    timezone: StrictStr = Field("UTC", description="IANA time zone; months are calendar months in it.")
    hashtags: list[Handle] = Field(default_factory=list, description="Programme hashtags ('#' optional).")
    company_domains: list[Handle] = Field(
        default_factory=list, description="Links to these count as company."
    )
    utm_medium: StrictStr = Field(
        "employee_advocacy", min_length=1, description="utm_medium of advocates' links."
    )
    lookback_days: StrictInt = Field(30, ge=1, le=90, description="Re-read counters of posts this young.")
    baseline_months: StrictInt = Field(
        3, ge=1, le=24, description="Months before start_date for the baseline."
    )
    suggested_copy: list[StrictStr] = Field(
        default_factory=list,
        description="Suggested texts: a post repeating one verbatim is not personalised.",
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            near = difflib.get_close_matches(v, _zones(), n=1)
            hint = f"; did you mean {near[0]}?" if near else " (e.g. Europe/Amsterdam, America/New_York)"
            raise ValueError(f"'{v}' is not an IANA zone{hint}") from exc
        return v

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, v: list[str]) -> list[str]:
        out = [h if h.startswith("#") else f"#{h}" for h in v]
        for h in out:
            if not re.fullmatch(r"#\w+", h):
                raise ValueError(f"'{h}' is not a hashtag (# then letters, digits or _)")
        return out

    @field_validator("company_domains")
    @classmethod
    def _domains(cls, v: list[str]) -> list[str]:
        for d in v:
            if not re.fullmatch(r"(?i)[a-z0-9-]+(\.[a-z0-9-]+)+", d):
                raise ValueError(f"'{d}' is not a domain name (like example.com, no scheme or path)")
        return [d.lower() for d in v]


class InputFile(_Section):
    """An input file: a path (or fsspec URL) and how it is read."""

    path: StrictStr = Field(min_length=1, description="Path (relative to this file) or URL.")
    delimiter: StrictStr | None = Field(
        None, min_length=1, max_length=1, description="Default: sniffed , ; tab."
    )
    encoding: StrictStr = Field("utf-8", description="e.g. cp1252 for an old Excel export.")
    date_format: Literal["yyyy-mm-dd", "dd.mm.yyyy", "dd/mm/yyyy", "mm/dd/yyyy"] = "yyyy-mm-dd"
    max_invalid_share: Share = Field(0.5, description="More invalid lines than this share: refuse the file.")
    sheet: StrictStr | None = Field(None, description=".xlsx: the sheet to read (default: the first).")

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str) -> str:
        import codecs

        try:
            codecs.lookup(v)
        except LookupError as exc:
            raise ValueError(f"'{v}' is not a text encoding Python knows (e.g. utf-8, cp1252)") from exc
        return v


def _input_file(value: Any) -> Any:
    return {"path": value} if isinstance(value, str) else value


InputEntry = Annotated[InputFile, BeforeValidator(_input_file)]


class InputsSection(_Section):
    """`inputs:` the files read every night and where outputs go."""

    roster: InputEntry = Field(description="HR roster export: a path, or {path: ..., delimiter: ...}.")
    sessions: InputEntry | None = Field(None, description="Web-analytics sessions export (optional).")
    self_reports: InputEntry | None = Field(None, description="Advocates' monthly self-reports (optional).")
    landing: StrictStr = Field(
        "${ADVOCACY_HOME}/landing", min_length=1, description="Raw JSON (path or URL)."
    )
    publish: StrictStr = Field("${ADVOCACY_HOME}/reports", min_length=1, description="Reports (path or URL).")


class PlatformSection(_Section):
    """`platforms.<name>:` one platform (names: the connector modules)."""

    enabled: StrictBool = Field(True, description="true or false, unquoted.")
    connection_id: ConnId | None = Field(None, description="Airflow connection (default <platform>_api).")
    company_handles: list[Handle] = Field(default_factory=list, description="The company's own accounts.")
    pool: ConnId | None = Field(None, description="Airflow pool of its extracts (default <platform>_api).")
    pool_slots: StrictInt = Field(1, ge=1, le=64, description="Slots of that pool.")


class WeightsSection(_Section):
    """`leaderboard_weights:` points per action in kpi_leaderboard_monthly."""

    programme_post: Weight = 10.0
    like: Weight = 1.0
    comment: Weight = 3.0
    share_received: Weight = 5.0
    referral_session: Weight = 2.0
    conversion: Weight = 20.0


class GateSection(_Section):
    """`gate:` the nightly safety gate."""

    max_closed_month_shrink: Share = 0.02
    accept_shrink_months: list[Annotated[StrictStr, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]] = Field(
        default_factory=list, description="Months (YYYY-MM) whose shrink is accepted tonight."
    )
    whole_raw_checks: Literal[(*WEEKDAYS, "every_night")] = Field(
        "sunday",
        description="The night whose gate checks the whole raw tables; the other nights check"
        " only the rows their own interval loaded (and every mart whole).",
    )


class ReportSection(_Section):
    """`report:` the published report."""

    language: Literal["en", "nb", "it"] = "en"
    locale: Annotated[StrictStr, Field(pattern=r"^[a-z]{2,3}([_-][A-Za-z]{2,4})*$")] | None = None
    headline: Literal["last_complete_month", "month_to_date"] = "last_complete_month"
    currency: Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")] = "EUR"


class AlertsSection(_Section):
    """`alerts:` who hears about a failed or late night (transport: Airflow connections)."""

    email: list[Annotated[StrictStr, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = Field(
        default_factory=list
    )
    smtp_connection_id: ConnId = "smtp_default"
    webhook_connection_id: ConnId | None = None
    deadline: Annotated[StrictStr, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] | None = Field(
        None, description='HH:MM in the programme time zone, quoted ("07:00").'
    )


class SettingsFile(_Section):
    """The programme settings file (ADVOCACY_SETTINGS)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Advocacy programme settings")

    programme: ProgrammeSection
    inputs: InputsSection
    platforms: dict[str, PlatformSection | None] = Field(
        min_length=1, description="One entry per platform: " + ", ".join(connector_platforms())
    )
    leaderboard_weights: WeightsSection = Field(default_factory=WeightsSection)
    gate: GateSection = Field(default_factory=GateSection)
    report: ReportSection = Field(default_factory=ReportSection)
    alerts: AlertsSection = Field(default_factory=AlertsSection)


def json_schema() -> dict:
    """The JSON Schema of the settings file (platform names from the connectors)."""
    schema = SettingsFile.model_json_schema()
    schema["properties"]["platforms"]["propertyNames"] = {"enum": connector_platforms()}
    # an input is a path or a mapping with `path` (the validator turns a path into the mapping)
    inputs = schema["$defs"]["InputsSection"]["properties"]
    for name in ("roster", "sessions", "self_reports"):
        prop = inputs[name]
        options = prop.pop("anyOf", None) or [{"$ref": prop.pop("$ref")}]
        prop["anyOf"] = [{"type": "string", "minLength": 1}, *options]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def _zones() -> list[str]:
    import zoneinfo

    return sorted(zoneinfo.available_timezones())


# --------------------------------------------------------------------------------------------
# Reading the YAML with line numbers.


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's surprises: no implicit dates (validated as YYYY-MM-DD
    instead) and no base-60 numbers (``deadline: 7:00`` would be the int 420)."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:timestamp",)]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
    for _ch, _resolvers in _Loader.yaml_implicit_resolvers.items():
        _Loader.yaml_implicit_resolvers[_ch] = [(t, r) for t, r in _resolvers if t != _tag]
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


class _Problems:
    """Problems of one file, each with its line; rendered as one SettingsError."""

    def __init__(self, path: Path, root: yaml.Node | None):
        self.path, self.root, self.items = path, root, []

    def add(self, loc: tuple, problem: str, fix: str) -> None:
        keys = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in loc).lstrip(".") or "(top level)"
        self.items.append((self.line(loc), keys, problem, fix))

    def line(self, loc: tuple) -> int:
        """Line of the deepest node of ``loc`` present in the file (its key's line for a mapping)."""
        node, line = self.root, 1
        for key in loc:
            if isinstance(node, yaml.MappingNode):
                hit = next(((k, v) for k, v in node.value if k.value == str(key)), None)
                if hit is None:
                    break
                line, node = hit[0].start_mark.line + 1, hit[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                break
        return line

    def raise_if_any(self) -> None:
        if self.items:
            lines = [
                f"{self.path}:{ln}: {keys}: {problem}{'' if problem.endswith('?') else '.'} Fix: {fix}"
                for ln, keys, problem, fix in self.items
            ]
            raise SettingsError("\n".join(sorted(set(lines), key=_line_no)))


def _line_no(text: str) -> int:
    return int(text.split(":", 2)[1]) if text.count(":") >= 2 and text.split(":", 2)[1].isdigit() else 0


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The section model that holds the key at ``loc`` (for "did you mean")."""
    model: Any = SettingsFile
    for key in loc:
        if model is SettingsFile and key == "platforms":
            model = "platforms"
            continue
        if model == "platforms":
            model = PlatformSection
            continue
        if isinstance(key, int):
            continue
        field_info = getattr(model, "model_fields", {}).get(key)
        if field_info is None:
            return None
        ann = field_info.annotation
        model = next(
            (
                a
                for a in (ann, *getattr(ann, "__args__", ()))
                if isinstance(a, type) and issubclass(a, BaseModel)
            ),
            InputFile if key in ("roster", "sessions", "self_reports") else None,
        )
        if model is None:
            return None
    return model if isinstance(model, type) else None


def _duplicates(node: yaml.Node, loc: tuple, problems: _Problems) -> None:
    """A key written twice: YAML would silently keep the last one."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for k, v in node.value:
            if k.value in seen:
                problems.items.append(
                    (
                        k.start_mark.line + 1,
                        ".".join(map(str, (*loc, k.value))),
                        f"is written twice (also on line {seen[k.value]})",
                        "keep one of them",
                    )
                )
            seen.setdefault(k.value, k.start_mark.line + 1)
            _duplicates(v, (*loc, k.value), problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _duplicates(v, (*loc, i), problems)


def _fix_for(err: dict, loc: tuple) -> tuple[str, str]:
    """(problem, fix) of one pydantic error, in the words of the settings file."""
    kind = err["type"]
    key = next((str(k) for k in reversed(loc) if not isinstance(k, int)), "")
    got = err.get("input")
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        valid = sorted(model.model_fields) if model else []
        near = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
        if near:
            return f"`{key}` is not a setting; did you mean `{near[0]}`?", f"rename it to `{near[0]}`"
        return f"`{key}` is not a setting", "remove it; valid keys here: " + ", ".join(valid)
    if kind == "missing":
        return "is required but missing", f"add `{key}:` (see the documented example file)"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {got!r}", "write true or false without quotes"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, got {got!r}", "write a number without quotes, e.g. 3"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, got {got!r}", "write a number without quotes, e.g. 2.5"
    if kind in ("string_type",):
        return f"must be text, got {got!r}", "quote the value"
    if kind in ("list_type",):
        return f"must be a list, got {got!r}", 'write a list, e.g. ["a", "b"]'
    if kind == "model_type" and key in ("roster", "sessions", "self_reports"):
        return (
            f"must be a path or a mapping with `path:`, got {got!r}",
            "write the file's path (quoted if odd)",
        )
    if kind == "too_short" and key == "platforms":
        return "lists no platform", "add at least one platform: " + ", ".join(connector_platforms())
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping of settings, got {got!r}", "indent its settings below it (key: value)"
    if kind == "literal_error":
        return (
            f"{got!r} is not allowed ({err['msg'].removeprefix('Input should be ')})",
            "use one of those values",
        )
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return (
            f"{got!r} is out of range (must be {err['msg'].removeprefix('Input should be ')})",
            "use a value in that range",
        )
    if kind == "string_pattern_mismatch":
        return f"{got!r} has the wrong form", _PATTERN_FIX.get(key, "see the documented example file")
    if kind in ("too_short", "string_too_short"):
        return "is empty", "give a value or remove the key to use the default"
    if kind == "string_too_long":
        return f"{got!r} is too long ({err['msg'].removeprefix('String should have ')})", "shorten it"
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, "), _VALUE_FIX.get(key, "correct the value")
    return err["msg"], "see the documented example file"


_VALUE_FIX = {
    "start_date": "write the date as YYYY-MM-DD, e.g. 2026-01-05",
    "timezone": "use an IANA zone name, e.g. Europe/Amsterdam",
    "hashtags": 'write hashtags like "#LifeAtNorthwind" (quoted: YAML reads # as a comment)',
    "company_domains": "write bare domains, e.g. northwind.example",
    "encoding": "use a Python codec name, e.g. utf-8 or cp1252",
}

_PATTERN_FIX = {
    "email": "write an e-mail address, e.g. data-team@example.com",
    "accept_shrink_months": 'write months as "YYYY-MM", e.g. "2026-03"',
    "deadline": 'write the time quoted, as HH:MM, e.g. "07:00"',
    "currency": "write a three-letter ISO 4217 code, e.g. EUR",
    "locale": "write a locale like nb_NO or en_GB",
    "connection_id": "use letters, digits, _ . - only",
    "smtp_connection_id": "use letters, digits, _ . - only",
    "webhook_connection_id": "use letters, digits, _ . - only",
    "pool": "use letters, digits, _ . - only",
}


_BRANCH = re.compile(r"^[A-Z]|^function-")


def _platform_problems(raw: dict, problems: _Problems) -> None:
    platforms = raw.get("platforms")
    if not isinstance(platforms, dict):
        return
    known = connector_platforms()
    for name in platforms:
        if name in known:
            continue
        # a platform's other names in the registry (an old name, a short one) and typos of them mean it
        aliases = {k: k for k in known}
        for p in platforms_registry.REGISTRY.values():
            if p.name in known:
                aliases.update({a: p.name for a in p.utm_aliases if "." not in a and a not in aliases})
        near = [aliases[m] for m in difflib.get_close_matches(str(name).lower(), aliases, n=1, cutoff=0.6)]
        problem = f"`{name}` is not a platform" + (f"; did you mean `{near[0]}`?" if near else "")
        problems.add(("platforms", name), problem, "use one of " + ", ".join(known))


def _path(value: str, base: Path) -> str:
    value = str(value).replace("${ADVOCACY_HOME}", str(advocacy_home()))
    value = os.path.expandvars(value)
    if "://" in value:  # fsspec URL (s3://, gs://, memory://, file://)
        return value
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else (base / p).resolve())


def settings_path(path: str | os.PathLike | None = None) -> Path:
    """The settings file to read: ``path``, else ``ADVOCACY_SETTINGS``; never a silent default."""
    chosen = path or os.environ.get(SETTINGS_ENV)
    if not chosen:
        raise SettingsError(
            f"{SETTINGS_ENV} is not set. Fix: point it at your programme's settings file "
            f"(start from the documented example {DEMO_SETTINGS.name}: `cp {DEMO_SETTINGS} programme.yml`); "
            "`advocacy demo` sets it to the demo programme by itself"
        )
    return Path(chosen)


def parse_settings_file(path: Path) -> SettingsFile:
    """Validate the file against the schema; every problem with its line, key path and fix."""
    if not path.is_file():
        raise SettingsError(
            f"{path}: settings file not found. Fix: set {SETTINGS_ENV} to your programme YAML "
            f"(the documented example is {DEMO_SETTINGS})"
        )
    text = path.read_text(encoding="utf-8")
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            raw = loader.construct_document(root) if root is not None else {}
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise SettingsError(
            f"{path}{line}: not valid YAML ({getattr(exc, 'problem', None) or exc}). "
            "Fix: check the indentation and quoting on that line"
        ) from None
    problems = _Problems(path, root)
    if not isinstance(raw, dict):
        problems.add((), "the file must be a mapping of sections", "start from the documented example file")
        problems.raise_if_any()
    _duplicates(root, (), problems)
    _platform_problems(raw, problems)
    try:
        parsed = SettingsFile.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            # drop pydantic's union branch names (e.g. 'InputFile', 'function-before[...]')
            loc = tuple(
                p for p in err["loc"] if isinstance(p, int) or not re.match(r"^[A-Z]|^function-", str(p))
            )
            if err["type"] == "none_required":  # the `| None` branch of an optional section
                continue
            problem, fix = _fix_for(err, loc)
            problems.add(loc, problem, fix)
        problems.raise_if_any()
    problems.raise_if_any()
    return parsed


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Read and validate the programme settings file (``path`` or ``ADVOCACY_SETTINGS``)."""
    path = settings_path(path)
    f = parse_settings_file(path)
    base = path.parent
    prog, inputs = f.programme, f.inputs

    def options(entry: InputFile | None) -> InputOptions:
        return InputOptions(**entry.model_dump(exclude={"path"})) if entry else InputOptions()

    input_options = {
        name: options(getattr(inputs, name))
        for name in ("roster", "sessions", "self_reports")
        if getattr(inputs, name) is not None
    }
    platforms = {}
    for name, p in f.platforms.items():
        p = p or PlatformSection()
        platforms[name] = PlatformSettings(
            name=name,
            enabled=p.enabled,
            connection_id=p.connection_id or f"{name}_api",
            company_handles=tuple(h.lstrip("@") for h in p.company_handles),
            pool=p.pool or platforms_registry.default_pool(name),
            pool_slots=p.pool_slots,
        )
    return Settings(
        source_file=str(path.resolve()),
        name=prog.name,
        start_date=prog.start_date,
        timezone=prog.timezone,
        hashtags=tuple(prog.hashtags),
        company_domains=tuple(prog.company_domains),
        utm_medium=prog.utm_medium,
        lookback_days=prog.lookback_days,
        baseline_months=prog.baseline_months,
        roster_path=_path(inputs.roster.path, base),
        sessions_path=_path(inputs.sessions.path, base) if inputs.sessions else None,
        self_reports_path=_path(inputs.self_reports.path, base) if inputs.self_reports else None,
        landing_path=_path(inputs.landing, base),
        publish_path=_path(inputs.publish, base),
        platforms=platforms,
        weights=LeaderboardWeights(**f.leaderboard_weights.model_dump()),
        suggested_copy=tuple(prog.suggested_copy),
        input_options=input_options,
        gate=GateSettings(
            max_closed_month_shrink=f.gate.max_closed_month_shrink,
            accept_shrink_months=tuple(f.gate.accept_shrink_months),
            whole_raw_checks=f.gate.whole_raw_checks,
        ),
        report=ReportSettings(**f.report.model_dump()),
        alerts=AlertSettings(**{**f.alerts.model_dump(), "email": tuple(f.alerts.email)}),
    )
