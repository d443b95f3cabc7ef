"""The programme's indicators for a set of clinics and a period [start, end] (both days
included). Reads only; aggregates only (no patient is named, so nothing is logged).

Definitions (each tested on a hand-built data set in tests/evaluation):

- A *course of treatment* is a first episode and the episodes that follow it by transfer
  between HAB clinics (``transfer_hab``); it belongs to the clinic where it began.
- *Retention* is the Kaplan–Meier estimate of still being in HAB, with its 95 % band,
  over all courses begun on or before the period's end (so it counts *since the start*,
  not only in the period). Every end of a course is an event: dropout, discharge,
  moving, prison, other, death, and also the *positive exits* (transfer to LAR, other
  treatment). A transfer between HAB clinics is no end; courses still running at the
  period's end are censored there.
- *Leaving* splits those ends into their ways (to treatment, dropout, prison, death,
  other) as competing risks: the Aalen–Johansen cumulative incidence of each, which with
  the share still in HAB adds up to everyone. A move to LAR is a good outcome, not a
  failure of retention's kind, and is shown apart.
- The *retention model* is a Cox model of leaving by the course's highest prescribed
  daily dose of diacetylmorphine and the clinic: an association (the highest dose is
  known only afterwards).
- Figures *in the period* (admitted, deaths, doses, incidents, costs) count what happened
  from its first to its last day. A period never runs past today.
- Dose records are the *current* ones: a record that a correction replaced is left out.
  Doses expected are all current records of the period (a ``missed`` record is written
  for every expected dose not given when a session closes); doses given are those
  ``given`` or ``partial``.
- Patient-days count the days in treatment within the period, the day of leaving not
  included; a patient-year is 365.25 patient-days.
"""

from __future__ import annotations

import datetime
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Case, Count, F, Max, Q, Sum, When, Window
from django.db.models.fields.json import KT
from django.db.models.functions import Lead, RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy

from hab.core.models import Clinic
from hab.core.sql import not_corrected
from hab.dosing.models import ClinicDay, PatientDay
from hab.dosing.models import Status as DoseStatus
from hab.dosing.rules import TAKEN, Group
from hab.evaluation import km, survival
from hab.evaluation.models import CostInput, Grant
from hab.incidents.models import Incident, Kind
from hab.intake.models import (
    EligibilityAssessment,
    EndReason,
    Episode,
    EpisodeEvent,
    Referral,
    ReferralEvent,
    ReferralSource,
    ReferralStatus,
)

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
RETENTION_MONTHS = (3, 6, 12, 24)
POSITIVE_EXITS = (EndReason.TRANSFER_LAR, EndReason.OTHER_TREATMENT)
# Core follow-up items whose change since baseline is reported (all whole numbers).
OUTCOME_ITEMS = (
    "heroin_days",
    "other_opioid_days",
    "benzodiazepine_days",
    "stimulant_days",
    "crime_days",
    "overdose_count",
    "hospital_days",
    "physical_health",
    "mental_health",
    "quality_of_life",
)
# The items by name in the report's tables (their codes are the research export's).
OUTCOME_LABELS = {
    "heroin_days": gettext_lazy("Days with heroin (last 30)"),
    "other_opioid_days": gettext_lazy("Days with other opioids (last 30)"),
    "benzodiazepine_days": gettext_lazy("Days with benzodiazepines (last 30)"),
    "stimulant_days": gettext_lazy("Days with cocaine or amphetamines (last 30)"),
    "crime_days": gettext_lazy("Days with crime (last 30)"),
    "overdose_count": gettext_lazy("Overdoses (last 3 months)"),
    "hospital_days": gettext_lazy("Days in hospital (last 3 months)"),
    "physical_health": gettext_lazy("Physical health (0–10)"),
    "mental_health": gettext_lazy("Mental health (0–10)"),
    "quality_of_life": gettext_lazy("Quality of life (0–10)"),
}
OUTCOME_TIMEPOINTS = ("m6", "m12")


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date
    # True where the period asked for ran past today and was cut to end today.
    until_today: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def aware_bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """[start 00:00, the day after end 00:00) in Europe/Oslo."""
        aware = timezone.make_aware
        return (
            aware(datetime.datetime.combine(self.start, datetime.time.min)),
            aware(datetime.datetime.combine(self.end + datetime.timedelta(1), datetime.time.min)),
        )

    def months(self) -> list[tuple[datetime.date, datetime.date]]:
        """Each calendar month touching the period, clipped to it."""
        out = []
        first = self.start.replace(day=1)
        while first <= self.end:
            following = (first + datetime.timedelta(days=32)).replace(day=1)
            out.append((max(first, self.start), min(following - datetime.timedelta(1), self.end)))
            first = following
        return out


