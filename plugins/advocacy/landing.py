"""The landing area: immutable JSON Lines files per source, stream and interval.

Layout: ``<root>/<source>/<stream>/interval=<YYYY-MM-DD>/<extracted_at>.jsonl.zst``.
Files are written once (to a temporary name, then moved) and never rewritten;
a rerun of an interval writes a new file, and readers take the newest one.
``root`` is a local path or any fsspec URL (``s3://``, ``gs://``, ``memory://``).
On a local disk the files (names and e-mails of every employee, consenting or not) are
owner-only: 0600 files in 0700 folders.

Files are JSON lines compressed with zstd (``.jsonl.zst``; ``zstd -dc`` reads
them): a night re-lands the counters of every post in its lookback, records that
differ in a few digits, and zstd keeps a year of them at a few per cent of their
size (README, "The benchmark"). ``ADVOCACY_LANDING_COMPRESSION`` = ``zstd``
(default), ``gzip`` or ``none`` chooses how new files are written; every reader
takes all three, so files landed before stay readable and replayable.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

import fsspec

_INTERVAL = re.compile(r"interval=(\d{4}-\d{2}-\d{2})$")
COMPRESSION_ENV = "ADVOCACY_LANDING_COMPRESSION"
SUFFIXES = {"zstd": ".jsonl.zst", "gzip": ".jsonl.gz", "none": ".jsonl"}
# zstd level 3 (its default): ~20-70x on landed X records at several hundred MB/s
ZSTD_LEVEL = 3
GZIP_LEVEL = 3


def compression() -> str:
    """How new landing files are compressed: zstd unless ``ADVOCACY_LANDING_COMPRESSION`` says."""
    kind = os.environ.get(COMPRESSION_ENV, "zstd").strip().lower() or "zstd"
    if kind not in SUFFIXES:
        raise ValueError(f"{COMPRESSION_ENV}={kind!r}: use one of {', '.join(SUFFIXES)}")
    return kind


def _suffix(name: str) -> str | None:
    for suffix in (".jsonl.zst", ".jsonl.gz", ".jsonl"):
        if name.endswith(suffix):
            return suffix
    return None


@dataclass(frozen=True)
class LandedFile:
    source: str
    stream: str
    interval_start: dt.date
    extracted_at: dt.datetime
    path: str  # full path or URL
    records: int = -1


def _fs(root: str):
    fs, base = fsspec.core.url_to_fs(root)
    return fs, base.rstrip("/")


def _local(fs) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("file", "local")


def _private_folders(fs, base: str, folder: str) -> None:
    """Make ``folder`` and its parents up to ``base`` owner-only (0700) on a local disk."""
    if not _local(fs):
        return  # object storage: access is the bucket's policy
    path = folder
    while True:
        os.chmod(path, 0o700)
        if path.rstrip("/") == base.rstrip("/") or os.path.dirname(path) == path:
            break
        path = os.path.dirname(path)


def _stamp(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _unstamp(name: str) -> dt.datetime:
    return dt.datetime.strptime(name.removesuffix(_suffix(name) or ""), "%Y%m%dT%H%M%S%fZ").replace(
        tzinfo=dt.UTC
    )


class _Writer:
    """A text file that compresses into a binary one (closed together)."""

    def __init__(self, raw, kind: str):
        self.raw = raw
        if kind == "zstd":
            import zstandard

            self.packed = zstandard.ZstdCompressor(level=ZSTD_LEVEL).stream_writer(raw, closefd=False)
        elif kind == "gzip":
            self.packed = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0)
        else:
            self.packed = None
        self.text = io.TextIOWrapper(self.packed or raw, encoding="utf-8", newline="\n", write_through=False)

    def __enter__(self):
        return self.text

    def __exit__(self, *exc) -> None:
        try:
            self.text.flush()
            self.text.detach()
            if self.packed is not None:
                self.packed.close()  # ends the frame / writes gzip's trailer; ``raw`` stays open
        finally:
            self.raw.close()


def write(
    root: str,
    source: str,
    stream: str,
    interval_start: dt.date,
    records: Iterable[dict],
    extracted_at: dt.datetime,
) -> LandedFile:
    """Write one stream's records for one interval; returns the new file."""
    fs, base = _fs(root)
    folder = f"{base}/{source}/{stream}/interval={interval_start.isoformat()}"
    fs.makedirs(folder, exist_ok=True)
    _private_folders(fs, base, folder)
    kind = compression()
    final = f"{folder}/{_stamp(extracted_at)}{SUFFIXES[kind]}"
    for other in SUFFIXES.values():  # the same extraction landed before, in any compression
        if fs.exists(f"{folder}/{_stamp(extracted_at)}{other}"):
            raise FileExistsError(f"landing file {final} already exists; landing files are immutable")
    tmp = f"{folder}/.{_stamp(extracted_at)}{SUFFIXES[kind]}.part"
    n = 0
    try:
        with _Writer(fs.open(tmp, "wb"), kind) as fh:
            if _local(fs):
                os.chmod(tmp, 0o600)  # before any record is written
            for rec in records:  # may be a stream that refuses its input half-way
                fh.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
                fh.write("\n")
                n += 1
    except BaseException:
        fs.rm(tmp)  # nothing lands, not even a partial file
        raise
    fs.mv(tmp, final)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    path = final if protocol in ("file", "local") else f"{protocol}://{final.lstrip('/')}"
    return LandedFile(source, stream, interval_start, extracted_at, path, n)


