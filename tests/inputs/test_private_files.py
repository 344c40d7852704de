"""Copies of the inputs hold every employee's name and e-mail: written owner-only."""

from __future__ import annotations

import os

from advocacy.sandbox.files import write_text


def test_an_export_is_written_owner_only_even_over_a_world_readable_file(tmp_path):
    path = tmp_path / "demo" / "roster.csv"
    path.parent.mkdir()
    path.write_text("old")
    os.chmod(path, 0o644)
    write_text(path, "employee_id\nE1\n")
    assert (path.stat().st_mode & 0o777) == 0o600
    assert path.read_text() == "employee_id\nE1\n"
