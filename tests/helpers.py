"""Small helpers shared by tests."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django_otp.oath import TOTP

from hab.core import clock
from hab.intake.selectors import active_criteria_set

if TYPE_CHECKING:
    from django_otp.plugins.otp_totp.models import TOTPDevice


def all_yes() -> dict[str, bool]:
    return {c.code: True for c in active_criteria_set().criteria.all()}


def days_ago(days: int) -> date:
    return clock.today() - timedelta(days=days)


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the user's app shows now (or one step later: a code is accepted once)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"
