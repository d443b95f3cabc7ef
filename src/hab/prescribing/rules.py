"""Pure rules of prescribing (no Django): what a clinic's dosing protocol may hold.

Services, forms, the API, the database's check constraints and the docs all read the
tables below; nothing else states a protocol limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

# ---------------------------------------------------------------------------------------
# Medications
# ---------------------------------------------------------------------------------------


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
# Oral opioids given beside the treatment (night cover), with their own restart rule.
ORAL_OPIOIDS = frozenset({"methadone_oral", "morphine_sr_oral"})


# ---------------------------------------------------------------------------------------
# Protocol ranges
#
# Every setting of a protocol version has a range that cannot switch a safeguard off:
# no maximum above the published one, no interval, observation or reduction that is
# zero, no sedation gate that can never close. Where the sources give a number, the
# range ends at it; where they give none (the single-dose maximum, breath alcohol), the
# range is HAB's, and says so. docs/protocol.md gives each range with its reasoning.
# ---------------------------------------------------------------------------------------

Number = Decimal | int


@dataclass(frozen=True)
class Range:
    """A protocol setting's allowed values, both ends included."""

    setting: str
    low: Number
    high: Number
    unit: str  # "mg", "min", "h", "%", "‰", "days", "level", "/min"
    # May be left empty (no value: the check it drives is not made, or, for the values
    # without a source, the version cannot be put in force).
    optional: bool
    why: str  # the reasoning and its source, for the docs

    def holds(self, value: Number) -> bool:
        return Decimal(str(self.low)) <= Decimal(str(value)) <= Decimal(str(self.high))


def _d(text: str) -> Decimal:
    return Decimal(text)