def _ratio(numerator, denominator, digits: int = 4) -> float | None:
    return round(float(numerator) / float(denominator), digits) if denominator else None


def _per_1000(count: int, administrations: int) -> float | None:
    return round(count * 1000 / administrations, 2) if administrations else None


# --- intake -----------------------------------------------------------------------------


def intake(clinic_ids: list[int], period: Period) -> dict:
    referrals = Referral.objects.filter(
        clinic_id__in=clinic_ids, received_on__range=(period.start, period.end)
    )
    by_source = dict(
        referrals.values_list("source").annotate(n=Count("id")).values_list("source", "n")
    )
    assessments = list(
        EligibilityAssessment.objects.filter(
            referral__clinic_id__in=clinic_ids, assessed_on__range=(period.start, period.end)
        )
        .order_by("assessed_on", "id")
        .values_list("referral_id", "eligible")
    )
    latest = dict(assessments)  # the last assessment of each referral in the period
    _start, after_end = period.aware_bounds()
    status_at_end: dict[int, str] = {}
    for referral_id, status in (
        ReferralEvent.objects.filter(
            referral__clinic_id__in=clinic_ids, at__lt=after_end, to_status__gt=""
        )
        .order_by("at", "id")
        .values_list("referral_id", "to_status")
    ):
        status_at_end[referral_id] = status
    waits = [
        (admitted - (eligible or received)).days
        for admitted, eligible, received in Episode.objects.filter(
            clinic_id__in=clinic_ids,
            previous__isnull=True,
            referral__isnull=False,
            admitted_on__range=(period.start, period.end),
        ).values_list("admitted_on", "referral__eligible_on", "referral__received_on")
    ]
    return {
        "referrals": sum(by_source.values()),
        "referrals_by_source": {code: by_source.get(code, 0) for code in ReferralSource.values},
        "assessed": len(latest),
        "eligible": sum(1 for eligible in latest.values() if eligible),
        "waitlisted_at_end": sum(
            1 for status in status_at_end.values() if status == ReferralStatus.WAITLISTED
        ),
        # How many admissions the median wait is taken over (for small-number rules).
        "waited": len(waits),
        "median_days_waiting": statistics.median(waits) if waits else None,
    }


# --- patients, places and retention -----------------------------------------------------


def _episodes(clinic_ids: list[int], period: Period):
    return Episode.objects.filter(clinic_id__in=clinic_ids, admitted_on__lte=period.end).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=period.start)
    )


def _days_in(admitted: datetime.date, ended: datetime.date | None, period: Period) -> int:
    """Days in treatment within the period; the day of leaving is not counted."""
    after_end = period.end + datetime.timedelta(1)
    stop = min(ended, after_end) if ended else after_end
    return max(0, (stop - max(admitted, period.start)).days)


def patients(clinic_ids: list[int], period: Period) -> dict:
    rows = list(_episodes(clinic_ids, period).values_list("patient_id", "admitted_on", "ended_on"))
    patient_days = sum(_days_in(admitted, ended, period) for _p, admitted, ended in rows)
    open_at_end = sum(1 for _p, _a, ended in rows if ended is None or ended > period.end)
    capacity = sum(Clinic.objects.filter(pk__in=clinic_ids).values_list("capacity", flat=True))
    admitted = Episode.objects.filter(
        clinic_id__in=clinic_ids,
        previous__isnull=True,
        admitted_on__range=(period.start, period.end),
    ).count()
    ended = Episode.objects.filter(
        clinic_id__in=clinic_ids, ended_on__range=(period.start, period.end)
    )
    return {
        "admitted": admitted,
        "active": len({patient for patient, _a, _e in rows}),
        "places_used_at_end": open_at_end,
        "capacity": capacity,
        "places_used_share": _ratio(open_at_end, capacity),
        "occupancy": _ratio(patient_days, capacity * period.days),
        "patient_days": patient_days,
        "patient_years": round(patient_days / DAYS_PER_YEAR, 3),
        "deaths": ended.filter(end_reason=EndReason.DEATH).count(),
        "ended_by_reason": {
            code: n
            for code, n in ended.values_list("end_reason")
            .annotate(n=Count("id"))
            .values_list("end_reason", "n")
        },
    }


