"""Writes of incidents. A report is one transaction: the incident, its first follow-up
step and, when it concerns a patient, the access-log row."""

from __future__ import annotations

import datetime
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hab.core import clock, policy
from hab.core.access import Actor, access_log_write
from hab.core.errors import Forbidden, Invalid, NotFound
from hab.core.formats import mg_text
from hab.core.models import AccessAction, Clinic, User
from hab.core.policy import Action, clinic_for_action
from hab.incidents.models import Incident, IncidentEvent, Kind, Severity, Source, Status
from hab.patients.selectors import patient_for_user

# Reports of events longer ago than this are refused as a likely typing error.
OLDEST = timedelta(days=366)


def _naloxone(errors: list, value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
        if not amount.is_finite() or not Decimal("0") < amount <= Decimal("20"):
            raise ValueError
    except (InvalidOperation, ValueError, TypeError):
        errors.append(("naloxone_mg", _("Naloxone in mg, more than 0 and at most 20.")))
        return None
    return amount


def _owner(clinic: Clinic, username: str | None, field: str = "owner") -> User | None:
    if not username:
        return None
    owner = User.objects.filter(username=username, is_active=True).first()
    if owner is None or not policy.can(owner, Action.INCIDENT_VIEW, clinic):
        raise Invalid.one(field, _("The follow-up owner must work in the care team here."))
    return owner


def incident_report(
    *,
    actor: Actor,
    clinic: Clinic,
    kind: str,
    severity: str,
    occurred_at: datetime.datetime | None,
    description: str,
    patient_id: int | None = None,
    administration_id: int | None = None,
    naloxone_mg=None,
    naloxone_doses: int | None = None,
    ambulance: bool = False,
    hospital: bool = False,
    immediate_actions: str = "",
    owner: str = "",
    source: str = Source.REPORT,
    discrepancy=None,
) -> Incident:
    """Records an incident. The patient, when named, must be one the reporter may see
    here; a dose, when linked, must be that patient's at this clinic."""
    clinic_for_action(actor.user, clinic, Action.INCIDENT_REPORT)
    problems: list[tuple[str, str]] = []
    if kind not in Kind.values:
        problems.append(("kind", _("Choose what kind of incident it was.")))
    if severity not in Severity.values:
        problems.append(("severity", _("Choose how serious it was.")))
    now = clock.now()
    if occurred_at is None:
        problems.append(("occurred_at", _("Write when it happened.")))
    elif timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at)
    if occurred_at is not None and occurred_at > now + timedelta(minutes=5):
        problems.append(("occurred_at", _("The time cannot be in the future.")))
    elif occurred_at is not None and occurred_at < now - OLDEST:
        problems.append(("occurred_at", _("More than a year ago: check the date.")))
    if not (description or "").strip():
        problems.append(("description", _("Describe what happened.")))
    elif len(description) > 4000:
        problems.append(("description", _("At most 4,000 characters.")))
    if len(immediate_actions or "") > 2000:
        problems.append(("immediate_actions", _("At most 2,000 characters.")))
    naloxone = _naloxone(problems, naloxone_mg)
    if naloxone_doses is not None and not 0 < naloxone_doses <= 20:
        problems.append(("naloxone_doses", _("The number of naloxone doses, 1 to 20.")))
    if kind == Kind.STOCK_DISCREPANCY and patient_id is not None:
        problems.append(("patient", _("A stock discrepancy is not about a patient.")))
    if problems:
        raise Invalid.from_pairs(problems)
    patient = administration = None
    if patient_id is not None:
        patient = patient_for_user(actor, patient_id, Action.INCIDENT_REPORT)
        if patient.clinic_id != clinic.pk and not _dosed_here(patient.pk, clinic):
            raise Invalid.one("patient", _("The patient is not a patient of this clinic."))
    if administration_id is not None:
        from hab.dosing.models import Administration

        administration = Administration.objects.filter(pk=administration_id, clinic=clinic).first()
        if administration is None or (patient and administration.patient_id != patient.pk):
            raise Invalid.one("administration", _("No such dose of this patient here."))
        if patient is None:
            patient = patient_for_user(actor, administration.patient_id, Action.INCIDENT_REPORT)
    follow_up = _owner(clinic, owner)
    with transaction.atomic():
        incident = Incident.objects.create(
            clinic=clinic,
            kind=kind,
            severity=severity,
            occurred_at=occurred_at,
            patient=patient,
            administration=administration,
            discrepancy=discrepancy,
            naloxone_mg=naloxone,
            naloxone_doses=naloxone_doses,
            ambulance=bool(ambulance),
            hospital=bool(hospital),
            description=description.strip(),
            immediate_actions=(immediate_actions or "").strip(),
            source=source,
            reported_at=now,
            reported_by=actor.user,
        )
        IncidentEvent.objects.create(
            incident=incident, at=now, by=actor.user, status=Status.OPEN, owner=follow_up
        )
        if patient is not None:
            access_log_write(
                actor=actor,
                patient=patient,
                action=AccessAction.CREATE,
                what="incident",
                details={"incident": incident.pk, "kind": kind},
                policy_action=Action.INCIDENT_REPORT,
                clinic_id=clinic.pk,
            )
    return incident


def _dosed_here(patient_id: int, clinic: Clinic) -> bool:
    from hab.dosing.models import GuestAuthorisation

    today = clock.today()
    return GuestAuthorisation.objects.filter(
        patient_id=patient_id, clinic=clinic, valid_from__lte=today, valid_to__gte=today
    ).exists()


