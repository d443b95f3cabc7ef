"""How the demo's tapering patients are tapered: the dose of each session stepped down by
new prescriptions, a few per cent every week or two, as a doctor would write them.

Pure Python, shared by the demo programme (``hab demo``) and the bulk generator
(``hab generate``), so both taper alike. It lives in prescribing, below the demo app,
because the prescriptions it writes are prescribing's. The pace is a demo value, not a clinical
recommendation (protocol-defaults.md has no source for one).
"""

from __future__ import annotations

from datetime import date, timedelta

# A taper steps the dose of a session down to this, not below.
TAPER_FLOOR_MG = 50.0
# (days between steps, per cent of the dose in force each step)
PACES = ((7, 5), (7, 10), (14, 10))


def pace(key: int) -> tuple[int, int]:
    """A patient's pace of tapering, from a number of theirs (an id): the same patient
    tapers alike each time the demo is built, without drawing from its random source."""
    return PACES[key % len(PACES)]


def steps(
    dose: float, since: date, until: date, *, every: int, pct: int
) -> list[tuple[date, float]]:
    """The steps down of a taper from ``dose`` (mg a session) that began on ``since``: the
    first the day after, then one every ``every`` days up to ``until`` (included), each
    ``pct`` % of the dose in force, rounded to 5 mg and at least 5 mg, none below
    ``TAPER_FLOOR_MG``."""
    found = []
    day = since + timedelta(days=1)
    while day <= until and dose > TAPER_FLOOR_MG:
        dose = max(TAPER_FLOOR_MG, dose - max(5, 5 * round(dose * pct / 100 / 5)))
        found.append((day, float(dose)))
        day += timedelta(days=every)
    return found


def reason(every: int, pct: int) -> str:
    """The prescription's reason, in bokmål as a doctor here writes it."""
    return f"Nedtrapping: {pct} % ned {'hver uke' if every == 7 else 'annenhver uke'}"