@dataclass(frozen=True)
class Course:
    clinic_id: int
    started: datetime.date
    ended: datetime.date | None  # None: still running at the period's end
    reason: str
    episode_ids: tuple[int, ...] = ()  # the course's episodes, first to last


def courses(clinic_ids: list[int], end: datetime.date) -> list[Course]:
    """Courses begun at the clinics on or before ``end``, as they stood on ``end``."""
    rows = list(
        Episode.objects.filter(admitted_on__lte=end).values_list(
            "id", "clinic_id", "previous_id", "admitted_on", "ended_on", "end_reason"
        )
    )
    following = {previous: pk for pk, _c, previous, *_rest in rows if previous is not None}
    by_id = {row[0]: row for row in rows}
    out = []
    for pk, clinic_id, previous, admitted, _ended, _reason in rows:
        if previous is not None and by_id.get(previous, (None,) * 6)[5] == EndReason.TRANSFER_HAB:
            continue  # not the first episode of its course
        if clinic_id not in clinic_ids:
            continue
        last = by_id[pk]
        episode_ids = [pk]
        while last[5] == EndReason.TRANSFER_HAB and following.get(last[0]) in by_id:
            last = by_id[following[last[0]]]
            episode_ids.append(last[0])
        ended, reason = last[4], last[5]
        if ended is None or ended > end or reason == EndReason.TRANSFER_HAB:
            ended, reason = None, ""
        out.append(Course(clinic_id, admitted, ended, reason, tuple(episode_ids)))
    return out


# The ways of leaving HAB, as competing risks: a move to ordinary opioid agonist treatment
# (LAR) or other treatment is the outcome the trials count as good, unlike dropping out.
LEAVING = {
    EndReason.TRANSFER_LAR: "treatment",
    EndReason.OTHER_TREATMENT: "treatment",
    EndReason.DROPOUT: "dropout",
    EndReason.DISCHARGED: "dropout",
    EndReason.PRISON: "prison",
    EndReason.DEATH: "death",
    EndReason.MOVED: "other",
    EndReason.OTHER: "other",
}
LEAVING_CAUSES = ("treatment", "dropout", "prison", "death", "other")
# The Cox model of leaving by dose and clinic needs this many courses that ended.
MODEL_MIN_EXITS = 20
DOSE_UNIT_MG = 10  # the model's hazard ratio is per 10 mg of maximum daily dose


def _months(at, digits: int = 4):
    """``at(days)`` at 3, 6, 12 and 24 months, rounded (None where not estimated)."""

    def rounded(value):
        if value is None:
            return None
        if isinstance(value, dict):
            return {key: round(v, digits) for key, v in value.items()}
        if isinstance(value, tuple):
            return [round(v, digits) for v in value]
        return round(value, digits)

    return {str(months): rounded(at(months * DAYS_PER_MONTH)) for months in RETENTION_MONTHS}


def _observations(found: list[Course], end: datetime.date) -> tuple[list[int], list[bool]]:
    durations = [((c.ended or end) - c.started).days for c in found]
    return durations, [c.ended is not None for c in found]


def retention(clinic_ids: list[int], period: Period, found: list[Course] | None = None) -> dict:
    """Kaplan–Meier of still being in HAB since admission, with its 95 % band, over every
    course begun by the period's end (since the start, not only in the period)."""
    found = courses(clinic_ids, period.end) if found is None else found
    durations, events = _observations(found, period.end)
    steps = km.kaplan_meier(durations, events)
    longest = max(durations, default=0)
    exits = [c for c in found if c.ended is not None]
    positive = sum(1 for c in exits if c.reason in POSITIVE_EXITS)
    median = km.median_survival(steps)
    return {
        "courses": len(found),
        "exits": len(exits),
        "positive_exits": positive,
        "positive_exit_share": _ratio(positive, len(exits)),
        "deaths": sum(1 for c in exits if c.reason == EndReason.DEATH),
        "at_months": _months(lambda t: km.survival_at(steps, t, longest=longest)),
        "band_at_months": _months(lambda t: km.band_at(steps, t, longest=longest)),
        "median_days": median,
        "curve": [
            {
                "days": step.time,
                "at_risk": step.at_risk,
                "events": step.events,
                "survival": round(step.survival, 4),
                "low": round(step.low, 4),
                "high": round(step.high, 4),
            }
            for step in steps
        ],
        "longest_days": longest,
    }


