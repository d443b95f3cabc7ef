"""The contingency dosing list: if HAB is unavailable, the clinic doses from paper.

The list is printed ahead of the sessions (``hab contingency-list``, or the page) with
each expected patient's photo, prescription, the largest dose allowed at the start of the
session and every warning, and blank fields to write the dose by hand. What was written
is typed in afterwards (``services.administration_back_enter``), marked as back-entered.
"""

from __future__ import annotations

import base64
import datetime
import mimetypes
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone

from hab.core import clock
from hab.core.access import Actor
from hab.core.models import Clinic
from hab.dosing.selectors import BoardRow, board, clinic_slots


@dataclass
class SessionList:
    day: datetime.date
    slot: str
    name: str
    starts_at: datetime.datetime
    decided_at: datetime.datetime  # the time the maxima were worked out for
    rows: list[BoardRow]
    protocol_version: int | None


def sessions(
    actor: Actor, clinic: Clinic, day: datetime.date, slots: list[str] | None = None
) -> list[SessionList]:
    """The board of each session as it will stand when the session opens (or now, for a
    session already under way): who is expected and what each may be given."""
    found = []
    for slot in clinic_slots(clinic):
        if slots and slot.code not in slots:
            continue
        starts = timezone.make_aware(datetime.datetime.combine(day, slot.starts_at))
        at = max(starts, clock.now())
        with clock.at(at):
            shown = board(actor, clinic, day, slot.code)
        rows = [row for row in shown.rows if row.record is None]
        found.append(
            SessionList(day, slot.code, slot.name, starts, at, rows, shown.protocol_version)
        )
    return found


def photo_uri(file_name: str) -> str:
    """The patient's photo inlined in the PDF (no file or network access while printing)."""
    if not file_name or not default_storage.exists(file_name):
        return ""
    with default_storage.open(file_name, "rb") as photo:
        data = base64.b64encode(photo.read()).decode()
    kind = mimetypes.guess_type(file_name)[0] or "image/jpeg"
    return f"data:{kind};base64,{data}"


def pdf(actor: Actor, clinic: Clinic, day: datetime.date, slots: list[str] | None = None) -> bytes:
    from weasyprint import HTML

    lists = sessions(actor, clinic, day, slots)
    pages = [
        (session, [(row, photo_uri(str(row.patient.photo or ""))) for row in session.rows])
        for session in lists
    ]
    html = render_to_string(
        "dosing/contingency.html",
        {
            "clinic": clinic,
            "day": day,
            "pages": pages,
            "printed_at": clock.now(),
            "printed_by": actor.user,
        },
    )
    return HTML(string=html).write_pdf()
