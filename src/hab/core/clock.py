"""The time HAB's services see.

Production always reads the real clock. The demo generator sets the clock back to write
months of history through the same services the clinic uses, so that every record,
event and access-log row carries the time it would have had.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

_at: ContextVar[datetime.datetime | None] = ContextVar("hab_clock", default=None)


def now() -> datetime.datetime:
    return _at.get() or timezone.now()


def today() -> datetime.date:
    return timezone.localdate(now())


@contextmanager
def at(moment: datetime.datetime) -> Iterator[None]:
    """Runs the block as if it were ``moment`` (aware datetime)."""
    if timezone.is_naive(moment):
        raise ValueError("The clock needs an aware datetime.")
    token = _at.set(moment)
    try:
        yield
    finally:
        _at.reset(token)
