"""CSV files people open in Excel: no formula injection, UTF-8 that Excel reads as UTF-8.

* A cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is a formula to
  Excel / LibreOffice (OWASP, "CSV Injection"): it is prefixed with ``'``, so the
  spreadsheet shows the text as it is. Plain numbers (``-3``, ``+0.25``, ``1e-3``) are
  numbers, not formulas, and stay as they are so the columns still sum.
* The file starts with a UTF-8 byte-order mark: without it Excel reads UTF-8 as the
  local code page and shows ``Seán`` as ``SeÃ¡n``.

Every CSV the product publishes goes through ``safe_csv`` (``report.publish.Publisher``
applies it to each ``.csv`` it writes).
"""

from __future__ import annotations

import codecs
import csv
import io
import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
BOM = codecs.BOM_UTF8


def safe_cell(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would take it for a formula."""
    if value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_rows(rows) -> str:
    """CSV text (CRLF line ends, RFC 4180) of ``rows`` with every cell made safe."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(str(v)) for v in row])
    return buf.getvalue()


def safe_csv(data: bytes | str) -> bytes:
    """Rewrite CSV (UTF-8, with or without BOM) as safe CSV bytes with a BOM."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.removeprefix("\ufeff")
    return BOM + safe_rows(csv.reader(io.StringIO(text, newline=""))).encode("utf-8")
