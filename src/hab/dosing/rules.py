"""The dose decision: how much may be given now, or why nothing may.

Pure: no Django, no I/O. The same function feeds the dosing board and guards the write.
It never changes a dose: it returns the most that may be given now and every reason,
and the caller refuses anything above it.

Reasons are codes with parameters; ``hab.dosing.messages`` words them in bokmål or
English for the nurse.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

# The medications and their groups are prescribing's facts; the decision reads them.
from hab.prescribing.rules import INJECTABLE, MEDICATION_GROUP, ORAL_DAM, ORAL_OPIOIDS, Group


class Severity(StrEnum):
    BLOCK = "block"  # nothing may be given now
    LIMIT = "limit"  # the most that may be given is lower than prescribed
    WARN = "warn"  # may be given; the nurse should know


@dataclass(frozen=True)
class Reason:
    code: str
    severity: Severity
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Protocol:
    """The clinic's dosing protocol version (see protocol-defaults.md for the sources)."""

    version: int
    max_single_mg: Mapping[Group, float | None]
    max_daily_mg: Mapping[Group, float]
    breath_alcohol_max_permille: float
    iv_warn_daily_mg: float = 600
    min_interval_minutes: int = 180
    induction_interval_minutes: int = 30
    observation_minutes: int = 20
    first_iv_dose_mg: float = 15
    day1_max_iv_dose_mg: float = 30
    first_oral_dose_mg: float = 100
    oral_daily_step_mg: float = 300
    step_pct_two_sessions: int = 50
    prev_day_pct_three_sessions: int = 50
    titration_days: int = 3
    missed_days_block: int = 3
    missed_days_reduce: int | None = None
    missed_reduce_pct: int | None = None
    sedation_reduce_level: int = 3
    sedation_reduce_pct: int = 50
    sedation_block_level: int = 4
    respiratory_rate_min: int | None = None
    intoxication_reduce_pct: int = 50
    # After missed days and a doctor's review, methadone or slow-release morphine restarts
    # at most at this share of the prescribed dose on the first day.
    oral_restart_pct: int = 50
    # Breath alcohol is measured only on suspicion: a dose without a measurement is allowed.
    breath_alcohol_on_suspicion_only: bool = False


@dataclass(frozen=True)
class Titration:
    """Induction plan: the first dose, the largest step from one dose to the next, the goal."""

    start_mg: float
    step_mg: float
    target_mg: float


@dataclass(frozen=True)
class Prescription:
    medication: str
    dose_mg: float  # prescribed for this slot; 0 when none is due in it
    daily_max_mg: float
    issued_on: date
    titration: Titration | None = None
    # The newest doctor's review of this patient's doses of the group: the prescription's
    # own issue, or a later explicit review record. Only a review made after a block
    # began lifts it (a prescription written before the absence reached the threshold
    # is no review of it). Without ``reviewed_on`` the issue day counts.
    reviewed_at: datetime | None = None
    reviewed_on: date | None = None
    # Sessions a day this prescription doses (its slots with a dose); None: the clinic's.
    sessions_per_day: int | None = None

    @property
    def group(self) -> Group:
        return MEDICATION_GROUP[self.medication]

    @property
    def review_day(self) -> date:
        return self.reviewed_on or self.issued_on


# The statuses of a dose the patient took, whole or in part: the one definition that the
# rules, the queries (``status__in=TAKEN``), the ledger and the exports all read.
TAKEN = ("given", "partial")


@dataclass(frozen=True)
class Dose:
    """A recorded dose as it stands after corrections."""

    at: datetime
    day: date
    slot: str
    medication: str
    mg: float
    status: str  # given, partial, withheld, refused, missed
    top_up: bool = False

    @property
    def group(self) -> Group:
        return MEDICATION_GROUP[self.medication]

    @property
    def taken(self) -> bool:
        return self.status in TAKEN and self.mg > 0


class Intoxication(StrEnum):
    """Signs of intoxication with other substances (alcohol has its own measurement)."""

    NONE = "none"
    SUSPECTED = "suspected"
    OBVIOUS = "obvious"