def list_files(
    root: str,
    source: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[LandedFile]:
    """Every landed file (oldest first), optionally for one source and an interval range."""
    fs, base = _fs(root)
    if not fs.exists(base):
        return []
    pattern = f"{base}/{source or '*'}/*/interval=*/*.jsonl*"
    out = []
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    for p in fs.glob(pattern):
        parts = p.rstrip("/").split("/")
        m = _INTERVAL.match(parts[-2])
        if not m or parts[-1].startswith(".") or not _suffix(parts[-1]):
            continue
        day = dt.date.fromisoformat(m.group(1))
        if (start and day < start) or (end and day > end):
            continue
        path = p if protocol in ("file", "local") else f"{protocol}://{p.lstrip('/')}"
        out.append(LandedFile(parts[-4], parts[-3], day, _unstamp(parts[-1]), path))
    return sorted(out, key=lambda f: (f.interval_start, f.source, f.stream, f.extracted_at))


def newest_per_interval(files: list[LandedFile]) -> list[LandedFile]:
    """The file that counts for each (source, stream, interval): the newest extraction."""
    best: dict[tuple, LandedFile] = {}
    for f in files:
        key = (f.source, f.stream, f.interval_start)
        if key not in best or f.extracted_at > best[key].extracted_at:
            best[key] = f
    return sorted(best.values(), key=lambda f: (f.interval_start, f.source, f.stream))


def _reader(raw, path: str):
    """A text view of a landed file, compressed by its name's suffix (or not)."""
    if path.endswith(".zst"):
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        raw = io.BufferedReader(raw, buffer_size=1 << 16)
    elif path.endswith(".gz"):
        raw = gzip.GzipFile(fileobj=raw, mode="rb")
    return io.TextIOWrapper(raw, encoding="utf-8")


@contextlib.contextmanager
def open_binary(path: str):
    """A landed file's bytes, decompressed by its name's suffix (or not)."""
    raw = open(path, "rb") if "://" not in path else fsspec.open(path, "rb").open()  # noqa: SIM115
    with raw:
        if path.endswith(".zst"):
            import zstandard

            yield io.BufferedReader(
                zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True), buffer_size=1 << 20
            )
        elif path.endswith(".gz"):
            yield io.BufferedReader(gzip.GzipFile(fileobj=raw, mode="rb"), buffer_size=1 << 20)
        else:
            yield raw


def read_chunks(path: str, size: int = 1 << 22):
    """(first line_no, lines as bytes without their newline) in chunks of about ``size`` bytes:
    the loader decodes and copies a chunk at a time. Blank lines are included, as they are."""
    with open_binary(path) as fh:
        carry, line_no = b"", 1
        while data := fh.read(size):
            data = carry + data
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            lines = data[:cut].split(b"\n")
            carry = data[cut + 1 :]
            yield line_no, lines
            line_no += len(lines)
        if carry:
            yield line_no, [carry]


def open_byte_lines(path: str):
    """Iterate (line_no, line as UTF-8 bytes, without its line ending) of a landed file."""
    for first, lines in read_chunks(path):
        for i, line in enumerate(lines, start=first):
            line = line.rstrip(b"\r")
            if line.strip():
                yield i, line


def open_lines(path: str):
    """Iterate (line_no, raw_line) of a landed file without loading it whole."""
    # local files without fsspec's file wrapper: its per-line overhead was a third of the load time
    raw = open(path, "rb") if "://" not in path else fsspec.open(path, "rb").open()  # noqa: SIM115
    with raw, _reader(raw, path) as fh:
        for i, line in enumerate(fh, start=1):
            if line.strip():
                yield i, line.rstrip("\n")
