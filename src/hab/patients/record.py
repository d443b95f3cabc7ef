"""The patient's record page, with what the apps above patients add to it.

The record shows the course of treatment (intake) and the prescriptions (prescribing), but
patients sits below both and imports neither. Each of those apps adds its part from its
``AppConfig.ready()`` with ``add_part``: a function of the patient and the day that gives
the names and values the record's template shows. This is a seam (see ``hab.core.seams``)
with several receivers; the record is rendered only after every app is ready.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from hab.patients.models import Patient

RecordPart = Callable[[Patient, datetime.date], dict[str, Any]]
_PARTS: list[RecordPart] = []


def add_part(part: RecordPart) -> RecordPart:
    """Add an app's part of the record (once: a second add of the same part is ignored)."""
    if part not in _PARTS:
        _PARTS.append(part)
    return part


def parts(patient: Patient, today: datetime.date) -> dict[str, Any]:
    """Every app's part of the record, for the template."""
    context: dict[str, Any] = {}
    for part in _PARTS:
        context |= part(patient, today)
    return context


def with_session_names(prescriptions: Iterable, patient: Patient) -> list:
    """Each prescription with its doses as (session name, mg), in the clinic's order."""
    names = {slot.code: slot.name for slot in patient.clinic.slots.all()}
    prescriptions = list(prescriptions)
    for prescription in prescriptions:
        prescription.session_doses = [
            (names.get(code, code), mg) for code, mg in prescription.doses_mg.items()
        ]
    return prescriptions
