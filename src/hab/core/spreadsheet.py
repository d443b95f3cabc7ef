"""CSV that a spreadsheet opens safely: the one way HAB writes CSV.

A CSV file is most often opened in Excel, LibreOffice or Google Sheets, which read a cell
that begins with ``=``, ``+``, ``-`` or ``@`` (and, after a tab or a carriage return, what
follows) as a formula: ``=HYPERLINK("https://…?"&A2, "…")`` sends the row away when
clicked, a DDE formula can start a program ("CSV injection", OWASP). Text from people
(a follow-up comment, a referring organisation's name) must never become one, so such a
text cell gets a leading apostrophe, which spreadsheets read as "this is text" and hide.

Numbers stay numbers: ``-3`` in a numeric column is a value (int, float, Decimal), written
as ``-3`` and summed by the spreadsheet; only text is neutralised, so ``"-3"`` typed into a
free-text answer becomes ``'-3``. A column is numeric by its type in HAB, never by how its
text looks.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

# The first characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value as it may stand in a CSV cell: text that would start a formula gets a
    leading apostrophe; numbers, dates, None and other text are returned as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` with every cell passed through ``safe_cell``."""

    def __init__(self, handle, **formatting: Any) -> None:
        self._writer = csv.writer(handle, **formatting)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        self._writer.writerows([safe_cell(value) for value in row] for row in rows)


def writer(handle, **formatting: Any) -> SafeWriter:
    """A CSV writer for ``handle`` that neutralises formulas; takes csv.writer's options."""
    return SafeWriter(handle, **formatting)
