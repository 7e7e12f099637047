"""The error tree's shared helpers: located one-line messages."""

from __future__ import annotations

from auditor.errors import MAX_REASON, DataError, Location, format_path, one_line


def test_one_line_joins_whitespace_and_names_an_empty_error():
    assert one_line(ValueError("bad\n  header\tline")) == "bad header line"
    assert one_line(KeyError()) == "KeyError"
    assert one_line("") == ""


def test_one_line_cuts_long_reasons_with_an_ellipsis():
    text = one_line("x" * 500)
    assert len(text) == MAX_REASON and text.endswith("...")
    assert one_line("y" * MAX_REASON) == "y" * MAX_REASON


def test_located_error_reads_file_line_column_field():
    where = Location(file="s.yaml", line=14, column=7, path=("acceptance", 2, "at_most"))
    assert format_path(where.path) == "acceptance[2].at_most"
    assert str(DataError("must be a number", where)) == (
        "s.yaml:14:7: acceptance[2].at_most: must be a number"
    )
    assert str(DataError("no file")) == "no file"
