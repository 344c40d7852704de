"""The table catalog: one declarative entry per validated / published table.

Both halves of the end of the pipeline read this list and nothing else:

* the validation gate (``advocacy.quality.suites``) turns each entry into a
  Great Expectations suite (keys not null and unique, rates in [0, 1], counts
  never negative, accepted values, row count against the previous run, ...);
* the report (``advocacy.report``) takes each entry's title, chart and CSV
  settings.

Adding a mart is one entry here (then ``python -m advocacy.quality.project sync`` to
refresh the committed suite JSON). A table that does not exist yet in the
warehouse is skipped by both, with a note, so entries may run ahead of dbt.

Column names are the public interface documented in ``docs/metrics.md``; SQL
fragments below (chart series, checks) are code, never user input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Accepted-value sets that depend on the deployment (which platforms exist)
# are runtime parameters of the suites, not constants: a new platform is a
# connector module and a settings entry, never a suite edit.
PLATFORMS = "$platforms"  # the known platforms
PLATFORMS_OR_ALL = "$platforms_or_all"  # the known platforms plus 'ALL'
# web sessions from a utm_source that is no known platform are grouped as 'other'
PLATFORMS_OR_OTHER = "$platforms_or_other"  # the known platforms plus 'other'
PLATFORMS_OTHER_OR_ALL = "$platforms_other_or_all"  # the known platforms plus 'other' and 'ALL'

PERCENT = "percent"
NUMBER = "number"
MONEY = "money"


@dataclass(frozen=True)
class Series:
    """One line / bar series: a label and the SQL expression giving its value per month."""

    label: str
    expr: str


@dataclass(frozen=True)
class Chart:
    """How the report draws a mart's 12-month trend.

    Either fixed ``series`` (each an expression over the rows ``where`` selects;
    aggregates when ``aggregate`` is set, grouped by month), or one series per
    value of ``split_by`` with ``value`` as the plotted column.
    """

    title: str
    kind: str = "line"  # "line" or "bar"
    series: tuple[Series, ...] = ()
    where: str = ""
    aggregate: bool = False
    split_by: str | None = None
    value: str | None = None
    fmt: str = NUMBER
    note: str = ""

    def __post_init__(self):
        if self.kind not in ("line", "bar"):
            raise ValueError(f"chart kind must be 'line' or 'bar', got {self.kind!r}")
        if bool(self.series) == bool(self.split_by):
            raise ValueError(f"chart {self.title!r}: give either series or split_by (+ value)")
        if self.split_by and not self.value:
            raise ValueError(f"chart {self.title!r}: split_by needs value")


@dataclass(frozen=True)
class RowsCheck:
    """A check written as SQL: the query returns the offending rows (``{batch}`` = the table).

    GX substitutes ``{batch}`` with a subquery that it aliases itself unless the
    query contains a join; so alias ``{batch}`` exactly when the query joins.
    """

    name: str
    description: str
    query: str


@dataclass(frozen=True)
class Table:
    """One warehouse table: what the gate checks and how the report shows it."""

    table: str
    title: str
    columns: tuple[str, ...]  # the contract columns (docs/metrics.md); extra columns are allowed
    keys: tuple[str, ...]  # the grain: each not null, unique together when `unique`
    schema: str = "marts"
    unique: bool = True
    rates: tuple[str, ...] = ()  # shares: between 0 and 1, nulls allowed
    counts: tuple[str, ...] = ()  # never negative, nulls allowed
    not_null: tuple[str, ...] = ()  # beyond the keys
    accepted: Mapping[str, tuple[str, ...] | str] = field(default_factory=dict)
    min_rows: int = 0  # a hard floor for the row count (also on the first run)
    row_count_trend: bool = True  # compare the row count with the previous successful run
    checks: tuple[RowsCheck, ...] = ()
    # report
    description: str = ""
    chart: Chart | None = None
    csv: bool = False  # publish <table>.csv beside the report
    per_employee: bool = False  # has employee_id (+ display_name): masked unless consent
    # the report section the table feeds beyond its chart / CSV: "scorecard", "top", "reach",
    # "engagement", "referrals", "referrers", "campaigns", "earned_media", "freshness",
    # "ranking" (several tables may share "ranking")
    summary: str = ""

    def __post_init__(self):
        object.__setattr__(self, "accepted", MappingProxyType(dict(self.accepted)))
        named = set(self.keys) | set(self.rates) | set(self.counts) | set(self.not_null)
        named |= set(self.accepted)
        missing = named - set(self.columns)
        if missing:
            raise ValueError(f"{self.qualified}: {sorted(missing)} are not in its columns")

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


def _named_only_with_consent() -> RowsCheck:
    return RowsCheck(
        name="named_only_with_consent",
        description="display_name is set only for employees with consent_public (marts.dim_employee)",
        query=(
            "select t.employee_id, t.display_name from {batch} t "
            # unqualified: the gate reads the marts where they are (marts, or a night's
            # marts_build) with search_path set to that schema (runner.run_validation)
            "left join dim_employee d on d.employee_id = t.employee_id "
            "where t.display_name is not null and d.consent_public is not true"
        ),
    )


# A sudden fall of a lifetime counter to zero / null across a whole platform
# is a deprecation or a permission change far more often than real behaviour
# (docs/metrics.md): compare each platform's latest snapshot day with the one before.
# Only posts snapshotted on both days are summed: tonight's brand-new posts (no
# likes yet) or posts that aged out of the refresh window can neither fake nor
# hide a collapse, and one post falling to zero leaves the others' total > 0.
# No '{', ':' or '%' in the SQL beyond {batch}: GX runs it through str.format
# and SQLAlchemy text() (':name' would be a bind parameter).
COUNTER_METRICS = ("likes", "comments", "shares", "impressions")
_COUNTER_COLLAPSE = RowsCheck(
    name="no_platform_counter_collapse",
    description=(
        "no platform's likes, comments, shares or impressions fall to zero or null across its posts "
        "on the latest snapshot day while the previous snapshot day had some (a platform "
        "deprecation or a lost permission, not behaviour: fix the connector or its token)"
    ),
    query="""
