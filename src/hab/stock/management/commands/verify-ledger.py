"""hab verify-ledger [--clinic CODE]: recompute each clinic's ledger hash chain."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from hab.core.models import Clinic
from hab.stock import services


class Command(BaseCommand):
    help = "Recomputes the controlled-drug ledger's hash chain; exit status 1 when broken."

    def add_arguments(self, parser):
        parser.add_argument("--clinic", help="clinic code (default: every clinic)")

    def handle(self, *args, clinic=None, **options):
        clinics = Clinic.objects.order_by("code")
        if clinic:
            clinics = clinics.filter(code=clinic)
            if not clinics:
                raise CommandError(f"No clinic with code {clinic!r}.")
        broken = False
        for place in clinics:
            result = services.verify(place)
            if result.ok:
                self.stdout.write(f"{place.code}: {result.entries} entries, chain intact")
            else:
                broken = True
                self.stdout.write(
                    f"{place.code}: BROKEN at entry no. {result.broken.seq} "
                    f"({services.PROBLEMS[result.broken.problem]}); "
                    f"{result.entries} entries before it are intact"
                )
        if broken:
            sys.exit(1)
