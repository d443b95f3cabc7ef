"""Reads of prescribing: the clinic's active protocol and patients' active prescriptions."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hab.core.access import Actor
from hab.core.errors import NotFound
from hab.core.policy import Action
from hab.core.sql import among, serial
from hab.patients.models import Patient
from hab.patients.record import with_session_names
from hab.patients.selectors import patient_open
from hab.prescribing import rules as prescription_rules
from hab.prescribing.models import (
    DosingProtocol,
    Medication,
    Prescription,
    ProtocolSignoff,
    Route,
)
from hab.prescribing.rules import PROTOCOL_RANGES, PROTOCOL_SWITCHES, protocol_changes

_MEDICATIONS = dict(Medication.choices)
_ROUTES = dict(Route.choices)


def prescription_open(
    actor: Actor, prescription_id: int, action: Action, *, shown: bool = True
) -> Prescription:
    """The prescription with its patient, checked for ``action`` on the patient; showing
    it is logged as a read of the patient (``shown=False`` for a write its service logs)."""
    prescription = Prescription.objects.filter(pk=prescription_id).first()
    if prescription is None:
        raise NotFound(_("No such prescription."))
    prescription.patient = patient_open(
        actor,
        prescription.patient_id,
        action,
        what="prescription",
        details={"prescription": prescription.pk},
        shown=shown,
    )
    return prescription


def protocol_in_force(clinic_id: int) -> DosingProtocol | None:
    """The version the clinic doses by: the newest one its named doctor has confirmed. A
    version proposed and not yet confirmed changes nothing."""
    return (
        DosingProtocol.objects.filter(clinic_id=clinic_id, signoff__isnull=False)
        .order_by("-version")
        .first()
    )


def active_protocol(clinic_id: int) -> DosingProtocol | None:
    """The version in force; None when there is none or it lacks the required local values."""
    protocol = protocol_in_force(clinic_id)
    return protocol if protocol is not None and protocol.complete else None


def latest_protocol(clinic_id: int) -> DosingProtocol | None:
    """The newest version, confirmed or not: the one a new version starts from."""
    return DosingProtocol.objects.filter(clinic_id=clinic_id).order_by("-version").first()


def protocol_pending(clinic_id: int) -> DosingProtocol | None:
    """The newest version when its doctor has not confirmed it yet (an older unconfirmed
    one was replaced by it and can no longer be confirmed)."""
    latest = (
        DosingProtocol.objects.filter(clinic_id=clinic_id)
        .select_related("created_by", "doctor")
        .order_by("-version")
        .first()
    )
    if latest is None or ProtocolSignoff.objects.filter(protocol=latest).exists():
        return None
    return latest


@dataclass(frozen=True, slots=True)
class ProtocolChange:
    setting: str
    label: str
    in_force: object
    proposed: object


def protocol_diff(protocol: DosingProtocol) -> list[ProtocolChange]:
    """What the version changes against the version in force (every value set, when none
    is in force yet), in the order of the protocol's settings."""
    current = protocol_in_force(protocol.clinic_id)
    if current is not None and current.pk == protocol.pk:
        return []

    def values(p: DosingProtocol | None) -> dict | None:
        names = [*PROTOCOL_RANGES, *PROTOCOL_SWITCHES]
        return None if p is None else {name: getattr(p, name) for name in names}

    return [
        ProtocolChange(name, str(DosingProtocol._meta.get_field(name).verbose_name), before, after)
        for name, before, after in protocol_changes(values(current), values(protocol))
    ]


def _overtaken(thresholds: dict[int, date]) -> set[int]:
    """The prescriptions (ids, each with a day) that a later one of their chain, valid from
    that day or before, has taken over by then.

    A chain (each prescription superseding the one before) is followed forwards only
    through successors not yet valid on the day: one or two a chain, as the prescriptions
    that old titration steps are superseded by are valid at once."""
    overtaken: set[int] = set()
    frontier: dict[int, list[int]] = {pk: [pk] for pk in thresholds}
    while frontier:
        ahead: dict[int, list[int]] = {}
        for previous, pk, valid_from in Prescription.objects.filter(
            supersedes_id__in=list(frontier)
        ).values_list("supersedes_id", "pk", "valid_from"):
            for origin in frontier[previous]:
                if valid_from <= thresholds[origin]:
                    overtaken.add(origin)
                else:
                    ahead.setdefault(pk, []).append(origin)
        frontier = {
            pk: alive
            for pk, origins in ahead.items()
            if (alive := [o for o in origins if o not in overtaken])
        }
    return overtaken


