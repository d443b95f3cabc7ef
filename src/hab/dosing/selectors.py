"""Reads of the dosing room: the history a decision needs, the decision, and the board."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from hab.core import clock, policy
from hab.core.access import Actor, access_log_listed, access_log_write
from hab.core.errors import Forbidden, NotFound
from hab.core.models import AccessAction, AccessBasis, Clinic
from hab.core.policy import Action
from hab.core.sql import among
from hab.dosing import messages, rules, search
from hab.dosing.models import (
    Administration,
    DoctorAlert,
    DoseHold,
    DoseHoldLift,
    DoseReview,
    GuestAuthorisation,
    Observation,
    SessionClose,
    Status,
)
from hab.intake.models import Episode
from hab.patients.models import Patient
from hab.prescribing.models import DosingProtocol, Prescription
from hab.prescribing.selectors import InForce, prescriptions_in_force
from hab.prescribing.selectors import active_protocol as clinic_protocol

# Days of history a decision reads at least: enough for the titration days and the
# interval; what lies before the window is summed up by the last day dosed before it.
MIN_WINDOW_DAYS = 3


class Record(NamedTuple):
    """The few columns of an administration that decisions read (the board reads
    hundreds of patients' weeks: whole model objects would be the slow part)."""

    pk: int
    original_id: int | None
    patient_id: int
    clinic_id: int
    day: date
    slot: str
    medication: str
    group: str
    status: str
    dose_mg: float
    given_at: datetime.datetime
    top_up: bool = False


def effective(records: Iterable) -> list:
    """Each chain's newest row: the record as it stands after corrections."""
    newest: dict[int, object] = {}
    for record in records:
        key = record.original_id or record.pk
        if key not in newest or record.pk > newest[key].pk:
            newest[key] = record
    return list(newest.values())


def as_dose(record) -> rules.Dose:
    return rules.Dose(
        at=record.given_at,
        day=record.day,
        slot=record.slot,
        medication=record.medication,
        mg=float(record.dose_mg),
        status=record.status,
        top_up=bool(record.top_up),
    )


def window_start(day: date, protocol: rules.Protocol | None) -> date:
    titration = protocol.titration_days if protocol else 5
    return day - timedelta(days=max(MIN_WINDOW_DAYS, titration))


_from_iso = datetime.datetime.fromisoformat
_from_epoch = datetime.datetime.fromtimestamp
_UTC = datetime.UTC


def _from_utc_epoch(seconds: float) -> datetime.datetime:
    return _from_epoch(seconds, _UTC)


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def histories(patient_ids: list[int], since: date, day: date) -> dict[int, list[Record]]:
    """Each patient's records from ``since`` to the day, at every clinic.

    The board reads a few thousand of these rows on every refresh, so they are read with
    plain SQL into small records; Django's per-row field conversion was most of its time.
    SQLite hands back text for dates and times (stored in UTC: the query appends the
    offset, so one parse gives the aware time). PostgreSQL gives the times as seconds since
    1970 (exact to the microsecond in a double): Django's loader of aware times runs in
    Python for each row.
    """
    found: dict[int, list[Record]] = defaultdict(list)
    if not patient_ids:
        return found
    table = Administration._meta.db_table
    sqlite = connection.vendor == "sqlite"
    # On SQLite the text itself: the sqlite3 module would parse it with a slow regex.
    # On PostgreSQL the dose as a double (its numeric would be loaded as a Decimal, in
    # Python, only to be made a float).
    on, mg, at = (
        ("CAST(day AS TEXT)", "dose_mg", "CAST(given_at AS TEXT) || '+00:00'")
        if sqlite
        else ("day", "dose_mg::float8", "EXTRACT(EPOCH FROM given_at)::float8")
    )
    whose, params = among("patient_id", patient_ids)
    sql = (
        f'SELECT id, original_id, patient_id, clinic_id, {on}, slot, medication, "group", '
        f"status, {mg}, {at}, top_up FROM {table} "
        f"WHERE {whose} AND day >= %s AND day <= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, since.isoformat(), day.isoformat()])
        rows = cursor.fetchall()
    if sqlite:
        # A few days in the window: each parsed once.
        days = {text: date.fromisoformat(text) for text in {row[4] for row in rows}}
        day_of, at_of = days.__getitem__, _from_iso
    else:
        day_of, at_of = _as_date, _from_utc_epoch
    records = [
        Record(
            pk,
            original,
            patient,
            clinic,
            day_of(on),
            slot,
            medication,
            group,
            status,
            float(mg),
            at_of(at),
            bool(top_up),
        )
        for pk, original, patient, clinic, on, slot, medication, group, status, mg, at, top_up in (
            rows
        )
    ]
    # Corrections are rare: without one in the window every row is its chain's newest.
    if any(record.original_id is not None for record in records):
        # A top-up's correction is a top-up (corrections made before that was kept lack
        # the mark: the chain's first row says).
        topped_up = {record.pk for record in records if record.top_up}
        records = [
            record._replace(top_up=True) if record.original_id in topped_up else record
            for record in effective(records)
        ]
    for record in records:
        found[record.patient_id].append(record)
    return found


# The taken statuses as SQL literals, for the raw queries here and in the summaries and
# the research export (constants, not input).
TAKEN_SQL = ", ".join(f"'{status}'" for status in rules.TAKEN)


def taken_before(wanted: list[tuple[int, str]], since: date) -> dict[tuple[int, str], date]:
    """The last day before ``since`` on which each (patient, medication group) in
    ``wanted`` was taken.

    One look per pair, backwards along the (patient, day) index to the first dose taken:
    years of history are not read to find the newest day."""
    if not wanted:
        return {}
    pairs = ", ".join(["(%s, %s)"] * len(wanted))
    table = Administration._meta.db_table
    sql = (
        f"SELECT w.column1, w.column2, (SELECT a.day FROM {table} a "
        f'WHERE a.patient_id = w.column1 AND a."group" = w.column2 AND a.day < %s '
        f"AND a.status IN ({TAKEN_SQL}) ORDER BY a.day DESC LIMIT 1) "
        f"FROM (VALUES {pairs}) w"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [since.isoformat(), *(value for pair in wanted for value in pair)])
        return {
            (patient, group): _as_date(last)
            for patient, group, last in cursor.fetchall()
            if last is not None
        }


def clinic_slots(clinic: Clinic) -> list:
    """The clinic's session slots, read once per clinic object (a request reads them in
    several places)."""
    slots = getattr(clinic, "_hab_slots", None)
    if slots is None:
        slots = clinic._hab_slots = list(clinic.slots.all())
    return slots


def current_slot(clinic: Clinic) -> str:
    """The session going on now, or the next one today, or the last one."""
    slots = clinic_slots(clinic)
    now = timezone.localtime(clock.now()).time()
    for slot in slots:
        if now <= slot.ends_at:
            return slot.code
    return slots[-1].code if slots else ""


def slot_codes(clinic: Clinic) -> list[str]:
    return [slot.code for slot in clinic_slots(clinic)]


@dataclass
class Context:
    """Everything a decision needs for a set of patients on one day, read in a few queries."""

    day: date
    protocol: rules.Protocol | None
    protocol_id: int | None
    slots_per_day: int
    prescriptions: dict[int, list[InForce]] = field(default_factory=dict)
    history: dict[int, list[Record]] = field(default_factory=dict)
    before: dict[tuple[int, str], date] = field(default_factory=dict)
    open_episode: dict[int, int] = field(default_factory=dict)  # patient id: episode id
    # The newest explicit doctor's review per (patient, group); a prescription's own issue
    # counts as a review too (see ``reviewed``).
    reviews: dict[tuple[int, str], datetime.datetime] = field(default_factory=dict)
    # When the newest confirmed breach per (patient, group) was recorded: the group waits
    # for a doctor's review made after it.
    breaches: dict[tuple[int, str], datetime.datetime] = field(default_factory=dict)
    # The reason of each held patient's stop-dose hold: nothing may be given while it lasts.
    holds: dict[int, str] = field(default_factory=dict)
    _doses: dict[int, list[rules.Dose]] = field(default_factory=dict, repr=False)

    def doses(self, patient_id: int, ignore: int | None = None) -> list[rules.Dose]:
        """The patient's records as the rules read them; ``ignore`` leaves out one chain."""
        records = self.history.get(patient_id, [])
        if ignore is not None:
            return [as_dose(r) for r in records if (r.original_id or r.pk) != ignore]
        if patient_id not in self._doses:
            self._doses[patient_id] = [as_dose(r) for r in records]
        return self._doses[patient_id]

    def reviewed(
        self, patient_id: int, rule: rules.Prescription, prescription: InForce
    ) -> rules.Prescription:
        """The rule's prescription with the newest review of its group: its own issue or
        a later explicit review."""
        reviewed_at = prescription.created_at
        explicit = self.reviews.get((patient_id, rule.group))
        if explicit is not None and explicit > reviewed_at:
            reviewed_at = explicit
        return replace(rule, reviewed_at=reviewed_at, reviewed_on=timezone.localdate(reviewed_at))

    def decide(
        self,
        patient_id: int,
        prescription: InForce,
        slot: str,
        now: datetime.datetime,
        assessment: rules.Assessment | None = None,
        ignore: int | None = None,
        top_up: bool = False,
    ) -> rules.Decision:
        group = rules.MEDICATION_GROUP[prescription.medication]
        return rules.decide(
            protocol=self.protocol,
            prescription=self.reviewed(patient_id, to_rule(prescription, slot), prescription),
            history=self.doses(patient_id, ignore),
            now=now,
            day=self.day,
            slot=slot,
            slots_per_day=self.slots_per_day,
            in_episode=patient_id in self.open_episode,
            taken_before_window=self.before.get((patient_id, group)),
            assessment=assessment,
            top_up=top_up,
            breach_at=self.breaches.get((patient_id, group)),
            hold=self.holds.get(patient_id),
        )


def context_for(
    clinic: Clinic, patient_ids: list[int], day: date, slots: list[str] | None = None
) -> Context:
    protocol = clinic_protocol(clinic.pk)
    rules_protocol = protocol_rules(protocol)
    since = window_start(day, rules_protocol)
    history = histories(patient_ids, since, day)
    # What lies before the window matters only to a medication group not dosed on its
    # first day: for the others the run of dosing is unbroken there, and titration is long
    # over. Per group: a dose of diacetylmorphine says nothing of methadone's last day.
    dosed_first_day = {
        (patient_id, r.group)
        for patient_id, records in history.items()
        for r in records
        if r.day == since and r.status in rules.TAKEN and r.dose_mg > 0
    }
    prescriptions = prescriptions_in_force(patient_ids, day)
    wanted = sorted(
        {
            (patient_id, group)
            for patient_id, found in prescriptions.items()
            for prescription in found
            if (patient_id, group := rules.MEDICATION_GROUP[prescription.medication])
            not in dosed_first_day
        }
    )
    return Context(
        day=day,
        protocol=rules_protocol,
        protocol_id=protocol.pk if protocol else None,
        slots_per_day=len(slots if slots is not None else slot_codes(clinic)),
        prescriptions=prescriptions,
        history=history,
        before=taken_before(wanted, since),
        open_episode=open_episodes(patient_ids),
        reviews=latest_reviews(patient_ids),
        breaches=latest_breaches(patient_ids),
        holds={pk: hold.reason for pk, hold in active_holds(patient_ids).items()},
    )


def latest_breaches(patient_ids: list[int]) -> dict[tuple[int, str], datetime.datetime]:
    """When each (patient, medication group)'s newest confirmed breach was recorded, at
    any clinic on any day (a correction or paper dose over a limit; see
    ``services.administration_correct``). Read from the partial index of the few records
    with a breach."""
    if not patient_ids:
        return {}
    rows = (
        Administration.objects.filter(patient_id__in=patient_ids, breach_confirmed_at__isnull=False)
        .values_list("patient_id", "group")
        .annotate(newest=Max("breach_confirmed_at"))
        .order_by()
    )
    return {(patient, group): newest for patient, group, newest in rows}


def active_holds(patient_ids: list[int]) -> dict[int, DoseHold]:
    """Each patient's stop-dose hold that no doctor has lifted (the newest, should there be
    more than one)."""
    if not patient_ids:
        return {}
    found: dict[int, DoseHold] = {}
    for hold in (
        DoseHold.objects.filter(patient_id__in=patient_ids, lift__isnull=True)
        .select_related("placed_by")
        .order_by("placed_at", "id")
    ):
        found[hold.patient_id] = hold
    return found


def open_alerts(
    *, patient_ids: list[int] | None = None, clinic_ids: list[int] | None = None
) -> list[DoctorAlert]:
    """The doctor alerts not yet answered, newest first: of these patients, or raised at
    these clinics. An alert is answered by what a doctor did for the patient after it was
    raised: a dose review of its medication group (of any, for an alert without one), a
    new prescription, or the lifting of a stop-dose hold. The alert row itself never
    changes (append-only)."""
    alerts = DoctorAlert.objects.select_related("patient", "raised_by", "clinic")
    if patient_ids is not None:
        alerts = alerts.filter(patient_id__in=patient_ids)
    if clinic_ids is not None:
        alerts = alerts.filter(clinic_id__in=clinic_ids)
    found = list(alerts.order_by("-raised_at", "-id"))
    if not found:
        return []
    whose = sorted({alert.patient_id for alert in found})
    reviews = latest_reviews(whose)
    prescribed = dict(
        Prescription.objects.filter(patient_id__in=whose)
        .values_list("patient_id")
        .annotate(newest=Max("created_at"))
        .order_by()
    )
    lifted = dict(
        DoseHoldLift.objects.filter(hold__patient_id__in=whose)
        .values_list("hold__patient_id")
        .annotate(newest=Max("lifted_at"))
        .order_by()
    )

    def answered(alert: DoctorAlert) -> bool:
        # At or after the alert: a doctor acting in the same instant has seen it.
        since = alert.raised_at
        reviewed = [
            at
            for (patient, group), at in reviews.items()
            if patient == alert.patient_id and (not alert.group or group == alert.group)
        ]
        acted = [
            *reviewed,
            prescribed.get(alert.patient_id),
            lifted.get(alert.patient_id),
        ]
        return any(at is not None and at >= since for at in acted)

    return [alert for alert in found if not answered(alert)]


def latest_reviews(patient_ids: list[int]) -> dict[tuple[int, str], datetime.datetime]:
    """Each (patient, medication group)'s newest explicit dose review."""
    if not patient_ids:
        return {}
    rows = (
        DoseReview.objects.filter(patient_id__in=patient_ids)
        .values_list("patient_id", "group")
        .annotate(newest=Max("reviewed_at"))
    )
    return {(patient, group): newest for patient, group, newest in rows}


def open_episodes(patient_ids: list[int]) -> dict[int, int]:
    """Each patient's open episode (its id), read with plain SQL like the history."""
    if not patient_ids:
        return {}
    whose, params = among("patient_id", patient_ids)
    sql = f"SELECT patient_id, id FROM {Episode._meta.db_table} WHERE ended_on IS NULL AND {whose}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def guest_clinic_ids(patient_id: int, day: date) -> set[int]:
    return set(
        GuestAuthorisation.objects.filter(
            patient_id=patient_id, valid_from__lte=day, valid_to__gte=day
        ).values_list("clinic_id", flat=True)
    )


def patient_for_dosing(
    actor: Actor, patient_id: int, clinic: Clinic, day: date, action: Action, *, lock=False
) -> Patient:
    """The patient if the user may do this at the clinic for them on the day: a patient of
    the clinic, or a guest whose home clinic authorised the day. 404 otherwise."""
    if not policy.is_member(actor.user, clinic):
        raise NotFound(_("No such clinic."))
    queryset = Patient.objects.select_related("clinic")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    patient = queryset.filter(pk=patient_id).first()
    if patient is None or (
        patient.clinic_id != clinic.pk and clinic.pk not in guest_clinic_ids(patient.pk, day)
    ):
        raise NotFound(_("No such patient."))
    if not policy.can(actor.user, action, clinic):
        raise Forbidden(_("Your role does not give access to this."))
    return patient


def patient_open_for_dosing(
    actor: Actor,
    patient_id: int,
    clinic: Clinic,
    day: date,
    action: Action,
    *,
    what: str,
    details: dict | None = None,
    shown: bool = True,
) -> Patient:
    """``patient_for_dosing`` for a page that shows the patient (the dose panel, the
    correction form): the read is logged here, as a guest's where the patient is one
    (``shown=False`` for the POST of a form, whose service logs the change)."""
    patient = patient_for_dosing(actor, patient_id, clinic, day, action)
    if shown:
        guest = patient.clinic_id != clinic.pk
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.VIEW,
            what=what,
            details=details,
            policy_action=action,
            basis=AccessBasis.GUEST if guest else None,
            clinic_id=clinic.pk,
        )
    return patient


def administration_open(
    actor: Actor, administration_id: int, action: Action, *, shown: bool = True
) -> Administration:
    """A dose record, for someone who may do ``action`` where it was given; showing it is
    logged as a read of the patient."""
    record = (
        Administration.objects.select_related("patient", "clinic")
        .filter(pk=administration_id)
        .first()
    )
    if record is None:
        raise NotFound(_("No such record."))
    record.patient = patient_open_for_dosing(
        actor,
        record.patient_id,
        record.clinic,
        record.day,
        action,
        what="administration",
        details={"administration": record.pk},
        shown=shown,
    )
    return record


@dataclass(frozen=True, slots=True)
class Shown:
    """A patient as a board row shows them (the board lists every expected patient on
    every refresh: model objects cost more than the rest of a row)."""

    pk: int
    clinic_id: int
    national_id: str
    given_name: str
    family_name: str
    birth_date: date
    photo: str  # the photo's file name, "" when there is none

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


_STATUSES = dict(Status.choices)


@dataclass(frozen=True, slots=True)
class Dosed:
    """This session's record on a board row."""

    pk: int
    clinic_id: int
    status: str
    dose_mg: Decimal
    observe_until: datetime.datetime | None

    def get_status_display(self) -> str:
        return str(_STATUSES.get(self.status, self.status))


@dataclass
class BoardRow:
    patient: Shown | Patient
    guest: bool
    prescription: InForce
    decision: rules.Decision
    reasons: list[str]
    record: Dosed | None
    elsewhere: str = ""  # the clinic where this slot's dose was recorded, if not here
    observe_until: datetime.datetime | None = None
    observation_done: bool = False
    # The open "Varsle lege" for this row's patient and medication group, if any.
    alert: DoctorAlert | None = None

    @property
    def state(self) -> str:
        if self.record is None:
            return "blocked" if self.decision.blocked else "due"
        if self.record.status in rules.TAKEN and not self.observation_done:
            return "observing"
        return self.record.status


@dataclass
class Board:
    clinic: Clinic
    day: date
    slot: str
    rows: list[BoardRow]
    closed: bool
    protocol_version: int | None

    def count(self, state: str) -> int:
        return sum(1 for row in self.rows if row.state == state)


_SHOWN = ("id", "clinic_id", "national_id", "given_name", "family_name", "birth_date", "photo")


def expected_patients(clinic: Clinic, day: date) -> tuple[list[Shown], set[int]]:
    """The clinic's patients in treatment and the guests authorised for the day."""
    home = [
        Shown(*values)
        for values in Patient.objects.filter(
            clinic=clinic, episodes__ended_on__isnull=True, episodes__clinic=clinic
        )
        .order_by("family_name", "given_name", "id")
        .values_list(*_SHOWN)
    ]
    guests = [
        Shown(*values)
        for values in Patient.objects.filter(
            guest_dosing__clinic=clinic,
            guest_dosing__valid_from__lte=day,
            guest_dosing__valid_to__gte=day,
            episodes__ended_on__isnull=True,
        )
        .exclude(clinic=clinic)
        .distinct()
        .values_list(*_SHOWN)
    ]
    return home + guests, {p.pk for p in guests}


def dosable_elsewhere(clinic: Clinic, day: date, slot: str, patient_ids: list[int]) -> set[int]:
    """The patients another clinic may still dose in this session of the day: their home
    clinic, or a clinic their home doctor authorised for guest dosing that day, that has the
    session and has not closed it.

    Closing a session leaves them alone: a ``missed`` record written here would refuse the
    dose there (one record per patient, day, session and group). The last of their clinics
    to close writes it, when no other can dose them any more."""
    if not patient_ids:
        return set()
    places: dict[int, set[int]] = defaultdict(set)
    for patient_id, home in Patient.objects.filter(pk__in=patient_ids).values_list(
        "pk", "clinic_id"
    ):
        places[patient_id].add(home)
    for patient_id, guest_clinic in GuestAuthorisation.objects.filter(
        patient_id__in=patient_ids, valid_from__lte=day, valid_to__gte=day
    ).values_list("patient_id", "clinic_id"):
        places[patient_id].add(guest_clinic)
    others = {pk for found in places.values() for pk in found} - {clinic.pk}
    if not others:
        return set()
    open_there = set(
        Clinic.objects.filter(pk__in=others, slots__code=slot).values_list("pk", flat=True)
    ) - set(
        SessionClose.objects.filter(clinic_id__in=others, day=day, slot=slot).values_list(
            "clinic_id", flat=True
        )
    )
    return {patient_id for patient_id, found in places.items() if found & open_there}


class ToMiss(NamedTuple):
    """A dose the session's close records as ``missed`` (not attended)."""

    patient: Shown
    prescription: InForce
    group: str


def doses_to_miss(
    clinic: Clinic, day: date, slot: str, patients: list[Shown], ctx: Context
) -> list[ToMiss]:
    """What closing the session records as missed: one per patient and medication group
    prescribed in the session and not seen here or at another clinic, leaving out those
    another clinic may still dose in this session (a missed record here would refuse their
    dose there; the last of their clinics to close writes it). The close and the
    confirmation before it both read it here, so the list shown is the list written."""
    found: list[ToMiss] = []
    for patient in patients:
        seen = {r.group for r in ctx.history.get(patient.pk, []) if r.day == day and r.slot == slot}
        for prescription in ctx.prescriptions.get(patient.pk, []):
            group = rules.MEDICATION_GROUP[prescription.medication]
            if prescription.dose_for(slot) <= 0 or group in seen:
                continue
            found.append(ToMiss(patient, prescription, group))
            seen.add(group)
    elsewhere = dosable_elsewhere(clinic, day, slot, sorted({m.patient.pk for m in found}))
    return [m for m in found if m.patient.pk not in elsewhere]


def under_observation(clinic: Clinic, day: date, slot: str) -> list[Shown]:
    """The patients dosed here in the session whose observation has no outcome yet (the
    board's "in observation"), by name. A correction continues its record: an outcome on
    any record of the chain ends the observation."""
    records = list(
        Administration.objects.filter(clinic=clinic, day=day, slot=slot).values_list(
            "id", "original_id", "patient_id", "status"
        )
    )
    newest: dict[int, tuple[int, int, str]] = {}
    for pk, original, patient_id, status in records:
        chain = original or pk
        if chain not in newest or pk > newest[chain][0]:
            newest[chain] = (pk, patient_id, status)
    ended_chains = {
        original or pk
        for pk, original in Administration.objects.filter(
            pk__in=[r[0] for r in records], observation__isnull=False
        ).values_list("id", "original_id")
    }
    watched = {
        patient_id
        for chain, (_pk, patient_id, status) in newest.items()
        if status in rules.TAKEN and chain not in ended_chains
    }
    return [
        Shown(*values)
        for values in Patient.objects.filter(pk__in=watched)
        .order_by("family_name", "given_name", "id")
        .values_list(*_SHOWN)
    ]


@dataclass
class ClosePreview:
    """What closing a session will do, shown for the nurse to confirm."""

    clinic: Clinic
    day: date
    slot: str
    closed: bool
    missed: list[Shown]  # recorded as not attended, by name (once per patient)
    observing: list[Shown]  # still under observation: the close must name them


def session_close_preview(actor: Actor, clinic: Clinic, day: date, slot: str) -> ClosePreview:
    """Who the close would record as missed and who is still under observation."""
    _check_board(actor, clinic, slot)
    closed = SessionClose.objects.filter(clinic=clinic, day=day, slot=slot).exists()
    if closed:
        return ClosePreview(clinic, day, slot, True, [], [])
    patients, guests = expected_patients(clinic, day)
    ctx = context_for(clinic, [p.pk for p in patients], day)
    missed: dict[int, Shown] = {}
    for to_miss in doses_to_miss(clinic, day, slot, patients, ctx):
        missed.setdefault(to_miss.patient.pk, to_miss.patient)
    observing = under_observation(clinic, day, slot)
    shown = list(missed.values()) + [p for p in observing if p.pk not in missed]
    _log_shown(
        actor,
        clinic,
        shown,
        {p.pk for p in shown if p.pk in guests or p.clinic_id != clinic.pk},
        {"list": "session close", "slot": slot, "day": str(day)},
    )
    return ClosePreview(clinic, day, slot, False, list(missed.values()), observing)


def _check_board(actor: Actor, clinic: Clinic, slot: str) -> list[str]:
    if not policy.is_member(actor.user, clinic):
        raise NotFound(_("No such clinic."))
    if not policy.can(actor.user, Action.BOARD_VIEW, clinic):
        raise Forbidden(_("Your role does not give access to this."))
    slots = slot_codes(clinic)
    if slot not in slots:
        raise NotFound(_("No such session."))
    return slots


def _rows(
    clinic: Clinic,
    day: date,
    slot: str,
    patients: list[Shown] | list[Patient],
    guests: set[int],
    ctx: Context,
) -> list[BoardRow]:
    """One row per patient and medication with a dose due in the session."""
    now = clock.now()
    rows: list[BoardRow] = []
    recorded: list[tuple[BoardRow, int]] = []  # rows whose session has a record, its id
    for patient in patients:
        for prescription in ctx.prescriptions.get(patient.pk, []):
            if prescription.dose_for(slot) <= 0:
                continue
            group = rules.MEDICATION_GROUP[prescription.medication]
            found = next(
                (
                    r
                    for r in ctx.history.get(patient.pk, [])
                    if r.day == day and r.slot == slot and r.group == group
                ),
                None,
            )
            decision = ctx.decide(patient.pk, prescription, slot, now)
            row = BoardRow(
                patient=patient,
                guest=patient.pk in guests,
                prescription=prescription,
                decision=decision,
                reasons=messages.texts(decision.reasons),
                record=None,
            )
            if found is not None:
                recorded.append((row, found.pk))
            rows.append(row)
    if recorded:
        _add_records(clinic, recorded)
    return rows


def _add_records(clinic: Clinic, recorded: list[tuple[BoardRow, int]]) -> None:
    """This session's records (found in the history) on their rows, with observations."""
    pks = [pk for _row, pk in recorded]
    dosed = {
        values[0]: Dosed(*values)
        for values in Administration.objects.filter(pk__in=pks).values_list(
            "id", "clinic_id", "status", "dose_mg", "observe_until"
        )
    }
    ended = set(
        Observation.objects.filter(administration_id__in=pks).values_list(
            "administration_id", flat=True
        )
    )
    clinic_names: dict[int, str] | None = None
    for row, pk in recorded:
        record = row.record = dosed.get(pk)
        if record is None:
            continue
        if record.clinic_id != clinic.pk:
            if clinic_names is None:
                clinic_names = dict(Clinic.objects.values_list("pk", "name"))
            row.elsewhere = clinic_names[record.clinic_id]
        row.observe_until = record.observe_until
        row.observation_done = record.pk in ended


def _add_alerts(rows: list[BoardRow]) -> None:
    """The open doctor alerts on the blocked rows they were raised for (one query when
    no patient on the board has an alert)."""
    blocked = [row for row in rows if row.decision.blocked and row.record is None]
    if not blocked:
        return
    alerts: dict[tuple[int, str], DoctorAlert] = {}
    for alert in open_alerts(patient_ids=sorted({row.patient.pk for row in blocked})):
        alerts.setdefault((alert.patient_id, alert.group), alert)
    for row in blocked:
        group = rules.MEDICATION_GROUP[row.prescription.medication].value
        row.alert = alerts.get((row.patient.pk, group)) or alerts.get((row.patient.pk, ""))


def _log_shown(
    actor: Actor,
    clinic: Clinic,
    patients: list[Shown] | list[Patient],
    guests: set[int],
    details: dict,
) -> None:
    home = [p for p in patients if p.pk not in guests]
    if home:
        access_log_listed(actor=actor, patients=home, details=details)
    if guests:
        access_log_listed(
            actor=actor,
            patients=[p for p in patients if p.pk in guests],
            details=details,
            basis=AccessBasis.GUEST,
            clinic_id=clinic.pk,
        )


def board(actor: Actor, clinic: Clinic, day: date | None, slot: str) -> Board:
    """Who is expected in this session, what each may be given now, and who is done."""
    slots = _check_board(actor, clinic, slot)
    day = day or clock.today()
    patients, guests = expected_patients(clinic, day)
    ctx = context_for(clinic, [p.pk for p in patients], day, slots)
    rows = _rows(clinic, day, slot, patients, guests, ctx)
    _add_alerts(rows)
    _log_shown(actor, clinic, patients, guests, {"list": "board", "slot": slot, "day": str(day)})
    closed = SessionClose.objects.filter(clinic=clinic, day=day, slot=slot).exists()
    return Board(clinic, day, slot, rows, closed, ctx.protocol.version if ctx.protocol else None)


def board_matching(rows: list[BoardRow], text: str) -> list[BoardRow]:
    """The board's rows that the nurse's search finds, in the board's order (every row
    when it is empty): the name as the list shows it or as it is spoken, the birth date,
    the initials on the photo placeholder (``hab.dosing.search``)."""
    query = search.Query.parse(text)
    if not query:
        return rows
    return [
        row
        for row in rows
        if query.matches(
            search.Candidate(
                given_name=row.patient.given_name,
                family_name=row.patient.family_name,
                birth_date=row.patient.birth_date,
                national_id=row.patient.national_id,
            )
        )
    ]


def board_row(
    actor: Actor, clinic: Clinic, day: date, slot: str, patient: Patient, medication: str = ""
) -> BoardRow | None:
    """The board's row of one patient (the dose panel), read for that patient alone.

    A patient with two prescriptions in the session (injections and methadone) has two
    rows: ``medication`` names the row (one prescription in force per medication), and
    None answers a medication without a row now. Without it, the patient's first row."""
    slots = _check_board(actor, clinic, slot)
    guests = set() if patient.clinic_id == clinic.pk else {patient.pk}
    ctx = context_for(clinic, [patient.pk], day, slots)
    rows = _rows(clinic, day, slot, [patient], guests, ctx)
    if medication:
        rows = [row for row in rows if row.prescription.medication == medication]
    _add_alerts(rows)
    _log_shown(actor, clinic, [patient], guests, {"list": "board", "slot": slot, "day": str(day)})
    return rows[0] if rows else None


def top_up_allowed(clinic: Clinic, day: date, slot: str, patient: Patient, row: BoardRow) -> float:
    """The most the first day's top-up may be now (0 when none may be given): right after
    the run's first injection, in its session. The row's patient was read and logged by
    ``board_row`` already."""
    record = row.record
    if (
        record is None
        or record.clinic_id != clinic.pk
        or record.status not in rules.TAKEN
        or row.prescription.medication != "dam_injectable"
    ):
        return 0.0
    ctx = context_for(clinic, [patient.pk], day)
    decision = ctx.decide(patient.pk, row.prescription, slot, clock.now(), top_up=True)
    return 0.0 if decision.blocked else decision.max_mg


def alcohol_on_suspicion_only(clinic: Clinic) -> bool:
    """Whether the clinic's protocol in force measures breath alcohol only on suspicion."""
    protocol = protocol_rules(clinic_protocol(clinic.pk))
    return protocol is not None and protocol.breath_alcohol_on_suspicion_only


def observation_left(row: BoardRow | None) -> int:
    """Minutes of the protocol's observation left for the row's dose (0 when over)."""
    if row is None or row.record is None or row.record.observe_until is None:
        return 0
    return max(0, -int((clock.now() - row.record.observe_until).total_seconds() // 60))


@dataclass
class AwaitingReview:
    """The doctor's start page: open alerts newest first, stop-dose holds waiting for a
    doctor, and the doctor's own patients (those they prescribe for)."""

    clinic: Clinic
    alerts: list[DoctorAlert]
    holds: list[DoseHold]
    own: list[Patient]


def awaiting_review(actor: Actor, clinic: Clinic) -> AwaitingReview:
    """What waits for a doctor at the clinic. Every patient named is logged as listed."""
    if not policy.is_member(actor.user, clinic):
        raise NotFound(_("No such clinic."))
    if not policy.can(actor.user, Action.PRESCRIBE, clinic):
        raise Forbidden(_("Your role does not give access to this."))
    alerts = open_alerts(clinic_ids=[clinic.pk])
    holds = sorted(
        (
            hold
            for hold in DoseHold.objects.filter(clinic=clinic, lift__isnull=True).select_related(
                "patient", "placed_by"
            )
        ),
        key=lambda hold: (hold.placed_at, hold.pk),
        reverse=True,
    )
    own = list(
        Patient.objects.filter(
            clinic=clinic,
            episodes__ended_on__isnull=True,
            prescriptions__created_by=actor.user,
        )
        .distinct()
        .order_by("family_name", "given_name", "id")[:100]
    )
    shown = {p.pk: p for p in [*(a.patient for a in alerts), *(h.patient for h in holds), *own]}
    if shown:
        access_log_listed(
            actor=actor, patients=list(shown.values()), details={"list": "awaiting review"}
        )
    return AwaitingReview(clinic, alerts, holds, own)


def hold_of(patient_id: int) -> DoseHold | None:
    """The patient's stop-dose hold in force (the caller has opened the record)."""
    return active_holds([patient_id]).get(patient_id)


def protocol_rules(protocol: DosingProtocol | None) -> rules.Protocol | None:
    if protocol is None or not protocol.complete:
        return None
    g = rules.Group

    def number(value):
        return None if value is None else float(value)

    return rules.Protocol(
        version=protocol.version,
        max_single_mg={
            g.DAM: number(protocol.dam_max_single_mg),
            g.HYDROMORPHONE: number(protocol.hydromorphone_max_single_mg),
            g.METHADONE: None,
            g.MORPHINE: None,
        },
        max_daily_mg={
            g.DAM: float(protocol.dam_max_daily_mg),
            g.HYDROMORPHONE: float(protocol.hydromorphone_max_daily_mg),
            g.METHADONE: float(protocol.methadone_max_daily_mg),
            g.MORPHINE: float(protocol.morphine_max_daily_mg),
        },
        breath_alcohol_max_permille=float(protocol.breath_alcohol_max_permille),
        iv_warn_daily_mg=float(protocol.dam_iv_warn_daily_mg),
        min_interval_minutes=protocol.min_interval_minutes,
        induction_interval_minutes=protocol.induction_interval_minutes,
        observation_minutes=protocol.observation_minutes,
        first_iv_dose_mg=float(protocol.first_iv_dose_mg),
        day1_max_iv_dose_mg=float(protocol.day1_max_iv_dose_mg),
        first_oral_dose_mg=float(protocol.first_oral_dose_mg),
        oral_daily_step_mg=float(protocol.oral_daily_step_mg),
        step_pct_two_sessions=protocol.step_pct_two_sessions,
        prev_day_pct_three_sessions=protocol.prev_day_pct_three_sessions,
        titration_days=protocol.titration_days,
        missed_days_block=protocol.missed_days_block,
        missed_days_reduce=protocol.missed_days_reduce,
        missed_reduce_pct=protocol.missed_reduce_pct,
        sedation_reduce_level=protocol.sedation_reduce_level,
        sedation_reduce_pct=protocol.sedation_reduce_pct,
        sedation_block_level=protocol.sedation_block_level,
        respiratory_rate_min=protocol.respiratory_rate_min,
        intoxication_reduce_pct=protocol.intoxication_reduce_pct,
        oral_restart_pct=protocol.oral_restart_pct,
        breath_alcohol_on_suspicion_only=protocol.breath_alcohol_on_suspicion_only,
    )


def to_rule(prescription: Prescription | InForce, slot: str) -> rules.Prescription:
    titration = None
    if prescription.titration_start_mg is not None:
        titration = rules.Titration(
            start_mg=float(prescription.titration_start_mg),
            step_mg=float(prescription.titration_step_mg),
            target_mg=float(prescription.titration_target_mg),
        )
    return rules.Prescription(
        medication=prescription.medication,
        dose_mg=prescription.dose_for(slot),
        daily_max_mg=float(prescription.daily_max_mg),
        issued_on=prescription.issued_on
        if isinstance(prescription, InForce)
        else timezone.localdate(prescription.created_at),
        titration=titration,
        sessions_per_day=sum(1 for mg in prescription.doses_mg.values() if float(mg or 0) > 0),
    )