PROTOCOL_RANGES: dict[str, Range] = {
    r.setting: r
    for r in (
        Range(
            "dam_max_single_mg",
            15,
            500,
            "mg",
            True,
            "No published value: required before a version is put in force. Not below the "
            "first IV dose, not above half the 1000 mg daily maximum (two sessions a day).",
        ),
        Range(
            "dam_max_daily_mg",
            100,
            1000,
            "mg",
            False,
            "1000 mg a day: Dutch heroin trials (Blanken 2005; Dijkgraaf, BMJ 2005).",
        ),
        Range(
            "dam_iv_warn_daily_mg",
            100,
            600,
            "mg",
            False,
            "Swiss Diaphin information: above 600 mg IV a day is less effective; a higher "
            "threshold would silence the warning.",
        ),
        Range(
            "hydromorphone_max_single_mg",
            5,
            250,
            "mg",
            True,
            "No published value; optional. At most half the 500 mg daily maximum.",
        ),
        Range(
            "hydromorphone_max_daily_mg",
            50,
            500,
            "mg",
            False,
            "500 mg a day: SALOME (NCT01447212).",
        ),
        Range(
            "methadone_max_daily_mg",
            10,
            150,
            "mg",
            False,
            "Adjunct methadone up to 150 mg a day: CRISM iOAT guideline.",
        ),
        Range(
            "morphine_max_daily_mg",
            60,
            600,
            "mg",
            False,
            "Adjunct slow-release morphine 400-600 mg a day: CRISM; case series PMC7392795.",
        ),
        Range(
            "min_interval_minutes",
            120,
            480,
            "min",
            False,
            "3 h by default (case series PMC7392795); never under 2 h between maintenance "
            "doses; above 8 h a clinic's second session could not be given.",
        ),
        Range(
            "induction_interval_minutes",
            30,
            180,
            "min",
            False,
            "At least 30 min between doses on the first day: Swiss Diaphin information.",
        ),
        Range(
            "observation_minutes",
            15,
            120,
            "min",
            False,
            "At least 15 min: most serious events come within minutes (German trial, "
            "Addiction 2011); 20 min by default.",
        ),
        Range(
            "first_iv_dose_mg",
            5,
            15,
            "mg",
            False,
            "15 mg first IV dose: Swiss Diaphin information; a clinic may start lower.",
        ),
        Range(
            "day1_max_iv_dose_mg",
            5,
            30,
            "mg",
            False,
            "Later doses on day 1 at most 30 mg each: Swiss Diaphin information.",
        ),
        Range(
            "first_oral_dose_mg",
            10,
            100,
            "mg",
            False,
            "First oral DAM dose 100 mg: Swiss Diaphin information.",
        ),
        Range(
            "oral_daily_step_mg",
            50,
            300,
            "mg",
            False,
            "Oral DAM rises at most 300 mg a day: Swiss Diaphin information.",
        ),
        Range(
            "step_pct_two_sessions",
            10,
            50,
            "%",
            False,
            "Two sessions a day: at most +50 % over the previous dose (Swiss Diaphin "
            "information); 0 would stop every titration.",
        ),
        Range(
            "prev_day_pct_three_sessions",
            10,
            50,
            "%",
            False,
            "Three sessions a day: a dose at most 50 % of yesterday's total (Swiss Diaphin "
            "information).",
        ),
        Range(
            "titration_days",
            3,
            5,
            "days",
            False,
            "3-day induction (NAOMI, SALOME), up to 5 days (case series PMC7392795).",
        ),
        Range(
            "missed_days_block",
            1,
            3,
            "days",
            False,
            "Blocked for a doctor's review after 3 days without a dose at the latest (NZ "
            "OST guidance, Easydose); a later block would let a patient who has lost "
            "tolerance get a full dose.",
        ),
        Range(
            "missed_days_reduce",
            1,
            2,
            "days",
            True,
            "Optional reduction before the block: fewer days than the block.",
        ),
        Range(
            "missed_reduce_pct",
            25,
            50,
            "%",
            True,
            "With the reduction: 25-50 %, as for sedation; never 0.",
        ),
        Range(
            "sedation_reduce_level",
            2,
            3,
            "level",
            False,
            "POSS 3 reduces (Pasero scale, RNAO); a clinic may reduce from 2.",
        ),
        Range(
            "sedation_reduce_pct",
            25,
            50,
            "%",
            False,
            "Reduce 25-50 % at the reduce level: Pasero scale guidance (RNAO).",
        ),
        Range(
            "sedation_block_level",
            3,
            4,
            "level",
            False,
            "POSS 4 never gets a dose (Pasero scale); 5 does not exist, so it would never block.",
        ),
        Range(
            "intoxication_reduce_pct",
            25,
            50,
            "%",
            False,
            "Suspected intoxication with other substances reduces the dose (CRISM "
            "pre-dose assessment); 25-50 % as for sedation.",
        ),
        Range(
            "oral_restart_pct",
            25,
            50,
            "%",
            False,
            "After missed days and a doctor's review, methadone or slow-release morphine "
            "restarts at most at this share of the prescribed dose on the first day: lost "
            "tolerance (New Zealand OST guidance: reassess and restart lower after 3 missed "
            "doses); never the full dose.",
        ),
        Range(
            "breath_alcohol_max_permille",
            _d("0.00"),
            _d("0.50"),
            "‰",
            True,
            "No published value: required before a version is put in force. Alcohol adds to "
            "the respiratory depression; never above 0.5 ‰.",
        ),
        Range(
            "respiratory_rate_min",
            8,
            12,
            "/min",
            True,
            "Optional: below 8 breaths a minute is opioid respiratory depression; above 12 "
            "would refuse healthy adults.",
        ),
        Range(
            "stock_count_hours",
            1,
            24,
            "h",
            False,
            "Controlled drugs are counted at least once a day; 8 h = every shift change.",
        ),
    )
}


@dataclass(frozen=True)
class Switch:
    """A protocol setting that is on or off. It has no range: each answer is a safe way
    of working, with its own check in the dosing room (``why`` says which)."""

    setting: str
    default: bool
    why: str


PROTOCOL_SWITCHES: dict[str, Switch] = {
    s.setting: s
    for s in (
        Switch(
            "breath_alcohol_on_suspicion_only",
            False,
            "Off: breath alcohol is measured before every dose and an empty field is refused. "
            "On: measured when intoxication is suspected; an empty field means not measured "
            "(the alcohol limit still stops a dose when a measurement is over it).",
        ),
    )
}


