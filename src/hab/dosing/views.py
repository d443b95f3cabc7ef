from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.template.defaultfilters import time as time_format
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from hab.core import clock, policy
from hab.core.errors import Conflict, Invalid, NotFound
from hab.core.formats import number
from hab.core.policy import Action
from hab.core.web import (
    add_errors,
    asked_date,
    current_clinic,
    form_page,
    shows,
    staff_view,
    web_actor,
)
from hab.dosing import rules, selectors, services
from hab.dosing.alert_views import alerted_text
from hab.dosing.forms import (
    CorrectionForm,
    DoseForm,
    DoseReviewForm,
    ObservationForm,
    TopUpForm,
)
from hab.dosing.models import Administration, Intoxication
from hab.patients.selectors import patient_open


def _slot_now(clinic) -> str:
    """The session going on now, or the next one today, or the last one."""
    slots = selectors.clinic_slots(clinic)
    now = timezone.localtime(clock.now()).time()
    for slot in slots:
        if now <= slot.ends_at:
            return slot.code
    return slots[-1].code if slots else ""


def _day_slot(request: HttpRequest, clinic):
    day = asked_date(request.GET.get("date") or request.POST.get("date")) or clock.today()
    slot = request.GET.get("slot") or request.POST.get("slot") or _slot_now(clinic)
    return day, slot


# An id no row has: reverse() once per kind of link, each row puts its own id in.
_ID_MARK = 987654321


def _url_for_ids(name: str) -> str:
    return reverse(name, args=[_ID_MARK]).replace(str(_ID_MARK), "{}")


def _lines(rows: list[selectors.BoardRow], slot: str, day) -> list[dict]:
    """What each board row shows, as plain values. The board lists every expected patient
    and refreshes every 30 s; resolving objects, filters and url tags row by row in the
    template took most of the page's time. The values are those the filters would give."""
    photo = _url_for_ids("patients:photo")
    panel = _url_for_ids("dosing:panel") + f"?slot={slot}&date={day:%Y-%m-%d}"
    observation = _url_for_ids("dosing:observation")
    correct = _url_for_ids("dosing:correct")
    alert = _url_for_ids("dosing:alert")
    formatted: dict[tuple, str] = {}

    def mg(value) -> str:
        key = (type(value), value)
        if key not in formatted:
            formatted[key] = floatformat(value, "-1")
        return formatted[key]

    lines = []
    for row in rows:
        patient, decision, record = row.patient, row.decision, row.record
        born = patient.birth_date
        lines.append(
            {
                "pk": patient.pk,
                # A patient with two prescriptions (injections and tablets) has two rows.
                "rx": row.prescription.pk,
                "state": row.state,
                "photo": photo.format(patient.pk) if patient.photo else "",
                "initials": patient.given_name[:1] + patient.family_name[:1],
                "family_name": patient.family_name,
                "given_name": patient.given_name,
                "name": patient.full_name,
                "guest": row.guest,
                "born": f"{born.day:02d}.{born.month:02d}.{born.year:04d}",
                "medication": row.prescription.get_medication_display(),
                "record": record is not None,
                "status": record.status if record else "",
                "status_label": record.get_status_display() if record else "",
                "dosed": mg(record.dose_mg) if record else "",
                "observe_until": time_format(timezone.localtime(row.observe_until), "H:i")
                if row.observe_until
                else "",
                "elsewhere": row.elsewhere,
                "prescribed": mg(decision.prescribed_mg),
                "blocked": decision.blocked,
                "max_now": mg(decision.max_mg) if decision.max_mg < decision.prescribed_mg else "",
                "reasons": row.reasons,
                # The panel of this row's prescription, not the patient's first row.
                "panel": panel.format(patient.pk) + f"&medication={row.prescription.medication}",
                "observation": observation.format(record.pk) if record else "",
                "correct": correct.format(record.pk) if record else "",
                # "Varsle lege" on a blocked row, or the answer once the doctor is alerted.
                "alert": alert.format(patient.pk),
                "group": rules.MEDICATION_GROUP[row.prescription.medication].value,
                "alerted": alerted_text(row.alert) if row.alert else "",
            }
        )
    return lines