def leaving(found: list[Course], end: datetime.date) -> dict:
    """The cumulative incidence of each way of leaving HAB (Aalen–Johansen, the ways as
    competing risks) and of still being in HAB, since admission, over the courses."""
    durations, _events = _observations(found, end)
    causes = [LEAVING.get(c.reason, "other") if c.ended is not None else None for c in found]
    steps = survival.cumulative_incidence(durations, causes)
    still_in = _km(steps)
    longest = max(durations, default=0)

    def at(time: float) -> dict | None:
        incidence = survival.incidence_at(steps, time, longest=longest)
        if incidence is None:
            return None
        return {"in_hab": km.survival_at(still_in, time)} | {
            cause: incidence.get(cause, 0.0) for cause in LEAVING_CAUSES
        }

    return {
        "causes": list(LEAVING_CAUSES),
        "exits_by_cause": {cause: sum(1 for c in causes if c == cause) for cause in LEAVING_CAUSES},
        "at_months": _months(at),
        "curve": [
            {"days": step.time, "at_risk": step.at_risk, "in_hab": round(step.survival, 4)}
            | {cause: round(step.incidence.get(cause, 0.0), 4) for cause in LEAVING_CAUSES}
            for step in steps
        ],
    }


def _km(steps) -> list[km.Step]:
    return [km.Step(s.time, s.at_risk, sum(s.events.values()), s.survival) for s in steps]


def _max_daily_dose(episode_ids: set[int], end: datetime.date) -> dict[int, Decimal]:
    """Each episode's highest prescribed daily maximum of diacetylmorphine (mg), of the
    prescriptions valid from ``end`` or before: the dose the doctor allowed, as the
    "maximum dose" of the classic retention studies. Read from the prescriptions, not the
    millions of doses given."""
    from hab.prescribing.models import Prescription

    return {
        episode: mg
        for episode, mg in Prescription.objects.filter(
            medication__startswith="dam_", valid_from__lte=end
        )
        .order_by()
        .values("episode_id")
        .annotate(mg=Max("daily_max_mg"))
        .values_list("episode_id", "mg")
        if episode in episode_ids
    }


def retention_model(found: list[Course], end: datetime.date, clinics: list[Clinic]) -> dict | None:
    """A Cox model of leaving HAB by the course's highest prescribed daily dose of
    diacetylmorphine (per 10 mg) and, for more than one clinic, the clinic (against the
    first): "does a higher dose keep people in treatment?". Courses with no such
    prescription are left out. None with too few exits.

    The highest dose is known only once the course has run (those who stay longer have
    more time to reach a high dose), so it shows an association, not an effect."""
    peaks = _max_daily_dose({pk for c in found for pk in c.episode_ids}, end)
    dosed = [
        (c, max(peaks[pk] for pk in c.episode_ids if pk in peaks))
        for c in found
        if any(pk in peaks for pk in c.episode_ids)
    ]
    exits = sum(1 for c, _mg in dosed if c.ended is not None)
    if exits < MODEL_MIN_EXITS:
        return None
    shown = [clinic for clinic in clinics if any(c.clinic_id == clinic.pk for c, _mg in dosed)]
    others = shown[1:]
    names = ["dose_per_10mg"] + [f"clinic:{clinic.code}" for clinic in others]
    covariates = [
        [float(mg) / DOSE_UNIT_MG] + [float(c.clinic_id == clinic.pk) for clinic in others]
        for c, mg in dosed
    ]
    durations, events = _observations([c for c, _mg in dosed], end)
    try:
        fit = survival.cox(durations, events, covariates, names)
    except ValueError:
        return None  # no events or a covariate that does not vary
    if not fit.converged:
        return None  # a covariate that separates who leaves from who stays: no estimate
    return {
        "n": fit.n,
        "events": fit.events,
        "reference_clinic": shown[0].code if others else None,
        "terms": [
            {
                "code": term.name,
                "hazard_ratio": round(term.hazard_ratio, 4),
                "low": round(term.low, 4),
                "high": round(term.high, 4),
                "p": round(term.p_value, 4),
            }
            for term in fit.terms
        ],
    }


# --- dosing and safety ------------------------------------------------------------------


def dose_counts(clinic_ids: list[int], period: Period) -> list[tuple[datetime.date, str, str, int]]:
    """(day, status, withheld reason, records) over the period's current dose records: one
    pass that the dosing figures and the monthly series both read, from the clinics' day
    summaries (``dosing.summaries``) rather than the records themselves."""
    return list(
        ClinicDay.objects.filter(clinic_id__in=clinic_ids, day__range=(period.start, period.end))
        .order_by()
        .values_list("day", "status", "withheld_reason")
        .annotate(n=Sum("records"))
        .filter(n__gt=0)
        .values_list("day", "status", "withheld_reason", "n")
    )


