"""Compressed landing files: still immutable JSON lines, read and loaded beside older plain ones."""

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
import zstandard
from advocacy import landing, load

D1, D2, D3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)
SPEC = load.StreamSpec(key="id", time="created_at")
AT = dt.datetime(2026, 3, 4, 1, 0, tzinfo=dt.UTC)


def _tweets(n, text="plain"):
    return [{"id": str(10**18 + i), "created_at": "2026-03-01T10:00:00.000Z", "text": text} for i in range(n)]


@pytest.mark.parametrize(
    ("kind", "suffix", "unpack"),
    [
        ("zstd", ".jsonl.zst", lambda b: zstandard.ZstdDecompressor().stream_reader(b).read()),
        ("gzip", ".jsonl.gz", gzip.decompress),
        ("none", ".jsonl", lambda b: b),
    ],
)
def test_each_compression_writes_json_lines_any_tool_reads(tmp_path, monkeypatch, kind, suffix, unpack):
    monkeypatch.setenv(landing.COMPRESSION_ENV, kind)
    records = _tweets(3, text="tab\there, nul \u0000, é, 🙂, line\nbreak")
    f = landing.write(str(tmp_path), "x", "tweets", D1, records, AT)
    assert f.path.endswith(suffix) and f.records == 3
    lines = unpack(Path(f.path).read_bytes()).decode().splitlines()
    assert [json.loads(line) for line in lines] == records
    assert [json.loads(line) for _, line in landing.open_lines(f.path)] == records
    [listed] = landing.list_files(str(tmp_path))
    assert (listed.path, listed.extracted_at) == (f.path, AT)
    # immutable whatever the compression the same extraction was landed in
    for other in ("zstd", "gzip", "none"):
        monkeypatch.setenv(landing.COMPRESSION_ENV, other)
        with pytest.raises(FileExistsError):
            landing.write(str(tmp_path), "x", "tweets", D1, records, AT)


def test_zstd_is_the_default_and_a_wrong_setting_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv(landing.COMPRESSION_ENV, raising=False)
    assert landing.write(str(tmp_path), "x", "users", D1, [{"id": "1"}], AT).path.endswith(".jsonl.zst")
    monkeypatch.setenv(landing.COMPRESSION_ENV, "lzma")
    with pytest.raises(ValueError, match="ADVOCACY_LANDING_COMPRESSION='lzma'"):
        landing.write(str(tmp_path), "x", "users", D2, [{"id": "1"}], AT)
    assert not list(tmp_path.rglob("*.part"))


def test_a_failed_compressed_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(landing.COMPRESSION_ENV, "zstd")

    def records():
        yield {"id": "1"}
        raise RuntimeError("the source refused half-way")

    with pytest.raises(RuntimeError):
        landing.write(str(tmp_path), "x", "tweets", D1, records(), AT)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_old_plain_and_new_compressed_files_load_and_replay_together(tmp_path, monkeypatch, warehouse):
    root = str(tmp_path)
    for day, kind in ((D1, "none"), (D2, "gzip"), (D3, "zstd")):
        monkeypatch.setenv(landing.COMPRESSION_ENV, kind)
        landing.write(root, "x", "tweets", day, _tweets(4, text=kind), AT)
    # a rerun of D1 landed compressed: the newest file counts, whatever its suffix
    landing.write(root, "x", "tweets", D1, _tweets(2, text="rerun"), AT + dt.timedelta(hours=1))
    files = landing.newest_per_interval(landing.list_files(root))
    assert [Path(f.path).name.split(".", 1)[1] for f in files] == ["jsonl.zst", "jsonl.gz", "jsonl.zst"]
    for f in files:
        load.load_file(warehouse, f, SPEC)
    with warehouse.connect() as conn:
        rows = conn.execute(
            "select _interval_start, record->>'text', count(*) from raw.x__tweets group by 1, 2 order by 1"
        ).fetchall()
    assert rows == [(D1, "rerun", 2), (D2, "gzip", 4), (D3, "zstd", 4)]


def test_a_bad_line_in_a_compressed_file_is_named(tmp_path, monkeypatch, warehouse):
    monkeypatch.setenv(landing.COMPRESSION_ENV, "zstd")
    f = landing.write(str(tmp_path), "x", "tweets", D1, [*_tweets(2), {"created_at": "2026-03-01"}], AT)
    with pytest.raises(load.LoadError, match=r"\.jsonl\.zst, line 3: field 'id' is missing"):
        load.load_file(warehouse, f, SPEC)
