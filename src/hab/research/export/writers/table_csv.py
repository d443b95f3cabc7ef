"""A table as CSV in the zip: the rows through hab.core.spreadsheet (no text becomes a
formula), or, on PostgreSQL, the lines the database's COPY wrote."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from django.db import connection

from hab.core import spreadsheet

from ..queries import chunks
from ..tables import Table


def copied(table: Table, block: int = 1 << 20) -> Iterator[bytes]:
    """The table's CSV lines as PostgreSQL's COPY sends them (one message a line), joined
    into blocks of about ``block`` bytes, ends of line as the csv module writes them (CRLF: no
    field of these tables holds a line break). Counts the lines into ``table.count``."""

    def joined(lines: list) -> bytes:
        table.count += len(lines)
        return b"".join(lines).replace(b"\n", b"\r\n")

    sql, params = table.copy()
    with connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        lines: list = []
        size = 0
        for line in copy:
            lines.append(line)
            size += len(line)
            if size >= block:
                yield joined(lines)
                lines, size = [], 0
        if lines:
            yield joined(lines)


def write_csv(zf: zipfile.ZipFile, table: Table) -> None:
    """The csv module writes None as an empty field and a date as its ISO form (str), so
    rows go to it as they come, a chunk at a time; a table PostgreSQL writes as CSV itself
    (``Table.copy``) goes into the file as the database sends it."""
    if table.copy is not None:
        with zf.open(f"{table.name}.csv", "w") as raw:
            # Only numbers and research ids (HAB's own base32) come from the database here:
            # no cell of it can start a formula.
            header = io.StringIO()
            spreadsheet.writer(header).writerow([c.name for c in table.columns])
            raw.write(header.getvalue().encode())
            for block in copied(table):
                raw.write(block)
        return
    with (
        zf.open(f"{table.name}.csv", "w") as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle,
    ):
        writer = spreadsheet.writer(handle)
        writer.writerow([c.name for c in table.columns])
        for batch in chunks(table.rows(), 10_000):
            writer.writerows(batch)
            table.count += len(batch)