@dataclass(frozen=True)
class Order:
    """A rule between two settings: ``setting`` must be above (or at least) ``other``.
    Made only when both have a value."""

    setting: str
    other: str
    strict: bool  # True: above; False: at least
    why: str


PROTOCOL_ORDERS: tuple[Order, ...] = (
    Order(
        "sedation_block_level",
        "sedation_reduce_level",
        True,
        "The block level is above the reduce level, or the reduction is never reached.",
    ),
    Order(
        "day1_max_iv_dose_mg",
        "first_iv_dose_mg",
        False,
        "The later day-1 doses may be as large as the first, not smaller.",
    ),
    Order(
        "dam_max_single_mg",
        "day1_max_iv_dose_mg",
        False,
        "The day-1 caps lie within the single-dose maximum.",
    ),
    Order(
        "dam_max_single_mg",
        "first_oral_dose_mg",
        False,
        "The first oral dose lies within the single-dose maximum.",
    ),
    Order(
        "dam_max_daily_mg",
        "dam_max_single_mg",
        False,
        "One dose cannot be more than the day's maximum.",
    ),
    Order(
        "hydromorphone_max_daily_mg",
        "hydromorphone_max_single_mg",
        False,
        "One dose cannot be more than the day's maximum.",
    ),
    Order(
        "missed_days_block",
        "missed_days_reduce",
        True,
        "The reduction comes before the block.",
    ),
)

# Settings that are set together or not at all (the reduction after missed days needs both
# the number of days and the percentage).
PROTOCOL_TOGETHER: tuple[tuple[str, str], ...] = (("missed_days_reduce", "missed_reduce_pct"),)


@dataclass(frozen=True)
class Problem:
    """Why a setting's value is refused: ``range`` (outside ``Range``), ``required``
    (empty but not optional), ``order`` (against ``other``) or ``together`` (empty while
    ``other`` is set)."""

    setting: str
    code: str
    other: str | None = None


def _number(value: object) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def protocol_problems(values: Mapping[str, object]) -> list[Problem]:
    """Everything wrong with a whole protocol version's values, in table order. A setting
    missing from ``values`` counts as empty; values that are not numbers are the caller's
    to refuse (they get no problem here, nor do the rules that involve them)."""
    problems: list[Problem] = []
    refused: set[str] = set()
    for name, bounds in PROTOCOL_RANGES.items():
        raw = values.get(name)
        number = _number(raw)
        if raw is None or raw == "":
            if not bounds.optional:
                problems.append(Problem(name, "required"))
                refused.add(name)
        elif number is not None and not bounds.holds(number):
            problems.append(Problem(name, "range"))
            refused.add(name)
    for first, second in PROTOCOL_TOGETHER:
        a, b = _number(values.get(first)), _number(values.get(second))
        if (a is None) != (b is None):
            empty, other = (first, second) if a is None else (second, first)
            problems.append(Problem(empty, "together", other))
            refused.add(empty)
    for order in PROTOCOL_ORDERS:
        if order.setting in refused or order.other in refused:
            continue
        a, b = _number(values.get(order.setting)), _number(values.get(order.other))
        if a is None or b is None:
            continue
        if a < b or (order.strict and a == b):
            problems.append(Problem(order.setting, "order", order.other))
    return problems


def protocol_changes(
    before: Mapping[str, object] | None, after: Mapping[str, object]
) -> list[tuple[str, object, object]]:
    """The settings whose value differs, as (setting, before, after), in table order;
    with no version before, every setting that has a value."""
    changed = []
    for name in PROTOCOL_RANGES:
        old = None if before is None else before.get(name)
        new = after.get(name)
        if _number(old) != _number(new) or (old is None) != (new is None):
            changed.append((name, old, new))
    for name in PROTOCOL_SWITCHES:
        old = None if before is None else before.get(name)
        new = after.get(name)
        if old != new:
            changed.append((name, old, new))
    return changed


