"""Who and what an export covers: the clinics the researcher may export from (the export's
one permission check) and the consenting patients in them, with their research ids and
day 0 (first admission)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from hab.core import policy
from hab.core.errors import Forbidden, NotFound
from hab.core.models import Clinic, User
from hab.core.policy import Action
from hab.intake.models import Episode
from hab.patients.models import Consent, Patient

CHUNK = 5000


@dataclass
class Scope:
    clinic_ids: list[int]
    with_dates: bool
    free_text: bool = False  # free-text answers asked for explicitly
    patients: dict[int, str] = field(default_factory=dict)  # patient id: research id
    day0: dict[int, datetime.date] = field(default_factory=dict)  # first admission
    left_out: int = 0

    def day(self, patient_id: int, day: datetime.date | None) -> int | None:
        return None if day is None else (day - self.day0[patient_id]).days

    @property
    def ids(self) -> list[int]:
        return list(self.patients)


def export_clinic_ids(user: User) -> list[int]:
    """The clinics whose patients ``user`` may export; raises Forbidden for anyone else.
    The export's one permission check: the page, the API and the service all come here."""
    clinic_ids = policy.clinic_ids_where(user, Action.RESEARCH_EXPORT)
    if not clinic_ids:
        raise Forbidden("Research exports are for researchers.")
    return clinic_ids


def export_clinics(user: User) -> QuerySet[Clinic]:
    """The clinics the export page offers ``user``, by name."""
    return Clinic.objects.filter(pk__in=export_clinic_ids(user)).order_by("name")


def scope_for(
    user: User, clinic: str = "", *, with_dates: bool | None = None, free_text: bool = False
) -> Scope:
    """The clinics the researcher exports from, and the consenting patients in them."""
    return scope_within(
        user, export_clinic_ids(user), clinic, with_dates=with_dates, free_text=free_text
    )


def scope_within(
    user: User,
    clinic_ids: list[int],
    clinic: str = "",
    *,
    with_dates: bool | None = None,
    free_text: bool = False,
) -> Scope:
    """The scope among ``clinic_ids``, the clinics ``export_clinic_ids`` allowed."""
    if clinic:
        chosen = Clinic.objects.filter(code=clinic, pk__in=clinic_ids).first()
        if chosen is None:
            raise NotFound("No such clinic.")
        clinic_ids = [chosen.pk]
    if not clinic_ids:
        raise NotFound("No such clinic.")
    dates = user.has_perm("research.export_dates") if with_dates is None else with_dates
    scope = Scope(clinic_ids=clinic_ids, with_dates=dates, free_text=free_text)
    latest = Consent.objects.filter(patient=OuterRef("pk"), kind="research").order_by("-at", "-id")
    in_scope = Patient.objects.filter(
        Exists(Episode.objects.filter(patient=OuterRef("pk"), clinic_id__in=clinic_ids))
    ).annotate(consent=Subquery(latest.values("given")[:1]))
    for patient_id, research_id, consent in in_scope.values_list(
        "pk", "research_id", "consent"
    ).iterator(chunk_size=CHUNK):
        if consent:
            scope.patients[patient_id] = research_id
        else:
            scope.left_out += 1
    scope.day0 = _first_admissions(scope.ids)
    return scope


def _first_admissions(patient_ids: list[int]) -> dict[int, datetime.date]:
    first: dict[int, datetime.date] = {}
    for patient_id, day in Episode.objects.filter(patient_id__in=patient_ids).values_list(
        "patient_id", "admitted_on"
    ):
        if patient_id not in first or day < first[patient_id]:
            first[patient_id] = day
    return first
