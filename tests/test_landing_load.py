import datetime as dt
import json

import pytest
from advocacy import landing, load

D1 = dt.date(2026, 3, 1)
D2 = dt.date(2026, 3, 2)
SPEC = load.StreamSpec(key="id", time="created_at")


def _ts(sec=0):
    return dt.datetime(2026, 3, 3, 1, 0, sec, tzinfo=dt.UTC)


def _tweets(n, likes=0):
    return [
        {
            "id": str(10**18 + i),
            "created_at": "2026-03-01T10:00:00.000Z",
            "public_metrics": {"like_count": likes},
        }
        for i in range(n)
    ]


def _count(target, where="true"):
    with target.connect() as conn:
        return conn.execute(f"select count(*) from raw.x__tweets where {where}").fetchone()[0]


def test_landing_files_are_immutable_and_newest_wins(tmp_path):
    a = landing.write(str(tmp_path), "x", "tweets", D1, _tweets(2), _ts(0))
    b = landing.write(str(tmp_path), "x", "tweets", D1, _tweets(3), _ts(1))
    with pytest.raises(FileExistsError):
        landing.write(str(tmp_path), "x", "tweets", D1, _tweets(1), _ts(1))
    files = landing.list_files(str(tmp_path))
    assert [f.path for f in files] == [a.path, b.path]
    assert [f.path for f in landing.newest_per_interval(files)] == [b.path]
    assert "interval=2026-03-01" in b.path and b.records == 3


def test_landing_works_on_object_storage_urls():
    root = "memory://landing-test"
    f = landing.write(root, "x", "users", D1, [{"id": "1"}], _ts())
    assert f.path.startswith("memory://")
    [listed] = landing.list_files(root, source="x")
    assert listed.path == f.path and [line for _, line in landing.open_lines(f.path)] == ['{"id":"1"}']


def test_rerun_of_an_interval_replaces_and_keeps_other_days(tmp_path, warehouse):
    root = str(tmp_path)
    load.load_file(warehouse, landing.write(root, "x", "tweets", D1, _tweets(5, likes=1), _ts(0)), SPEC)
    load.load_file(warehouse, landing.write(root, "x", "tweets", D2, _tweets(5, likes=2), _ts(1)), SPEC)
    # the same day again, with fresher counters: replaced, not duplicated
    load.load_file(warehouse, landing.write(root, "x", "tweets", D1, _tweets(4, likes=3), _ts(2)), SPEC)
    assert _count(warehouse) == 9
    assert _count(warehouse, f"_interval_start = '{D1}'") == 4
    with warehouse.connect() as conn:
        likes = conn.execute(
            "select distinct (record->'public_metrics'->>'like_count')::int from raw.x__tweets"
            " where _interval_start = %s",
            (D1,),
        ).fetchall()
        rtime = conn.execute("select min(_record_time) from raw.x__tweets").fetchone()[0]
    assert likes == [(3,)]
    assert rtime == dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)


def test_bad_line_names_file_and_line_and_loses_nothing(tmp_path, warehouse):
    root = str(tmp_path)
    load.load_file(warehouse, landing.write(root, "x", "tweets", D1, _tweets(3), _ts(0)), SPEC)
    bad = landing.write(root, "x", "tweets", D1, _tweets(2) + [{"text": "no id"}], _ts(1))
    with pytest.raises(load.LoadError, match=r"line 3: field 'id' is missing") as err:
        load.load_file(warehouse, bad, SPEC)
    assert bad.path in str(err.value)
    assert _count(warehouse) == 3  # the earlier load survived the failed one

    folder = tmp_path / "x" / "tweets" / "interval=2026-03-01"
    broken = folder / "20260303T010500000000Z.jsonl"
    broken.write_text(json.dumps(_tweets(1)[0]) + "\n{not json\n")
    [f] = [f for f in landing.list_files(root) if f.path == str(broken)]
    with pytest.raises(load.LoadError, match="line 2: not valid JSON"):
        load.load_file(warehouse, f, SPEC)
    assert _count(warehouse) == 3

    # a bad line after several blocks were already sent from the writer thread
    late = landing.write(root, "x", "tweets", D1, _tweets(5000) + [{"text": "no id"}], _ts(2))
    with pytest.raises(load.LoadError, match=r"line 5001: field 'id' is missing"):
        load.load_file(warehouse, late, SPEC)
    assert _count(warehouse) == 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-12-31T19:26:16.000Z", dt.datetime(2019, 12, 31, 19, 26, 16, tzinfo=dt.UTC)),
        ("2021-07-09T19:09:52+0000", dt.datetime(2021, 7, 9, 19, 9, 52, tzinfo=dt.UTC)),
        (1622800000000, dt.datetime(2021, 6, 4, 9, 46, 40, tzinfo=dt.UTC)),
        ("2026-01-01T01:00:00+01:00", dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)),
        (None, None),
    ],
)
def test_platform_timestamps_normalise_to_utc(value, expected):
    assert load.parse_time(value) == expected


