"""hab verify-summaries [--clinic CODE] [--from DATE]: compare the day summaries with what
the dose records add up to; exit status 1 when they differ."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from hab.dosing import summaries
from hab.dosing.management.scope import add_scope_arguments, scope


class Command(BaseCommand):
    help = (
        "Compares the patient-day and clinic-day summaries with the dose records; exit "
        "status 1 when a row differs (hab rebuild-summaries puts them right)."
    )

    def add_arguments(self, parser):
        add_scope_arguments(parser)

    def handle(self, *args, clinic=None, since=None, **options):
        ids, day = scope(clinic, since)
        count, shown = summaries.differences(ids, day)
        if not count:
            self.stdout.write("The day summaries equal the dose records.")
            return
        self.stdout.write(f"{count} summary rows differ from the dose records:")
        for difference in shown:
            where = "missing from" if difference.side == "missing" else "not in the records, in"
            self.stdout.write(f"  {where} {difference.table}: {difference.row}")
        self.stdout.write("hab rebuild-summaries recomputes them.")
        sys.exit(1)
