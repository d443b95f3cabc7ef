from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hab.core.demo import NURSE_PIN
from hab.core.roles import Role
from hab.demo.builder import build, demo_exists


class Command(BaseCommand):
    help = "Loads the synthetic demo programme (HAB Oslo and HAB Bergen) unless it is there."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--scale", type=float, default=1.0, help="multiplies the number of patients"
        )

    def handle(self, *args, **options):
        if not settings.ALLOW_SYNTHETIC_IDS:
            raise CommandError(
                "The demo uses synthetic national ids: set HAB_ALLOW_SYNTHETIC_IDS=1."
            )
        if demo_exists():
            self.stdout.write("The demo programme is already loaded.")
        else:
            ctx = build(seed=options["seed"], scale=options["scale"])
            for line in ctx.log:
                self.stdout.write(line)
        self.stdout.write("")
        self.stdout.write("Demo logins (username = role.clinic):")
        roles = " ".join(role.value for role in Role)
        self.stdout.write(f"  roles:    {roles}")
        self.stdout.write("  clinics:  oslo bergen      e.g. nurse.oslo, doctor.bergen")
        self.stdout.write(f"  password: {settings.DEMO_PASSWORD}")
        self.stdout.write(
            f"  nurses' lock-screen PIN: {NURSE_PIN} (tick 'Shared tablet or PC' at login)"
        )
