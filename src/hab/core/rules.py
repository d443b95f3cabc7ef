"""Pure rules of the core app: the screen lock of a shared tablet, the lifetime of API
tokens and the two-person rule for role changes.

No Django here: the decisions are plain functions of numbers and strings, tested at,
under and over every limit (tests/core/test_rules.py).
"""

from __future__ import annotations

from itertools import pairwise

from stdnum.no import orgnr

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


def org_number_valid(value: str) -> bool:
    """A Norwegian organisation number: nine digits, the first 8 or 9, the last a
    modulus-11 check digit (python-stdnum checks it)."""
    return len(value) == 9 and value[0] in "89" and orgnr.is_valid(value)


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


# An API token lives 12 hours by default (HAB_API_TOKEN_HOURS): a working day and a bit,
# so a token copied off a tablet is worthless by the next shift.
TOKEN_HOURS_DEFAULT = 12


class RoleChangeProblem:
    """Why a role change is refused (codes; the service words them)."""

    OWN_ROLES = "own_roles"
    ALREADY_HELD = "already_held"
    NOT_HELD = "not_held"
    PENDING = "pending"
    OWN_PROPOSAL = "own_proposal"
    DECIDED = "decided"


def role_proposal_problem(
    *, proposer: int, person: int, grant: bool, holds: bool, pending: bool
) -> str | None:
    """None when ``proposer`` may propose granting (or removing) a role of ``person``.
    Nobody proposes a change to their own roles; a grant of a role already held, or a
    removal of one not held, is refused; one open proposal per person, clinic and role."""
    if proposer == person:
        return RoleChangeProblem.OWN_ROLES
    if grant and holds:
        return RoleChangeProblem.ALREADY_HELD
    if not grant and not holds:
        return RoleChangeProblem.NOT_HELD
    if pending:
        return RoleChangeProblem.PENDING
    return None


def role_decision_problem(*, decider: int, proposer: int, person: int, decided: bool) -> str | None:
    """None when ``decider`` may approve or refuse: a second person, neither the one who
    proposed it nor the one whose role it is, and only once."""
    if decided:
        return RoleChangeProblem.DECIDED
    if decider == person:
        return RoleChangeProblem.OWN_ROLES
    if decider == proposer:
        return RoleChangeProblem.OWN_PROPOSAL
    return None