with days as (
    select platform, day, row_number() over (partition by platform order by day desc) as n
    from (select distinct platform, day from {batch} as b) as d
), pairs as (
    select cur.platform, cur.day, prev.day as previous_day
    from days as cur join days as prev on prev.platform = cur.platform and prev.n = 2
    where cur.n = 1
), totals as (
    select p.platform, p.day, p.previous_day, count(*) as posts,
           %(sums)s
    from pairs as p
    join {batch} as c on c.platform = p.platform and c.day = p.day
    join {batch} as o on o.platform = p.platform and o.day = p.previous_day and o.post_id = c.post_id
    group by p.platform, p.day, p.previous_day
)
select t.platform, m.metric,
       'total ' || cast(m.before as text) || ' on ' || cast(t.previous_day as text) || ', '
       || coalesce(cast(m.now as text), 'null') || ' on ' || cast(t.day as text)
       || ' over the ' || cast(t.posts as text) || ' posts snapshotted on both days' as detail
from totals as t
cross join lateral (values
    %(values)s
) as m(metric, before, now)
where m.before > 0 and coalesce(m.now, 0) = 0
""".strip()
    % {
        "sums": ",\n           ".join(
            f"sum(o.{c}) as previous_{c}, sum(c.{c}) as {c}" for c in COUNTER_METRICS
        ),
        "values": ",\n    ".join(f"('{c}', t.previous_{c}, t.{c})" for c in COUNTER_METRICS),
    },
)

_ENGAGEMENT_COUNTS = ("likes", "comments", "shares", "impressions", "interactions")

MARTS: tuple[Table, ...] = (
    Table(
        table="dim_employee",
        title="Employees",
        columns=(
            "employee_id",
            "department",
            "country",
            "invited_at",
            "registered_at",
            "left_at",
            "consent_public",
            "display_name",
        ),
        keys=("employee_id",),
        not_null=("consent_public",),
        checks=(
            RowsCheck(
                name="display_name_only_with_consent",
                description="display_name is null for every employee without consent_public",
                query="select employee_id from {batch} where consent_public is not true "
                "and display_name is not null",
            ),
        ),
        description="One row per employee; display_name only with consent.",
    ),
    Table(
        table="fct_posts",
        title="Posts",
        columns=(
            "platform",
            "post_id",
            "employee_id",
            "created_at",
            "is_programme_post",
            "is_pure_reshare",
            "is_personalised",
            "likes",
            "comments",
            "shares",
            "impressions",
            "interactions",
            "found_via",
        ),
        keys=("platform", "post_id"),
        not_null=("created_at",),
        counts=_ENGAGEMENT_COUNTS,
        accepted={"platform": PLATFORMS},
    ),
    Table(
        table="fct_post_engagement_daily",
        title="Post engagement by day",
        columns=(
            "platform",
            "post_id",
            "day",
            *_ENGAGEMENT_COUNTS,
            *(f"{c}_delta" for c in _ENGAGEMENT_COUNTS),
        ),
        keys=("platform", "post_id", "day"),
        counts=_ENGAGEMENT_COUNTS,  # the *_delta columns may be negative (a like withdrawn)
        accepted={"platform": PLATFORMS},
        checks=(_COUNTER_COLLAPSE,),
    ),
    Table(
        table="kpi_programme_scorecard_monthly",
        title="Programme scorecard",
        columns=(
            "month",
            "invited",
            "registered",
            "active",
            "adoption_rate",
            "activation_rate",
            "programme_posts",
            "community_posts",
            "interactions",
            "potential_reach",
            "engagement_rate",
            "referral_sessions",
            "referral_conversions",
            "adoption_rate_mom",
            "activation_rate_mom",
            "engagement_rate_mom",
        ),
        keys=("month",),
        rates=("adoption_rate", "activation_rate", "engagement_rate"),
        counts=(
            "invited",
            "registered",
            "active",
            "programme_posts",
            "community_posts",
            "interactions",
            "potential_reach",
            "referral_sessions",
            "referral_conversions",
        ),
        description="Posts by enrolled advocates (programme) and by others using the programme's "
        "hashtags or mentions (community).",
        chart=Chart(
            title="Programme and community posts per month",
            kind="bar",
            series=(
                Series("Programme posts", "programme_posts"),
                Series("Community posts", "community_posts"),
            ),
        ),
        csv=True,
        summary="scorecard",
    ),
    Table(
        table="kpi_adoption_monthly",
        title="Adoption and activation",
        columns=(
            "month",
            "department",
            "invited",
            "registered",
            "active",
            "adoption_rate",
            "activation_rate",
        ),
        keys=("month", "department"),
        rates=("adoption_rate", "activation_rate"),
        counts=("invited", "registered", "active"),
        description="Adoption = registered / invited; activation = active / registered (whole company).",
        chart=Chart(
            title="Adoption and activation rate",
            series=(
                Series("Adoption rate", "adoption_rate"),
                Series("Activation rate", "activation_rate"),
            ),
            where="department = 'ALL'",
            fmt=PERCENT,
        ),
        csv=True,
    ),
    Table(
        table="kpi_participation_monthly",
        title="Participation",
        columns=("month", "employee_id", "status", "programme_posts", "days_since_last_post"),
        keys=("month", "employee_id"),
        counts=("programme_posts", "days_since_last_post"),
        accepted={"status": ("invited", "registered_dormant", "active")},
        description="Invited employees by status each month.",
        chart=Chart(
            title="Invited employees by status",
            kind="bar",
            series=(
                Series("Active", "count(*) filter (where status = 'active')"),
                Series("Registered, dormant", "count(*) filter (where status = 'registered_dormant')"),
                Series("Invited, not registered", "count(*) filter (where status = 'invited')"),
            ),
            aggregate=True,
        ),
        csv=True,
        per_employee=True,
    ),
    Table(
        table="kpi_top_contributors_monthly",
        title="Top contributors",
        columns=(
            "month",
            "rank",
            "employee_id",
            "display_name",
            "department",
            "programme_posts",
            "interactions",
            "shares_received",
        ),
        keys=("month", "rank"),
        counts=("rank", "programme_posts", "interactions", "shares_received"),
        checks=(_named_only_with_consent(),),
        description="Ranked by interactions on their programme posts; consenting employees named only.",
        csv=True,
        per_employee=True,
        summary="top",
    ),
    Table(
        table="kpi_team_contributors_monthly",
        title="Teams",
        columns=("month", "department", "active_advocates", "programme_posts", "interactions", "rank"),
        keys=("month", "department"),
        not_null=("rank",),
        counts=("active_advocates", "programme_posts", "interactions", "rank"),
        checks=(
            RowsCheck(
                name="team_ranks_unique",
                description="each month gives every department its own rank (ranks are unique)",
                query="select month, rank from {batch} group by month, rank having count(*) > 1",
            ),
        ),
        description="Departments ranked by their advocates' interactions on programme posts.",
        csv=True,
        summary="ranking",
    ),
    Table(
        table="kpi_reach_monthly",
        title="Potential reach",
        columns=(
            "month",
            "platform",
            "active_advocates",
            "potential_reach",
            "avg_audience",
            "benchmark_avg_audience",
            "impressions",
        ),
        keys=("month", "platform"),
        counts=(
            "active_advocates",
            "potential_reach",
            "avg_audience",
            "benchmark_avg_audience",
            "impressions",
        ),
        accepted={"platform": PLATFORMS_OR_ALL},
        description="Sum of the audiences of advocates active on each platform.",
        chart=Chart(
            title="Potential reach by platform",
            split_by="platform",
            value="potential_reach",
        ),
        csv=True,
        summary="reach",
    ),
    Table(
        table="kpi_engagement_monthly",
        title="Engagement",
        columns=(
            "month",
            "platform",
            "programme_posts",
            "interactions",
            "comments",
            "engagement_rate",
            "engagement_rate_basis",
            "personalised_uplift",
        ),
        keys=("month", "platform"),
        rates=("engagement_rate",),  # personalised_uplift is a relative change: may be < 0 or > 1
        counts=("programme_posts", "interactions", "comments"),
        accepted={
            "platform": PLATFORMS_OR_ALL,
            "engagement_rate_basis": ("impressions", "audience"),
        },
        description="Interactions per impression (or per potential reach where impressions are missing).",
        chart=Chart(
            title="Engagement rate by platform",
            split_by="platform",
            value="engagement_rate",
            fmt=PERCENT,
        ),
        csv=True,
        summary="engagement",
    ),
    Table(
        table="kpi_referrals_monthly",
        title="Referral traffic",
        columns=("month", "platform", "sessions", "conversions", "baseline_sessions", "lift"),
        keys=("month", "platform"),
        not_null=("sessions", "conversions"),
        counts=("sessions", "conversions", "baseline_sessions"),  # lift may be negative
        accepted={"platform": PLATFORMS_OTHER_OR_ALL},
        description="Web sessions from advocates' tracked links, against the pre-programme baseline.",
        chart=Chart(
            title="Referral sessions vs. pre-programme baseline",
            series=(
                Series("Sessions", "sessions"),
                Series("Baseline", "baseline_sessions"),
                Series("Conversions", "conversions"),
            ),
            where="platform = 'ALL'",
        ),
        csv=True,
        summary="referrals",
    ),
    Table(
        table="kpi_referrals_by_employee_monthly",
        title="Referrals by advocate",
        columns=("month", "employee_id", "display_name", "sessions", "conversions"),
        keys=("month", "employee_id"),  # 'anonymous' = every non-consenting employee together
        not_null=("sessions", "conversions"),
        counts=("sessions", "conversions"),
        checks=(_named_only_with_consent(),),
        description="Sessions carrying each advocate's utm_code; non-consenting advocates together "
        "as one anonymous row.",
        csv=True,
        per_employee=True,
        summary="referrers",
    ),
    Table(
        table="kpi_referrals_by_campaign_monthly",
        title="Referrals by campaign",
        columns=("month", "campaign", "platform", "sessions", "conversions", "attributed_sessions"),
        keys=("month", "campaign", "platform"),
        not_null=("sessions", "conversions", "attributed_sessions"),
        counts=("sessions", "conversions", "attributed_sessions"),
        accepted={"platform": PLATFORMS_OR_OTHER},
        checks=(
            RowsCheck(
                name="attributed_within_sessions",
                # conversions may exceed sessions: one session can convert several times
                description="attributed_sessions never exceeds sessions",
                query="select month, campaign, platform, sessions, conversions, attributed_sessions "
                "from {batch} where attributed_sessions > sessions",
            ),
        ),
        description="Referral sessions per utm_campaign ('(none)' when empty) and platform.",
        csv=True,
        summary="campaigns",
    ),
    Table(
        table="kpi_leaderboard_monthly",
        title="Leaderboard",
        columns=("month", "rank", "employee_id", "display_name", "department", "points"),
        keys=("month", "rank"),
        unique=False,  # ties share a rank, and masked employees all read 'anonymous'
        not_null=("points",),  # every listed employee has a score (0 at least)
        counts=("rank", "points"),
        checks=(_named_only_with_consent(),),
        description="Points per action, weights from the programme settings.",
        csv=True,
        per_employee=True,
        summary="ranking",
    ),
    Table(
        table="kpi_earned_media_monthly",
        title="Earned media value",
        columns=(
            "month",
            "platform",
            "impressions",
            "referral_sessions",
            "cpm",
            "cpc",
            "earned_media_value",
        ),
        keys=("month", "platform"),
        not_null=("referral_sessions",),
        # money is never negative; null means "no rate configured", never 0
        counts=("impressions", "referral_sessions", "cpm", "cpc", "earned_media_value"),
        accepted={"platform": PLATFORMS_OR_ALL},
        description="What the organic impressions and clicks would have cost as paid media "
        "(CPM / CPC are example rates unless configured).",
        chart=Chart(
            title="Earned media value",
            kind="bar",
            series=(Series("Earned media value", "earned_media_value"),),
            where="platform = 'ALL'",
            fmt=MONEY,
            note="Valued at example CPM / CPC rates (dbt seed); edit the seed for your own.",
        ),
        csv=True,
        summary="earned_media",
    ),
    Table(
        table="fct_source_freshness",
        title="Data freshness",
        columns=("source", "stream", "last_extracted_at", "last_interval_start", "records"),
        keys=("source", "stream"),
        not_null=("last_extracted_at",),
        counts=("records",),
        summary="freshness",
    ),
)

_RAW_COMMON = dict(
    schema="raw",
    columns=(
        "_interval_start",
        "_extracted_at",
        "_landing_file",
        "_line_no",
        "_record_key",
        "_record_time",
        "record",
    ),
    not_null=("record",),
    row_count_trend=False,  # raw grows by a day at a time; marts catch collapses
)

RAW: tuple[Table, ...] = (
    Table(
        table="roster__employees",
        title="HR roster",
        keys=("_interval_start", "_record_key"),  # one snapshot per run day, keyed by employee_id
        min_rows=1,
        **_RAW_COMMON,
    ),
    Table(
        table="x__users",
        title="X users",
        keys=("_interval_start", "_record_key"),
        **_RAW_COMMON,
    ),
    Table(
        table="x__tweets",
        title="X posts",
        keys=("_record_key",),  # the same post may be found twice in a day (timeline + search)
        unique=False,
        **{**_RAW_COMMON, "not_null": ()},  # a repeated snapshot's record is null (advocacy.load)
    ),
)

TABLES: tuple[Table, ...] = RAW + MARTS


def existing_tables(conn, tables: Iterable[Table] = TABLES) -> set[str]:
    """The qualified names of ``tables`` that exist in the warehouse (psycopg connection)."""
    wanted = [(t.schema, t.table) for t in tables]
    rows = conn.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where (table_schema, table_name) in (select * from unnest(%s::text[], %s::text[]))",
        ([s for s, _ in wanted], [n for _, n in wanted]),
    ).fetchall()
    return {r[0] for r in rows}


def by_name(qualified: str) -> Table:
    for t in TABLES:
        if t.qualified == qualified:
            return t
    raise KeyError(qualified)