def _phase_spans():
    """Each episode's phases as spans of days [from, to): before the first phase change
    the change's old phase (no start), then each change's new phase until the next change
    (no end after the last). An episode without phase changes has no span: its phase is
    the episode's own."""
    order = ["on", "at", "id"]
    changes = (
        EpisodeEvent.objects.filter(kind="phase")
        .order_by()
        .annotate(
            c_episode=F("episode_id"),
            c_on=F("on"),
            c_next=Window(Lead("on"), partition_by=[F("episode_id")], order_by=order),
            c_rank=Window(RowNumber(), partition_by=[F("episode_id")], order_by=order),
            c_old=KT("details__old"),
            c_new=KT("details__new"),
        )
        .values_list("c_episode", "c_on", "c_next", "c_rank", "c_old", "c_new")
    )
    sql, params = changes.query.sql_with_params()
    return (
        f"changes (episode_id, on_day, next_day, rank, old, new) AS ({sql}),"
        " spans (episode_id, from_day, to_day, phase) AS ("
        " SELECT episode_id, on_day, next_day, new FROM changes"
        " UNION ALL SELECT episode_id, NULL, on_day, old FROM changes WHERE rank = 1)",
        params,
    )


DOSE_BIN_MG = 20  # width of the daily-dose histogram's bins


