"""Pages of the contingency routine: print the paper list, and type it in afterwards."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hab.core import clock
from hab.core.errors import Conflict, Invalid
from hab.core.policy import Action, clinic_for_action
from hab.core.web import add_errors, asked_date, asked_id, current_clinic, staff_view, web_actor
from hab.dosing import contingency, selectors, services
from hab.dosing.forms import BackEntryForm


@staff_view
def contingency_page(request: HttpRequest) -> HttpResponse:
    clinic = clinic_for_action(request.user, current_clinic(request), Action.CONTINGENCY)
    slots = selectors.clinic_slots(clinic)
    day = asked_date(request.GET.get("date")) or clock.today()
    if request.GET.get("pdf"):
        chosen = [code for code in request.GET.getlist("slot") if code] or None
        data = contingency.pdf(web_actor(request), clinic, day, chosen)
        response = HttpResponse(data, content_type="application/pdf")
        name = f"nøddoseringsliste-{clinic.code}-{day:%Y%m%d}.pdf"
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
        return response
    return render(
        request,
        "dosing/contingency_page.html",
        {
            "clinic": clinic,
            "slots": slots,
            "day": day,
            "tomorrow": clock.today() + datetime.timedelta(days=1),
            "can_back_enter": True,
        },
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@staff_view
def back_entry(request: HttpRequest) -> HttpResponse:
    """The paper list of one session, typed in patient by patient."""
    clinic = clinic_for_action(request.user, current_clinic(request), Action.DOSE)
    actor = web_actor(request)
    day = asked_date(request.GET.get("date") or request.POST.get("date")) or clock.today()
    codes = selectors.slot_codes(clinic)
    slot = request.GET.get("slot") or request.POST.get("slot") or (codes[0] if codes else "")
    if slot not in codes:
        slot = codes[0] if codes else ""
    forms: dict[int, BackEntryForm] = {}
    if request.method == "POST":
        patient_id = asked_id(request.POST.get("patient")) or 0
        prefix = f"p{patient_id}"
        form = BackEntryForm(
            request.POST,
            clinic=clinic,
            prefix=prefix,
            confirming=BackEntryForm.confirming(request.POST, prefix),
        )
        forms[patient_id] = form
        if form.is_valid():
            data = form.cleaned_data
            given_at = timezone.make_aware(datetime.datetime.combine(day, data["time"]))
            try:
                recorded = services.administration_back_enter(
                    actor=actor,
                    clinic=clinic,
                    patient_id=patient_id,
                    day=day,
                    slot=slot,
                    medication=request.POST.get("medication", ""),
                    dose_mg=data["dose_mg"] or 0,
                    status=data["status"],
                    given_at=given_at,
                    given_by=data["given_by"],
                    assessment={
                        "sedation": int(data["sedation"]) if data["sedation"] else None,
                        "breath_alcohol_permille": data["breath_alcohol_permille"],
                    },
                    withheld_reason=data["note"] if data["status"] == "withheld" else "",
                    notes=data["note"],
                    confirm_breach=data.get("confirm_breach", False),
                    breach_reason=data.get("breach_reason", ""),
                )
                for warning in recorded.warnings[:1]:
                    messages.warning(request, warning)
                messages.success(
                    request,
                    _("Back-entered for %(name)s.") % {"name": recorded.administration.patient},
                )
                url = reverse("dosing:back-entry")
                return redirect(f"{url}?date={day:%Y-%m-%d}&slot={slot}")
            except Invalid as error:
                if any(e.field == "confirm_breach" for e in error.errors):
                    # The breaches are listed: the line again, now asking for the
                    # confirmation and its reason.
                    form = BackEntryForm(
                        request.POST, clinic=clinic, prefix=prefix, confirming=True
                    )
                    form.is_valid()
                    forms[patient_id] = form
                add_errors(form, error)
            except Conflict as error:
                form.add_error(None, error.message)
    shown = selectors.board(actor, clinic, day, slot)
    rows = [row for row in shown.rows if row.record is None]
    for row in rows:
        forms.setdefault(row.patient.pk, BackEntryForm(clinic=clinic, prefix=f"p{row.patient.pk}"))
    return render(
        request,
        "dosing/back_entry.html",
        {
            "clinic": clinic,
            "day": day,
            "slot": slot,
            "slots": selectors.clinic_slots(clinic),
            "entries": [(row, forms[row.patient.pk]) for row in rows],
            "done": sum(1 for row in shown.rows if row.record is not None),
            "oldest": clock.today() - datetime.timedelta(days=services.BACK_ENTRY_DAYS),
        },
    )
