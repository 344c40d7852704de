"""UTM link builder: exact links, roster batches, robust parsing, and property-based round trips."""

from __future__ import annotations

import argparse
import csv
import io
import string
from urllib.parse import parse_qsl, urlsplit

import pytest
from advocacy import utm
from hypothesis import given, settings
from hypothesis import strategies as st

ROSTER = [
    {
        "employee_id": "E0002",
        "email": "bram.jansen@northwind.example",
        "full_name": "Bram Jansen",
        "department": "Sales",
        "registered_at": "2026-01-10",
        "left_at": "",
        "utm_code": "nwb2x9",
    },
    {
        "employee_id": "E0001",
        "email": "anna.devries@northwind.example",
        "full_name": "Anna de Vries",
        "department": "Marketing",
        "registered_at": "2026-01-06",
        "left_at": "",
        "utm_code": "nwa1k3",
    },
    {  # invited, not registered
        "employee_id": "E0003",
        "email": "c@northwind.example",
        "full_name": "Chloe",
        "department": "Finance",
        "registered_at": "",
        "left_at": "",
        "utm_code": "nwc000",
    },
    {  # left the company
        "employee_id": "E0004",
        "email": "d@northwind.example",
        "full_name": "Daan",
        "department": "People",
        "registered_at": "2026-02-01",
        "left_at": "2026-06-30",
        "utm_code": "nwd000",
    },
]


def test_build_link_exact_and_parsed_back():
    link = utm.build_link(
        "https://northwind.example/products/atlas-3",
        utm_code="nwa1k3",
        campaign="202611-launch",
        platform="LinkedIn",
    )
    assert link == (
        "https://northwind.example/products/atlas-3?utm_source=linkedin&utm_medium=employee_advocacy"
        "&utm_campaign=202611-launch&utm_content=nwa1k3"
    )
    assert utm.parse_utm(link) == {
        "utm_source": "linkedin",
        "utm_medium": "employee_advocacy",
        "utm_campaign": "202611-launch",
        "utm_content": "nwa1k3",
        "utm_term": None,
        "utm_id": None,
    }
    assert "utm_source=x&" in utm.build_link(
        "https://a.example/", utm_code="c1", campaign="c", platform="Twitter"
    )


def test_existing_query_and_fragment_are_kept_and_old_utm_values_replaced():
    url = "https://northwind.example/careers?team=robotics&a=b%20c&x=1+2&UTM_Source=newsletter&utm_term=jobs#apply"
    link = utm.build_link(url, utm_code="nwb2x9", campaign="hiring & more", platform="x")
    parts = urlsplit(link)
    assert parts.fragment == "apply"
    assert parts.query.startswith("team=robotics&a=b%20c&x=1+2&utm_term=jobs&")  # verbatim, in order
    assert "newsletter" not in link
    parsed = utm.parse_utm(link)
    assert parsed["utm_source"] == "x" and parsed["utm_campaign"] == "hiring & more"
    assert parsed["utm_term"] == "jobs" and parsed["utm_content"] == "nwb2x9"
    assert link.count("utm_source=") == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "northwind.example/x"}, "absolute"),
        ({"url": "ftp://northwind.example/x"}, "absolute"),
        ({"utm_code": " "}, "utm_content"),
        ({"campaign": ""}, "utm_campaign"),
        ({"platform": ""}, "platform"),
    ],
)
def test_build_link_refuses_what_would_break_attribution(kwargs, message):
    args = {
        "url": "https://northwind.example/",
        "utm_code": "nwa1k3",
        "campaign": "c",
        "platform": "x",
        **kwargs,
    }
    url = args.pop("url")
    with pytest.raises(utm.UtmError, match=message):
        utm.build_link(url, **args)


def test_parse_utm_is_robust():
    url = (
        "https://northwind.example/p?UTM_SOURCE=LinkedIn&utm%5Fmedium=Employee_Advocacy&utm_campaign=Q4+launch"
        "&utm_content=&utm_content=nwa1k3&utm_content=other#utm_source=ignored"
    )
    parsed = utm.parse_utm(url)
    assert parsed["utm_source"] == "linkedin" and parsed["utm_medium"] == "employee_advocacy"
    assert parsed["utm_campaign"] == "Q4 launch"
    assert parsed["utm_content"] == "nwa1k3"  # first non-empty value wins
    assert utm.parse_utm("utm_source=x&utm_content=%6Ew1")["utm_content"] == "nw1"  # a bare query string
    assert utm.parse_utm("https://northwind.example/")["utm_source"] is None
    assert utm.parse_utm("")["utm_content"] is None