def _board_context(request: HttpRequest, clinic, day, slot) -> dict:
    board = selectors.board(web_actor(request), clinic, day, slot)
    # As typed (the box shows it back); the match ignores case and spelling of æ, ø, å.
    query = (request.GET.get("q") or "").strip()[:100]
    rows = selectors.board_matching(board.rows, query)
    return {
        "board": board,
        "rows": rows,
        "lines": _lines(rows, board.slot, board.day),
        "query": query,
        "slots": selectors.clinic_slots(clinic),
        "today": day == clock.today(),
        "now": clock.now(),
        "can_dose": policy.can(request.user, Action.DOSE, clinic),
        # A doctor opens a blocked row to see why and to review it (the panel links there).
        "can_review": policy.can(request.user, Action.PRESCRIBE, clinic),
        # A nurse puts a blocked patient on the doctor's start page ("Varsle lege").
        "can_alert": policy.can(request.user, Action.DOCTOR_ALERT, clinic)
        and not policy.can(request.user, Action.PRESCRIBE, clinic),
        "can_close": policy.can(request.user, Action.SESSION_CLOSE, clinic) and not board.closed,
        "counts": {
            state: board.count(state)
            for state in ("due", "blocked", "observing", "given", "withheld")
        },
    }


@staff_view
def board_page(request: HttpRequest) -> HttpResponse:
    clinic = current_clinic(request)
    day, slot = _day_slot(request, clinic)
    context = _board_context(request, clinic, day, slot)
    if request.headers.get("HX-Request") and request.GET.get("part") == "rows":
        return render(request, "dosing/_rows.html", context)
    return render(request, "dosing/board.html", context)


@staff_view
def dose_panel(request: HttpRequest, patient_id: int) -> HttpResponse:
    """One patient: identity, assessment, dose. Answers the htmx panel on the board."""
    clinic = current_clinic(request)
    day, slot = _day_slot(request, clinic)
    actor = web_actor(request)
    patient = selectors.patient_open_for_dosing(
        actor,
        patient_id,
        clinic,
        day,
        Action.BOARD_VIEW,
        what="dose panel",
        details={"slot": slot, "day": str(day)},
        shown=shows(request),
    )
    # The row the nurse opened: a patient with two prescriptions in the session has two.
    medication = (request.GET.get("medication") or request.POST.get("medication") or "")[:30]
    row = selectors.board_row(actor, clinic, day, slot, patient, medication)
    # Breath alcohol is never prefilled: an empty box is a measurement not yet made (the
    # panel's "0,00 measured" fills it in one tap). A Decimal dose shows the local way.
    initial = {"status": "given"}
    if row is not None and not row.decision.blocked:
        allowed = min(row.decision.max_mg, row.decision.prescribed_mg)
        initial["dose_mg"] = Decimal(f"{allowed:g}")
    top_up = request.POST.get("top_up") == "1"
    form = DoseForm(
        None if top_up else request.POST or None,
        initial=initial,
        alcohol_on_suspicion_only=selectors.alcohol_on_suspicion_only(clinic),
    )
    top_up_form = _top_up_form(clinic, day, slot, patient, row, request.POST if top_up else None)
    recorded = None
    conflict = ""
    if request.method == "POST" and not top_up and row is not None and row.record is not None:
        # Another nurse recorded the patient while this panel was open (or the same tap
        # came twice): say who and when, above the record as it now stands.
        conflict = services.already_recorded(row.record.pk, clinic).message
    elif top_up and top_up_form is not None and top_up_form.is_valid():
        first = Administration.objects.get(pk=row.record.pk)
        try:
            recorded = services.administration_record(
                actor=actor,
                clinic=clinic,
                patient_id=patient.pk,
                day=day,
                slot=slot,
                medication=row.prescription.medication,
                dose_mg=top_up_form.cleaned_data["dose_mg"],
                route=row.prescription.route,
                status="given",
                assessment={
                    "sedation": top_up_form.cleaned_data["sedation"],
                    "breath_alcohol_permille": first.breath_alcohol_permille,
                    "respiratory_rate": first.respiratory_rate,
                    "intoxication": first.intoxication or None,
                },
                top_up=True,
            )
        except Invalid as error:
            add_errors(top_up_form, error)
        except Conflict as error:
            top_up_form.add_error(None, error.message)
        else:
            top_up_form = None
            row = selectors.board_row(actor, clinic, day, slot, patient, medication)
    elif request.method == "POST" and not top_up and row is not None and form.is_valid():
        data = form.cleaned_data
        try:
            recorded = services.administration_record(
                actor=actor,
                clinic=clinic,
                patient_id=patient.pk,
                day=day,
                slot=slot,
                medication=row.prescription.medication,
                dose_mg=data["dose_mg"],
                route=row.prescription.route,
                status=data["status"],
                assessment={
                    "sedation": data["sedation"],
                    "breath_alcohol_permille": data["breath_alcohol_permille"],
                    "respiratory_rate": data["respiratory_rate"],
                    "intoxication": data["intoxication"] or Intoxication.NONE,
                },
                withheld_reason=data["withheld_reason"],
                notes=data["notes"],
            )
        except Invalid as error:
            add_errors(form, error)
        except Conflict as error:
            # Recorded by someone else between this panel's read and the write: the
            # panel shows who and the record as it now stands.
            conflict = error.message
            row = selectors.board_row(actor, clinic, day, slot, patient, medication)
        else:
            row = selectors.board_row(actor, clinic, day, slot, patient, medication)
            # The first injection just given: offer its top-up at once, in the same panel.
            top_up_form = _top_up_form(clinic, day, slot, patient, row)
    response = render(
        request,
        "dosing/_panel.html",
        {
            "patient": patient,
            "row": row,
            "form": form,
            "recorded": recorded,
            "day": day,
            "slot": slot,
            "observation_form": ObservationForm(),
            "top_up_form": top_up_form,
            "review_group": _review_group(request, clinic, row),
            "observation_left": selectors.observation_left(row),
            "conflict": conflict,
            "can_hold": policy.can(request.user, Action.DOSE_HOLD, clinic),
        },
    )
    if recorded is not None or conflict:
        # The board's rows are read again: the row shows the dose, whoever recorded it.
        response["HX-Trigger"] = "board-changed"
    return response


