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


class Group(StrEnum):
    """Medications whose doses add up against one daily maximum."""

    DAM = "dam"
    HYDROMORPHONE = "hydromorphone"
    METHADONE = "methadone"
    MORPHINE = "morphine"


MEDICATION_GROUP: dict[str, Group] = {
    "dam_injectable": Group.DAM,
    "dam_tablet_ir": Group.DAM,
    "dam_tablet_sr": Group.DAM,
    "hydromorphone_injectable": Group.HYDROMORPHONE,
    "methadone_oral": Group.METHADONE,
    "morphine_sr_oral": Group.MORPHINE,
}
INJECTABLE = frozenset({"dam_injectable", "hydromorphone_injectable"})
ORAL_DAM = frozenset({"dam_tablet_ir", "dam_tablet_sr"})


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

    @property
    def group(self) -> Group:
        return MEDICATION_GROUP[self.medication]


@dataclass(frozen=True)
class Dose:
    """A recorded dose as it stands after corrections."""

    at: datetime
    day: date
    slot: str
    medication: str
    mg: float
    status: str  # given, partial, withheld, refused, missed

    @property
    def group(self) -> Group:
        return MEDICATION_GROUP[self.medication]

    @property
    def taken(self) -> bool:
        return self.status in ("given", "partial") and self.mg > 0


@dataclass(frozen=True)
class Assessment:
    sedation: int | None = None  # POSS 1-4
    breath_alcohol_permille: float | None = None
    respiratory_rate: int | None = None