def test_links_for_the_roster_cover_registered_advocates_only():
    rows = utm.build_links_for_roster(ROSTER, "https://northwind.example/blog", "202611-launch", "facebook")
    assert [r["employee_id"] for r in rows] == ["E0001", "E0002"]
    assert set(rows[0]) == set(utm.LINK_COLUMNS)
    for r in rows:
        assert utm.parse_utm(r["link"])["utm_content"] == r["utm_code"]
        assert utm.parse_utm(r["link"])["utm_source"] == "facebook"
    dup = [*ROSTER, {**ROSTER[0], "employee_id": "E0009"}]
    with pytest.raises(utm.UtmError, match="belongs to"):
        utm.build_links_for_roster(dup, "https://northwind.example/", "c", "x")


def test_main_utm_single_and_batch(tmp_path, capsys):
    parser = utm.add_arguments(argparse.ArgumentParser(prog="advocacy utm"))
    args = parser.parse_args(
        [
            "--employee",
            "ANNA.devries@northwind.example",
            "--url",
            "https://northwind.example/",
            "--campaign",
            "c1",
        ]
    )
    assert utm.main_utm(args, ROSTER) == 0
    out = capsys.readouterr().out.strip()
    assert out == utm.build_link(
        "https://northwind.example/", utm_code="nwa1k3", campaign="c1", platform="linkedin"
    )
    target = tmp_path / "links" / "all.csv"
    args = parser.parse_args(
        ["--all", "--url", "https://northwind.example/", "--campaign", "c1", "--out", str(target)]
    )
    assert utm.main_utm(args, ROSTER) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert [r["employee_id"] for r in rows] == ["E0001", "E0002"]
    args = parser.parse_args(
        ["--employee", "E0404", "--url", "https://northwind.example/", "--campaign", "c"]
    )
    assert utm.main_utm(args, ROSTER) == 2
    assert "no employee" in capsys.readouterr().err


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    lambda s: s.strip() != ""
)
_KEY = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=8).filter(
    lambda k: not k.startswith("utm")
)


@settings(max_examples=200, deadline=None)
@given(
    code=_TEXT,
    campaign=_TEXT,
    platform=st.sampled_from(["x", "X", "twitter", "linkedin", "Facebook", "instagram", "tiktok"]),
    medium=st.sampled_from(["employee_advocacy", "Employee_Advocacy", "social"]),
    path=st.text(alphabet=string.ascii_letters + string.digits + "-_/", max_size=20),
    params=st.lists(
        st.tuples(_KEY, st.text(alphabet=string.ascii_letters + string.digits, max_size=8)), max_size=4
    ),
    fragment=st.text(alphabet=string.ascii_letters, max_size=6),
)
def test_parse_utm_round_trips_build_link(code, campaign, platform, medium, path, params, fragment):
    query = "&".join(f"{k}={v}" for k, v in params)
    url = (
        "https://northwind.example/"
        + path
        + (f"?{query}" if query else "")
        + (f"#{fragment}" if fragment else "")
    )
    link = utm.build_link(url, utm_code=code, campaign=campaign, platform=platform, medium=medium)
    parsed = utm.parse_utm(link)
    assert parsed["utm_content"] == code.strip()
    assert parsed["utm_campaign"] == campaign.strip()
    assert parsed["utm_source"] == utm.source_for(platform)
    assert parsed["utm_medium"] == medium.lower()
    # the page's own parameters and fragment survive untouched
    kept = [
        (k, v) for k, v in parse_qsl(urlsplit(link).query, keep_blank_values=True) if not k.startswith("utm_")
    ]
    assert kept == [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)]
    assert urlsplit(link).fragment == fragment
    # building again from the link is idempotent
    assert utm.build_link(link, utm_code=code, campaign=campaign, platform=platform, medium=medium) == link
