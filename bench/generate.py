"""Times ``hab generate`` and writes the result into docs/benchmarks.md.

  HAB_ALLOW_SYNTHETIC_IDS=1 .venv/bin/python bench/generate.py --scale national \
      --database-url postgres://postgres@127.0.0.1:54339/hab [--workers 2] [--seed 2026] \
      [--no-docs] [--no-verify]

Migrates the database named by ``--database-url`` (which must be empty; SQLite in a new
temporary folder when it is left out), generates the programme at the scale asked for
(``small``, ``regional``, ``national`` or a number of patients), checks every clinic's
ledger hash chain (``hab.stock.services.verify``, timed apart), and prints a markdown
table: the machine (CPUs, load average before and after: other processes share the
cores), the date, the database, rows per table, seconds per stage and rows per second.
Unless ``--no-docs``, the table replaces the run of the same scale and database in
docs/benchmarks.md, between the markers ``<!-- generator-SCALE-DATABASE -->`` (the shared
``report.write_section``: a run with no markers yet is appended at the end of the file;
move it into the section "Generator"). The database is kept, for benchmarks of the pages
on it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import platform
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
DOCS = ROOT / "docs" / "benchmarks.md"
sys.path.insert(0, str(HERE))

import report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="regional")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument(
        "--no-verify", action="store_true", help="skip the ledger check (minutes at national size)"
    )
    args = parser.parse_args()
    os.environ.setdefault("HAB_DATA_DIR", tempfile.mkdtemp(prefix="hab-generate-"))
    os.environ["HAB_ALLOW_SYNTHETIC_IDS"] = "1"
    if args.database_url:
        os.environ["HAB_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hab.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from hab.core.models import Clinic
    from hab.demo.scale import generate, scale_for
    from hab.stock import services

    call_command("migrate", verbosity=0)
    load_before = os.getloadavg()
    scale = scale_for(args.scale)
    result = generate(scale, seed=args.seed, workers=args.workers, log=print)
    started = time.perf_counter()
    clinics = [] if args.no_verify else Clinic.objects.all()
    broken = [v for v in map(services.verify, clinics) if not v.ok]
    verify_seconds = time.perf_counter() - started
    load_after = os.getloadavg()
    version = ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = "PostgreSQL " + cursor.fetchone()[0]
        else:
            cursor.execute("SELECT sqlite_version()")
            version = "SQLite " + cursor.fetchone()[0]
    lines = [
        f"### {scale.name}, {version.split()[0]}, {datetime.date.today().isoformat()}",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs "
        f"(load average {load_before[0]:.1f} before, {load_after[0]:.1f} after: shared with "
        f"other processes), Python {platform.python_version()}, {version}; "
        f"{result.workers} worker process(es); seed {args.seed}. "
        f"{result.people:,} patients, {result.stays:,} episodes ({result.open_stays:,} open "
        f"today), {scale.clinics} clinics, {scale.years:g} years, {result.overdoses} overdoses.",
        "",
        "| table | rows |",
        "| --- | ---: |",
    ]
    for table, count in sorted(result.rows.items(), key=lambda item: -item[1]):
        lines.append(f"| `{table}` | {count:,} |")
    lines.append(f"| **all** | **{result.total_rows:,}** |")
    lines += ["", "| stage | seconds |", "| --- | ---: |"]
    for stage, seconds in result.seconds.items():
        lines.append(f"| {stage} | {seconds:,.1f} |")
    rate = result.total_rows / result.total_seconds
    if not args.no_verify:
        lines.append(f"| ledger check (`verify`, all clinics) | {verify_seconds:,.1f} |")
    lines += [
        "",
        f"**{result.total_rows:,} rows in {result.total_seconds / 60:.1f} min: "
        f"{rate:,.0f} rows/s.** Ledger chains: "
        + (
            "not checked (--no-verify)."
            if args.no_verify
            else "all verify."
            if not broken
            else f"{len(broken)} BROKEN."
        ),
        "",
    ]
    table = "\n".join(lines)
    print(table)
    if not args.no_docs:
        report.write_section(DOCS, f"generator-{scale.name}-{connection.vendor}", table.strip())


if __name__ == "__main__":
    main()
