"""hab ledger-checkpoint [--clinic CODE]: sign each clinic's ledger chain head for today.

Run it once a day (cron or a systemd timer, see docs/operations.md): ``hab verify-ledger``
then finds any later rewrite of the entries up to a signed head, or their deletion."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from hab.core.models import Clinic
from hab.stock import services


class Command(BaseCommand):
    help = (
        "Signs each clinic's controlled-drug ledger head with HAB_LEDGER_KEY as today's "
        "checkpoint; exit status 1 when a chain does not verify (its head is not signed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clinic", help="clinic code (default: every clinic)")

    def handle(self, *args, clinic=None, **options):
        clinics = Clinic.objects.order_by("code")
        if clinic:
            clinics = clinics.filter(code=clinic)
            if not clinics:
                raise CommandError(f"No clinic with code {clinic!r}.")
        refused = False
        for place in clinics:
            try:
                made, new = services.checkpoint_record(place)
            except services.CheckpointRefused as error:
                refused = True
                self.stdout.write(f"{place.code}: NOT SIGNED: {error.message}")
                continue
            state = "signed" if new else "already signed today"
            self.stdout.write(
                f"{place.code}: {made.day} {state} at entry no. {made.seq} ({made.head_hash[:12]}…)"
            )
        if refused:
            sys.exit(1)
