"""The options that name which day summaries a command works on."""

from __future__ import annotations

import datetime

from django.core.management.base import CommandError

from hab.core.models import Clinic


def scope(clinic: str | None, since: str | None) -> tuple[list[int] | None, datetime.date | None]:
    """The clinics' ids (None: all) and the first day (None: all) the options name."""
    ids = None
    if clinic:
        ids = list(Clinic.objects.filter(code=clinic).values_list("pk", flat=True))
        if not ids:
            raise CommandError(f"No clinic with code {clinic!r}.")
    day = None
    if since:
        try:
            day = datetime.date.fromisoformat(since)
        except ValueError:
            raise CommandError(f"--from {since!r} is not a date (YYYY-MM-DD).") from None
    return ids, day


def add_scope_arguments(parser) -> None:
    """--clinic and --from, as both summary commands take them."""
    parser.add_argument("--clinic", help="clinic code (default: every clinic)")
    parser.add_argument("--from", dest="since", metavar="DATE", help="first day, YYYY-MM-DD")
