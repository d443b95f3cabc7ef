"""Writes a benchmark's table into docs/benchmarks.md, between markers of its own."""

from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path


def table(header: str, columns: list[str], rows: list[str]) -> str:
    """A benchmark's table: its header line (date, machine, database), then the rows."""
    return "\n".join(
        [
            header,
            "",
            "| " + " | ".join(columns) + " |",
            "|" + " --- |" * len(columns),
            *rows,
        ]
    )


def write_section(path: str | Path, marker: str, table: str) -> None:
    """Replaces the text between ``<!-- marker -->`` and ``<!-- /marker -->`` with the
    table, or appends the marked table when the file has no such section yet."""
    path = Path(path)
    text = path.read_text()
    begin, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    block = f"{begin}\n{table}\n{end}"
    if begin in text:
        pattern = re.escape(begin) + r".*?" + re.escape(end)
        text = re.sub(pattern, lambda _match: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def machine(connection, load: float) -> tuple[str, str]:
    """The database's vendor, and a table's header line: the date, the database and its
    version, Python, Django, the CPUs and the load at the start (``load``) and now."""
    import django

    with connection.cursor() as cursor:
        vendor = connection.vendor
        cursor.execute("select sqlite_version()" if vendor == "sqlite" else "show server_version")
        version = cursor.fetchone()[0]
    return vendor, (
        f"{datetime.date.today()}, {vendor} {version}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, {os.cpu_count()} CPUs (load average {load:.1f} at the "
        f"start, {os.getloadavg()[0]:.1f} at the end)."
    )
