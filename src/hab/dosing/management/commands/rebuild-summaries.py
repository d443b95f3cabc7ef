"""hab rebuild-summaries [--clinic CODE] [--from DATE]: recompute the day summaries of the
dose records (derived data, never records) from the records themselves."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from hab.dosing import summaries
from hab.dosing.management.scope import add_scope_arguments, scope


class Command(BaseCommand):
    help = (
        "Recomputes the patient-day and clinic-day summaries from the dose records, "
        "replacing them, in one transaction."
    )

    def add_arguments(self, parser):
        add_scope_arguments(parser)

    def handle(self, *args, clinic=None, since=None, **options):
        ids, day = scope(clinic, since)
        with transaction.atomic():
            rebuilt = summaries.rebuild(ids, day)
        self.stdout.write(
            f"{rebuilt.patient_days} patient-days and {rebuilt.clinic_days} clinic-day counts "
            "rebuilt from the dose records"
        )
