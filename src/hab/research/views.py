"""Follow-up pages: the clinic's due, overdue and missed interviews (all, or mine), one
patient's time points, the interview form made from the instrument, and one response."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hab.core import clock, policy
from hab.core.access import access_log_listed
from hab.core.errors import NotFound
from hab.core.models import User
from hab.core.policy import Action, clinic_for_action
from hab.core.web import current_clinic, form_page, shows, staff_view, web_actor
from hab.patients.selectors import patient_open
from hab.research import instruments, rules, selectors, services
from hab.research.forms import InterviewForm
from hab.research.rules import State

TABS = [
    (State.DUE, gettext_lazy("Due")),
    (State.OVERDUE, gettext_lazy("Overdue")),
    (State.MISSED, gettext_lazy("Missed")),
    (State.UPCOMING, gettext_lazy("Upcoming")),
    (State.DONE, gettext_lazy("Done")),
]
TIMEPOINT_LABELS = {
    "baseline": gettext_lazy("Baseline"),
    **{code: gettext_lazy("%(n)s months") % {"n": months} for code, months in rules.TIMEPOINTS[1:]},
}
MISSED_LABELS = {
    rules.WINDOW_CLOSED: gettext_lazy("window closed"),
    rules.ENDED: gettext_lazy("treatment ended"),
}


def _decorate(rows) -> None:
    for row in rows:
        row.timepoint_label = TIMEPOINT_LABELS.get(row.follow_up.timepoint, "")
        row.missed_label = MISSED_LABELS.get(row.missed_reason, row.missed_reason)


@staff_view
def follow_up_list(request: HttpRequest) -> HttpResponse:
    clinic = clinic_for_action(request.user, current_clinic(request), Action.FOLLOWUP_VIEW)
    state = request.GET.get("state", State.DUE)
    if state not in selectors.STATES:
        state = State.DUE
    mine = request.GET.get("mine") == "1"
    today = clock.today()
    services.clinic_refresh(clinic.pk, today=today)
    listing = selectors.clinic_follow_ups(
        clinic.pk,
        state=state,
        today=today,
        coordinator_id=request.user.pk if mine else None,
        limit=200,
    )
    rows = listing.rows
    _decorate(rows)
    if rows:
        access_log_listed(
            actor=web_actor(request),
            patients=[r.patient for r in rows],
            details={"list": f"follow-ups {state}"},
            clinic_id=clinic.pk,
        )
    names = {
        u.pk: u.get_full_name() or u.username
        for u in User.objects.filter(pk__in={r.course.coordinator_id for r in rows})
    }
    for row in rows:
        row.coordinator_name = names.get(row.course.coordinator_id, "")
    consented = selectors.research_consented({r.follow_up.patient_id for r in rows})
    return render(
        request,
        "research/list.html",
        {
            "clinic": clinic,
            "rows": rows,
            "state": state,
            "mine": mine,
            "tabs": [(code.value, label, listing.counts[code]) for code, label in TABS],
            "consented": consented,
            "may_record": policy.can(request.user, Action.FOLLOWUP_RECORD, clinic),
        },
    )


@staff_view
def patient_follow_ups(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = web_actor(request)
    patient = patient_open(actor, patient_id, Action.FOLLOWUP_VIEW, what="follow-ups")
    today = clock.today()
    services.patient_refresh(patient.pk, today=today)
    rows = selectors.patient_follow_ups(patient.pk, today=today)
    _decorate(rows)
    return render(
        request,
        "research/patient.html",
        {
            "patient": patient,
            "rows": rows,
            "consented": patient.pk in selectors.research_consented([patient.pk]),
            "may_record": policy.can(request.user, Action.FOLLOWUP_RECORD, patient.clinic_id),
        },
    )


@staff_view
def interview(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    found = selectors.follow_up(follow_up_id)
    if found is None:
        raise NotFound(_("No such follow-up."))
    actor = web_actor(request)
    patient = patient_open(
        actor,
        found.patient_id,
        Action.FOLLOWUP_RECORD,
        what="follow-up interview",
        details={"follow_up": found.pk},
        shown=shows(request),
    )
    form_source = request.GET if request.method == "GET" else request.POST
    corrects = form_source.get("corrects", "")
    correcting = selectors.response(int(corrects)) if corrects.isdigit() else None
    if correcting is not None and correcting.follow_up_id != found.pk:
        raise NotFound(_("No such response."))
    instrument = (
        instruments.instrument_by_id(correcting.instrument_id)
        if correcting
        else instruments.instrument_by_code(request.GET.get("instrument") or instruments.CORE)
    )
    if instrument is None:
        raise NotFound(_("No such instrument in use."))
    initial = (
        InterviewForm.initial_from(instrument, correcting)
        if correcting
        else {"answered_on": clock.today()}
    )
    form = InterviewForm(
        request.POST or None,
        instrument=instrument,
        correcting=correcting is not None,
        initial=initial,
    )

    def save(data: dict) -> HttpResponse:
        recorded = services.response_record(
            actor=actor,
            follow_up_id=found.pk,
            instrument=instrument.code,
            answered_on=data.get("answered_on"),
            answers=form.answers(),
            corrects=correcting.pk if correcting else None,
            correction_reason=data.get("correction_reason", ""),
        )
        messages.success(request, _("The answers are saved."))
        for warning in recorded.warnings:
            messages.warning(request, warning)
        return redirect(reverse("research:response", args=[recorded.response.pk]))

    slot = selectors.slot_of(found)
    title = _("Follow-up interview: %(timepoint)s") % {
        "timepoint": TIMEPOINT_LABELS.get(found.timepoint, found.timepoint)
    }
    return form_page(
        request,
        form,
        title=title,
        cancel_url=reverse("research:patient", args=[patient.pk]),
        save=save,
        template="research/interview.html",
        extra={
            "patient": patient,
            "follow_up": found,
            "slot": slot,
            "instrument": instrument,
            "instrument_name": instruments.text(instrument, "name"),
            "correcting": correcting,
            "consented": patient.pk in selectors.research_consented([patient.pk]),
            "late": clock.today() > found.due_on,
        },
    )


@staff_view
def response_view(request: HttpRequest, response_id: int) -> HttpResponse:
    found = selectors.response(response_id)
    if found is None:
        raise NotFound(_("No such response."))
    actor = web_actor(request)
    patient = patient_open(
        actor,
        found.follow_up.patient_id,
        Action.FOLLOWUP_VIEW,
        what="follow-up response",
        details={"response": found.pk},
    )
    instrument = instruments.instrument_by_id(found.instrument_id)
    stored = {a.item_id: a for a in found.answers.all()}
    answers = [
        (
            instruments.text(item, "text"),
            instruments.answer_label(item, instruments.answer_value(item, stored.get(item.pk))),
        )
        for item in instrument.items.all()
    ]
    history = selectors.responses_of(found.follow_up_id)
    current = next((r for r in history if not _corrected(r, history)), None)
    return render(
        request,
        "research/response.html",
        {
            "patient": patient,
            "response": found,
            "follow_up": found.follow_up,
            "timepoint_label": TIMEPOINT_LABELS.get(found.follow_up.timepoint, ""),
            "instrument_name": instruments.text(instrument, "name"),
            "answers": answers,
            "history": history,
            "current": current,
            "may_correct": current is not None
            and current.pk == found.pk
            and policy.can(request.user, Action.FOLLOWUP_RECORD, patient.clinic_id),
        },
    )


def _corrected(response, history) -> bool:
    """Whether a later response in the history corrects this one."""
    return any(other.corrects_id == response.pk for other in history)
