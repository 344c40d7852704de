"""SQL is parameterised, composed with psycopg.sql, or built by dbt: never string-formatted.

A static scan of the package: the SQL argument of ``execute`` / ``executemany``
/ ``copy`` / ``sql.SQL`` / ``text`` must not be an f-string with
interpolations, a ``%`` / ``+`` expression or ``"...".format(...)``. Values go
in as parameters (``%s``), names as ``sql.Identifier``.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "plugins" / "advocacy"
SQL_CALLS = {"execute", "executemany", "copy", "SQL", "text"}

# (file, the offending expression) -> why it is safe. Anything new must be fixed instead.
ALLOWED = {
    ("report/data.py", "f' and ({chart.where})'"): "chart filters are catalog code, not input",
    ("report/data.py", "f' limit {int(limit)}'"): "an int",
    # advocacy bench (a developer tool): table names read from information_schema, the
    # database name from --size; reported for psycopg.sql composition
    ("bench.py", "f'drop database if exists \"{dbname}\" with (force)'"): "bench",
    ("bench.py", "f'create database \"{dbname}\"'"): "bench",
    (
        "bench.py",
        "f\"select count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0) "
        'from marts.{t} t"',
    ): "bench",
}


def _is_text(node: ast.expr) -> bool:
    """A str literal / f-string, or a + of them (psycopg.sql objects are not text)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_text(node.left) or _is_text(node.right)
    return False


def _formatted(node: ast.expr) -> bool:
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _is_text(node.left)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_text(node.left) or _is_text(node.right)  # Composed + sql.SQL(...) is composition
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
    )


def string_formatted_sql(root: Path = PACKAGE) -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_CALLS
                and node.args
                and _formatted(node.args[0])
            ):
                found.append((path.relative_to(root).as_posix(), node.lineno, ast.unparse(node.args[0])))
    return found


def test_no_string_formatted_sql_in_the_package():
    offending = [
        f"{file}:{line}: {expr}" for file, line, expr in string_formatted_sql() if (file, expr) not in ALLOWED
    ]
    assert offending == [], "compose SQL with psycopg.sql and pass values as parameters"


def test_the_scan_finds_formatted_sql(tmp_path):
    (tmp_path / "bad.py").write_text(
        "def f(conn, name, sql):\n"
        "    conn.execute(f\"select * from t where name = '{name}'\")\n"
        "    conn.execute('select * from t where name = %s' % name)\n"
        "    conn.execute('select * from {}'.format(name))\n"
        "    conn.execute(sql.SQL('select * from ' + name))\n"
        "    conn.execute('select * from t where name = %s', (name,))\n"  # parameterised: fine
        "    conn.execute(sql.SQL('select * from {}').format(sql.Identifier(name)))\n"  # composed: fine
        "    conn.execute(f'select 1')\n"  # no interpolation: fine
        "    conn.execute(begin + sql.SQL('delete from {}').format(sql.Identifier(name)))\n"  # composed
        "    conn.execute('select 1 from t where a = ' + str(name))\n"
    )
    assert sorted(line for _, line, _ in string_formatted_sql(tmp_path)) == [2, 3, 4, 5, 10]
