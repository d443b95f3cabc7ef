"""hab report --year 2025 --out report.pdf [--clinic oslo] [--lang en]: the annual
evaluation report as a PDF, for the programme (every clinic) or one clinic."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hab.core import clock
from hab.core.models import Clinic
from hab.evaluation import report, services


class Command(BaseCommand):
    help = "Writes the annual evaluation report (PDF), in Norwegian unless --lang en."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--out", required=True, help="the PDF file to write")
        parser.add_argument("--clinic", default="", help="a clinic code; none: the programme")
        parser.add_argument("--lang", default="nb", choices=["nb", "en"])
        parser.add_argument(
            "--exact",
            action="store_true",
            help="show small counts too (for the clinic's own use; by default counts under "
            "HAB_SMALL_NUMBER_THRESHOLD are withheld, as for the programme owner)",
        )

    def handle(self, *args, year: int, out: str, clinic: str, lang: str, exact: bool, **options):
        if not services.FIRST_YEAR <= year <= services.LAST_YEAR:
            raise CommandError("Give a year between 2000 and 2100.")
        if year > clock.today().year:
            raise CommandError(f"The year {year} has not begun.")
        if clinic:
            found = Clinic.objects.filter(code=clinic).first()
            if found is None:
                raise CommandError(f"No clinic with the code {clinic!r}.")
            clinics, programme = [found], False
        else:
            clinics, programme = list(Clinic.objects.order_by("name")), True
            if not clinics:
                raise CommandError("There are no clinics.")
        threshold = None if exact else settings.HAB_SMALL_NUMBER_THRESHOLD
        pdf = report.pdf(clinics, year, programme=programme, lang=lang, threshold=threshold)
        Path(out).write_bytes(pdf)
        self.stdout.write(f"Wrote {out} ({len(pdf):,} bytes).")