def incident_follow_up(
    *, actor: Actor, incident_id: int, status: str, note: str = "", owner: str | None = None
) -> IncidentEvent:
    """A step of the follow-up. The clinic lead may always act; the follow-up owner may
    record progress on their own incident. Closing needs a note of what was done."""
    incident = Incident.objects.select_related("clinic").filter(pk=incident_id).first()
    if incident is None or not policy.can(actor.user, Action.INCIDENT_VIEW, incident.clinic):
        raise NotFound(_("No such incident."))
    with transaction.atomic():
        latest = (
            IncidentEvent.objects.select_for_update()
            .filter(incident=incident)
            .order_by("-at", "-id")
        ).first()
        is_owner = latest is not None and latest.owner_id == actor.user.pk
        if not (policy.can(actor.user, Action.INCIDENT_MANAGE, incident.clinic) or is_owner):
            raise Forbidden(_("The clinic lead or the follow-up owner follows this up."))
        problems: list[tuple[str, str]] = []
        if status not in Status.values:
            problems.append(("status", _("Choose a status.")))
        if status == Status.CLOSED and not (note or "").strip():
            problems.append(("note", _("Write what was done before closing.")))
        if len(note or "") > 2000:
            problems.append(("note", _("At most 2,000 characters.")))
        if problems:
            raise Invalid.from_pairs(problems)
        if owner and not policy.can(actor.user, Action.INCIDENT_MANAGE, incident.clinic):
            raise Forbidden(_("Only the clinic lead hands the follow-up to someone else."))
        new_owner = _owner(incident.clinic, owner) if owner else (latest.owner if latest else None)
        return IncidentEvent.objects.create(
            incident=incident,
            at=clock.now(),
            by=actor.user,
            status=status,
            owner=new_owner,
            note=(note or "").strip(),
        )


# --- opened by other parts of HAB ------------------------------------------------------------


def open_for_overdose(*, actor: Actor, observation) -> Incident:
    """An overdose recorded when observation ends opens an incident at once, linked to
    the dose, with the naloxone given. Runs in the observation's transaction."""
    administration = observation.administration
    now = clock.now()
    incident = Incident.objects.create(
        clinic_id=administration.clinic_id,
        kind=Kind.OVERDOSE,
        severity=Severity.SERIOUS,
        occurred_at=observation.ended_at,
        patient_id=administration.patient_id,
        administration=administration,
        naloxone_mg=observation.naloxone_mg or None,
        description=observation.note or _("Overdose during observation after a dose."),
        source=Source.OBSERVATION,
        reported_at=now,
        reported_by=actor.user,
    )
    IncidentEvent.objects.create(incident=incident, at=now, by=actor.user, status=Status.OPEN)
    return incident


def open_for_discrepancy(*, actor: Actor, discrepancy) -> Incident:
    """A stock count that differs from the book opens a stock-discrepancy incident.
    Runs in the count's transaction."""
    count = discrepancy.count
    now = clock.now()
    incident = Incident.objects.create(
        clinic_id=discrepancy.clinic_id,
        kind=Kind.STOCK_DISCREPANCY,
        severity=Severity.MODERATE,
        occurred_at=count.counted_at,
        discrepancy=discrepancy,
        description=_(
            "Count of %(product)s, batch %(lot)s: counted %(counted)s mg, book %(book)s mg, "
            "difference %(diff)s mg."
        )
        % {
            "product": count.batch.product.name,
            "lot": count.batch.lot,
            "counted": mg_text(count.counted_mg),
            "book": mg_text(count.book_mg),
            "diff": mg_text(count.difference_mg),
        },
        source=Source.STOCK_COUNT,
        reported_at=now,
        reported_by=actor.user,
    )
    IncidentEvent.objects.create(incident=incident, at=now, by=actor.user, status=Status.OPEN)
    return incident


def close_for_discrepancy(*, actor: Actor, discrepancy, explanation: str) -> None:
    """The lead's resolution of the discrepancy closes its incident with the same words."""
    incident = Incident.objects.filter(discrepancy=discrepancy).first()
    if incident is not None:
        IncidentEvent.objects.create(
            incident=incident,
            at=clock.now(),
            by=actor.user,
            status=Status.CLOSED,
            note=explanation.strip(),
        )


def open_for_breach(
    *, actor: Actor, administration, breaches: list[str], reason: str, corrected=None
) -> Incident:
    """A correction or a paper dose that breaks a limit of the day, recorded once the
    nurse confirmed the breaches: a dosing-error incident linked to the record, for the
    clinic lead to follow up. Runs in the record's transaction. ``corrected`` is the
    record a correction replaces."""
    now = clock.now()
    if corrected is not None:
        what = _("Correction of the dose at %(time)s: %(before)s mg changed to %(after)s mg.") % {
            "time": timezone.localtime(administration.given_at).strftime("%d.%m.%Y %H:%M"),
            "before": mg_text(corrected.dose_mg),
            "after": mg_text(administration.dose_mg),
        }
        source = Source.CORRECTION
    else:
        what = _("Dose from the paper contingency list at %(time)s: %(dose)s mg given.") % {
            "time": timezone.localtime(administration.given_at).strftime("%d.%m.%Y %H:%M"),
            "dose": mg_text(administration.dose_mg),
        }
        source = Source.BACK_ENTRY
    incident = Incident.objects.create(
        clinic_id=administration.clinic_id,
        kind=Kind.DOSING_ERROR,
        severity=Severity.MODERATE,
        occurred_at=administration.given_at,
        patient_id=administration.patient_id,
        administration=administration,
        description="\n".join(
            [what, _("Breaches confirmed:"), *(f"- {text}" for text in breaches)]
            + [_("Reason given: %(reason)s") % {"reason": reason}]
        ),
        source=source,
        reported_at=now,
        reported_by=actor.user,
    )
    IncidentEvent.objects.create(incident=incident, at=now, by=actor.user, status=Status.OPEN)
    return incident
