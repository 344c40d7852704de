import pytest
from advocacy import inputs, platforms
from advocacy.settings import DEMO_SETTINGS, SettingsError, load_settings

# an HR export's header in its own order (the check reads columns by name)
HEADER = (
    "employee_id,email,full_name,department,country,hired_at,left_at,invited_at,registered_at,"
    "consent_public,x_username,linkedin_member_urn,facebook_user_id,instagram_username,utm_code"
)
assert set(HEADER.split(",")) == set(inputs.ROSTER_COLUMNS)


def test_demo_settings_load_and_feed_dbt():
    s = load_settings(DEMO_SETTINGS)
    assert s.enabled_platforms() == list(platforms.names())  # the demo enables every platform
    v = s.dbt_vars()
    assert v["hashtags"] == ["#lifeatnorthwind", "#northwindrobotics"]
    assert v["company_handles"]["x"] == ["northwindhq"]
    assert v["company_handles"]["linkedin"] == ["urn:li:organization:75440707"]
    assert all(v["company_handles"][name] for name in platforms.names())
    pools = {p.pool for p in s.platforms.values()}
    assert pools == {platforms.default_pool(name) for name in platforms.names()}
    assert s.roster_path.endswith("demo/roster.csv")


def test_settings_env_var_and_errors(tmp_path, monkeypatch):
    f = tmp_path / "p.yml"
    f.write_text("programme: {start_date: 2026-13-01}\ninputs: {roster: r.csv}\nplatforms: {x: {}}\n")
    monkeypatch.setenv("ADVOCACY_SETTINGS", str(f))
    with pytest.raises(SettingsError, match="YYYY-MM-DD"):
        load_settings()
    f.write_text("programme: {start_date: 2026-01-01, timezone: Mars/Base}\ninputs: {roster: r.csv}\n")
    with pytest.raises(SettingsError, match="not an IANA zone"):
        load_settings()
    f.write_text("programme: {start_date: 2026-01-01}\ninputs: {roster: r.csv}\nplatforms: {x: {}}\n")
    s = load_settings()
    assert s.roster_path == str(tmp_path / "r.csv")
    assert s.platforms["x"].connection_id == "x_api"
    assert (s.platforms["x"].pool, s.platforms["x"].pool_slots) == ("x_api", 1)
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "missing.yml")


def test_roster_reads_and_names_bad_rows(tmp_path):
    good = tmp_path / "roster.csv"
    row = "E1,a@x,Ann,Sales,NL,2020-01-01,,2026-01-05,2026-01-06,true,ann,,,,c1"
    good.write_text(f"{HEADER}\n{row}\n")
    [r] = inputs.read_roster(str(good))
    assert r["x_username"] == "ann" and r["consent_public"] == "true"

    dup = tmp_path / "dup.csv"
    dup.write_text(f"{HEADER}\n{row}\n{row}\n")
    [kept] = inputs.read_roster(str(dup))  # a repeat: the last line wins (tests/inputs/), not fatal
    checked = inputs.check_roster(str(dup))
    assert (checked.rejected, checked.superseded) == ([], 1)

    missing = tmp_path / "missing.csv"
    missing.write_text("employee_id,email\nE1,a@x\n")
    with pytest.raises(inputs.InputError, match=r"line 1: roster is missing column\(s\) full_name"):
        inputs.read_roster(str(missing))

    latin = tmp_path / "latin.csv"
    latin.write_bytes(f"{HEADER}\n".encode() + row.replace("Ann", "Zoë").encode("latin-1") + b"\n")
    with pytest.raises(inputs.InputError, match="line 2: not UTF-8"):
        inputs.read_roster(str(latin))

    empty = tmp_path / "empty.csv"
    empty.write_text(f"{HEADER}\n")
    with pytest.raises(inputs.InputError, match="no employees"):
        inputs.read_roster(str(empty))


def test_sessions_accept_kpi_and_ga4_layouts(tmp_path):
    import datetime as dt

    from advocacy.sandbox.company import Company

    company = Company(seed=7)
    now = dt.datetime(2026, 3, 10, 3, tzinfo=dt.UTC)
    kpi = tmp_path / "kpi.csv"
    ga4 = tmp_path / "ga4.csv"
    company.write_sessions_csv(kpi, now)
    company.write_sessions_csv(ga4, now, style="ga4")
    a, b = inputs.read_sessions(str(kpi)), inputs.read_sessions(str(ga4))
    assert len(a) == len(b) > 100
    strip = lambda rows: sorted(tuple(r[c] for c in inputs.SESSION_COLUMNS) for r in rows)  # noqa: E731
    assert strip(a) == strip(b)  # the same sessions whichever export names they carry
    assert all(r["_format"] == "ga4" for r in b)


def test_self_reports_key_by_employee_month_platform(tmp_path):
    f = tmp_path / "sr.csv"
    f.write_text("employee_id,month,platform,posts,likes,comments,shares\nE1,2026-02,TikTok,3,10,2,1\n")
    [row] = inputs.read_self_reports(str(f))
    assert row["_row_key"] == "E1|2026-02|tiktok" and row["posts"] == "3"
