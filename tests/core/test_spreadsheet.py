"""Every CSV HAB writes opens safely in a spreadsheet: no text cell starts a formula, and
numbers stay numbers (issue 18)."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hab.core import spreadsheet
from hab.core.spreadsheet import FORMULA_START, safe_cell

SRC = Path(spreadsheet.__file__).parents[1]


def written(row: list) -> list[str]:
    """The row as a CSV file holds it, read back."""
    handle = io.StringIO(newline="")
    spreadsheet.writer(handle).writerow(row)
    (back,) = list(csv.reader(io.StringIO(handle.getvalue(), newline="")))
    return back


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        (
            '=HYPERLINK("https://evil.example/?q=1","klikk")',
            '\'=HYPERLINK("https://evil.example/?q=1","klikk")',
        ),
        ("+47 22 00 00 00", "'+47 22 00 00 00"),
        ("-3", "'-3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Ola Nordmann", "Ola Nordmann"),
        ("a=1", "a=1"),  # only the first character starts a formula
        (" =1", " =1"),
        ("", ""),
    ],
)
def test_text_that_would_start_a_formula_is_neutralised(text, cell):
    assert written([text]) == [cell]


@pytest.mark.parametrize(
    ("value", "cell"),
    [(-3, "-3"), (-0.5, "-0.5"), (Decimal("-12.50"), "-12.50"), (0, "0"), (None, "")],
)
def test_true_numbers_stay_numbers_negative_ones_too(value, cell):
    assert written([value]) == [cell]


@given(st.text())
def test_no_text_ever_starts_a_formula_and_nothing_is_lost(text):
    (cell,) = written([text])

    assert not cell.startswith(FORMULA_START)
    assert cell == ("'" + text if text.startswith(FORMULA_START) else text)


@given(st.lists(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False)), max_size=8))
def test_a_row_keeps_its_cells_and_its_numbers(row):
    back = written(row) if row else []

    assert len(back) == len(row)
    for value, cell in zip(row, back, strict=True):
        if isinstance(value, str):
            assert cell == safe_cell(value)
        elif isinstance(value, int):
            # Read back as an integer: a float cannot hold every integer past 2**53.
            assert int(cell) == value  # a negative number is written as a number
        else:
            assert float(cell) == value


def test_every_csv_hab_writes_goes_through_the_safe_writer():
    # A csv.writer anywhere else would write a formula as it came.
    pattern = re.compile(r"\bcsv\.(writer|DictWriter)\(")
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.name != "spreadsheet.py" and pattern.search(path.read_text())
    ]
    assert offenders == []
