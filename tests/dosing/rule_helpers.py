"""The pure dose-decision tests' shared set-up: one clinic protocol, times in Oslo, and
short ways to write prescriptions, doses, a patient in maintenance and a decision."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hab.dosing import rules
from hab.dosing.rules import Dose, Group, Prescription, Protocol, Severity

OSLO = ZoneInfo("Europe/Oslo")
DAY = date(2026, 11, 20)
YESTERDAY = DAY - timedelta(days=1)
BLOCK, LIMIT, WARN = Severity.BLOCK, Severity.LIMIT, Severity.WARN
G = Group

PROTOCOL = Protocol(
    version=1,
    max_single_mg={G.DAM: 400.0, G.HYDROMORPHONE: None, G.METHADONE: None, G.MORPHINE: None},
    max_daily_mg={G.DAM: 1000.0, G.HYDROMORPHONE: 500.0, G.METHADONE: 150.0, G.MORPHINE: 600.0},
    breath_alcohol_max_permille=0.2,
    missed_days_reduce=2,
    missed_reduce_pct=25,
    respiratory_rate_min=10,
)
TABLET = "dam_tablet_ir"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=OSLO)


def rx(dose=200.0, daily=450.0, medication="dam_injectable", issued=date(2026, 1, 1), **kw):
    return Prescription(
        medication=medication, dose_mg=dose, daily_max_mg=daily, issued_on=issued, **kw
    )


def dose(day, hour, mg, slot="morning", status="given", medication="dam_injectable", **kw):
    when = hour if isinstance(hour, datetime) else at(day, hour)
    return Dose(at=when, day=day, slot=slot, medication=medication, mg=mg, status=status, **kw)


def stable_history(days: int = 10, mg: float = 200.0) -> list[Dose]:
    """Maintenance: two doses a day for ``days`` days before DAY."""
    history = []
    for back in range(days, 0, -1):
        day = DAY - timedelta(days=back)
        history += [dose(day, 9, mg, "morning"), dose(day, 15, mg, "afternoon")]
    return history


def decide(history=(), *, now=None, slot="afternoon", prescription=None, **kw):
    return rules.decide(
        protocol=kw.pop("protocol", PROTOCOL),
        prescription=prescription or rx(),
        history=list(history),
        now=now or at(DAY, 15),
        day=kw.pop("day", DAY),
        slot=slot,
        slots_per_day=kw.pop("slots_per_day", 2),
        in_episode=kw.pop("in_episode", True),
        **kw,
    )
