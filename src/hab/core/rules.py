"""Pure rules of the core app: the screen lock of a shared tablet.

No Django here: the decisions are plain functions of numbers and strings, tested at,
under and over every limit (tests/core/test_rules.py).
"""

from __future__ import annotations

from itertools import pairwise

# The clinic's idle-lock setting, in minutes. One minute is the shortest a nurse can work
# with (reading a record is not a request); beyond 30 the lock no longer protects
# anything the kiosk logout (HAB_KIOSK_IDLE_MINUTES, 30 by default) does not.
IDLE_LOCK_DEFAULT_MINUTES = 2
IDLE_LOCK_MIN_MINUTES = 1
IDLE_LOCK_MAX_MINUTES = 30

# A PIN is 4 to 8 digits: short enough to tap with gloves on, long enough that five
# guesses (UNLOCK_ATTEMPTS) find it with a chance of at most 5 in 10,000.
PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 8
# Wrong PINs or passwords at the lock screen before the session is logged out.
UNLOCK_ATTEMPTS = 5


def is_idle(last_active: float, now: float, limit_seconds: float) -> bool:
    """True when more than ``limit_seconds`` have passed since ``last_active`` (both in
    seconds on one clock). Exactly at the limit is not yet idle."""
    return now - last_active > limit_seconds


def idle_lock_minutes_valid(minutes: int) -> bool:
    return IDLE_LOCK_MIN_MINUTES <= minutes <= IDLE_LOCK_MAX_MINUTES


class PinProblem:
    """Why a PIN is refused (codes; the form words them)."""

    NOT_DIGITS = "not_digits"
    LENGTH = "length"
    GUESSABLE = "guessable"


def pin_problem(pin: str) -> str | None:
    """None for an acceptable PIN, else a PinProblem code.

    The PINs tried first by anyone who picks up a tablet are refused: one digit repeated
    (0000) and a straight run up or down (1234, 9876).
    """
    if not pin.isascii() or not pin.isdigit():
        return PinProblem.NOT_DIGITS
    if not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        return PinProblem.LENGTH
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(pin)}
    if steps in ({0}, {1}, {9}):
        return PinProblem.GUESSABLE
    return None


def unlock_attempts_left(failures: int) -> int:
    """Tries left at the lock screen after ``failures`` wrong ones (0: log out)."""
    return max(0, UNLOCK_ATTEMPTS - failures)
