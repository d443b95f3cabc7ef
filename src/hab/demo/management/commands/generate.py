from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hab.demo.scale import SCALES, generate, scale_for


class Command(BaseCommand):
    help = (
        "Generates a synthetic programme at a chosen size in bulk (clinics, patients, years "
        "of doses and the ledger) into an empty, migrated database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            default="small",
            help=f"{', '.join(SCALES)}, or a number of patients (default small)",
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--clinics", type=int, help="number of clinics (default: the scale's)")
        parser.add_argument("--years", type=float, help="years of history (default: the scale's)")
        parser.add_argument(
            "--workers", type=int, default=2, help="processes writing clinics (PostgreSQL only)"
        )

    def handle(self, *args, **options):
        if not settings.ALLOW_SYNTHETIC_IDS:
            raise CommandError(
                "The generator uses synthetic national ids: set HAB_ALLOW_SYNTHETIC_IDS=1."
            )
        try:
            scale = scale_for(options["scale"], clinics=options["clinics"], years=options["years"])
        except ValueError:
            raise CommandError(
                f"--scale is one of {', '.join(SCALES)} or a number of patients."
            ) from None
        try:
            result = generate(
                scale, seed=options["seed"], workers=options["workers"], log=self.stdout.write
            )
        except RuntimeError as error:
            raise CommandError(str(error)) from None
        width = max(len(t) for t in result.rows)
        for table, count in sorted(result.rows.items()):
            self.stdout.write(f"  {table:<{width}} {count:>12,}")
        rate = result.total_rows / result.total_seconds if result.total_seconds else 0
        self.stdout.write(
            f"{result.total_rows:,} rows in {result.total_seconds:.1f} s ({rate:,.0f} rows/s); "
            f"{result.people:,} patients, {result.stays:,} episodes, "
            f"{result.overdoses} overdoses."
        )
        self.stdout.write(
            f"Logins: role.clinic (e.g. nurse.oslo), password {settings.DEMO_PASSWORD}"
        )
