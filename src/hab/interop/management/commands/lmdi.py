"""hab lmdi --clinic oslo --from 2026-01-01 --to 2026-12-31 --out lmdi.json: the clinic's
doses of the period as Legemiddelregisteret's LegemiddelregisterBundle (several files,
lmdi-001.json…, when the period holds more doses than one Bundle takes)."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hab.core.access import Actor
from hab.core.errors import DomainError
from hab.core.models import Clinic, User
from hab.core.roles import Role
from hab.interop import services


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from error


class Command(BaseCommand):
    help = "Writes a clinic's doses of a period as Bundles for Legemiddelregisteret (LMDI)."

    def add_arguments(self, parser):
        parser.add_argument("--clinic", required=True, help="the clinic's code")
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--out", required=True, help="the JSON file to write")
        parser.add_argument(
            "--user",
            default="",
            help="the clinic lead the disclosure is logged under (default: the clinic's "
            "only clinic lead)",
        )
        parser.add_argument(
            "--sealed",
            action="store_true",
            help="write the signed and encrypted envelope (HAB_LMDI_* certificates)",
        )

    def handle(self, *args, clinic, start, end, out, user, sealed, **options):
        if not Path(out).parent.is_dir():
            raise CommandError(f"The folder {Path(out).parent} does not exist.")
        found = Clinic.objects.filter(code=clinic).first()
        if found is None:
            raise CommandError(f"No clinic with the code {clinic!r}.")
        actor = Actor.system(self._lead(found, user))
        try:
            summary = services.lmdi_report(
                actor=actor,
                clinic=found,
                start=_date(start),
                end=_date(end),
                out=Path(out),
                sealed=sealed,
            )
        except DomainError as error:
            raise CommandError(str(error)) from error
        if not summary.bundles:
            self.stdout.write(f"No doses given at {found.name} from {start} to {end}.")
            return
        self.stdout.write(
            f"Wrote {summary.administrations:,} doses of {len(summary.patients):,} patients "
            f"({summary.entered_in_error:,} withdrawn) in {summary.bundles:,} "
            f"{'envelope' if sealed else 'Bundle'}{'s' if summary.bundles > 1 else ''}, "
            f"logged under {actor.user.get_username()}:"
        )
        for path in summary.files:
            self.stdout.write(f"  {path}")

    def _lead(self, clinic: Clinic, username: str) -> User:
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(f"No active user {username!r}.")
            return user
        leads = list(
            User.objects.filter(
                is_active=True,
                memberships__clinic=clinic,
                memberships__role=Role.CLINIC_LEAD,
            ).distinct()
        )
        if len(leads) != 1:
            raise CommandError(
                f"{clinic.name} has {len(leads)} clinic leads: name one with --user."
            )
        return leads[0]
