"""Reports to Legemiddelregisteret at scale: a clinic's doses of a quarter, a half-year and
a year written as LMDI Bundles, each in a fresh process, with the wall time and the peak
memory (RSS) of that process.

  HAB_ALLOW_SYNTHETIC_IDS=1 [HAB_DATABASE_URL=…] .venv/bin/python bench/lmdi.py \
      [--clinic oslo] [--year 2025] [--out docs/benchmarks.md]

Runs against a database made by ``hab generate`` (SQLite in HAB_DATA_DIR unless
HAB_DATABASE_URL is set); writes the Bundles into a temporary folder and deletes them, and
the access log's "disclosed" rows through ``hab.interop.lmdi.write`` (the service would
add them; the benchmark times the report itself). Targets: a clinic's year of about
150,000 doses in under 60 s; peak memory that does not grow with the period (the year
peaks about where the quarter does), since the doses are read in chunks and each Bundle is
written when it is complete.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import report  # noqa: E402
from scale import _high_water_kb, setup  # noqa: E402

TARGET_S = 60
TARGET_DOSES = 150_000


def _child(clinic: str, start: datetime.date, end: datetime.date, queue) -> None:
    setup()
    from hab.core import clock
    from hab.core.models import Clinic
    from hab.interop import lmdi

    found = Clinic.objects.get(code=clinic)
    folder = Path(tempfile.mkdtemp(prefix="hab-bench-lmdi-"))
    base = _high_water_kb()
    began = time.perf_counter()
    cpu = time.process_time()
    summary = lmdi.write(found, start, end, folder / "lmdi.json", now=clock.now())
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu
    size = sum(path.stat().st_size for path in summary.files)
    shutil.rmtree(folder)
    queue.put(
        (summary.administrations, summary.bundles, size, seconds, cpu, _high_water_kb(), base)
    )


def run(clinic: str, start: datetime.date, end: datetime.date) -> tuple:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_child, args=(clinic, start, end, queue))
    child.start()
    answer = queue.get(timeout=3600)
    child.join()
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clinic", default="oslo")
    parser.add_argument("--year", type=int, default=datetime.date.today().year - 1)
    parser.add_argument("--out")
    options = parser.parse_args()
    setup()
    from django.db import connection

    first = datetime.date(options.year, 1, 1)
    periods = [
        ("a quarter", datetime.date(options.year, 3, 31)),
        ("a half-year", datetime.date(options.year, 6, 30)),
        ("the year", datetime.date(options.year, 12, 31)),
    ]
    load = os.getloadavg()[0]
    rows = []
    for label, last in periods:
        doses, bundles, size, seconds, cpu, peak, base = run(options.clinic, first, last)
        rate = doses / seconds if seconds else 0
        per_150k = TARGET_DOSES / rate if rate else float("inf")
        rows.append(
            f"| `{options.clinic}`, {label} of {options.year}: {doses:,} doses in {bundles} "
            f"Bundles, {size / 1e6:.0f} MB | {seconds:.1f} s ({cpu:.1f} s CPU), "
            f"{rate:,.0f} doses/s: {per_150k:.1f} s per {TARGET_DOSES:,} | peak RSS "
            f"{peak / 1024:.0f} MB ({(peak - base) / 1024:+.0f} MB over start) | "
            f"{TARGET_DOSES:,} doses < {TARGET_S} s, RSS flat | "
            f"{'yes' if per_150k < TARGET_S else '**no**'} |"
        )
        print(rows[-1], flush=True)
    vendor, header = report.machine(connection, load)
    table = report.table(header, ["report", "time", "memory", "target", "met"], rows)
    print(table)
    if options.out:
        report.write_section(options.out, f"lmdi-{vendor}", table)


if __name__ == "__main__":
    main()
