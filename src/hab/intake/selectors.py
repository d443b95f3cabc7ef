"""Reads of intake: referral inbox, waitlist, capacity and the patient's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hab.core import clock, policy
from hab.core.access import Actor, access_log_listed, access_log_write, basis_for
from hab.core.errors import Forbidden, NotFound
from hab.core.models import AccessAction, Clinic
from hab.core.policy import Action, clinic_for_action
from hab.intake import rules
from hab.intake.models import CriteriaSet, EndReason, Episode, Phase, Referral, ReferralStatus


def active_criteria_set() -> CriteriaSet:
    criteria_set = CriteriaSet.objects.order_by("-version").first()
    if criteria_set is None:
        raise NotFound(_("No intake criteria are set."))
    return criteria_set


def _check(actor: Actor, patient, clinic_id: int, action: Action) -> None:
    """Access to intake records follows the patient's record: their current clinic."""
    if not policy.is_member(actor.user, patient.clinic_id) or clinic_id != patient.clinic_id:
        raise NotFound(_("Not found."))
    if not policy.can(actor.user, action, clinic_id):
        raise Forbidden(_("Your role does not give access to this."))
    basis_for(actor, patient, action)


def referral_for_user(
    actor: Actor, referral_id: int, action: Action = Action.REFERRAL_VIEW, *, lock: bool = False
) -> Referral:
    queryset = Referral.objects.select_related("patient", "clinic")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    referral = queryset.filter(pk=referral_id).first()
    if referral is None:
        raise NotFound(_("No such referral."))
    _check(actor, referral.patient, referral.clinic_id, action)
    return referral


def referral_open(
    actor: Actor, referral_id: int, action: Action = Action.REFERRAL_VIEW, *, shown: bool = True
) -> Referral:
    """The referral, checked for ``action``; showing it is logged as a read of the patient
    (``shown=False`` for the POST of a form, whose service logs the change)."""
    referral = referral_for_user(actor, referral_id, action)
    if shown:
        access_log_write(
            actor=actor,
            patient=referral.patient,
            action=AccessAction.VIEW,
            what="referral",
            details={"referral": referral.pk},
            policy_action=action,
        )
    return referral


def episode_for_user(
    actor: Actor, episode_id: int, action: Action, *, lock: bool = False
) -> Episode:
    queryset = Episode.objects.select_related("patient", "clinic", "coordinator")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    episode = queryset.filter(pk=episode_id).first()
    if episode is None:
        raise NotFound(_("No such episode."))
    _check(actor, episode.patient, episode.clinic_id, action)
    return episode


def episode_open(
    actor: Actor, episode_id: int, action: Action = Action.PATIENT_VIEW, *, shown: bool = True
) -> Episode:
    """The episode, checked for ``action``; showing it is logged as a read of the patient
    (``shown=False`` for the POST of a form, whose service logs the change)."""
    episode = episode_for_user(actor, episode_id, action)
    if shown:
        access_log_write(
            actor=actor,
            patient=episode.patient,
            action=AccessAction.VIEW,
            what="episode",
            details={"episode": episode.pk},
            policy_action=action,
        )
    return episode


def open_episodes(actor: Actor, clinic: Clinic) -> list[Episode]:
    clinic_for_action(actor.user, clinic, Action.PATIENT_LIST)
    episodes = list(
        Episode.objects.filter(clinic=clinic, ended_on__isnull=True)
        .select_related("patient", "clinic", "coordinator")
        .order_by("patient__family_name", "patient__given_name")
    )
    if episodes:
        access_log_listed(
            actor=actor, patients=[e.patient for e in episodes], details={"list": "episodes"}
        )
    return episodes


def referrals_for_clinic(
    actor: Actor, clinic: Clinic, statuses: list[str] | None = None, limit: int = 200
) -> list[Referral]:
    """The referral inbox; every patient shown is logged as listed."""
    clinic_for_action(actor.user, clinic, Action.REFERRAL_VIEW)
    queryset = Referral.objects.filter(clinic=clinic, patient__clinic=clinic).select_related(
        "patient"
    )
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    referrals = list(queryset.order_by("-received_on", "-id")[:limit])
    if referrals:
        access_log_listed(
            actor=actor,
            patients=[r.patient for r in referrals],
            details={"list": "referrals", "status": statuses or []},
        )
    return referrals


@dataclass(frozen=True)
class WaitlistRow:
    position: int
    referral: Referral
    days_waiting: int


def _waitlisted(clinic: Clinic) -> QuerySet[Referral]:
    return Referral.objects.filter(
        clinic=clinic, patient__clinic=clinic, status=ReferralStatus.WAITLISTED
    )


def waitlist(actor: Actor, clinic: Clinic) -> list[WaitlistRow]:
    clinic_for_action(actor.user, clinic, Action.REFERRAL_VIEW)
    referrals = {r.pk: r for r in _waitlisted(clinic).select_related("patient")}
    ordered = rules.waitlist_order(
        rules.WaitlistItem(r.pk, r.urgent, r.eligible_on or r.received_on)
        for r in referrals.values()
    )
    today = clock.today()
    rows = [
        WaitlistRow(index, referrals[item.referral_id], rules.days_waiting(item.eligible_on, today))
        for index, item in enumerate(ordered, start=1)
    ]
    if rows:
        access_log_listed(
            actor=actor,
            patients=[row.referral.patient for row in rows],
            details={"list": "waitlist"},
        )
    return rows


