"""The rota's pages: the week, the understaffing warnings, assigning and removing staff,
and the clinic lead's calendar (opening times, holidays, closures, staffing rule)."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hab.core import clock, policy
from hab.core.errors import Conflict, Invalid, NotFound
from hab.core.models import SessionSlot
from hab.core.policy import Action, clinic_for_action
from hab.core.web import BadQuery, asked_date, current_clinic, form_page, staff_view, web_actor
from hab.operations import selectors, services
from hab.operations.forms import (
    AssignForm,
    ClosureForm,
    ExceptionForm,
    GenerateForm,
    RemoveForm,
    RuleForm,
    TemplateForm,
    WithdrawForm,
)
from hab.operations.models import Assignment, CalendarException, ClinicSession, Weekday


def _clinic(request: HttpRequest, action: Action):
    return clinic_for_action(request.user, current_clinic(request), action)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_url(day: date | None = None) -> str:
    url = reverse("operations:week")
    return f"{url}?{urlencode({'week': _monday(day).isoformat()})}" if day else url


def _next(request: HttpRequest, fallback: str) -> str:
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _posted(request: HttpRequest):
    """The POST data of a form whose fields may all be left empty (an empty POST is falsy)."""
    return request.POST if request.method == "POST" else None


def _calendar_url() -> str:
    return reverse("operations:calendar")


@staff_view
def week(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.ROTA_VIEW)
    today = clock.today()
    try:
        chosen = asked_date(request.GET.get("week")) or today
    except BadQuery:
        # The week is only where the page starts: a bad one starts at this week.
        chosen = today
    monday = _monday(chosen)
    found = selectors.warnings(clinic)
    return render(
        request,
        "operations/week.html",
        {
            "clinic": clinic,
            "days": selectors.week(clinic, monday),
            "monday": monday,
            "sunday": monday + timedelta(days=6),
            "previous": week_url(monday - timedelta(days=7)),
            "next": week_url(monday + timedelta(days=7)),
            "this_week": week_url(today) if _monday(today) != monday else "",
            "today": today,
            "warnings": found,
            "rule": selectors.rule_for(clinic),
            "can_edit": policy.can(request.user, Action.ROTA_EDIT, clinic),
            "here": request.get_full_path(),
        },
    )


@staff_view
def warnings(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.ROTA_VIEW)
    return render(
        request,
        "operations/warnings.html",
        {
            "clinic": clinic,
            "warnings": selectors.warnings(clinic),
            "rule": selectors.rule_for(clinic),
            "can_edit": policy.can(request.user, Action.ROTA_EDIT, clinic),
            "here": request.get_full_path(),
        },
    )


def _session_text(session: ClinicSession) -> str:
    return _("%(slot)s %(day)s, %(start)s–%(end)s") % {
        "slot": session.slot.name,
        "day": services.day_text(session.date),
        "start": f"{_local(session.starts_at):%H:%M}",
        "end": f"{_local(session.ends_at):%H:%M}",
    }


def _local(moment):
    return timezone.localtime(moment)


@staff_view
def assign(request: HttpRequest, session_id: int) -> HttpResponse:
    clinic = _clinic(request, Action.ROTA_EDIT)
    row = selectors.session_rota(clinic, session_id)
    if row is None:
        raise NotFound(_("No such session."))
    session = row.session
    actor = web_actor(request)
    form = AssignForm(request.POST or None, staff=selectors.rota_staff(clinic))
    back = _next(request, week_url(session.date))

    def save(data: dict) -> HttpResponse:
        username, role = form.chosen()
        assignment = services.assignment_create(
            actor=actor,
            clinic=clinic,
            day=session.date,
            slot=session.slot.code,
            username=username,
            role=role,
            duty=data["duty"],
        )
        messages.success(
            request,
            _("%(who)s is on the rota: %(session)s.")
            % {"who": assignment.user, "session": _session_text(session)},
        )
        return redirect(back)

    on_rota = ", ".join(
        f"{a.user} ({a.get_role_display().lower()}, {a.get_duty_display().lower()})"
        for a in row.assignments
    )
    intro = _session_text(session) + ". "
    intro += _("On the rota: %(names)s.") % {"names": on_rota or "–"}
    if row.understaffed:
        intro += " " + _("Lacking: %(what)s.") % {"what": ", ".join(row.shortfall_texts)}
    return form_page(
        request,
        form,
        title=_("Assign to a session"),
        intro=intro,
        cancel_url=back,
        save=save,
    )


@staff_view
def remove(request: HttpRequest, assignment_id: int) -> HttpResponse:
    clinic = _clinic(request, Action.ROTA_EDIT)
    assignment = (
        Assignment.objects.select_related("session__slot", "user")
        .filter(pk=assignment_id, session__clinic=clinic, removed_at__isnull=True)
        .first()
    )
    if assignment is None:
        raise NotFound(_("No such assignment."))
    actor = web_actor(request)
    form = RemoveForm(_posted(request))
    back = _next(request, week_url(assignment.session.date))

    def save(data: dict) -> HttpResponse:
        services.assignment_remove(
            actor=actor, clinic=clinic, assignment_id=assignment.pk, reason=data["reason"]
        )
        messages.success(
            request,
            _("%(who)s is taken off the rota: %(session)s.")
            % {"who": assignment.user, "session": _session_text(assignment.session)},
        )
        return redirect(back)

    return form_page(
        request,
        form,
        title=_("Take off the rota"),
        intro=_("%(who)s, %(session)s. The removal is recorded with your name.")
        % {"who": assignment.user, "session": _session_text(assignment.session)},
        cancel_url=back,
        save=save,
    )


# --- the calendar ---------------------------------------------------------------------------


@staff_view
def calendar(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.ROTA_VIEW)
    today = clock.today()
    slots = list(SessionSlot.objects.filter(clinic=clinic))
    in_force = selectors.templates_in_force(clinic, today)
    rows = [
        {
            "weekday": label,
            "cells": [(slot, in_force.get((value, slot.pk))) for slot in slots],
        }
        for value, label in Weekday.choices
    ]
    return render(
        request,
        "operations/calendar.html",
        {
            "clinic": clinic,
            "slots": slots,
            "rows": rows,
            "future": selectors.future_templates(clinic, today),
            "days": selectors.exception_days(clinic, today, today + timedelta(days=365)),
            "until": services.generated_until(clinic),
            "rule": selectors.current_rule(clinic),
            "default_rule": selectors.rules.DEFAULT_RULE,
            "generate_form": GenerateForm(),
            "years": [today.year, today.year + 1],
            "can_edit": policy.can(request.user, Action.ROTA_EDIT, clinic),
        },
    )


def _post_action(request: HttpRequest, work) -> HttpResponse:
    """Runs a button's write; problems come back as an error message on the calendar."""
    try:
        work()
    except Invalid as error:
        messages.error(request, " ".join(e.message for e in error.errors))
    except Conflict as error:
        messages.error(request, error.message)
    return redirect(_calendar_url())


