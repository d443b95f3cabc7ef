"""hab verify-ledger [--clinic CODE] [--max-age DAYS]: check each clinic's controlled-drug
ledger: the hash chain, the signed daily checkpoints, and every dose against its debits."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from hab.core import clock
from hab.core.formats import plain as mg_text  # read by people and scripts alike
from hab.core.models import Clinic
from hab.stock import services


class Command(BaseCommand):
    help = (
        "Recomputes the controlled-drug ledger's hash chain, checks its signed checkpoints "
        "and reconciles every dose with its debits; exit status 1 when anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clinic", help="clinic code (default: every clinic)")
        parser.add_argument(
            "--max-age",
            type=int,
            metavar="DAYS",
            help="also fail when a clinic's newest checkpoint is older than this many days "
            "(the daily job stopped, or the newest checkpoints were deleted)",
        )

    def handle(self, *args, clinic=None, max_age=None, **options):
        clinics = Clinic.objects.order_by("code")
        if clinic:
            clinics = clinics.filter(code=clinic)
            if not clinics:
                raise CommandError(f"No clinic with code {clinic!r}.")
        broken = False
        for place in clinics:
            chain = services.verify(place)
            broken |= not self._chain(place, chain)
            broken |= not self._checkpoints(place, max_age, chain.entries)
            broken |= not self._doses(place)
        if broken:
            sys.exit(1)

    def _chain(self, place: Clinic, result: services.Verified) -> bool:
        if result.ok:
            self.stdout.write(f"{place.code}: {result.entries} entries, chain intact")
        else:
            self.stdout.write(
                f"{place.code}: BROKEN at entry no. {result.broken.seq} "
                f"({services.PROBLEMS[result.broken.problem]}); "
                f"{result.entries} entries before it are intact"
            )
        return result.ok

    def _checkpoints(self, place: Clinic, max_age: int | None, entries: int) -> bool:
        count, findings = services.verify_checkpoints(place)
        for finding in findings:
            self.stdout.write(
                f"{place.code}: CHECKPOINT of {finding.day} (entry no. {finding.seq}, key "
                f"{finding.key_id}) does not hold: "
                f"{services.CHECKPOINT_PROBLEMS[finding.problem]}"
            )
        newest = services.newest_checkpoint(place)
        if newest is None:
            self.stdout.write(f"{place.code}: no signed checkpoint yet")
        elif not findings:
            self.stdout.write(
                f"{place.code}: {count} signed checkpoints hold "
                f"(newest {newest.day}, entry no. {newest.seq})"
            )
        if max_age is None:
            return not findings
        # A clinic that keeps no ledger in HAB has nothing to sign.
        age = None if newest is None else (clock.today() - newest.day).days
        stale = entries > 0 if age is None else age > max_age
        if stale:
            self.stdout.write(
                f"{place.code}: NO CHECKPOINT in the last {max_age} days: run hab "
                "ledger-checkpoint daily, and find out why the newest ones are missing"
            )
        return not findings and not stale

    def _doses(self, place: Clinic) -> bool:
        mismatches = services.reconcile_doses(place)
        for m in mismatches:
            what = m.problem or (
                f"given {mg_text(m.given_mg)} mg, debited {mg_text(m.debited_mg)} mg"
            )
            self.stdout.write(
                f"{place.code}: DOSE {m.administration} (patient {m.patient}, research id "
                f"{m.research_id}, {m.day} {m.slot}, {m.medication}) does not match the "
                f"ledger: {what}"
            )
        if not mismatches:
            self.stdout.write(f"{place.code}: every dose matches its ledger debits")
        return not mismatches