@dataclass(frozen=True)
class Assessment:
    sedation: int | None = None  # POSS 1-4
    breath_alcohol_permille: float | None = None
    respiratory_rate: int | None = None
    intoxication: str | None = None  # an Intoxication value


@dataclass(frozen=True)
class Decision:
    prescribed_mg: float
    max_mg: float
    reasons: tuple[Reason, ...]

    @property
    def blocked(self) -> bool:
        return any(r.severity == Severity.BLOCK for r in self.reasons)

    @property
    def blocks(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if r.severity == Severity.BLOCK)

    def allows(self, mg: float) -> bool:
        return not self.blocked and 0 < mg <= self.max_mg


def floor_mg(value: float) -> float:
    """Doses are kept to 0.1 mg and never rounded up."""
    return math.floor(round(value * 10, 6)) / 10


def _blocked(prescribed: float, *reasons: Reason) -> Decision:
    return Decision(prescribed_mg=prescribed, max_mg=0.0, reasons=tuple(reasons))


def run_start(taken_days: Iterable[date], before_window: date | None, gap: int) -> date | None:
    """The first day of the current run of dosing. A run is broken by ``gap`` or more days
    without a dose. None when the run began before the window (``before_window`` is the
    last day dosed before it) or there is no dose at all."""
    start, previous = None, before_window
    for taken in sorted(set(taken_days)):
        if previous is None or (taken - previous).days - 1 >= gap:
            start = taken
        previous = taken
    return start


def observation_minutes_left(given_at: datetime, now: datetime, minutes: int) -> int:
    """Whole minutes of the protocol's observation still to run (0 when it is over);
    a part of a minute counts as a minute, so 0 means the time is really up."""
    left = given_at.astimezone(UTC) + timedelta(minutes=minutes) - now.astimezone(UTC)
    return max(0, math.ceil(left.total_seconds() / 60))