@staff_view
@require_POST
def generate(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.ROTA_EDIT)
    form = GenerateForm(request.POST)

    def work() -> None:
        days = form.cleaned_data["days"] if form.is_valid() else 0
        result = services.calendar_generate(actor=web_actor(request), clinic=clinic, days=days)
        messages.success(
            request,
            _(
                "The calendar runs to %(end)s: %(created)s sessions added, "
                "%(updated)s brought up to date."
            )
            % {
                "end": services.day_text(result.end),
                "created": result.created,
                "updated": result.updated,
            },
        )

    return _post_action(request, work)


@staff_view
@require_POST
def holidays(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.ROTA_EDIT)

    def work() -> None:
        try:
            year = int(request.POST.get("year", ""))
        except ValueError:
            year = 0
        rows = services.holidays_add(actor=web_actor(request), clinic=clinic, year=year)
        messages.success(
            request,
            _("%(n)s holiday sessions added for %(year)s, with Sunday's opening times.")
            % {"n": len(rows), "year": year},
        )

    return _post_action(request, work)


@staff_view
def template(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.ROTA_EDIT)
    actor = web_actor(request)
    form = TemplateForm(
        request.POST or None,
        slots=SessionSlot.objects.filter(clinic=clinic),
        initial={"valid_from": clock.today()},
    )

    def save(data: dict) -> HttpResponse:
        services.template_set(
            actor=actor,
            clinic=clinic,
            weekdays=form.chosen_weekdays(),
            slot=data["slot"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            valid_from=data["valid_from"],
            reason=data["reason"],
        )
        messages.success(
            request, _("The opening times are changed; the calendar is brought up to date.")
        )
        return redirect(_calendar_url())

    return form_page(
        request,
        form,
        title=_("Change opening times"),
        intro=_(
            "The change applies from the chosen day; earlier times stay in the history. "
            "Holidays and special days keep their own times."
        ),
        cancel_url=_calendar_url(),
        save=save,
    )


@staff_view
def exception(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.ROTA_EDIT)
    actor = web_actor(request)
    initial = {"date": request.GET.get("date", "")} if request.GET.get("date") else {}
    form = ExceptionForm(
        request.POST or None, slots=SessionSlot.objects.filter(clinic=clinic), initial=initial
    )

    def save(data: dict) -> HttpResponse:
        services.exception_set(
            actor=actor,
            clinic=clinic,
            day=data["date"],
            name=data["name"],
            times=form.times(),
            reason=data["reason"],
        )
        messages.success(request, _("The day's opening times are saved."))
        return redirect(_calendar_url())

    return form_page(
        request,
        form,
        title=_("Special opening times"),
        intro=_(
            "For a day with other opening times, e.g. Julaften. Leave a session's times "
            "empty to keep its usual times. The clinic still opens."
        ),
        cancel_url=_calendar_url(),
        save=save,
    )


@staff_view
def closure(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.ROTA_EDIT)
    actor = web_actor(request)
    form = ClosureForm(request.POST or None, slots=SessionSlot.objects.filter(clinic=clinic))

    def save(data: dict) -> HttpResponse:
        rows = services.closure_record(
            actor=actor,
            clinic=clinic,
            day=data["date"],
            reason=data["reason"],
            slots=[data["slot"]] if data["slot"] else [],
        )
        messages.error(
            request,
            _(
                "%(clinic)s is closed on %(day)s (%(sessions)s). Patients will miss their "
                "dose unless they get it elsewhere."
            )
            % {
                "clinic": clinic,
                "day": services.day_text(data["date"]),
                "sessions": ", ".join(r.slot.name for r in rows),
            },
        )
        return redirect(_calendar_url())

    return form_page(
        request,
        form,
        title=_("Close the clinic"),
        intro=_(
            "The clinic opens every day of the year: patients depend on their daily doses. "
            "Close only when there is no other way, and give the reason."
        ),
        cancel_url=_calendar_url(),
        save=save,
    )


@staff_view
def withdraw(request: HttpRequest, exception_id: int) -> HttpResponse:
    clinic = _clinic(request, Action.ROTA_EDIT)
    found = (
        CalendarException.objects.select_related("slot")
        .filter(pk=exception_id, clinic=clinic, withdrawn_at__isnull=True)
        .first()
    )
    if found is None:
        raise NotFound(_("No such calendar exception."))
    actor = web_actor(request)
    form = WithdrawForm(_posted(request))

    def save(data: dict) -> HttpResponse:
        services.exception_withdraw(
            actor=actor, clinic=clinic, exception_id=found.pk, reason=data["reason"]
        )
        messages.success(request, _("Withdrawn: the session has its usual times again."))
        return redirect(_calendar_url())

    return form_page(
        request,
        form,
        title=_("Withdraw a special day"),
        intro=_("%(name)s, %(slot)s %(day)s.")
        % {"name": found.name, "slot": found.slot.name, "day": services.day_text(found.date)},
        cancel_url=_calendar_url(),
        save=save,
    )


@staff_view
def rule(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.ROTA_EDIT)
    actor = web_actor(request)
    current = selectors.rule_for(clinic)
    form = RuleForm(
        request.POST or None,
        initial={
            "min_nurses": current.min_nurses,
            "min_doctors": current.min_doctors,
            "doctor_on_call_counts": current.doctor_on_call_counts,
        },
    )

    def save(data: dict) -> HttpResponse:
        services.staffing_rule_set(
            actor=actor,
            clinic=clinic,
            min_nurses=data["min_nurses"],
            min_doctors=data["min_doctors"],
            doctor_on_call_counts=data["doctor_on_call_counts"],
            reason=data["reason"],
        )
        messages.success(request, _("The staffing rule is changed."))
        return redirect(_calendar_url())

    return form_page(
        request,
        form,
        title=_("Staffing rule"),
        intro=_(
            "Each session is checked against this rule. The programme's default is two "
            "nurses on duty and a doctor on duty or on call."
        ),
        cancel_url=_calendar_url(),
        save=save,
    )