def active_prescriptions(patient_ids: Iterable[int], day: date) -> dict[int, list[Prescription]]:
    """Each patient's prescriptions in force on the day.

    In each chain of prescriptions (each superseding the one before), the newest one valid
    from the day or before: the ones that supersede it are not valid yet, so a prescription
    from a later day takes over on that day and the one before it stays until then. It is
    in force when it is not a stop and the day is within its validity."""
    candidates = list(
        Prescription.objects.filter(
            patient_id__in=list(patient_ids), stopped_on__isnull=True, valid_from__lte=day
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .order_by("created_at", "id")
    )
    overtaken = _overtaken({p.pk: day for p in candidates})
    found: dict[int, list[Prescription]] = {}
    for prescription in candidates:
        if prescription.pk not in overtaken:
            found.setdefault(prescription.patient_id, []).append(prescription)
    return found


def coming_prescriptions(patient_ids: Iterable[int], day: date) -> dict[int, list[Prescription]]:
    """Each patient's prescriptions (and stops) valid from a later day that will take over
    on that day: none of their chain after them is valid by then. In the order they begin."""
    candidates = list(
        Prescription.objects.filter(patient_id__in=list(patient_ids), valid_from__gt=day)
        .select_related("created_by")
        .order_by("valid_from", "created_at", "id")
    )
    overtaken = _overtaken({p.pk: p.valid_from for p in candidates})
    found: dict[int, list[Prescription]] = {}
    for prescription in candidates:
        if prescription.pk not in overtaken:
            found.setdefault(prescription.patient_id, []).append(prescription)
    return found


@dataclass(frozen=True, slots=True)
class InForce:
    """The columns of a prescription in force that the dosing room reads. The board reads
    one per expected patient on every refresh, and every dose reads its patient's: model
    objects were a tenth of the board's time."""

    pk: int
    patient_id: int
    episode_id: int
    medication: str
    route: str
    doses_mg: dict
    daily_max_mg: float
    titration_start_mg: float | None
    titration_step_mg: float | None
    titration_target_mg: float | None
    created_at: datetime
    issued_on: date  # the day it was prescribed, in Oslo

    @classmethod
    def of(cls, prescription: Prescription) -> InForce:
        return cls(
            prescription.pk,
            prescription.patient_id,
            prescription.episode_id,
            prescription.medication,
            prescription.route,
            prescription.doses_mg,
            float(prescription.daily_max_mg),
            _number(prescription.titration_start_mg),
            _number(prescription.titration_step_mg),
            _number(prescription.titration_target_mg),
            prescription.created_at,
            timezone.localdate(prescription.created_at),
        )

    def dose_for(self, slot: str) -> float:
        return float(self.doses_mg.get(slot, 0) or 0)

    def get_medication_display(self) -> str:
        return str(_MEDICATIONS.get(self.medication, self.medication))

    def get_route_display(self) -> str:
        return str(_ROUTES.get(self.route, self.route))


def _number(value) -> float | None:
    return None if value is None else float(value)


def prescriptions_in_force(patient_ids: Iterable[int], day: date) -> dict[int, list[InForce]]:
    """``active_prescriptions`` as small records, for the dosing room: read with plain SQL
    (the same rule), as the ORM's handling of a long list of ids cost more than the
    query. SQLite gives back times as text (UTC) and the doses as JSON text.

    Read from the ends of the patients' chains of prescriptions (a patient's titration
    steps and reviews, each superseding the last, are some thirty rows after a few years),
    walking back only past those not valid yet, without parallel workers on PostgreSQL
    (see ``serial``)."""
    patient_ids = list(patient_ids)
    found: dict[int, list[InForce]] = {}
    if not patient_ids:
        return found
    table = Prescription._meta.db_table
    mine, mine_params = among("m.patient_id", patient_ids)
    theirs, theirs_params = among("n.patient_id", patient_ids)
    whose, whose_params = among("p.patient_id", patient_ids)
    # The ends of the patients' chains: their prescriptions that none of theirs supersedes
    # (one or two a patient, read from the rx_patient_chain index alone).
    ends = (
        f"SELECT m.id FROM {table} m WHERE {mine} AND NOT EXISTS "
        f"(SELECT 1 FROM {table} n WHERE {theirs} AND n.supersedes_id = m.id)"
    )
    # On PostgreSQL an array made once, looked up by primary key: as ``IN`` it would join
    # the whole table by hash, as the planner cannot know how few rows there are.
    postgresql = connection.vendor == "postgresql"

    def ids(query: str) -> str:
        return f"= ANY(ARRAY({query}))" if postgresql else f"IN ({query})"

    # ``back``: from each end, back along the chain past the prescriptions not valid yet on
    # the day, to the first one that is: the candidate of its chain (a prescription from
    # a later day supersedes from that day only). ``ahead``: what supersedes a candidate,
    # followed while not valid yet; a candidate is in force unless one of these is valid
    # by the day (for a chain that goes on past the ends, in another patient's rows).
    # Both walk a row or two a chain, each step by primary key or the unique supersedes.
    # On PostgreSQL the amounts as doubles and the time as seconds since 1970, as in the
    # doses' history: numerics and times would be loaded in Python, row by row.
    columns = ["daily_max_mg", "titration_start_mg", "titration_step_mg", "titration_target_mg"]
    numbers = ", ".join(f"p.{c}::float8" if postgresql else f"p.{c}" for c in columns)
    at = "EXTRACT(EPOCH FROM p.created_at)::float8" if postgresql else "p.created_at"
    sql = (
        "WITH RECURSIVE back (id, prev, valid_from) AS ("
        f"SELECT m.id, m.supersedes_id, m.valid_from FROM {table} m WHERE m.id {ids(ends)} "
        f"UNION SELECT q.id, q.supersedes_id, q.valid_from FROM back b JOIN {table} q "
        "ON q.id = b.prev WHERE b.valid_from > %s), "
        "ahead (origin, id, valid_from) AS ("
        f"SELECT b.id, s.id, s.valid_from FROM back b JOIN {table} s ON s.supersedes_id = b.id "
        "WHERE b.valid_from <= %s "
        f"UNION SELECT a.origin, s.id, s.valid_from FROM ahead a JOIN {table} s "
        "ON s.supersedes_id = a.id WHERE a.valid_from > %s) "
        f"SELECT p.id, p.patient_id, p.episode_id, p.medication, p.route, p.doses_mg, "
        f"{numbers}, {at} FROM {table} p "
        f"WHERE p.id {ids('SELECT id FROM back WHERE valid_from <= %s')} AND {whose} "
        "AND p.stopped_on IS NULL AND (p.valid_to IS NULL OR p.valid_to >= %s) "
        "AND NOT EXISTS (SELECT 1 FROM ahead a WHERE a.origin = p.id AND a.valid_from <= %s) "
        "ORDER BY p.created_at, p.id"
    )
    on = day.isoformat()
    params = [*mine_params, *theirs_params, on, on, on, on, *whose_params, on, on]
    with serial() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    zone = timezone.get_current_timezone()
    for pk, patient, episode, medication, route, doses, daily, start, step, target, at in rows:
        if isinstance(at, float):
            at = datetime.fromtimestamp(at, UTC)
        elif isinstance(at, str):
            at = datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        record = InForce(
            pk,
            patient,
            episode,
            medication,
            route,
            json.loads(doses) if isinstance(doses, str) else doses,
            float(daily),
            _number(start),
            _number(step),
            _number(target),
            at,
            at.astimezone(zone).date(),
        )
        found.setdefault(patient, []).append(record)
    return found


def chain_head(patient_id: int, medication: str) -> Prescription | None:
    """The newest prescription of the medication's chain (its medication group, but
    injected and oral DAM each their own), stopped or not: the next one supersedes it."""
    return (
        Prescription.objects.filter(
            patient_id=patient_id,
            medication__in=prescription_rules.chain_medications(medication),
            superseded_by__isnull=True,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def record_prescriptions(patient: Patient, today: date) -> dict:
    """The patient record's prescriptions: those in force, and those (and stops) from a
    later day that will take over on that day."""
    return {
        "prescriptions": with_session_names(
            active_prescriptions([patient.pk], today).get(patient.pk, []), patient
        ),
        "coming_prescriptions": with_session_names(
            coming_prescriptions([patient.pk], today).get(patient.pk, []), patient
        ),
    }
