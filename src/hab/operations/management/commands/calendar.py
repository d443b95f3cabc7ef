"""hab calendar [--clinic CODE] [--days 60] [--from DATE]: generate the clinics' sessions."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from hab.core.errors import Invalid
from hab.core.models import Clinic
from hab.operations import services


class Command(BaseCommand):
    help = (
        "Generates the opening calendar's sessions from the session templates and exceptions. "
        "Idempotent: run it every night to keep the coming weeks in the calendar."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clinic", help="clinic code (default: every clinic)")
        parser.add_argument("--days", type=int, default=60, help="days from the start (60)")
        parser.add_argument(
            "--from", dest="start", type=date.fromisoformat, help="first day (today)"
        )

    def handle(self, *args, clinic=None, days=60, start=None, **options):
        clinics = Clinic.objects.order_by("code")
        if clinic:
            clinics = clinics.filter(code=clinic)
            if not clinics:
                raise CommandError(f"No clinic with code {clinic!r}.")
        for place in clinics:
            try:
                result = services.calendar_generate(
                    actor=None, clinic=place, start=start, days=days
                )
            except Invalid as error:
                raise CommandError(error.message) from None
            self.stdout.write(
                f"{place.code}: {result.start} to {result.end}: {result.created} sessions "
                f"created, {result.updated} updated, {result.unchanged} unchanged"
            )
