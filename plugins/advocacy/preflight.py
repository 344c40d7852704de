"""One finding of a pre-flight check (``advocacy check``): what was checked, how it went, the fix.

Parts that know how to check themselves (a connector probing its connection, the
inputs checking a file's header and a sample, the warehouse its privileges) return
``Finding`` values; ``advocacy check`` prints them as one table and exits non-zero on
a ``fail``. A finding never carries a secret.
"""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("ok", "warn", "fail")


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warn | fail
    what: str  # the thing checked, e.g. "<platform>_api: token" or "roster: header"
    detail: str = ""  # what was seen
    fix: str = ""  # what to do (empty for ok)

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"finding level {self.level!r} is not one of {', '.join(LEVELS)}")


# --------------------------------------------------------------------------------------------
# `advocacy check`: every part in turn, never stopping at the first problem (except when the
# settings themselves are unreadable: nothing else can be checked then).

MIN_PG_VERSION = 160000  # PostgreSQL 16: the data tests of the day-partitioned models need it (README)
SAMPLE_LINES = 200  # lines of each input file shown in the "would be quarantined" detail


def run_checks(settings_file: str | None = None, *, probe: bool = True) -> list[Finding]:
    """All pre-flight findings, in the order of the table."""
    from advocacy.settings import SettingsError, load_settings

    try:
        settings = load_settings(settings_file)
    except SettingsError as exc:
        first = str(exc).splitlines()
        return [
            Finding(
                "fail",
                "settings",
                "; ".join(first[:3]) + (f" (+{len(first) - 3} more)" if len(first) > 3 else ""),
                "fix each line named (`advocacy settings validate` lists them all)",
            )
        ]
    out = [
        Finding(
            "ok", "settings", f"{settings.source_file}: {', '.join(settings.enabled_platforms())} enabled"
        )
    ]
    out += check_platforms(settings, probe=probe)
    out += check_inputs(settings)
    out += check_warehouse()
    out += check_locations(settings)
    return out


def check_platforms(settings, *, probe: bool = True) -> list[Finding]:
    """Each enabled platform: its connection resolves; the connector's ``probe`` calls the API once."""
    import importlib

    from advocacy.connections import ConnectionNotFound, env_name, get_connection

    out = []
    for name in settings.enabled_platforms():
        p = settings.platforms[name]
        what = f"{name}: connection {p.connection_id}"
        try:
            conn = get_connection(p.connection_id)
        except ConnectionNotFound:
            out.append(
                Finding(
                    "fail",
                    what,
                    "not defined",
                    f"create the Airflow connection '{p.connection_id}' or set {env_name(p.connection_id)} "
                    "(fields and extras: plugins/advocacy/connectors/README.md)",
                )
            )
            continue
        if not conn.password:
            out.append(
                Finding(
                    "fail",
                    what,
                    f"no token (password) on {conn.host or 'the connection'}",
                    f"put the API token in the password field of '{p.connection_id}'",
                )
            )
            continue
        out.append(Finding("ok", what, f"resolved ({conn.host or 'default host'})"))
        if not probe:
            continue
        module = importlib.import_module(f"advocacy.connectors.{name}")
        probe_fn = getattr(module, "probe", None)
        if probe_fn is None:
            out.append(
                Finding(
                    "warn",
                    f"{name}: API",
                    "no probe in this connector: token and scopes unchecked",
                    "the first night's extract will show whether the token works",
                )
            )
            continue
        try:
            out += list(probe_fn(settings, p))
        except Exception as exc:  # a probe must not stop the table; its error is the finding
            from advocacy.connectors.base import redact_tokens

            out.append(
                Finding(
                    "fail",
                    f"{name}: API",
                    redact_tokens(f"{type(exc).__name__}: {exc}")[:300],
                    f"check the host and token of '{p.connection_id}'",
                )
            )
    return out


def check_inputs(settings) -> list[Finding]:
    """Each configured input file: readable, header right, and what its lines would lose."""
    from advocacy import inputs

    checks = [
        ("roster", settings.roster_path, inputs.check_roster),
        ("sessions", settings.sessions_path, inputs.check_sessions),
        ("self_reports", settings.self_reports_path, inputs.check_self_reports),
    ]
    out = []
    for name, path, check in checks:
        if not path:
            continue
        what = f"input {name}"
        try:
            checked = check(path)
        except (inputs.InputError, OSError) as exc:
            out.append(
                Finding(
                    "fail",
                    what,
                    str(exc)[:300],
                    f"fix the file (or inputs.{name} in the settings) so the night can read it",
                )
            )
            continue
        rejected = checked.rejected
        if not rejected:
            out.append(Finding("ok", what, f"{path}: {checked.ok} line(s), header and values valid"))
            continue
        first = rejected[0]
        dropped = len(checked.dropped)
        total = checked.ok + dropped  # a kept line (a bad cell fallen back) is in ok already
        detail = (
            f"{len(rejected)} of {total} line(s) would be quarantined "
            f"({dropped} left out, {len(rejected) - dropped} kept with the bad cell fallen back); "
            f"first: line {first.line_no} {first.field or ''}: {first.reason}"
        )
        share = len(rejected) / max(1, total)
        limit = settings.input(name).max_invalid_share
        level = "fail" if share > limit else "warn"
        fix = (
            f"more than {limit:.0%} invalid: the file would be refused; correct the export"
            if level == "fail"
            else "correct those lines at the source (the rest loads; they wait in quarantine)"
        )
        out.append(Finding(level, what, detail[:300], fix))
    return out


