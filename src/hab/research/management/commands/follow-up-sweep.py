"""hab follow-up-sweep [--date YYYY-MM-DD]

Makes the follow-up schedule of every course of treatment that lacks one and records as
missed each time point whose window closed without an interview (and those after a course
ended). Idempotent: run it nightly (cron); the lists also run it when they are read.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from hab.core import clock
from hab.research import selectors, services


class Command(BaseCommand):
    help = "Makes missing follow-up schedules and records missed follow-ups."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, date=None, **options):
        today = parse_date(date) if date else clock.today()
        if today is None:
            raise CommandError(f"Not a date: {date!r} (write YYYY-MM-DD).")
        found = selectors.courses()
        made = services.follow_ups_ensure(found.values())
        missed = services.missed_sweep(today=today, found=found)
        self.stdout.write(
            f"{len(found)} courses of treatment: {made} time points scheduled, "
            f"{missed} recorded as missed."
        )