@dataclass(frozen=True)
class Capacity:
    clinic: Clinic
    capacity: int
    used: int
    free: int
    waitlist_length: int
    median_days_waiting: float | None
    offered: int
    without_coordinator: int
    coordinator_overdue: int


def capacity(actor: Actor, clinic: Clinic, today: date | None = None) -> Capacity:
    """Aggregates only; no patient is named, so nothing is logged."""
    clinic_for_action(actor.user, clinic, Action.CAPACITY_VIEW)
    today = today or clock.today()
    open_episodes = Episode.objects.filter(clinic=clinic, ended_on__isnull=True)
    used = open_episodes.count()
    waiting = list(_waitlisted(clinic).values_list("eligible_on", "received_on", "offered_on"))
    missing = list(
        open_episodes.filter(coordinator__isnull=True).values_list("admitted_on", flat=True)
    )
    return Capacity(
        clinic=clinic,
        capacity=clinic.capacity,
        used=used,
        free=rules.places_free(clinic.capacity, used),
        waitlist_length=len(waiting),
        median_days_waiting=rules.median(
            [rules.days_waiting(eligible or received, today) for eligible, received, _o in waiting]
        ),
        offered=sum(1 for *_dates, offered in waiting if offered),
        without_coordinator=len(missing),
        coordinator_overdue=sum(
            1 for admitted in missing if rules.coordinator_overdue(admitted, False, today)
        ),
    )


def episodes_without_coordinator(actor: Actor, clinic: Clinic) -> list[Episode]:
    clinic_for_action(actor.user, clinic, Action.PATIENT_LIST)
    episodes = list(
        Episode.objects.filter(clinic=clinic, ended_on__isnull=True, coordinator__isnull=True)
        .select_related("patient")
        .order_by("admitted_on")
    )
    if episodes:
        access_log_listed(
            actor=actor,
            patients=[e.patient for e in episodes],
            details={"list": "episodes without coordinator"},
        )
    return episodes


@dataclass(frozen=True)
class TimelineEntry:
    on: date
    kind: str
    title: str
    detail: str
    link: str = ""


def patient_timeline(patient) -> list[TimelineEntry]:
    """Referrals, assessments and episodes of a patient, oldest first.

    The caller has opened the record (and so logged the read).
    """
    entries: list[TimelineEntry] = []
    statuses = dict(ReferralStatus.choices)
    for referral in patient.referrals.select_related("clinic").prefetch_related(
        "events", "assessments"
    ):
        entries.append(
            TimelineEntry(
                referral.received_on,
                "referral",
                _("Referral received from %(org)s") % {"org": referral.referring_organisation},
                f"{referral.get_source_display()} · {referral.clinic.name}",
                f"/intake/referrals/{referral.pk}/",
            )
        )
        for assessment in referral.assessments.all():
            entries.append(
                TimelineEntry(
                    assessment.assessed_on,
                    "assessment",
                    _("Assessed eligible") if assessment.eligible else _("Assessed not eligible"),
                    assessment.notes,
                    f"/intake/referrals/{referral.pk}/",
                )
            )
        for event in referral.events.all():
            if event.kind in ("waitlisted", "status"):
                entries.append(
                    TimelineEntry(
                        timezone.localdate(event.at),
                        "status",
                        str(statuses.get(event.to_status, event.to_status)),
                        event.note,
                    )
                )
    for episode in patient.episodes.select_related("clinic").prefetch_related("events"):
        for event in episode.events.all():
            entries.append(_episode_entry(episode, event))
    entries.sort(key=lambda entry: (entry.on, entry.kind != "referral"))
    return entries


def _episode_entry(episode: Episode, event) -> TimelineEntry:
    details = event.details
    if event.kind == "admitted":
        title = _("Admitted to %(clinic)s") % {"clinic": episode.clinic.name}
        detail = str(Phase(details.get("phase", episode.phase)).label)
    elif event.kind == "phase":
        title = _("Phase changed to %(phase)s") % {"phase": Phase(details["new"]).label}
        detail = ""
    elif event.kind == "coordinator":
        title = _("Coordinator set")
        detail = details.get("new", "")
    elif event.kind == "transfer_out":
        title = _("Transferred from %(clinic)s") % {"clinic": episode.clinic.name}
        detail = details.get("to", "")
    elif event.kind == "transfer_in":
        title = _("Continued at %(clinic)s") % {"clinic": episode.clinic.name}
        detail = ""
    else:
        title = _("Discharged from %(clinic)s") % {"clinic": episode.clinic.name}
        detail = str(EndReason(details.get("reason", episode.end_reason)).label)
    return TimelineEntry(event.on, "episode", title, detail)