def check_warehouse() -> list[Finding]:
    """The warehouse answers, is recent enough, lets this user build, and has bi_reader."""
    from advocacy import warehouse

    what = "warehouse"
    try:
        target = warehouse.resolve()
        conn = target.connect(connect_timeout=10, autocommit=True)
    except Exception as exc:
        return [
            Finding(
                "fail",
                what,
                f"cannot connect: {str(exc).strip().splitlines()[0][:200]}",
                f"check {warehouse.URL_ENV} or the '{warehouse.CONN_ID}' connection (host, user, password)",
            )
        ]
    out = []
    with conn:
        version = conn.info.server_version
        human = f"{version // 10000}.{version % 10000}"
        if version < MIN_PG_VERSION:
            out.append(
                Finding(
                    "fail",
                    f"{what}: version",
                    f"PostgreSQL {human} at {target.masked_url}",
                    "use PostgreSQL 16 or newer",
                )
            )
        else:
            out.append(Finding("ok", f"{what}: version", f"PostgreSQL {human} at {target.masked_url}"))
        can_create = conn.execute("select has_database_privilege(current_database(), 'CREATE')").fetchone()[0]
        missing = [
            s
            for s in warehouse.SCHEMAS
            if not conn.execute(
                "select coalesce((select has_schema_privilege(n.oid, 'CREATE') from pg_namespace n "
                "where n.nspname = %s), %s)",
                (s, can_create),
            ).fetchone()[0]
        ]
        if missing:
            out.append(
                Finding(
                    "fail",
                    f"{what}: privileges",
                    f"user {conn.info.user} may not create in {', '.join(missing)}",
                    f"grant create on those schemas (or the database) to {conn.info.user}",
                )
            )
        else:
            out.append(Finding("ok", f"{what}: privileges", f"user {conn.info.user} may build every schema"))
        role = conn.execute("select 1 from pg_roles where rolname = %s", (warehouse.BI_ROLE,)).fetchone()
        if role:
            out.append(
                Finding("ok", f"{what}: {warehouse.BI_ROLE}", "role exists (BI tools read marts through it)")
            )
        else:
            out.append(
                Finding(
                    "warn",
                    f"{what}: {warehouse.BI_ROLE}",
                    "role missing",
                    f"the first night creates it, or run 'create role {warehouse.BI_ROLE} nologin'",
                )
            )
    return out


def check_locations(settings) -> list[Finding]:
    """The landing and publish locations accept a file (written and removed again)."""
    import uuid

    import fsspec

    out = []
    for name, url in (("landing", settings.landing_path), ("publish", settings.publish_path)):
        what = f"{name} location"
        probe = f"{url.rstrip('/')}/.advocacy-check-{uuid.uuid4().hex}"
        try:
            fs, path = fsspec.core.url_to_fs(probe)
            fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            with fs.open(path, "wb") as fh:
                fh.write(b"ok")
            fs.rm(path)
        except Exception as exc:
            out.append(
                Finding(
                    "fail",
                    what,
                    f"{url}: not writable ({type(exc).__name__}: {str(exc)[:150]})",
                    f"make inputs.{name} writable for this user, or point it elsewhere",
                )
            )
            continue
        out.append(Finding("ok", what, f"{url}: writable"))
    return out


def render_table(findings: list[Finding]) -> str:
    """One table: level, what, detail, fix; then a one-line summary."""
    rows = [("", "check", "detail", "fix")] + [(f.level.upper(), f.what, f.detail, f.fix) for f in findings]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [
        f"{r[0]:<5} {r[1]:<{widths[1]}}  {r[2]}"
        + (f"\n{'':<5} {'':<{widths[1]}}  fix: {r[3]}" if r[3] else "")
        for r in rows[1:]
    ]
    counts = {lv: sum(f.level == lv for f in findings) for lv in LEVELS}
    lines.append(f"{counts['ok']} ok, {counts['warn']} warn, {counts['fail']} fail")
    return "\n".join(lines)


# A failure of these stops the night before anything runs; platform and input problems are
# left to their own tasks, which record them and let the other sources load.
BLOCKING = ("settings", "warehouse", "landing location", "publish location")


def assert_ready(settings_file: str | None = None) -> list[Finding]:
    """The DAG's first task: the check without API calls; raises naming every blocking failure."""
    import logging

    findings = run_checks(settings_file, probe=False)
    logging.getLogger(__name__).info("pre-flight check:\n%s", render_table(findings))
    blocking = [f for f in findings if f.level == "fail" and f.what.startswith(BLOCKING)]
    if blocking:
        raise RuntimeError(
            "pre-flight failed: " + "; ".join(f"{f.what}: {f.detail} (fix: {f.fix})" for f in blocking)
        )
    return findings
