"""Helpers for the server-rendered pages: the acting person and domain errors as pages."""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Callable

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from hab.core import clock
from hab.core.access import Actor, actor_from_request
from hab.core.errors import Conflict, Forbidden, Invalid, NotFound, ReasonRequired
from hab.core.models import Channel

REASON_SECONDS = 3600
SESSION_REASONS = "hab_access_reasons"
# A day asked for in an address (the board's ?date=) lies within this many years of
# today: past it no record can exist, and date arithmetic would run off the calendar.
DATE_YEARS = 100


class BadQuery(BadRequest):
    """A value in the address or a hidden field that no page of HAB can use (an
    impossible date, a patient id that is not a number). The message is shown on the 400
    page (core.views.bad_request), so it is a translated sentence for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def far_off(day: datetime.date) -> str:
    """Why a day asked for (in an address or a filter) cannot be shown, or "" when it can.
    Past DATE_YEARS from today no record can exist, and day arithmetic would run off the
    calendar (year 1, year 9999)."""
    if abs(day.year - clock.today().year) <= DATE_YEARS:
        return ""
    return _(
        "The date %(value)s is not a date HAB can show: use a day within %(years)s years of today."
    ) % {"value": day.isoformat(), "years": DATE_YEARS}


def asked_date(value: str | None) -> datetime.date | None:
    """The date in a query value, None where none is given; BadQuery for a value that is
    no date or one far from today."""
    if not value:
        return None
    try:
        day = parse_date(value)
    except ValueError:
        day = None
    if day is None:
        raise BadQuery(
            _(
                "The date %(value)s is not a date HAB can show: "
                "use a day within %(years)s years of today."
            )
            % {"value": value[:40], "years": DATE_YEARS}
        )
    if problem := far_off(day):
        raise BadQuery(problem)
    return day


def asked_id(value: str | None) -> int | None:
    """A record id from a form's hidden field, None where none is given; BadQuery for one
    that is not a whole number."""
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise BadQuery(_("The form names a record that does not exist. Open the page again."))
    return int(value)


def current_clinic(request: HttpRequest):
    """The clinic the user works in now (the switcher), or 404 for someone in none."""
    if request.clinic is None:
        raise NotFound(_("You do not work at any clinic."))
    return request.clinic


def web_actor(request: HttpRequest) -> Actor:
    stored = request.session.get(SESSION_REASONS, {})
    now = time.time()
    live = {pid: entry for pid, entry in stored.items() if entry.get("until", 0) > now}
    if live != stored:
        request.session[SESSION_REASONS] = live
    actor = actor_from_request(request, Channel.UI)
    return Actor(
        user=actor.user,
        channel=actor.channel,
        ip=actor.ip,
        reasons={int(pid): entry["reason"] for pid, entry in live.items()},
    )


def shows(request: HttpRequest) -> bool:
    """True when the request shows a page of the patient's data, to be logged as a read;
    a POST is a write, logged once by the service that makes it."""
    return request.method in ("GET", "HEAD")


def remember_reason(request: HttpRequest, patient_id: int, reason: str) -> None:
    stored = dict(request.session.get(SESSION_REASONS, {}))
    stored[str(patient_id)] = {"reason": reason[:300], "until": time.time() + REASON_SECONDS}
    request.session[SESSION_REASONS] = stored


def staff_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; domain errors become 404, 403 or the access-reason page."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from None
        except ReasonRequired:
            patient_id = kwargs.get("patient_id")
            url = reverse("patients:reason", args=[patient_id])
            return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")
        except Forbidden as error:
            raise PermissionDenied(error.message) from None

    return wrapper


def add_errors(form: forms.Form, error: Invalid) -> None:
    """Puts each problem beside its field in the form (or above the form). A form whose
    fields are named differently from the service's maps them in ``field_for``."""
    mapping = getattr(form, "field_for", None)
    for problem in error.errors:
        field = mapping(problem.field) if mapping else problem.field
        form.add_error(field if field in form.fields else None, problem.message)


def form_page(
    request: HttpRequest,
    form: forms.Form,
    *,
    title: str,
    cancel_url: str,
    save: Callable[[dict], HttpResponse],
    intro: str = "",
    template: str = "form.html",
    extra: dict | None = None,
) -> HttpResponse:
    """Shows a form; on a valid POST calls ``save``. Domain errors go beside their field
    (or above the form for a conflict) and nothing is changed."""
    if request.method == "POST" and form.is_valid():
        try:
            return save(form.cleaned_data)
        except Invalid as error:
            add_errors(form, error)
        except Conflict as error:
            form.add_error(None, error.message)
    context = {"form": form, "title": title, "cancel_url": cancel_url, "intro": intro}
    return render(request, template, context | (extra or {}))
