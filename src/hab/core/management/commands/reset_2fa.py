"""``hab reset-2fa USERNAME``: remove a user's two-factor device (a lost or new phone).

At the next login the user sets up the authenticator app again. The same can be done
in the admin (OTP_TOTP > TOTP devices).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from hab.core import two_factor
from hab.core.models import User


class Command(BaseCommand):
    help = "Removes a user's two-factor devices; they set up the app again at next login."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        removed = two_factor.device_reset(user=user)
        self.stdout.write(f"{username}: {removed} two-factor device(s) removed.")
