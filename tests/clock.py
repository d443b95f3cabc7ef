"""The instant the tests run at.

HAB's services read the time through ``hab.core.clock``. In the tests that clock is fixed
by default (the autouse ``fixed_clock`` fixture in tests/conftest.py), so no test depends
on the hour the suite happens to run at: the default is today at 09:30 Oslo time, inside
the morning session. The day stays today's, so records sit next to what still reads the
real clock (API tokens, idle sessions, the second factor, ``auto_now`` stamps).

``HAB_TEST_NOW`` runs the same tests at another instant, as CI does for the apps that care
about the time of day (scripts/test):

- ``HAB_TEST_NOW=21:30``: today at 21:30 Oslo time (after the last session);
- ``HAB_TEST_NOW=2026-03-29T23:50``: that day and time, Oslo time;
- ``HAB_TEST_NOW=2026-03-29T23:50:00+02:00``: that instant.

A test that needs another time says so: ``@pytest.mark.clock("2026-10-25T23:50")`` (same
forms; ``None`` for the real clock), or ``hab.core.clock.at`` inside the test.

The browser tests' live server answers in threads of its own, where the ContextVar the
fixture sets is not seen: ``LiveServerClock`` (in the test settings' middleware only) runs
every request that comes without a clock of its own at the instant of the current test.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

from hab.core import clock

DEFAULT_TIME = datetime.time(9, 30)


def resolve(value: str | None) -> datetime.datetime:
    """The aware instant that ``value`` (HAB_TEST_NOW's forms, see above) names; today at
    09:30 Oslo time when it is empty."""
    value = (value or "").strip()
    if not value:
        return _today_at(DEFAULT_TIME)
    try:
        return _today_at(datetime.time.fromisoformat(value))
    except ValueError:
        pass
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"HAB_TEST_NOW={value!r}: give a time (21:30), a date and time "
            "(2026-03-29T23:50, Oslo time) or an instant (2026-03-29T23:50:00+02:00)."
        ) from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _today_at(time: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(timezone.localdate(), time))


NOW = resolve(os.environ.get("HAB_TEST_NOW"))
TODAY = timezone.localdate(NOW)

# The instant the live server's requests run at (None: the real clock); set with fixed().
_serving: datetime.datetime | None = None


@contextmanager
def fixed(moment: datetime.datetime | None) -> Iterator[datetime.datetime | None]:
    """Runs the block at ``moment`` (None: the real clock), in this thread and in the live
    server's."""
    global _serving
    before = _serving
    _serving = moment
    # clock.at takes aware times only; None puts the real clock back for the block.
    token = clock._at.set(None) if moment is None else None
    try:
        if moment is None:
            yield None
        else:
            with clock.at(moment):
                yield moment
    finally:
        if token is not None:
            clock._at.reset(token)
        _serving = before


class LiveServerClock:
    """Test-only middleware: a request handled where no clock is set (the live server's
    threads) runs at the current test's instant. Requests of Django's test client are
    handled in the test's own thread and keep whatever clock the test set."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        # hab.core.clock has no public "is it set?": production never needs to ask.
        if _serving is None or clock._at.get() is not None:
            return self.get_response(request)
        with clock.at(_serving):
            return self.get_response(request)
