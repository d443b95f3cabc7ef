"""``hab check-deploy``: is this a safe production configuration?

Django's ``check --deploy`` (HTTPS, cookies, HSTS, secret key, debug, allowed hosts)
together with HAB's own checks (tag ``hab``, see hab.core.checks). Exits non-zero
when anything at ``--fail-level`` (default ERROR) or worse is found; warnings are
printed and leave the exit status 0.
"""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections


class Command(BaseCommand):
    help = "Checks the deployment settings: Django's check --deploy and HAB's own checks."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--fail-level",
            default="ERROR",
            choices=["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"],
            help="Exit non-zero for messages at this level or worse (default ERROR).",
        )

    def handle(self, *args, fail_level: str, **options):
        # With the databases named, checks that look at the database itself run too.
        call_command(
            "check",
            deploy=True,
            fail_level=fail_level,
            databases=list(connections),
            stdout=self.stdout,
            stderr=self.stderr,
        )
