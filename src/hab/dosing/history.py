"""A patient's last weeks of dosing, session by session: what was prescribed, what was
given, and what the nurses saw (sedation before the dose, the outcome of observation).

The doctor reads it where a prescription is changed and on the record, as a chart and a
table (``dosing/charts.py``). It is read in a fixed number of queries whatever the number
of days: the records of the window with their observations, the patient's prescriptions
(some tens of rows after years of titration steps), and the session names.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from django.utils.translation import gettext as _

from hab.core import clock, policy
from hab.core.access import Actor, access_log_write
from hab.core.errors import Forbidden
from hab.core.models import AccessAction, SessionSlot, User
from hab.core.policy import Action
from hab.dosing import rules
from hab.dosing.models import Administration
from hab.patients.models import Patient
from hab.prescribing.models import Prescription

DAYS = 28
# The care team at the patient's clinic reads it: those who see the dosing board see the
# same doses and decisions every day. Researchers and the programme owner never do, nor
# an administrator (who opens a record only with a reason, and not its doses).
READ_ACTION = Action.BOARD_VIEW
# Worst first: a session's outcome is the worst of its records' observations.
OUTCOME_ORDER = ("overdose", "sedated", "no_concern")


@dataclass(frozen=True, slots=True)
class Rx:
    """The columns of a prescription that say what was in force on a day."""

    pk: int
    medication: str
    doses_mg: dict
    valid_from: date
    valid_to: date | None
    stopped_on: date | None
    supersedes_id: int | None

    def dose_for(self, slot: str) -> float:
        return float(self.doses_mg.get(slot, 0) or 0)


def in_force_on(prescriptions: list[Rx], day: date) -> list[Rx]:
    """The prescriptions in force on the day, by the rule of
    ``prescribing.selectors.active_prescriptions``: valid on the day, not a stop, and no
    later one of its chain (each superseding the one before) valid by then."""
    successor = {p.supersedes_id: p for p in prescriptions if p.supersedes_id is not None}

    def overtaken(prescription: Rx) -> bool:
        later = successor.get(prescription.pk)
        while later is not None:
            if later.valid_from <= day:
                return True
            later = successor.get(later.pk)
        return False

    return [
        p
        for p in prescriptions
        if p.stopped_on is None
        and p.valid_from <= day
        and (p.valid_to is None or p.valid_to >= day)
        and not overtaken(p)
    ]


@dataclass(frozen=True, slots=True)
class Session:
    """One session of one medication group on one day."""

    day: date
    slot: str
    group: str
    # What the prescription said for the session: the record's own figure when there is a
    # record (a prescription changed at noon prescribed the morning's dose before it),
    # else the prescription in force that day; None when nothing was prescribed.
    prescribed_mg: float | None
    given_mg: float = 0.0  # the effective records, top-up included
    status: str = ""  # a Status value, or "" when there is no record
    sedation: int | None = None  # POSS 1-4 before the dose (the highest of the session)
    outcome: str = ""  # the worst observation outcome, "" when none was recorded
    naloxone_mg: float = 0.0
    top_up_mg: float = 0.0
    corrected: bool = False
    medication: str = ""

    @property
    def expected(self) -> bool:
        return bool(self.prescribed_mg) or bool(self.status)

    @property
    def state(self) -> str:
        """The status, or ``open`` for a prescribed session with no record yet (today's
        later session, or one not closed), ``none`` when nothing was prescribed."""
        if self.status:
            return self.status
        return "open" if self.prescribed_mg else "none"


@dataclass
class DoseHistory:
    patient_id: int
    start: date
    end: date
    slots: list[tuple[str, str]]  # (code, name) in the order of the day
    groups: list[str]  # the medication groups with anything prescribed or recorded
    sessions: dict[tuple[date, str, str], Session] = field(default_factory=dict)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def slot_name(self, code: str) -> str:
        return dict(self.slots).get(code, code)

    def of(self, group: str) -> list[Session]:
        """The group's sessions, day by day in the order of the day (every session of
        every day, a session with nothing prescribed or recorded included)."""
        return [
            self.sessions.get((day, code, group)) or Session(day, code, group, None)
            for day in self.days
            for code, _name in self.slots
        ]

    def counts(self, group: str) -> dict[str, int]:
        found: dict[str, int] = defaultdict(int)
        for session in self.of(group):
            found[session.state] += 1
        return dict(found)


def dose_history(patient: Patient, *, end: date | None = None, days: int = DAYS) -> DoseHistory:
    """The patient's sessions of the ``days`` days up to ``end`` (today), at any clinic.

    Reads only; the caller has checked the policy and logged the read (``dose_history_for``
    does both)."""
    end = end or clock.today()
    start = end - timedelta(days=days - 1)
    rows = list(
        Administration.objects.filter(patient_id=patient.pk, day__gte=start, day__lte=end)
        .order_by()
        .values_list(
            "id",
            "original_id",
            "clinic_id",
            "day",
            "slot",
            "medication",
            "group",
            "status",
            "dose_mg",
            "prescribed_mg",
            "sedation",
            "top_up",
            "observation__outcome",
            "observation__naloxone_mg",
        )
    )
    prescriptions = [
        Rx(*values)
        for values in Prescription.objects.filter(patient_id=patient.pk)
        .order_by()
        .values_list(
            "pk", "medication", "doses_mg", "valid_from", "valid_to", "stopped_on", "supersedes_id"
        )
    ]
    clinic_ids = {patient.clinic_id} | {row[2] for row in rows}
    found_slots = list(
        SessionSlot.objects.filter(clinic_id__in=clinic_ids)
        .order_by("starts_at", "code")
        .values_list("clinic_id", "code", "name")
    )
    slots: dict[str, str] = {}
    # The home clinic's sessions in their order, then any other clinic's that differ.
    for home_first in (True, False):
        for clinic_id, code, name in found_slots:
            if (clinic_id == patient.clinic_id) == home_first:
                slots.setdefault(code, name)
    for row in rows:
        slots.setdefault(row[4], row[4])

    history = DoseHistory(patient.pk, start, end, list(slots.items()), [])
    _add_records(history, rows)
    _add_prescribed(history, prescriptions)
    present = {group for _day, _slot, group in history.sessions}
    history.groups = [g.value for g in rules.Group if g.value in present]
    return history


def _add_records(history: DoseHistory, rows: list[tuple]) -> None:
    """The sessions as their records stand after corrections. Columns of ``rows``:
    id, original_id, clinic, day, slot, medication, group, status, dose, prescribed,
    sedation, top_up, observation outcome, naloxone."""
    chains: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        chains[row[1] or row[0]].append(row)
    by_session: dict[tuple[date, str, str], list[_Chain]] = defaultdict(list)
    for key, chain in chains.items():
        first = next((r for r in chain if r[0] == key), chain[0])
        newest = max(chain, key=lambda r: r[0])  # the record as it stands (``effective``)
        by_session[(newest[3], newest[4], newest[6])].append(
            _Chain(
                newest,
                # The first row says (corrections made before they kept the top-up
                # mark lack it).
                top_up=bool(first[11]),
                corrected=len(chain) > 1,
                # An observation hangs on the row it was ended for, which a later
                # correction does not move.
                outcomes=[(r[12], float(r[13] or 0)) for r in chain if r[12]],
            )
        )
    for (day, slot, group), found in by_session.items():
        main = next((c for c in found if not c.top_up), found[0]).row
        given = [c for c in found if c.row[7] in rules.TAKEN]
        outcomes = [o for c in found for o in c.outcomes]
        sedations = [c.row[10] for c in found if c.row[10] is not None]
        history.sessions[(day, slot, group)] = Session(
            day=day,
            slot=slot,
            group=group,
            prescribed_mg=float(main[9]) or None,
            given_mg=sum(float(c.row[8]) for c in given),
            status=main[7],
            sedation=max(sedations) if sedations else None,
            outcome=min((o for o, _mg in outcomes), key=OUTCOME_ORDER.index, default=""),
            naloxone_mg=sum(mg for _o, mg in outcomes),
            top_up_mg=sum(float(c.row[8]) for c in given if c.top_up),
            corrected=any(c.corrected for c in found),
            medication=main[5],
        )


@dataclass(frozen=True, slots=True)
class _Chain:
    row: tuple  # the newest row: the record as it stands
    top_up: bool
    corrected: bool
    outcomes: list[tuple[str, float]]


def _add_prescribed(history: DoseHistory, prescriptions: list[Rx]) -> None:
    """What the prescriptions in force said, for the sessions without a figure of their
    own (no record, or a record of a session with no dose prescribed)."""
    for day in history.days:
        in_force = in_force_on(prescriptions, day)
        for code, _name in history.slots:
            doses: dict[str, list[tuple[float, str]]] = defaultdict(list)
            for rx in in_force:
                if rx.dose_for(code) > 0:
                    doses[rules.MEDICATION_GROUP[rx.medication]].append(
                        (rx.dose_for(code), rx.medication)
                    )
            for group, found in doses.items():
                key = (day, code, group)
                session = history.sessions.get(key)
                if session is None:
                    # Injected and oral diacetylmorphine may both be in force (one
                    # group, one dose a session): the larger is what was expected.
                    mg, medication = max(found)
                    history.sessions[key] = Session(day, code, group, mg, medication=medication)
                elif session.prescribed_mg is None:
                    mg = next((mg for mg, m in found if m == session.medication), max(found)[0])
                    history.sessions[key] = replace(session, prescribed_mg=mg)


def dose_history_for(
    actor: Actor, patient: Patient, *, log: bool = True, end: date | None = None
) -> DoseHistory:
    """The history for someone allowed to read it at the patient's clinic (Forbidden
    otherwise), with its access-log row unless the page's own read was logged already
    (the record page logs opening the record)."""
    if not _may_read(actor, patient):
        raise Forbidden(_("Your role does not give access to this."))
    history = dose_history(patient, end=end)
    if log:
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.VIEW,
            what="dose history",
            details={"from": str(history.start), "to": str(history.end)},
            policy_action=READ_ACTION,
        )
    return history


def may_read(user: User, patient: Patient) -> bool:
    return policy.can(user, READ_ACTION, patient.clinic_id)


def _may_read(actor: Actor, patient: Patient) -> bool:
    return may_read(actor.user, patient)