def _top_up_form(clinic, day, slot: str, patient, row, data=None) -> TopUpForm | None:
    """The first day's top-up form, when one may follow the row's record now (else None)."""
    if row is None or row.record is None:
        return None
    top_up_max = selectors.top_up_allowed(clinic, day, slot, patient, row)
    if not top_up_max:
        return None
    return TopUpForm(data, initial={"dose_mg": Decimal(f"{top_up_max:g}")})


@staff_view
@require_POST
def observation_end(request: HttpRequest, administration_id: int) -> HttpResponse:
    """Ends the observation, from the row ("End: no concern") or the panel. Answers the
    board with the panel: the outcome saved, or the reason it was not (beside its field,
    so a note still needed is written there)."""
    form = ObservationForm(request.POST)
    record = Administration.objects.select_related("clinic").filter(pk=administration_id).first()
    if record is None:
        raise NotFound(_("No such record."))
    observation = None
    refused = ""
    if form.is_valid():
        try:
            observation = services.observation_end(
                actor=web_actor(request),
                administration_id=administration_id,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                naloxone_mg=form.cleaned_data["naloxone_mg"],
            )
        except Invalid as error:
            add_errors(form, error)
            refused = error.errors[0].message
        except Conflict as error:
            refused = error.message
    else:
        refused = _("Choose the outcome of the observation.")
    done = ""
    if observation is not None:
        done = _("Observation ended: %(name)s, %(outcome)s, at %(time)s.") % {
            "name": record.patient.full_name,
            "outcome": observation.get_outcome_display().lower(),
            "time": time_format(timezone.localtime(observation.ended_at), "H:i"),
        }
    if not request.headers.get("HX-Request"):
        if done:
            messages.success(request, done)
        else:
            messages.error(request, refused)
        return redirect(reverse("dosing:board") + f"?slot={record.slot}&date={record.day}")
    actor = web_actor(request)
    patient = selectors.patient_for_dosing(
        actor, record.patient_id, record.clinic, record.day, Action.BOARD_VIEW
    )
    row = selectors.board_row(
        actor, record.clinic, record.day, record.slot, patient, record.medication
    )
    response = render(
        request,
        "dosing/_panel.html",
        {
            "patient": patient,
            "row": row,
            "form": DoseForm(),
            "day": record.day,
            "slot": record.slot,
            # Refused: the outcome and note as typed, the reason beside its field.
            "observation_form": ObservationForm() if done else form,
            # A conflict (already ended, no dose) has no field: above the panel.
            "conflict": refused if refused and not form.errors else "",
            "observed": done,
            "review_group": _review_group(request, record.clinic, row),
            "observation_left": selectors.observation_left(row),
        },
    )
    if done:
        response["HX-Trigger"] = "board-changed"
    return response


@staff_view
def session_close(request: HttpRequest) -> HttpResponse:
    """The close of a session, confirmed: the page lists by name who will be recorded as
    not attended and who is still under observation; the close itself is its POST."""
    clinic = current_clinic(request)
    day, slot = _day_slot(request, clinic)
    actor = web_actor(request)
    board_url = reverse("dosing:board") + f"?slot={slot}&date={day}"
    error = ""
    if request.method == "POST":
        # The ids of the patients in observation the page named, when the nurse ticked
        # the box: one dosed after the page was shown is not closed over unseen.
        confirmed = (
            [int(pk) for pk in request.POST.getlist("observing") if pk.isdigit()]
            if request.POST.get("confirm_observing")
            else []
        )
        try:
            closed = services.session_close(
                actor=actor, clinic=clinic, day=day, slot=slot, observing_confirmed=confirmed
            )
        except Invalid as refusal:
            error = "; ".join(e.message for e in refusal.errors)
        except Conflict as refusal:
            messages.error(request, refusal.message)
            return redirect(board_url)
        else:
            messages.success(
                request,
                ngettext(
                    "The session is closed; %(n)s missed dose recorded.",
                    "The session is closed; %(n)s missed doses recorded.",
                    closed.missed,
                )
                % {"n": closed.missed},
            )
            if confirmed:
                messages.warning(
                    request,
                    _("Still under observation: end their observation on the board."),
                )
            return redirect(board_url)
    # Before the names are read (and logged): only those who may close see the list.
    if not policy.can(request.user, Action.SESSION_CLOSE, clinic):
        raise PermissionDenied(_("Your role does not give access to this."))
    preview = selectors.session_close_preview(actor, clinic, day, slot)
    if preview.closed:
        messages.error(request, _("The session is already closed."))
        return redirect(board_url)
    slot_name = next((s.name for s in selectors.clinic_slots(clinic) if s.code == slot), slot)
    return render(
        request,
        "dosing/close_confirm.html",
        {
            "preview": preview,
            "slot_name": slot_name,
            "error": error,
            "board_url": board_url,
        },
    )


