"""The settings file's schema: every mistake named with its file, line, key path and fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from advocacy.settings import (
    DEMO_SETTINGS,
    AlertSettings,
    GateSettings,
    InputOptions,
    LeaderboardWeights,
    ReportSettings,
    SettingsError,
    connector_platforms,
    json_schema,
    load_settings,
)

EXE = str(Path(sys.executable).with_name("advocacy"))

GOOD = """\
programme:
  start_date: 2026-01-05
  timezone: Europe/Oslo
  hashtags: ["#Go"]
inputs:
  roster: roster.csv
platforms:
  x: {company_handles: [Acme]}
"""


def _load(tmp_path, text):
    f = tmp_path / "programme.yml"
    f.write_text(text)
    return load_settings(f)


def _error(tmp_path, text) -> str:
    with pytest.raises(SettingsError) as exc:
        _load(tmp_path, text)
    return str(exc.value)


def test_a_minimal_file_loads_with_defaults(tmp_path):
    s = _load(tmp_path, GOOD)
    assert s.platforms["x"].connection_id == "x_api" and s.platforms["x"].enabled is True
    assert s.lookback_days == 30 and s.baseline_months == 3 and s.weights == LeaderboardWeights()
    assert s.gate == GateSettings() and s.report == ReportSettings() and s.alerts == AlertSettings()
    assert s.input("roster") == InputOptions()


@pytest.mark.parametrize(
    ("edit", "line", "expected"),
    [
        (
            ("  hashtags:", "  hashtag:"),
            4,
            "programme.hashtag: `hashtag` is not a setting; did you mean `hashtags`?",
        ),
        (("  x: {", "  twiter: {"), 8, "platforms.twiter: `twiter` is not a platform; did you mean `x`?"),
        (
            ("{company_handles", '{enabled: "false", company_handles'),
            8,
            "platforms.x.enabled: must be true or false",
        ),
        (("  timezone: Europe/Oslo", "  timezone: Europe/Olso"), 3, "did you mean Europe/Oslo?"),
        (("2026-01-05", "2026-13-01"), 2, "programme.start_date: '2026-13-01' is not a calendar date"),
        (("2026-01-05", "05.01.2026"), 2, "YYYY-MM-DD"),
        (
            ("  timezone:", "  baseline_months: -4\n  timezone:"),
            3,
            "programme.baseline_months: -4 is out of range",
        ),
    ],
)
def test_each_mistake_names_file_line_key_and_fix(tmp_path, edit, line, expected):
    msg = _error(tmp_path, GOOD.replace(*edit))
    assert f"programme.yml:{line}: " in msg and expected in msg and "Fix: " in msg, msg


def test_types_ranges_and_sections(tmp_path):
    bad = GOOD + (
        "leaderboard_weights: {like: lots}\n"
        "alerts: {deadline: 7:00, email: [nobody]}\n"
        "report: {language: de}\n"
        "gate: {max_closed_month_shrink: 2}\n"
    )
    msg = _error(tmp_path, bad)
    assert "programme.yml:9: leaderboard_weights.like: must be a number, got 'lots'" in msg
    assert "programme.yml:10: alerts.deadline: '7:00' has the wrong form" in msg and '"07:00"' in msg
    assert "alerts.email[0]: 'nobody'" in msg
    assert "programme.yml:11: report.language: 'de' is not allowed" in msg
    assert "gate.max_closed_month_shrink: 2 is out of range" in msg
    # every problem at once, in line order
    lines = msg.splitlines()
    assert lines == sorted(lines, key=lambda s: int(s.split(":")[1]))


def test_inputs_options_and_a_key_written_twice(tmp_path):
    msg = _error(tmp_path, GOOD.replace("roster: roster.csv", "roster: {path: r.csv, delimeter: ';'}"))
    assert (
        "programme.yml:6: inputs.roster.delimeter: `delimeter` is not a setting; did you mean `delimiter`?"
        in msg
    )
    msg = _error(tmp_path, GOOD.replace("  roster: roster.csv", "  roster: a.csv\n  roster: b.csv"))
    assert "programme.yml:7: inputs.roster: is written twice (also on line 6)" in msg
    s = _load(
        tmp_path,
        GOOD.replace("roster: roster.csv", "roster: {path: r.csv, delimiter: ';', encoding: cp1252}"),
    )
    assert s.input("roster").delimiter == ";" and s.input("roster").encoding == "cp1252"
    assert s.roster_path == str(tmp_path / "r.csv")


def test_missing_settings_is_an_error_never_the_demo(tmp_path, monkeypatch):
    monkeypatch.delenv("ADVOCACY_SETTINGS", raising=False)
    with pytest.raises(SettingsError, match="ADVOCACY_SETTINGS is not set"):
        load_settings()


def test_platform_names_come_from_the_connector_modules():
    names = connector_platforms()
    assert {"x", "facebook", "instagram", "linkedin"} <= set(names)
    assert "base" not in names and "graph" not in names  # helpers, not platforms
    assert json_schema()["properties"]["platforms"]["propertyNames"]["enum"] == names


def test_the_demo_file_documents_every_setting():
    """The documented example file carries every key of the schema (suggested_copy included)."""
    demo = yaml.safe_load(DEMO_SETTINGS.read_text())
    schema = json_schema()
    defs = schema["$defs"]

    def section(ref):
        return defs[ref["$ref"].split("/")[-1]] if "$ref" in ref else ref

    for name, prop in schema["properties"].items():
        assert name in demo, name
        if name == "platforms":
            keys = set().union(*(set(p or {}) for p in demo["platforms"].values()))
            assert set(defs["PlatformSection"]["properties"]) <= keys, keys
            continue
        assert set(section(prop)["properties"]) <= set(demo[name]), (name, demo[name])
    file_keys = set().union(*(set(v) for v in demo["inputs"].values() if isinstance(v, dict)))
    assert set(defs["InputFile"]["properties"]) <= file_keys
    load_settings(DEMO_SETTINGS)


def test_the_json_schema_accepts_the_demo_and_refuses_mistakes():
    import jsonschema
    from advocacy.settings import _Loader

    validator = jsonschema.Draft202012Validator(json_schema())
    data = yaml.load(DEMO_SETTINGS.read_text(), Loader=_Loader)  # dates as written (strings)
    validator.validate(data)
    for section, key in (("programme", "hashtag"), ("platforms", "twiter")):
        bad = {**data, section: {**data[section], key: {}}}
        assert list(validator.iter_errors(bad)), key


def test_sections_match_the_dataclasses_the_code_uses():
    from dataclasses import fields

    from advocacy import settings as mod

    pairs = [
        (mod.InputFile, InputOptions, {"path"}),
        (mod.GateSection, GateSettings, set()),
        (mod.ReportSection, ReportSettings, set()),
        (mod.AlertsSection, AlertSettings, set()),
        (mod.WeightsSection, LeaderboardWeights, set()),
    ]
    for model, dc, extra in pairs:
        assert set(model.model_fields) - extra == {f.name for f in fields(dc)}, model.__name__


def test_cli_prints_the_schema_and_errors_without_traceback(tmp_path):
    out = subprocess.run([EXE, "settings", "schema"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["title"] == "Advocacy programme settings"
    bad = tmp_path / "programme.yml"
    bad.write_text(GOOD.replace("hashtags", "hashtag"))
    env = {**os.environ, "ADVOCACY_SETTINGS": str(bad)}
    r = subprocess.run([EXE, "settings", "validate"], env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{bad}:4: programme.hashtag: `hashtag` is not a setting; did you mean `hashtags`?" in r.stderr
    env.pop("ADVOCACY_SETTINGS")
    r = subprocess.run([EXE, "nightly"], env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "ADVOCACY_SETTINGS is not set" in r.stderr and "Traceback" not in r.stderr
