"""hab contingency-list --clinic oslo --as nurse.oslo [--date D] [--slot S ...] --out F.pdf

Prints the paper dosing list for a day's sessions, to use if HAB becomes unavailable.
Run it before each session (cron) and keep the PDF where the clinic can print it offline.
The patients listed are written to the access log as read by the named user.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from hab.core import clock, policy
from hab.core.access import Actor
from hab.core.models import Clinic, User
from hab.core.policy import Action
from hab.dosing import contingency


class Command(BaseCommand):
    help = "Writes the contingency dosing list (PDF) of a clinic's sessions on a day."

    def add_arguments(self, parser):
        parser.add_argument("--clinic", required=True, help="clinic code, e.g. oslo")
        parser.add_argument(
            "--as", dest="username", required=True, help="the staff member printing it"
        )
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--slot", action="append", help="a session code (default: all of the day's)"
        )
        parser.add_argument("--out", required=True, help="the PDF file to write")

    def handle(self, *args, clinic, username, date=None, slot=None, out, **options):
        place = Clinic.objects.filter(code=clinic).first()
        if place is None:
            raise CommandError(f"No clinic with code {clinic!r}.")
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None or not policy.can(user, Action.CONTINGENCY, place):
            raise CommandError(f"{username!r} may not print the contingency list at {clinic}.")
        day = parse_date(date) if date else clock.today()
        if day is None:
            raise CommandError("Write the date as YYYY-MM-DD.")
        data = contingency.pdf(Actor.system(user), place, day, slot)
        Path(out).write_bytes(data)
        self.stdout.write(f"{out}: {len(data)} bytes")