def test_known_keys_reads_the_lookback(tmp_path, warehouse):
    recs = _tweets(2) + [{"id": "7", "created_at": "2026-01-01T00:00:00.000Z"}]
    load.load_file(warehouse, landing.write(str(tmp_path), "x", "tweets", D1, recs, _ts()), SPEC)
    since = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    keys = load.known_keys(warehouse, "x", "tweets", since, dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    assert keys == sorted(r["id"] for r in recs[:2])
    assert load.known_keys(warehouse, "x", "nothing", since, since) == []


def test_records_load_byte_for_byte_and_streams_without_a_time_field(tmp_path, warehouse):
    """The loader renders COPY text itself: backslashes, tabs, newlines and non-ASCII inside the
    JSON arrive unchanged; a stream that declares no time field (users) loads with a null time."""
    root = str(tmp_path)
    tricky = {"id": "7", "created_at": "2026-03-01T10:00:00.000Z", "text": 'a\\b\tc\nd "q" é ✓'}
    load.load_file(warehouse, landing.write(root, "x", "tweets", D1, [tricky], _ts(0)), SPEC)
    users = landing.write(root, "x", "users", D1, [{"id": "9"}], _ts(0))
    load.load_file(warehouse, users, load.StreamSpec("id"))
    with warehouse.connect() as conn:
        record, key, rtime = conn.execute(
            "select record, _record_key, _record_time from raw.x__tweets"
        ).fetchone()
        assert record == tricky and key == "7" and rtime == dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
        assert conn.execute("select _record_key, _record_time from raw.x__users").fetchone() == ("9", None)


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-01T10:00:00.000Z",
        "2026-03-01T10:00:00Z",
        "2026-03-01T10:00:00.123456Z",
        "2021-07-09T19:09:52+0000",
        1614592800123,
        "1614592800123",
        "2026-03-01T12:00:00+02:00",
    ],
)
def test_the_server_gets_the_time_the_loader_parses(tmp_path, warehouse, value):
    """X times go to COPY as their own text (the server parses them); the time it stores is the
    one parse_time gives, whatever the session's time zone."""
    f = landing.write(str(tmp_path), "x", "tweets", D1, [{"id": "1", "created_at": value}], _ts(0))
    with warehouse.connect() as conn:
        conn.execute(f"alter database {warehouse.dbname} set timezone = 'America/Los_Angeles'")
    load._forget(warehouse)
    load.load_file(warehouse, f, SPEC)
    with warehouse.connect() as conn:
        stored = conn.execute("select _record_time from raw.x__tweets").fetchone()[0]
    assert stored == load.parse_time(value)


def test_hand_written_lines_load_and_bytes_that_are_not_utf8_are_named(tmp_path, warehouse):
    """Plain files from before compression, written by hand: CRLF endings, a raw tab between
    tokens, a NUL escape; a line with bytes that are not UTF-8 is refused with its line named."""
    folder = tmp_path / "x" / "tweets" / "interval=2026-03-01"
    folder.mkdir(parents=True)
    good = folder / "20260303T010000000000Z.jsonl"
    good.write_bytes(
        b'{"id":"1",\t"created_at":"2026-03-01T10:00:00.000Z","t":"a\\u0000b"}\r\n\r\n{"id":"2"}\r\n'
    )
    [f] = landing.list_files(str(tmp_path))
    assert load.load_file(warehouse, f, SPEC) == 2
    with warehouse.connect() as conn:
        rows = conn.execute(
            "select _line_no, _record_key, record->>'t' from raw.x__tweets order by 1"
        ).fetchall()
    assert rows == [(1, "1", "a\ufffdb"), (3, "2", None)]
    bad = folder / "20260303T020000000000Z.jsonl"
    bad.write_bytes(b'{"id":"1"}\n{"id":"2","t":"caf\xe9"}\n')
    f = landing.newest_per_interval(landing.list_files(str(tmp_path)))[0]
    assert f.path == str(bad)
    with pytest.raises(load.LoadError, match=r"20260303T020000000000Z\.jsonl, line 2: .*UTF8"):
        load.load_file(warehouse, f, SPEC)
    assert _count(warehouse) == 2  # the earlier load stays


def _slow(f, spec):
    """The per-line path's COPY text for a whole file (every chunk refused by the fast path)."""
    real = load._fast_chunk
    load._fast_chunk = lambda *a: None
    try:
        return b"".join(block for block, _ in load._copy_blocks(f, spec, []))
    finally:
        load._fast_chunk = real