@dataclass(frozen=True)
class Decision:
    prescribed_mg: float
    max_mg: float
    reasons: tuple[Reason, ...]

    @property
    def blocked(self) -> bool:
        return any(r.severity == Severity.BLOCK for r in self.reasons)

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
) -> Decision:
    """The dose decision for one patient, medication group and session slot.

    ``history`` holds the patient's recorded doses of recent days at every clinic (a
    window of at least ``titration_days + missed_days_block`` days); ``taken_before_window``
    is the last day before that window on which a dose of this group was taken.
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
    if in_slot:
        return _blocked(
            prescribed, Reason("already_recorded", Severity.BLOCK, {"status": in_slot[0].status})
        )

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

    # Missed days: a run of days without a dose ends the tolerance built up.
    earlier_days = [d.day for d in taken if d.day < day]
    last_day = max(earlier_days) if earlier_days else taken_before_window
    gap = protocol.missed_days_block
    retitrate = False
    if last_day is not None and not taken_today:
        missed = (day - last_day).days - 1
        reviewed = prescription.issued_on > last_day
        if missed >= gap:
            if not reviewed:
                return _blocked(prescribed, Reason("missed_days", Severity.BLOCK, {"days": missed}))
            retitrate = True
            reasons.append(Reason("restart_after_review", Severity.WARN, {"days": missed}))
        elif (
            protocol.missed_days_reduce is not None
            and protocol.missed_reduce_pct
            and missed >= protocol.missed_days_reduce
            and not reviewed
        ):
            reasons.append(
                Reason(
                    "missed_reduce",
                    Severity.LIMIT,
                    {"days": missed, "pct": protocol.missed_reduce_pct},
                )
            )

    # Which day of the current run of dosing this is (1 = the first dose day).
    if (last_day is None and not taken_today) or retitrate:
        run_day = 1
    else:
        start = run_start([d.day for d in taken], taken_before_window, gap)
        run_day = (day - start).days + 1 if start else protocol.titration_days + 1
    induction = run_day == 1

    # Minimum interval since the last dose.
    if taken:
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
            return _blocked(
                prescribed,
                Reason(
                    "interval",
                    Severity.BLOCK,
                    {
                        "elapsed_minutes": int(elapsed.total_seconds() // 60),
                        "required_minutes": int(required.total_seconds() // 60),
                    },
                ),
            )

    # Daily maximum: the prescription's and the protocol's, counting every dose today.
    daily_max = min(prescription.daily_max_mg, protocol.max_daily_mg[group])
    left_today = daily_max - given_today
    if left_today <= 0:
        return _blocked(
            prescribed, Reason("daily_max_reached", Severity.BLOCK, {"daily_max": daily_max})
        )
    if left_today < prescribed:
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
    titration_cap = _titration_cap(
        protocol, prescription, taken, taken_today, day, run_day, slots_per_day, retitrate
    )
    if titration_cap is not None and titration_cap[0] < prescribed:
        caps.append(titration_cap[0])
        reasons.append(titration_cap[1])

    max_mg = min(caps)

    # Pre-dose assessment.
    if assessment is not None:
        block = _assessment_block(protocol, assessment)
        if block is not None:
            return _blocked(prescribed, block)
        if (
            assessment.sedation is not None
            and assessment.sedation >= protocol.sedation_reduce_level
        ):
            reasons.append(
                Reason(
                    "sedation_reduce",
                    Severity.LIMIT,
                    {"level": assessment.sedation, "pct": protocol.sedation_reduce_pct},
                )
            )
            max_mg *= 1 - protocol.sedation_reduce_pct / 100
    for reason in reasons:
        if reason.code == "missed_reduce":
            max_mg *= 1 - protocol.missed_reduce_pct / 100

    iv_dam = prescription.medication in INJECTABLE and group == Group.DAM
    if iv_dam and given_today + min(max_mg, prescribed) > protocol.iv_warn_daily_mg:
        reasons.append(Reason("iv_over_warn", Severity.WARN, {"warn": protocol.iv_warn_daily_mg}))
    return Decision(
        prescribed_mg=prescribed, max_mg=floor_mg(max(0.0, max_mg)), reasons=tuple(reasons)
    )


def _assessment_block(protocol: Protocol, assessment: Assessment) -> Reason | None:
    if assessment.sedation is not None and assessment.sedation >= protocol.sedation_block_level:
        return Reason("sedation_block", Severity.BLOCK, {"level": assessment.sedation})
    alcohol = assessment.breath_alcohol_permille
    if alcohol is not None and alcohol > protocol.breath_alcohol_max_permille:
        return Reason(
            "alcohol",
            Severity.BLOCK,
            {"value": alcohol, "max": protocol.breath_alcohol_max_permille},
        )
    rate = assessment.respiratory_rate
    if (
        rate is not None
        and protocol.respiratory_rate_min is not None
        and rate < protocol.respiratory_rate_min
    ):
        return Reason(
            "respiration", Severity.BLOCK, {"value": rate, "min": protocol.respiratory_rate_min}
        )
    return None


def _titration_cap(
    protocol: Protocol,
    prescription: Prescription,
    taken: list[Dose],
    taken_today: list[Dose],
    day: date,
    run_day: int,
    slots_per_day: int,
    retitrate: bool,
) -> tuple[float, Reason] | None:
    """The induction limit that applies now, if any, with its reason."""
    caps: list[tuple[float, Reason]] = []
    plan = prescription.titration
    previous = None if retitrate or not taken else taken[-1]
    if plan is not None:
        allowed = (
            plan.start_mg if previous is None else min(plan.target_mg, previous.mg + plan.step_mg)
        )
        caps.append((allowed, Reason("titration_step", Severity.LIMIT, {"max": allowed})))
    if run_day > protocol.titration_days:
        return min(caps, key=lambda c: c[0]) if caps else None
    medication = prescription.medication
    if medication in INJECTABLE:
        if run_day == 1:
            limit = protocol.first_iv_dose_mg if not taken_today else protocol.day1_max_iv_dose_mg
            caps.append((limit, Reason("first_day_iv", Severity.LIMIT, {"max": limit})))
        elif slots_per_day >= 3:
            yesterday = sum(d.mg for d in taken if d.day == day - timedelta(days=1))
            limit = yesterday * protocol.prev_day_pct_three_sessions / 100
            caps.append((limit, Reason("prev_day_share", Severity.LIMIT, {"max": limit})))
        elif previous is not None:
            limit = previous.mg * (1 + protocol.step_pct_two_sessions / 100)
            caps.append((limit, Reason("step_from_previous", Severity.LIMIT, {"max": limit})))
    elif medication in ORAL_DAM:
        if run_day == 1 and not taken_today:
            limit = protocol.first_oral_dose_mg
            caps.append((limit, Reason("first_oral", Severity.LIMIT, {"max": limit})))
        elif run_day > 1:
            yesterday = sum(d.mg for d in taken if d.day == day - timedelta(days=1))
            today = sum(d.mg for d in taken_today)
            limit = max(0.0, yesterday + protocol.oral_daily_step_mg - today)
            caps.append((limit, Reason("oral_daily_step", Severity.LIMIT, {"max": limit})))
    return min(caps, key=lambda c: c[0]) if caps else None