@staff_view
def correction(request: HttpRequest, administration_id: int) -> HttpResponse:
    actor = web_actor(request)
    record = selectors.administration_open(
        actor, administration_id, Action.DOSE_CORRECT, shown=shows(request)
    )
    # The clinic's name for the session ("Ettermiddag"), not its code ("afternoon").
    slot_name = (
        record.clinic.slots.filter(code=record.slot).values_list("name", flat=True).first()
        or record.slot
    )
    back = reverse("dosing:board") + f"?slot={record.slot}&date={record.day}"
    initial = {"status": record.status, "dose_mg": record.dose_mg}
    data = request.POST or None
    page = {
        "title": _("Correct the record of %(name)s, %(day)s %(slot)s")
        % {
            "name": record.patient.full_name,
            "day": record.day.strftime("%d.%m.%Y"),
            "slot": slot_name,
        },
        "intro": _("Recorded: %(status)s, %(dose)s mg. The original record stays visible.")
        % {"status": record.get_status_display(), "dose": number(record.dose_mg)},
        "cancel_url": back,
    }

    def save(cleaned: dict) -> HttpResponse:
        try:
            recorded = services.administration_correct(
                actor=actor,
                administration_id=administration_id,
                reason=cleaned["reason"],
                dose_mg=cleaned["dose_mg"],
                status=cleaned["status"],
                confirm_breach=cleaned.get("confirm_breach", False),
                breach_reason=cleaned.get("breach_reason", ""),
            )
        except Invalid as error:
            if not any(e.field == "confirm_breach" for e in error.errors):
                raise
            # The breaches are listed: the same page again, now asking for the confirmation.
            form = CorrectionForm(data, initial=initial, confirming=True)
            form.is_valid()
            add_errors(form, error)
            return render(request, "form.html", page | {"form": form})
        messages.success(request, _("The record is corrected; the original is kept."))
        for warning in recorded.warnings[:1]:
            messages.warning(request, warning)
        return redirect(back)

    form = CorrectionForm(data, initial=initial, confirming=CorrectionForm.confirming(data))
    return form_page(request, form, save=save, **page)


def _review_group(request: HttpRequest, clinic, row) -> str:
    """The medication group a doctor looking at a blocked row may review ("" otherwise)."""
    if row is None or not policy.can(request.user, Action.PRESCRIBE, clinic):
        return ""
    codes = {reason.code for reason in row.decision.reasons}
    if codes & {"missed_days", "breach_review", "prev_day_none"}:
        return rules.MEDICATION_GROUP[row.prescription.medication].value
    return ""


@staff_view
def dose_review(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The doctor's review that lifts a missed-days or breach block of one medication."""
    actor = web_actor(request)
    patient = patient_open(
        actor, patient_id, Action.PRESCRIBE, what="dose review", shown=shows(request)
    )
    back = reverse("patients:detail", args=[patient.pk])
    if request.GET.get("from") == "alerts":
        # Opened from the doctor's start page: back there, where the answered alert is gone.
        back = reverse("dosing:alerts")
    initial = {"group": request.GET.get("group", "dam")}

    def save(cleaned: dict) -> HttpResponse:
        services.dose_review(
            actor=actor, patient_id=patient.pk, group=cleaned["group"], note=cleaned["note"]
        )
        messages.success(
            request,
            _("Review recorded: the next dose follows the protocol's restart limits."),
        )
        return redirect(back)

    return form_page(
        request,
        DoseReviewForm(request.POST or None, initial=initial),
        title=_("Dose review for %(name)s") % {"name": patient.full_name},
        intro=_(
            "After days without a dose, or a dose over the limits recorded after the fact, "
            "the medication is blocked until a doctor reviews. Your review lifts the blocks "
            "that began before it."
        ),
        cancel_url=back,
        save=save,
    )