def test_the_chunk_path_renders_what_the_line_path_renders(tmp_path):
    """The loader's fast path (a chunk decoded by one call) gives byte for byte the COPY text of
    the careful per-line path, and takes the chunks it should."""
    recs = [
        {"id": str(i), "created_at": f"2026-03-01T10:00:{i % 60:02d}.000Z", "text": t}
        for i, t in enumerate(['a\\b "q"', "é ✓ 🙂", "line\nbreak", "", "x" * 5000] * 40)
    ]
    f = landing.write(str(tmp_path), "x", "tweets", D1, recs, _ts(0))
    spec = load.StreamSpec(key="id", time="created_at")
    batch = load._batch_decoder(spec)
    [(first, lines)] = list(landing.read_chunks(f.path))
    fast = load._fast_chunk(batch, spec, b"P", first, lines)
    assert fast is not None
    assert b"".join(b for b, _ in load._copy_blocks(f, spec, [])) == _slow(f, spec)
    # a users-like stream without a time field, and one whose key is its time
    for other in (load.StreamSpec("id"), load.StreamSpec("created_at", "created_at")):
        assert load._fast_chunk(load._batch_decoder(other), other, b"P", first, lines) is not None
        assert b"".join(b for b, _ in load._copy_blocks(f, other, [])) == _slow(f, other)
    # what the fast path leaves to the per-line path: an int key, a time not in X's shape
    for odd in (
        {"id": 7, "created_at": "2026-03-01T10:00:00.000Z"},
        {"id": "7", "created_at": 1614592800123},
    ):
        g = landing.write(str(tmp_path), "x", "tweets", D2, [*recs[:3], odd], _ts(len(str(odd))))
        [(first, lines)] = list(landing.read_chunks(g.path))
        assert load._fast_chunk(batch, spec, b"P", first, lines) is None
        assert b"".join(b for b, _ in load._copy_blocks(g, spec, [])) == _slow(g, spec)


def test_chunks_keep_line_numbers_across_their_edges(tmp_path):
    f = landing.write(str(tmp_path), "x", "tweets", D1, _tweets(50), _ts(0))
    small = [
        (i, line)
        for first, lines in landing.read_chunks(f.path, size=97)
        for i, line in enumerate(lines, first)
    ]
    assert [(i, line.decode()) for i, line in small] == list(landing.open_lines(f.path))


def test_a_time_in_x_shape_that_is_no_date_is_named(tmp_path, warehouse):
    recs = [*_tweets(3), {"id": "9", "created_at": "2026-13-01T10:00:00.000Z"}]
    f = landing.write(str(tmp_path), "x", "tweets", D1, recs, _ts(0))
    with pytest.raises(load.LoadError, match=r"line 4: field 'created_at' is not a timestamp"):
        load.load_file(warehouse, f, SPEC)


def _resolved(target):
    """Every raw.x__tweets row as staging reads it (macro raw_records): a repeat's record is the
    latest stored one of its key before its day."""
    with target.connect() as conn:
        return conn.execute(
            "select r._interval_start, r._record_key, coalesce(r.record,"
            " (select p.record from raw.x__tweets p"
            " where p._record_key = r._record_key and p._interval_start < r._interval_start"
            " and p.record is not null order by p._interval_start desc, p._extracted_at desc,"
            " p._line_no desc limit 1)) from raw.x__tweets r order by 1, 2"
        ).fetchall()


def _expected(days):
    return sorted((d, r["id"], r) for d, recs in days.items() for r in recs)


def test_a_repeated_snapshot_is_stored_once_and_reads_as_landed(tmp_path, warehouse):
    root = str(tmp_path)
    d3, d4 = dt.date(2026, 3, 3), dt.date(2026, 3, 4)
    days = {
        D1: _tweets(3, likes=1),
        D2: _tweets(3, likes=1),
        d3: _tweets(3, likes=1),
        d4: _tweets(3, likes=1),
    }
    days[d3][0]["public_metrics"]["like_count"] = 5  # one post's counter changes on day 3
    for i, d in enumerate((D1, D2, d4)):  # day 3 comes late (a backfill)
        load.load_file(warehouse, landing.write(root, "x", "tweets", d, days[d], _ts(i)), SPEC)
    assert _count(warehouse) == 9
    assert _count(warehouse, "record is null") == 6  # every row after the first day repeats it
    assert _resolved(warehouse) == _expected({d: days[d] for d in (D1, D2, d4)})
    load.load_file(warehouse, landing.write(root, "x", "tweets", d3, days[d3], _ts(3)), SPEC)
    assert _resolved(warehouse) == _expected(days)  # day 4's repeat of the changed post got its record back
    assert _count(warehouse, "_interval_start = '2026-03-03' and record is null") == 2
    # a rerun of the day that later repeats stand for: they still read what was landed
    load.load_file(warehouse, landing.write(root, "x", "tweets", D1, days[D1], _ts(4)), SPEC)
    assert _resolved(warehouse) == _expected(days)
    changed = _tweets(3, likes=7)
    load.load_file(warehouse, landing.write(root, "x", "tweets", D1, changed, _ts(5)), SPEC)
    assert _resolved(warehouse) == _expected({**days, D1: changed})