def decide(
    *,
    protocol: Protocol | None,
    prescription: Prescription | None,
    history: Iterable[Dose],
    now: datetime,
    day: date,
    slot: str,
    slots_per_day: int,
    in_episode: bool,
    taken_before_window: date | None = None,
    assessment: Assessment | None = None,
    breach_at: datetime | None = None,
    top_up: bool = False,
    hold: str | None = None,
) -> Decision:
    """The dose decision for one patient, medication group and session slot.

    ``history`` holds the patient's recorded doses of recent days at every clinic (a
    window of at least ``titration_days + missed_days_block`` days); ``taken_before_window``
    is the last day before that window on which a dose of this group was taken.
    ``breach_at`` is when the newest confirmed breach of this group was recorded (a
    correction or paper dose over a limit): the group is blocked until a doctor's review
    made after it. ``top_up`` asks for the first day's immediate top-up after the first
    injection, a second record in the slot. ``hold`` is the reason of a stop-dose hold on
    the patient ("Stopp dosering"): nothing may be given until a doctor lifts it.

    Every blocking and limiting reason is collected, so the nurse sees all that stands in
    the way, not only the first.
    """
    if not in_episode:
        return _blocked(0.0, Reason("no_episode", Severity.BLOCK))
    if prescription is None:
        return _blocked(0.0, Reason("no_prescription", Severity.BLOCK))
    prescribed = prescription.dose_mg
    if protocol is None:
        return _blocked(prescribed, Reason("no_protocol", Severity.BLOCK))
    if prescribed <= 0:
        return _blocked(0.0, Reason("no_dose_this_slot", Severity.BLOCK, {"slot": slot}))

    group = prescription.group
    doses = [d for d in history if d.group == group]
    in_slot = [d for d in doses if d.day == day and d.slot == slot]
    if in_slot and not top_up:
        return _blocked(
            prescribed, Reason("already_recorded", Severity.BLOCK, {"status": in_slot[0].status})
        )

    blocks: list[Reason] = []
    reasons: list[Reason] = []
    caps: list[float] = [prescribed]
    # Times compared in UTC (see the interval below).
    now = now.astimezone(UTC)
    taken = sorted(
        (d for d in doses if d.taken and d.at.astimezone(UTC) <= now),
        key=lambda d: d.at.astimezone(UTC),
    )
    taken_today = [d for d in taken if d.day == day]
    given_today = sum(d.mg for d in taken_today)

    if hold is not None:
        blocks.append(Reason("hold", Severity.BLOCK, {"reason": hold}))

    if breach_at is not None and (
        prescription.reviewed_at is None or prescription.reviewed_at <= breach_at
    ):
        blocks.append(Reason("breach_review", Severity.BLOCK))

    # Missed days: a run of days without a dose ends the tolerance built up. Only a
    # doctor's review made on or after the day the block began lifts it.
    earlier_days = [d.day for d in taken if d.day < day]
    last_day = max(earlier_days) if earlier_days else taken_before_window
    gap = protocol.missed_days_block
    retitrate = False
    reduce_pct = 0
    if last_day is not None and not taken_today:
        missed = (day - last_day).days - 1
        if missed >= gap:
            if prescription.review_day < last_day + timedelta(days=gap + 1):
                blocks.append(Reason("missed_days", Severity.BLOCK, {"days": missed}))
            else:
                retitrate = True
                reasons.append(Reason("restart_after_review", Severity.WARN, {"days": missed}))
        elif (
            protocol.missed_days_reduce is not None
            and protocol.missed_reduce_pct
            and missed >= protocol.missed_days_reduce
            and prescription.review_day < last_day + timedelta(days=protocol.missed_days_reduce + 1)
        ):
            reduce_pct = protocol.missed_reduce_pct
            reasons.append(
                Reason("missed_reduce", Severity.LIMIT, {"days": missed, "pct": reduce_pct})
            )

    # Which day of the current run of dosing this is (1 = the first dose day).
    if (last_day is None and not taken_today) or retitrate:
        run_day = 1
    else:
        start = run_start([d.day for d in taken], taken_before_window, gap)
        run_day = (day - start).days + 1 if start else protocol.titration_days + 1
    induction = run_day == 1

    if top_up:
        top = _top_up_block(protocol, prescription, in_slot, taken_today, run_day)
        if top is not None:
            return _blocked(prescribed, top)
        caps.append(protocol.first_iv_dose_mg)
        reasons.append(Reason("top_up", Severity.LIMIT, {"max": protocol.first_iv_dose_mg}))
    elif taken:
        # Minimum interval since the last dose (a top-up follows at once instead).
        last = taken[-1]
        required = timedelta(
            minutes=protocol.induction_interval_minutes
            if induction
            else protocol.min_interval_minutes
        )
        # In UTC: Python subtracts two times of one zone by the wall clock, which is wrong
        # across a daylight-saving change.
        elapsed = now - last.at.astimezone(UTC)
        if elapsed < required:
            blocks.append(
                Reason(
                    "interval",
                    Severity.BLOCK,
                    {
                        "elapsed_minutes": int(elapsed.total_seconds() // 60),
                        "required_minutes": int(required.total_seconds() // 60),
                    },
                )
            )

    # Daily maximum: the prescription's and the protocol's, counting every dose of the
    # group today (a combined regimen's injections and tablets share it).
    daily_max = min(prescription.daily_max_mg, protocol.max_daily_mg[group])
    left_today = daily_max - given_today
    if left_today <= 0:
        blocks.append(Reason("daily_max_reached", Severity.BLOCK, {"daily_max": daily_max}))
    elif left_today < prescribed:
        reasons.append(
            Reason("daily_max", Severity.LIMIT, {"daily_max": daily_max, "left": left_today})
        )
    caps.append(left_today)

    single_max = protocol.max_single_mg.get(group)
    if single_max is not None:
        caps.append(single_max)
        if single_max < prescribed:
            reasons.append(Reason("single_max", Severity.LIMIT, {"max": single_max}))

    # Induction and titration limits.
    if not top_up:
        for cap, reason in _titration_caps(
            protocol, prescription, taken, taken_today, day, run_day, slots_per_day, retitrate
        ):
            if reason.severity == Severity.BLOCK:
                blocks.append(reason)
            elif cap < prescribed:
                caps.append(cap)
                reasons.append(reason)

    max_mg = min(caps)

    # Pre-dose assessment.
    if assessment is not None:
        blocks += _assessment_blocks(protocol, assessment)
        sedation = assessment.sedation
        if (
            sedation is not None
            and protocol.sedation_reduce_level <= sedation < protocol.sedation_block_level
        ):
            reasons.append(
                Reason(
                    "sedation_reduce",
                    Severity.LIMIT,
                    {"level": sedation, "pct": protocol.sedation_reduce_pct},
                )
            )
            max_mg *= 1 - protocol.sedation_reduce_pct / 100
        if assessment.intoxication == Intoxication.SUSPECTED:
            reasons.append(
                Reason(
                    "intoxication_reduce",
                    Severity.LIMIT,
                    {"pct": protocol.intoxication_reduce_pct},
                )
            )
            max_mg *= 1 - protocol.intoxication_reduce_pct / 100
    if reduce_pct:
        max_mg *= 1 - reduce_pct / 100

    # The warning counts injected diacetylmorphine only (tablets are not in it), and only
    # when this dose (what may be given now) would take the day's total over the line.
    if prescription.medication == "dam_injectable":
        injected = sum(d.mg for d in taken_today if d.medication == "dam_injectable")
        warning = iv_over_warn(
            protocol.iv_warn_daily_mg, injected, floor_mg(min(max(0.0, max_mg), prescribed))
        )
        if warning is not None:
            reasons.append(warning)
    if blocks:
        return Decision(prescribed_mg=prescribed, max_mg=0.0, reasons=(*blocks, *reasons))
    return Decision(
        prescribed_mg=prescribed, max_mg=floor_mg(max(0.0, max_mg)), reasons=tuple(reasons)
    )


def iv_over_warn(warn_mg: float, injected_mg: float, dose_mg: float) -> Reason | None:
    """The warning that this dose takes the day's injected diacetylmorphine over the
    protocol's line (600 mg by default): only when ``injected_mg`` already given today and
    ``dose_mg`` together are above it; at the line exactly it is not over."""
    if dose_mg <= 0 or injected_mg + dose_mg <= warn_mg:
        return None
    return Reason(
        "iv_over_warn",
        Severity.WARN,
        {"warn": warn_mg, "injected": injected_mg, "dose": dose_mg},
    )


def for_dose_given(reasons: Iterable[Reason], dose_mg: float) -> tuple[Reason, ...]:
    """The decision's reasons for the dose actually given (a nurse may give less than
    allowed): the 600 mg warning is kept, with this dose, only when it still holds."""
    kept: list[Reason] = []
    for reason in reasons:
        if reason.code == "iv_over_warn":
            p = reason.params
            reason = iv_over_warn(float(p["warn"]), float(p.get("injected", 0)), dose_mg)
            if reason is None:
                continue
        kept.append(reason)
    return tuple(kept)


def _top_up_block(
    protocol: Protocol,
    prescription: Prescription,
    in_slot: list[Dose],
    taken_today: list[Dose],
    run_day: int,
) -> Reason | None:
    """Why the first day's top-up may not be given now, or None when it may: right after
    the run's first injection of diacetylmorphine, once, in the same session."""
    allowed = (
        prescription.medication == "dam_injectable"
        and run_day == 1
        and len(in_slot) == 1
        and in_slot[0].taken
        and not in_slot[0].top_up
        and len(taken_today) == 1
        and taken_today[0] is in_slot[0]
    )
    return None if allowed else Reason("top_up_not_allowed", Severity.BLOCK)


def _assessment_blocks(protocol: Protocol, assessment: Assessment) -> list[Reason]:
    blocks: list[Reason] = []
    if assessment.sedation is not None and assessment.sedation >= protocol.sedation_block_level:
        blocks.append(Reason("sedation_block", Severity.BLOCK, {"level": assessment.sedation}))
    alcohol = assessment.breath_alcohol_permille
    if alcohol is not None and alcohol > protocol.breath_alcohol_max_permille:
        blocks.append(
            Reason(
                "alcohol",
                Severity.BLOCK,
                {"value": alcohol, "max": protocol.breath_alcohol_max_permille},
            )
        )
    rate = assessment.respiratory_rate
    if (
        rate is not None
        and protocol.respiratory_rate_min is not None
        and rate < protocol.respiratory_rate_min
    ):
        blocks.append(
            Reason(
                "respiration", Severity.BLOCK, {"value": rate, "min": protocol.respiratory_rate_min}
            )
        )
    if assessment.intoxication == Intoxication.OBVIOUS:
        blocks.append(Reason("intoxication_block", Severity.BLOCK))
    return blocks


def titration_step(plan: Titration, previous_mg: float | None) -> tuple[float, Reason]:
    """The induction plan's limit on the next dose, with its reason: the plan's first dose
    when there is no previous one in the run, else the previous dose plus the step, never
    over the plan's goal."""
    allowed = (
        plan.start_mg if previous_mg is None else min(plan.target_mg, previous_mg + plan.step_mg)
    )
    return allowed, Reason("titration_step", Severity.LIMIT, {"max": allowed})


def _titration_caps(
    protocol: Protocol,
    prescription: Prescription,
    taken: list[Dose],
    taken_today: list[Dose],
    day: date,
    run_day: int,
    slots_per_day: int,
    retitrate: bool,
) -> list[tuple[float, Reason]]:
    """The induction limits that apply now, each with its reason (a BLOCK reason where
    nothing may be given)."""
    caps: list[tuple[float, Reason]] = []
    plan = prescription.titration
    previous = None if retitrate or not taken else taken[-1]
    if plan is not None:
        caps.append(titration_step(plan, None if previous is None else previous.mg))
    medication = prescription.medication
    given_today = sum(d.mg for d in taken_today)
    if run_day == 1 and retitrate and medication in ORAL_OPIOIDS:
        # Methadone and slow-release morphine restart lower after missed days.
        limit = prescription.dose_mg * protocol.oral_restart_pct / 100
        caps.append((limit, Reason("oral_restart", Severity.LIMIT, {"max": limit})))
    if run_day > protocol.titration_days:
        return caps
    yesterday = sum(d.mg for d in taken if d.day == day - timedelta(days=1))
    if medication in INJECTABLE:
        sessions = prescription.sessions_per_day or slots_per_day
        if run_day == 1:
            limit = protocol.first_iv_dose_mg if not taken_today else protocol.day1_max_iv_dose_mg
            caps.append((limit, Reason("first_day_iv", Severity.LIMIT, {"max": limit})))
        elif sessions >= 3:
            if yesterday <= 0:
                caps.append((0.0, Reason("prev_day_none", Severity.BLOCK)))
            else:
                limit = yesterday * protocol.prev_day_pct_three_sessions / 100
                caps.append((limit, Reason("prev_day_share", Severity.LIMIT, {"max": limit})))
        elif previous is not None:
            limit = previous.mg * (1 + protocol.step_pct_two_sessions / 100)
            caps.append((limit, Reason("step_from_previous", Severity.LIMIT, {"max": limit})))
    elif medication in ORAL_DAM:
        if run_day == 1 and not taken_today:
            limit = protocol.first_oral_dose_mg
            caps.append((limit, Reason("first_oral", Severity.LIMIT, {"max": limit})))
        else:
            # The day's total rises by at most the step over the day before (nothing the
            # day before the run began).
            base = 0.0 if run_day == 1 else yesterday
            limit = max(0.0, base + protocol.oral_daily_step_mg - given_today)
            if limit <= 0:
                caps.append(
                    (
                        0.0,
                        Reason(
                            "oral_daily_step_reached",
                            Severity.BLOCK,
                            {"max": base + protocol.oral_daily_step_mg},
                        ),
                    )
                )
            else:
                caps.append((limit, Reason("oral_daily_step", Severity.LIMIT, {"max": limit})))
    return caps


# A day's records checked after the fact (corrections, paper doses) ----------------------
#
# A correction or a dose typed in from the paper list records what happened, so it is
# never refused for being unsafe; instead the whole day is checked as it stands with it,
# in both directions (a paper dose typed in after a later electronic one is checked
# against both), and every breach is listed for the nurse to confirm.


def day_breaches(
    *,
    protocol: Protocol,
    prescriptions: Mapping[str, Prescription],
    doses: Iterable[Dose],
    group: Group,
    day: date,
    slots_per_day: int,
    taken_before_window: date | None = None,
    prescribed: Mapping[tuple[str, str], float] | None = None,
) -> list[Reason]:
    """Every limit that the taken doses of ``group`` on ``day`` break, as the records
    stand (the correction in place of its target, the paper dose added): any two doses
    closer than the interval, the day's total over the daily maximum, a dose over the
    single maximum or over what was prescribed for its session (``prescribed``:
    (medication, slot) to mg; 0 or absent is not checked) and the titration limits of
    the run's first days. Empty when the day keeps every limit.

    ``prescriptions`` are the group's prescriptions in force on the day, by medication;
    ``doses`` the patient's records of the window before and including the day (doses of
    later days are checked for the interval across midnight only)."""
    taken = sorted(
        (d for d in doses if d.group == group and d.taken),
        key=lambda d: d.at.astimezone(UTC),
    )
    gap = protocol.missed_days_block
    taken_days = sorted({d.day for d in taken})

    def run_day_of(when: date) -> int:
        start = run_start([x for x in taken_days if x <= when], taken_before_window, gap)
        return (when - start).days + 1 if start else protocol.titration_days + 1

    today = [d for d in taken if d.day == day]
    if not today:
        return []
    run_day = run_day_of(day)
    start = run_start([x for x in taken_days if x <= day], taken_before_window, gap)
    own = [p for p in prescriptions.values() if p.group == group]

    def valid_top_up(dose: Dose) -> bool:
        """A top-up right after the run's first injection, in the same session: the only
        dose that may follow at once."""
        before = [d for d in today if d.at.astimezone(UTC) < dose.at.astimezone(UTC)]
        return (
            dose.top_up
            and dose.medication == "dam_injectable"
            and run_day == 1
            and len(before) == 1
            and not before[0].top_up
            and before[0].slot == dose.slot
        )

    breaches: list[Reason] = []

    # The interval between each two doses next to each other in time (any two further
    # apart are then far enough apart too).
    for index in range(1, len(taken)):
        earlier, later = taken[index - 1], taken[index]
        if day not in (earlier.day, later.day) or (later.day == day and valid_top_up(later)):
            continue
        required = timedelta(
            minutes=protocol.induction_interval_minutes
            if run_day_of(later.day) == 1
            else protocol.min_interval_minutes
        )
        # In UTC: across a daylight-saving change the wall clock is wrong.
        elapsed = later.at.astimezone(UTC) - earlier.at.astimezone(UTC)
        if elapsed < required:
            breaches.append(
                Reason(
                    "breach_interval",
                    Severity.BLOCK,
                    {
                        "earlier": earlier.at,
                        "later": later.at,
                        "elapsed_minutes": int(elapsed.total_seconds() // 60),
                        "required_minutes": int(required.total_seconds() // 60),
                    },
                )
            )

    # The daily maximum: the protocol's and every prescription's of the group (a combined
    # regimen's injections and tablets share it).
    daily_max = min([protocol.max_daily_mg[group], *(p.daily_max_mg for p in own)])
    total = round(sum(d.mg for d in today), 6)
    if total > daily_max:
        breaches.append(
            Reason("breach_daily_max", Severity.BLOCK, {"total": total, "daily_max": daily_max})
        )

    single_max = protocol.max_single_mg.get(group)
    for dose in today:
        if single_max is not None and dose.mg > single_max:
            breaches.append(
                Reason(
                    "breach_single_max",
                    Severity.BLOCK,
                    {"mg": dose.mg, "max": single_max, "at": dose.at},
                )
            )
        limit = (prescribed or {}).get((dose.medication, dose.slot)) or 0
        if limit > 0 and dose.mg > limit and not valid_top_up(dose):
            breaches.append(
                Reason(
                    "breach_prescribed",
                    Severity.BLOCK,
                    {"mg": dose.mg, "max": limit, "at": dose.at},
                )
            )

    breaches += _day_titration_breaches(
        protocol, prescriptions, taken, today, day, run_day, start, slots_per_day, valid_top_up
    )
    return breaches


def _day_titration_breaches(
    protocol: Protocol,
    prescriptions: Mapping[str, Prescription],
    taken: list[Dose],
    today: list[Dose],
    day: date,
    run_day: int,
    start: date | None,
    slots_per_day: int,
    valid_top_up,
) -> list[Reason]:
    """The titration limits each of the day's doses breaks (the plan's step, and in the
    run's first days the protocol's induction limits)."""
    breaches: list[Reason] = []

    def breach(rule: str, dose: Dose, limit: float) -> None:
        breaches.append(
            Reason(
                "breach_titration",
                Severity.BLOCK,
                {"rule": rule, "mg": dose.mg, "max": limit, "at": dose.at},
            )
        )

    yesterday = sum(d.mg for d in taken if d.day == day - timedelta(days=1))
    for number, dose in enumerate(today):
        position = next(i for i, d in enumerate(taken) if d is dose)
        previous = taken[position - 1] if position else None
        if previous is not None and start is not None and previous.day < start:
            previous = None  # the first dose of a new run
        earlier_today = today[:number]
        prescription = prescriptions.get(dose.medication)
        plan = prescription.titration if prescription else None
        if valid_top_up(dose):
            if dose.mg > protocol.first_iv_dose_mg:
                breach("top_up", dose, protocol.first_iv_dose_mg)
            continue
        if plan is not None:
            allowed = titration_step(plan, None if previous is None else previous.mg)[0]
            if dose.mg > allowed:
                breach("titration_step", dose, allowed)
        if run_day > protocol.titration_days:
            continue
        if dose.medication in INJECTABLE:
            sessions = (prescription.sessions_per_day if prescription else None) or slots_per_day
            if run_day == 1:
                limit = protocol.day1_max_iv_dose_mg if earlier_today else protocol.first_iv_dose_mg
                if dose.mg > limit:
                    breach("first_day_iv", dose, limit)
            elif sessions >= 3:
                limit = yesterday * protocol.prev_day_pct_three_sessions / 100
                if dose.mg > limit:
                    breach("prev_day_share", dose, limit)
            elif previous is not None:
                limit = previous.mg * (1 + protocol.step_pct_two_sessions / 100)
                if dose.mg > round(limit, 6):
                    breach("step_from_previous", dose, limit)
        elif (
            dose.medication in ORAL_DAM
            and run_day == 1
            and not earlier_today
            and dose.mg > protocol.first_oral_dose_mg
        ):
            breach("first_oral", dose, protocol.first_oral_dose_mg)

    # Tablets: the day's total rises by at most the step over the day before (nothing
    # the day before the run began).
    if run_day <= protocol.titration_days and any(d.medication in ORAL_DAM for d in today):
        limit = (0.0 if run_day == 1 else yesterday) + protocol.oral_daily_step_mg
        total = round(sum(d.mg for d in today), 6)
        if total > limit:
            breaches.append(
                Reason(
                    "breach_titration",
                    Severity.BLOCK,
                    {"rule": "oral_daily_step", "total": total, "max": limit},
                )
            )
    return breaches
