"""Who sees which evaluation: the scope (one clinic, or the programme: every clinic where
the user may view the evaluation) and the period asked for."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils.translation import gettext as _

from hab.core import clock, policy
from hab.core.errors import Forbidden, Invalid
from hab.core.models import Clinic, User
from hab.core.policy import Action, clinic_for_action
from hab.evaluation import disclosure, indicators
from hab.evaluation.indicators import Period

MAX_DAYS = 366 * 10


def scope(user: User, code: str = "") -> tuple[list[Clinic], bool]:
    """(clinics, programme?): the named clinic (404 outside the user's clinics, 403 for a
    role without the evaluation), or all the user's clinics with it."""
    if code:
        clinic = Clinic.objects.filter(code=code).first()
        if clinic is None:
            from hab.core.errors import NotFound

            raise NotFound(_("No such clinic."))
        return [clinic_for_action(user, clinic, Action.EVALUATION_VIEW)], False
    ids = policy.clinic_ids_where(user, Action.EVALUATION_VIEW)
    if not ids:
        raise Forbidden(_("Your role does not give access to this."))
    return list(Clinic.objects.filter(pk__in=ids).order_by("name")), True


def _date(field: str, value: str | None, default: datetime.date) -> datetime.date:
    if not value:
        return default
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise Invalid.one(field, _("Write the date as YYYY-MM-DD.")) from None


def period(start: str | None, end: str | None) -> Period:
    """The period asked for; by default this year up to today. A period that runs past
    today ends today (``until_today``): nothing after today is known, and a running year
    is reported to the day it was made."""
    today = clock.today()
    errors = []
    try:
        first = _date("from", start, today.replace(month=1, day=1))
    except Invalid as error:
        errors += error.errors
        first = None
    try:
        last = _date("to", end, today)
    except Invalid as error:
        errors += error.errors
        last = None
    if errors:
        raise Invalid(errors)
    if first > last:
        raise Invalid.one("to", _("The period must end on or after its start."))
    if (last - first).days > MAX_DAYS:
        raise Invalid.one("from", _("The period can be at most ten years."))
    return _until_today(first, last)


def _until_today(first: datetime.date, last: datetime.date) -> Period:
    today = clock.today()
    if first > today:
        raise Invalid.one("from", _("The period cannot begin after today."))
    if last > today:
        return Period(first, today, until_today=True)
    return Period(first, last)


def year_period(year: int) -> Period:
    """The calendar year; the running year up to today."""
    return _until_today(datetime.date(year, 1, 1), datetime.date(year, 12, 31))


def small_number_threshold(user: User, clinics: list[Clinic]) -> int | None:
    """The threshold under which counts are withheld from this user for these clinics, or
    None: the clinic's own care staff (a care role at every clinic shown) see exact counts;
    everyone else (the programme owner, researchers) sees small numbers withheld."""
    if all(policy.roles_at(user, clinic) & policy.CARE_ROLES for clinic in clinics):
        return None
    return settings.HAB_SMALL_NUMBER_THRESHOLD


def indicator_values(
    clinics: list[Clinic],
    period: Period,
    *,
    programme: bool,
    threshold: int | None,
    consented_only: bool = False,
) -> tuple[dict, dict[str, str]]:
    """Every indicator (``indicators.compute``) as this viewer may see it, and the withheld
    paths with their reasons: the API, the dashboard, the charts and the report read this,
    so they show one set of figures. ``consented_only``: the follow-up outcomes only of
    patients whose research consent is in force."""
    data = indicators.compute(clinics, period, programme=programme, consented_only=consented_only)
    if threshold is None:
        return data, {}
    return disclosure.suppress(data, threshold)