def _daily_doses(
    clinic_ids: list[int], period: Period
) -> list[tuple[str | None, int | None, int, Decimal | None]]:
    """The patient-days with a dose given, as (phase that day, histogram bin, patient-days,
    mg of diacetylmorphine in all); phase and bin are empty for the days with no
    diacetylmorphine given. A patient's day is one, at whichever clinics; if it was the day
    of a move between clinics, its phase is the new episode's.

    Added up in the database from the patients' day summaries: a national year is
    millions of patient-days, which Python would take tens of seconds to receive and add
    up."""
    given = (
        PatientDay.objects.filter(
            clinic_id__in=clinic_ids, day__range=(period.start, period.end), taken__gt=0
        )
        .order_by()
        .values("patient_id", "day")
        .annotate(
            episode=Max("episode_id"),
            dam=Sum(Case(When(group=Group.DAM, then="taken_mg"))),
        )
        .values_list("patient_id", "day", "episode", "dam")
    )
    given_sql, given_params = given.query.sql_with_params()
    spans_sql, spans_params = _phase_spans()
    sql = (
        f"WITH given (patient_id, day, episode_id, dam) AS ({given_sql}), {spans_sql} "
        "SELECT CASE WHEN given.dam IS NOT NULL THEN COALESCE(spans.phase, episode.phase) END,"
        " FLOOR(given.dam / %s), COUNT(*), SUM(given.dam)"
        " FROM given"
        " JOIN intake_episode episode ON episode.id = given.episode_id"
        " LEFT JOIN spans ON spans.episode_id = given.episode_id"
        " AND (spans.from_day IS NULL OR given.day >= spans.from_day)"
        " AND (spans.to_day IS NULL OR given.day < spans.to_day)"
        " GROUP BY 1, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*given_params, *spans_params, DOSE_BIN_MG])
        # SQLite sums decimals as floats.
        return [
            (
                phase,
                None if bin_ is None else int(bin_),
                n,
                None if mg is None else Decimal(str(mg)),
            )
            for phase, bin_, n, mg in cursor.fetchall()
        ]


def dosing(clinic_ids: list[int], period: Period, counts=None) -> dict:
    """``counts``: :func:`dose_counts` of the same clinics and period, if read already."""
    counts = dose_counts(clinic_ids, period) if counts is None else counts
    by_status: Counter[str] = Counter()
    withheld: Counter[str] = Counter()
    for _day, status, reason, n in counts:
        by_status[status] += n
        if status == "withheld":
            withheld[reason] += n
    expected = sum(by_status.values())
    given = sum(by_status[status] for status in TAKEN)
    attended_days = 0
    by_phase: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    by_bin: Counter[int] = Counter()
    for phase, bin_, days, mg in _daily_doses(clinic_ids, period):
        attended_days += days
        if phase is None:
            continue
        by_phase[phase][0] += days
        by_phase[phase][1] += mg
        by_bin[bin_] += days
    days_with_dose = sum(by_bin.values())
    bins = range(min(by_bin), max(by_bin) + 1) if by_bin else ()
    return {
        "doses_expected": expected,
        "doses_given": given,
        "by_status": {status: by_status[status] for status in DoseStatus.values},
        "attendance": _ratio(given, expected),
        "attended_days": attended_days,
        "withheld_by_reason": {
            (reason or "(no reason given)"): n for reason, n in withheld.most_common()
        },
        "patient_days_by_phase": {phase: days for phase, (days, _mg) in sorted(by_phase.items())},
        "mean_daily_dose_mg_by_phase": {
            phase: round(float(mg / days), 1) for phase, (days, mg) in sorted(by_phase.items())
        },
        "mean_daily_dose_mg": (
            round(float(sum(mg for _d, mg in by_phase.values()) / days_with_dose), 1)
            if days_with_dose
            else None
        ),
        "daily_dose_histogram": [
            {
                "from_mg": b * DOSE_BIN_MG,
                "to_mg": (b + 1) * DOSE_BIN_MG,
                "patient_days": by_bin[b],
            }
            for b in bins
        ],
    }


def safety(clinic_ids: list[int], period: Period, administrations: int) -> dict:
    start, after_end = period.aware_bounds()
    incidents = Incident.objects.filter(
        clinic_id__in=clinic_ids, occurred_at__gte=start, occurred_at__lt=after_end
    )
    total = incidents.count()
    overdoses = incidents.filter(kind=Kind.OVERDOSE).count()
    return {
        "incidents": total,
        "overdoses": overdoses,
        "administrations": administrations,
        "incidents_per_1000_administrations": _per_1000(total, administrations),
        "overdoses_per_1000_administrations": _per_1000(overdoses, administrations),
    }


# --- outcomes ---------------------------------------------------------------------------


def _answers(
    clinic_ids: list[int],
    timepoints: tuple[str, ...],
    answered_to: datetime.date,
    *,
    consented_only: bool = False,
):
    """{(course's first episode, time point): {item code: (interview day, value)}} from the
    current core responses (a later response's answer replaces an earlier one's).
    ``consented_only``: only the answers of patients whose research consent is in force
    (the programme's published evaluation may use only theirs).

    Read in two plain steps, the interviews and then their answers to the outcome items:
    joined in one query, PostgreSQL expected a handful of rows and looked up the answers
    one by one (seconds at national scale)."""
    from hab.research.models import Answer, Item, Response

    items = dict(
        Item.objects.filter(instrument__code="hab_core", code__in=OUTCOME_ITEMS).values_list(
            "id", "code"
        )
    )
    responses = not_corrected(
        Response.objects.filter(
            follow_up__episode__clinic_id__in=clinic_ids,
            follow_up__timepoint__in=timepoints,
            answered_on__lte=answered_to,
            instrument__code="hab_core",
        )
    )
    interviews = list(
        responses.order_by("recorded_at", "id").values_list(
            "id", "follow_up__episode_id", "follow_up__timepoint", "answered_on"
        )
    )
    if consented_only:
        from hab.research.selectors import research_consented

        patient_of = dict(
            Episode.objects.filter(pk__in={row[1] for row in interviews}).values_list(
                "id", "patient_id"
            )
        )
        consented = research_consented(set(patient_of.values()))
        interviews = [row for row in interviews if patient_of[row[1]] in consented]
    values: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for response, item, value in Answer.objects.filter(
        response__in=responses.order_by().values("id"),
        item_id__in=list(items),
        value_int__isnull=False,
    ).values_list("response_id", "item_id", "value_int"):
        values[response].append((item, value))
    out: dict[tuple[int, str], dict[str, tuple[datetime.date, int]]] = defaultdict(dict)
    for response, episode, timepoint, answered_on in interviews:
        for item, value in values[response]:
            out[(episode, timepoint)][items[item]] = (answered_on, value)
    return out


def outcomes(clinic_ids: list[int], period: Period, answers=None) -> dict:
    """Mean change from baseline at 6 and 12 months, per core item, over the patients
    interviewed at that time point within the period who also have a baseline answer.
    ``answers``: :func:`_answers` up to the period's end with these time points, if read."""
    if answers is None:
        answers = _answers(clinic_ids, ("baseline", *OUTCOME_TIMEPOINTS), period.end)
    result: dict[str, dict] = {}
    for timepoint in OUTCOME_TIMEPOINTS:
        per_item = {}
        for code in OUTCOME_ITEMS:
            pairs = [
                (answers[(episode, "baseline")][code][1], values[code][1])
                for (episode, tp), values in answers.items()
                if tp == timepoint
                and code in values
                and period.start <= values[code][0] <= period.end
                and code in answers.get((episode, "baseline"), {})
            ]
            per_item[code] = {
                "n": len(pairs),
                "baseline_mean": round(statistics.fmean(b for b, _a in pairs), 2)
                if pairs
                else None,
                "mean": round(statistics.fmean(a for _b, a in pairs), 2) if pairs else None,
                "mean_change": (
                    round(statistics.fmean(a - b for b, a in pairs), 2) if pairs else None
                ),
            }
        result[timepoint] = per_item
    return result


OVER_TIME_ITEMS = ("heroin_days", "crime_days", "quality_of_life")


def _over_time(clinic_ids: list[int], end: datetime.date, answers=None):
    codes = _timepoint_codes()
    if answers is None:
        answers = _answers(clinic_ids, codes, end)
    for item in OVER_TIME_ITEMS:
        for timepoint in codes:
            values = [
                v[item][1] for (_e, tp), v in answers.items() if tp == timepoint and item in v
            ]
            if values:
                yield item, timepoint, values


def outcomes_over_time(clinic_ids: list[int], end: datetime.date, answers=None) -> dict:
    """Mean answer per time point (all current interviews up to ``end``), for the charts.
    ``answers``: :func:`_answers` of every time point up to ``end``, if read already."""
    out: dict[str, dict[str, float | None]] = {item: {} for item in OVER_TIME_ITEMS}
    for item, timepoint, values in _over_time(clinic_ids, end, answers):
        out[item][timepoint] = round(statistics.fmean(values), 2)
    return out


def outcomes_over_time_n(clinic_ids: list[int], end: datetime.date, answers=None) -> dict:
    """How many answers each mean of :func:`outcomes_over_time` is taken over."""
    out: dict[str, dict[str, int]] = {item: {} for item in OVER_TIME_ITEMS}
    for item, timepoint, values in _over_time(clinic_ids, end, answers):
        out[item][timepoint] = len(values)
    return out


def _timepoint_codes() -> tuple[str, ...]:
    from hab.research.rules import TIMEPOINTS

    return tuple(code for code, _months in TIMEPOINTS)


# --- costs and grants -------------------------------------------------------------------


def cost_inputs(clinic_ids: list[int], years: list[int]) -> dict[tuple[int, int, str], CostInput]:
    """The figure in use (the newest row) per clinic, year and category."""
    current: dict[tuple[int, int, str], CostInput] = {}
    for row in CostInput.objects.filter(clinic_id__in=clinic_ids, year__in=years).order_by(
        "recorded_at", "id"
    ):
        current[(row.clinic_id, row.year, row.category)] = row
    return current


def grants(clinic_ids: list[int], years: list[int], *, programme: bool) -> list[Grant]:
    """The grants in use (newest per funder, year and clinic); programme-wide grants only
    in the programme's view."""
    scope = Q(clinic_id__in=clinic_ids)
    if programme:
        scope |= Q(clinic__isnull=True)
    current: dict[tuple[str, int, int | None], Grant] = {}
    for grant in Grant.objects.filter(scope, year__in=years).order_by("recorded_at", "id"):
        current[(grant.funder, grant.year, grant.clinic_id)] = grant
    return sorted(current.values(), key=lambda g: (g.year, -g.amount_nok, g.funder))


def _year_share(year: int, period: Period) -> float:
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    overlap = (min(last, period.end) - max(first, period.start)).days + 1
    return max(0, overlap) / ((last - first).days + 1)


def costs(
    clinic_ids: list[int],
    period: Period,
    *,
    patient_years: float,
    attended_days: int,
    administrations: int,
    programme: bool,
) -> dict:
    """The period's cost (each year's cost in the share of the year inside the period),
    per patient-year, attended day and dose given; grants against spend per funder."""
    years = list(range(period.start.year, period.end.year + 1))
    current = cost_inputs(clinic_ids, years)
    by_category: dict[str, float] = defaultdict(float)
    spend_by_clinic_year: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for (clinic_id, year, category), row in current.items():
        by_category[category] += float(row.amount_nok) * _year_share(year, period)
        spend_by_clinic_year[(clinic_id, year)] += row.amount_nok
    total = round(sum(by_category.values()), 2)
    funders: dict[str, dict] = {}
    for grant in grants(clinic_ids, years, programme=programme):
        entry = funders.setdefault(grant.funder, {"granted": 0.0, "spend": 0.0, "years": []})
        entry["granted"] += float(grant.amount_nok)
        if grant.year not in entry["years"]:
            entry["years"].append(grant.year)
        if grant.clinic_id is not None:
            entry["spend"] += float(spend_by_clinic_year.get((grant.clinic_id, grant.year), 0))
    return {
        "total_nok": total if current else None,
        "by_category_nok": {k: round(v, 2) for k, v in sorted(by_category.items())},
        "per_patient_year_nok": (
            round(total / patient_years) if current and patient_years else None
        ),
        "per_attended_day_nok": round(total / attended_days) if current and attended_days else None,
        "per_administration_nok": (
            round(total / administrations) if current and administrations else None
        ),
        "by_year": [
            {
                "year": year,
                "total_nok": float(
                    sum(
                        (row.amount_nok for (c, y, _k), row in current.items() if y == year),
                        Decimal(0),
                    )
                ),
            }
            for year in years
        ],
        "grants": [
            {
                "funder": funder,
                "years": entry["years"],
                "granted_nok": round(entry["granted"], 2),
                "spend_nok": round(entry["spend"], 2) if entry["spend"] else None,
            }
            for funder, entry in funders.items()
        ],
    }


# --- monthly series for the charts -----------------------------------------------------


def monthly(clinic_ids: list[int], period: Period, counts=None) -> list[dict]:
    """``counts``: :func:`dose_counts` of the same clinics and period, if read already."""
    episodes = list(
        _episodes(clinic_ids, period).values_list("patient_id", "admitted_on", "ended_on")
    )
    counts = dose_counts(clinic_ids, period) if counts is None else counts
    per_month = defaultdict(lambda: [0, 0])
    for day, status, _reason, n in counts:
        key = (day.year, day.month)
        per_month[key][1] += n
        if status in TAKEN:
            per_month[key][0] += n
    start, after_end = period.aware_bounds()
    incident_months = Counter(
        timezone.localtime(at).strftime("%Y-%m")
        for at in Incident.objects.filter(
            clinic_id__in=clinic_ids, occurred_at__gte=start, occurred_at__lt=after_end
        ).values_list("occurred_at", flat=True)
    )
    out = []
    for first, last in period.months():
        month = Period(first, last)
        given, expected = per_month[(first.year, first.month)]
        out.append(
            {
                "month": f"{first:%Y-%m}",
                "active": len({p for p, a, e in episodes if _days_in(a, e, month) > 0}),
                "attendance": _ratio(given, expected),
                "doses_given": given,
                "doses_expected": expected,
                "incidents": incident_months.get(f"{first:%Y-%m}", 0),
                "incidents_per_1000_administrations": _per_1000(
                    incident_months.get(f"{first:%Y-%m}", 0), given
                ),
            }
        )
    return out


# --- all of them --------------------------------------------------------------------------


def compute(
    clinics: list[Clinic], period: Period, *, programme: bool, consented_only: bool = False
) -> dict:
    """Every indicator, JSON-ready: the page, the report and the API show this.
    ``consented_only``: the follow-up outcomes only of patients with research consent."""
    clinic_ids = [clinic.pk for clinic in clinics]
    counts = dose_counts(clinic_ids, period)
    dose = dosing(clinic_ids, period, counts)
    answers = _answers(clinic_ids, _timepoint_codes(), period.end, consented_only=consented_only)
    people = patients(clinic_ids, period)
    found = courses(clinic_ids, period.end)
    return {
        "scope": "programme" if programme else clinics[0].code,
        "clinics": [clinic.code for clinic in clinics],
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "until_today": period.until_today,
        "outcomes_population": "consented" if consented_only else "all",
        "intake": intake(clinic_ids, period),
        "patients": people,
        "retention": retention(clinic_ids, period, found),
        "leaving": leaving(found, period.end),
        "retention_model": retention_model(found, period.end, clinics),
        "dosing": dose,
        "safety": safety(clinic_ids, period, dose["doses_given"]),
        "outcomes": outcomes(clinic_ids, period, answers),
        "outcomes_over_time": outcomes_over_time(clinic_ids, period.end, answers),
        "outcomes_over_time_n": outcomes_over_time_n(clinic_ids, period.end, answers),
        "costs": costs(
            clinic_ids,
            period,
            patient_years=people["patient_days"] / DAYS_PER_YEAR,
            attended_days=dose["attended_days"],
            administrations=dose["doses_given"],
            programme=programme,
        ),
        "monthly": monthly(clinic_ids, period, counts),
    }
