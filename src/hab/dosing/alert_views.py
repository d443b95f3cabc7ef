"""The doctor's part of the dosing room: "Varsle lege" from a blocked row, the doctor's
start page of what awaits review, and the stop-dose hold ("Stopp dosering")."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hab.core.errors import Conflict, Forbidden, Invalid
from hab.core.policy import Action
from hab.core.web import current_clinic, form_page, shows, staff_view, web_actor
from hab.dosing import rules, selectors, services
from hab.dosing.forms import DoseHoldForm, DoseHoldLiftForm
from hab.patients.selectors import patient_open


def alerted_text(alert) -> str:
    """The answer the nurse sees, on the row and after the tap."""
    return _("The doctor was alerted at %(time)s.") % {
        "time": timezone.localtime(alert.raised_at).strftime("%H:%M")
    }


@staff_view
@require_POST
def doctor_alert(request: HttpRequest, patient_id: int) -> HttpResponse:
    """ "Varsle lege" on a blocked row. On the board (htmx) the answer replaces the button."""
    try:
        alert = services.doctor_alert_raise(
            actor=web_actor(request),
            patient_id=patient_id,
            group=request.POST.get("group", ""),
            note=request.POST.get("note", ""),
            slot=request.POST.get("slot", ""),
        )
    except (Invalid, Conflict) as error:
        text = (
            " ".join(e.message for e in error.errors)
            if isinstance(error, Invalid)
            else error.message
        )
        if request.headers.get("HX-Request"):
            return HttpResponse(format_html('<p class="error" role="alert">{}</p>', text))
        messages.error(request, text)
    else:
        answer = alerted_text(alert) + " " + _("Awaiting the doctor.")
        if request.headers.get("HX-Request"):
            return HttpResponse(
                format_html('<p class="message alerted" role="status">{}</p>', answer)
            )
        messages.success(request, answer)
    return redirect(reverse("dosing:board") + f"?slot={request.POST.get('slot', '')}")


@staff_view
def awaiting_review(request: HttpRequest) -> HttpResponse:
    """The doctor's start page: who waits for a doctor, newest first, and their patients."""
    clinic = current_clinic(request)
    found = selectors.awaiting_review(web_actor(request), clinic)
    return render(
        request,
        "dosing/awaiting.html",
        {
            "found": found,
            "groups": {group.value: group for group in rules.Group},
        },
    )


def _back(request: HttpRequest, patient_id: int) -> str:
    """Back where the user came from: the board, the doctor's start page or the record."""
    came = request.GET.get("from")
    if came == "board":
        return reverse("dosing:board")
    if came == "alerts":
        return reverse("dosing:alerts")
    return reverse("patients:detail", args=[patient_id])


@staff_view
def dose_hold(request: HttpRequest, patient_id: int) -> HttpResponse:
    """ "Stopp dosering": a doctor or a nurse stops the patient's dosing, with a reason."""
    actor = web_actor(request)
    patient = patient_open(
        actor, patient_id, Action.DOSE_HOLD, what="dose hold", shown=shows(request)
    )
    back = _back(request, patient.pk)

    def save(cleaned: dict) -> HttpResponse:
        services.dose_hold_place(actor=actor, patient_id=patient.pk, reason=cleaned["reason"])
        messages.success(
            request,
            _("Dosing is stopped for %(name)s. Only a doctor can lift the stop.")
            % {"name": patient.full_name},
        )
        return redirect(back)

    return form_page(
        request,
        DoseHoldForm(request.POST or None),
        title=_("Stop dosing for %(name)s") % {"name": patient.full_name},
        intro=_(
            "No dose of any medication is given while the stop lasts, at any clinic. "
            "Only a doctor can lift it."
        ),
        cancel_url=back,
        save=save,
    )


@staff_view
def dose_hold_lift(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The doctor lifts the stop, with a note. Others get a refusal that says why."""
    actor = web_actor(request)
    back = _back(request, patient_id)
    try:
        patient = patient_open(
            actor, patient_id, Action.DOSE_HOLD_LIFT, what="dose hold", shown=shows(request)
        )
    except Forbidden:
        # Refused with the reason in words (the general 403 page says only "not allowed").
        return render(
            request,
            "dosing/refused.html",
            {"message": _("Only a doctor can lift a stop-dose hold."), "back": back},
            status=403,
        )

    def save(cleaned: dict) -> HttpResponse:
        services.dose_hold_lift(actor=actor, patient_id=patient.pk, note=cleaned["note"])
        messages.success(
            request,
            _("The stop is lifted: dosing follows the prescription and the protocol again."),
        )
        return redirect(back)

    hold = selectors.hold_of(patient.pk)
    intro = (
        _("Stopped %(time)s by %(who)s: %(reason)s")
        % {
            "time": timezone.localtime(hold.placed_at).strftime("%d.%m.%Y %H:%M"),
            "who": hold.placed_by.get_full_name() or hold.placed_by.username,
            "reason": hold.reason,
        }
        if hold
        else _("Dosing is not stopped for this patient.")
    )
    return form_page(
        request,
        DoseHoldLiftForm(request.POST or None),
        title=_("Lift the stop on dosing for %(name)s") % {"name": patient.full_name},
        intro=intro,
        cancel_url=back,
        save=save,
    )