# ---------------------------------------------------------------------------------------
# Prescriptions: chains, the combined DAM regimen and the adjunct oral opioids
#
# Every prescription belongs to a chain, and a new one supersedes the last of its chain.
# Injected and oral DAM are chains of their own, so one of each may be in force together
# (a combined regimen, e.g. injections by day and a slow-release tablet for the night).
# For dosing they stay one medication group: one record per session, the interval and
# the daily maximum count both. So they may not both have a dose in one session, and
# their daily maxima together stay within the protocol's DAM daily maximum: each can be
# given up to its own maximum without the day going over the shared one.
# Methadone and slow-release morphine are both adjunct oral opioids (night cover): one
# or the other (CRISM guideline; protocol-defaults.md), both only when a doctor
# overrides the rule with a reason.
# ---------------------------------------------------------------------------------------

CHAINS: dict[str, str] = {
    "dam_injectable": "dam_injectable",
    "dam_tablet_ir": "dam_oral",
    "dam_tablet_sr": "dam_oral",
    "hydromorphone_injectable": "hydromorphone",
    "methadone_oral": "methadone",
    "morphine_sr_oral": "morphine",
}
# The two halves of a combined DAM regimen.
COMBINED_DAM = frozenset({"dam_injectable", "dam_oral"})
# The adjunct oral opioids, of which one may be in force (without a doctor's override).
ADJUNCTS = frozenset({"methadone", "morphine"})
# The problems a doctor may override with a reason (recorded with the prescription).
OVERRIDABLE = frozenset({"adjunct_both"})


def chain_of(medication: str) -> str:
    """The chain a prescription of the medication belongs to (its successor's)."""
    return CHAINS[medication]


def chain_medications(medication: str) -> list[str]:
    """The medications whose prescriptions form one chain with the medication's."""
    chain = CHAINS[medication]
    return [m for m, c in CHAINS.items() if c == chain]


@dataclass(frozen=True)
class Planned:
    """A prescription as these rules read it: the new one, or one in force or coming."""

    medication: str
    doses_mg: Mapping[str, float]
    daily_max_mg: float


@dataclass(frozen=True)
class PrescriptionProblem:
    """Why a prescription cannot be made together with another of the patient's.

    ``code``: ``"combined_session"`` (both DAM prescriptions dose in ``slot``),
    ``"combined_daily_max"`` (their daily maxima add up to ``total`` mg, above the
    protocol's ``limit``), ``"adjunct_both"`` (methadone and slow-release morphine).
    ``field`` is the field of the new prescription the problem belongs to."""

    field: str
    code: str
    other: str  # the other prescription's medication
    slot: str = ""
    total: float = 0.0
    limit: float = 0.0


def prescription_problems(
    new: Planned,
    others: list[Planned],
    *,
    dam_daily_max_mg: float | None,
) -> list[PrescriptionProblem]:
    """What keeps ``new`` from being in force together with ``others`` (the patient's
    prescriptions in force when it begins, or coming later): the combined DAM regimen's
    shared sessions and maximum, and the adjunct rule (which a doctor may override, see
    ``OVERRIDABLE``). Those of its own chain are not counted: it supersedes them."""
    problems: list[PrescriptionProblem] = []
    chain = chain_of(new.medication)
    for other in others:
        theirs = chain_of(other.medication)
        if theirs == chain:
            continue  # the new one supersedes it
        if {chain, theirs} == COMBINED_DAM:
            for slot, mg in new.doses_mg.items():
                if mg > 0 and other.doses_mg.get(slot, 0) > 0:
                    problems.append(
                        PrescriptionProblem(
                            f"doses_mg.{slot}", "combined_session", other.medication, slot
                        )
                    )
            total = new.daily_max_mg + other.daily_max_mg
            if dam_daily_max_mg is not None and total > dam_daily_max_mg:
                problems.append(
                    PrescriptionProblem(
                        "daily_max_mg",
                        "combined_daily_max",
                        other.medication,
                        total=total,
                        limit=dam_daily_max_mg,
                    )
                )
        if {chain, theirs} == ADJUNCTS:
            problems.append(PrescriptionProblem("medication", "adjunct_both", other.medication))
    return problems
