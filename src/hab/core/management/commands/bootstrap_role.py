"""``hab bootstrap-role USERNAME --clinic CODE --role admin|clinic_lead``: the first
people who decide role changes at a clinic.

Roles change on HAB's role page, proposed by one person and approved by a second; a new
clinic has nobody to do either. This command gives the first two (an administrator and
the clinic lead, or two administrators) from the server's command line, and refuses once
the clinic has two of them. HAB has no superusers. A new user gets no password: set one
with ``hab changepassword USERNAME``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from hab.core import services
from hab.core.errors import DomainError
from hab.core.models import Clinic
from hab.core.roles import Role


class Command(BaseCommand):
    help = "Gives a clinic its first administrator or clinic lead (until it has two)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--clinic", required=True, help="the clinic's code")
        parser.add_argument("--role", required=True, choices=[Role.ADMIN, Role.CLINIC_LEAD])

    def handle(self, *args, username: str, clinic: str, role: str, **options):
        found = Clinic.objects.filter(code=clinic).first()
        if found is None:
            raise CommandError(f"No clinic {clinic!r}.")
        try:
            user = services.role_bootstrap(username=username, clinic=found, role=Role(role))
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{username}: {Role(role).label} at {found.name}.")
        if not user.has_usable_password():
            self.stdout.write(f"Set a password: hab changepassword {username}")
