from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from hab.core import policy
from hab.core.errors import Conflict, Forbidden, Invalid, NotFound
from hab.core.models import User
from hab.core.policy import Action, clinic_for_action
from hab.core.web import add_errors, current_clinic, form_page, shows, staff_view, web_actor
from hab.intake.models import Episode
from hab.patients.selectors import patient_open
from hab.prescribing import services
from hab.prescribing.forms import (
    PrescriptionForm,
    ProtocolConfirmForm,
    ProtocolForm,
    StopForm,
)
from hab.prescribing.models import DosingProtocol, Medication
from hab.prescribing.selectors import (
    chain_head,
    prescription_open,
    protocol_diff,
    protocol_in_force,
    protocol_pending,
)
from hab.prescribing.services import PROTOCOL_FIELDS


def _back(patient_id: int) -> str:
    return reverse("patients:detail", args=[patient_id])


@staff_view
def prescription_create(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = web_actor(request)
    # The form shows the prescription in force and the last four weeks of doses.
    patient = patient_open(
        actor, patient_id, Action.PRESCRIBE, what="prescriptions", shown=shows(request)
    )
    episode = Episode.objects.filter(patient=patient, ended_on__isnull=True).first()
    if episode is None:
        raise NotFound(_("The patient is not in treatment."))
    medication = request.GET.get("medication", "dam_injectable")
    if medication not in Medication.values:
        # The address only preselects the medication: an unknown one gets the usual.
        medication = "dam_injectable"
    current = chain_head(patient.pk, medication)
    initial = {"medication": medication, "route": "iv"}
    if current is not None and current.stopped_on is None:
        initial |= {
            "medication": current.medication,
            "route": current.route,
            "daily_max_mg": current.daily_max_mg,
            **{f"dose_{slot}": mg for slot, mg in current.doses_mg.items()},
        }
    form = PrescriptionForm(request.POST or None, initial=initial, slots=episode.clinic.slots.all())

    def save(data: dict) -> HttpResponse:
        services.prescription_create(
            actor=actor,
            episode_id=episode.pk,
            medication=data["medication"],
            route=data["route"],
            doses_mg=form.doses(),
            daily_max_mg=data["daily_max_mg"],
            valid_from=data["valid_from"],
            valid_to=data["valid_to"],
            reason=data["reason"],
            titration=form.titration(),
            override_reason=data["override_reason"],
        )
        messages.success(request, _("The prescription is saved; the previous one is kept."))
        return redirect(_back(patient.pk))

    return form_page(
        request,
        form,
        title=_("Prescribe for %(name)s") % {"name": patient.full_name},
        intro=_(
            "A new prescription replaces the current one of the same medication from the day "
            "it is valid from; nothing is edited. Injected and oral diacetylmorphine are "
            "prescribed separately and may be in force together (a combined regimen)."
        ),
        cancel_url=_back(patient.pk),
        save=save,
        # The last four weeks of doses above the form (dosing's card, logged as read).
        template="prescribing/prescribe.html",
        extra={"patient": patient},
    )


@staff_view
def prescription_stop(request: HttpRequest, prescription_id: int) -> HttpResponse:
    actor = web_actor(request)
    prescription = prescription_open(actor, prescription_id, Action.PRESCRIBE, shown=shows(request))
    patient = prescription.patient

    def save(data: dict) -> HttpResponse:
        services.prescription_stop(
            actor=actor, prescription_id=prescription_id, reason=data["reason"]
        )
        messages.success(request, _("The prescription is stopped."))
        return redirect(_back(patient.pk))

    return form_page(
        request,
        StopForm(request.POST or None),
        title=_("Stop %(medication)s for %(name)s")
        % {"medication": prescription.get_medication_display(), "name": patient.full_name},
        cancel_url=_back(patient.pk),
        save=save,
    )


@staff_view
def protocol(request: HttpRequest) -> HttpResponse:
    """The clinic's dosing protocol: the version in force, the version awaiting its
    doctor's confirmation with what it changes, the earlier versions, and a new one
    (clinic lead, naming the doctor who confirms it)."""
    clinic = current_clinic(request)
    clinic_for_action(request.user, clinic, Action.BOARD_VIEW)
    versions = list(
        DosingProtocol.objects.filter(clinic=clinic).select_related(
            "created_by", "doctor", "signoff__doctor"
        )
    )
    pending = protocol_pending(clinic.pk)
    can_edit = policy.can(request.user, Action.PROTOCOL_EDIT, clinic)
    form = None
    if can_edit:
        doctors = [
            (u.username, u.get_full_name() or u.username)
            for u in User.objects.filter(memberships__clinic=clinic, memberships__role="doctor")
            .exclude(pk=request.user.pk)
            .order_by("username")
        ]
        # A new version starts from the newest one, so a proposal can be corrected.
        form = ProtocolForm(
            request.POST or None, instance=versions[0] if versions else None, doctors=doctors
        )
        if request.method == "POST" and form.is_valid():
            try:
                made = services.protocol_create(
                    actor=web_actor(request),
                    clinic=clinic,
                    doctor=form.cleaned_data["doctor"],
                    reason=form.cleaned_data["reason"],
                    values={name: form.cleaned_data[name] for name in PROTOCOL_FIELDS},
                )
            except Invalid as error:
                add_errors(form, error)
            else:
                messages.success(
                    request,
                    _(
                        "Version %(version)s is saved. It is in force when %(doctor)s has "
                        "confirmed it."
                    )
                    % {
                        "version": made.version,
                        "doctor": made.doctor.get_full_name() or made.doctor.username,
                    },
                )
                return redirect("prescribing:protocol")
    confirm_form = None
    if pending is not None and pending.doctor_id == request.user.pk:
        confirm_form = ProtocolConfirmForm()
    return _protocol_page(request, versions, form=form, confirm_form=confirm_form)


def _protocol_page(request, versions, *, form, confirm_form) -> HttpResponse:
    clinic = current_clinic(request)
    current = protocol_in_force(clinic.pk)
    pending = protocol_pending(clinic.pk)
    rows = []
    if current is not None:
        rows = [
            (current._meta.get_field(name).verbose_name, getattr(current, name))
            for name in PROTOCOL_FIELDS
        ]
    return render(
        request,
        "prescribing/protocol.html",
        {
            "versions": versions,
            "current": current,
            "pending": pending,
            "changes": protocol_diff(pending) if pending else [],
            "confirm_form": confirm_form,
            "rows": rows,
            "form": form,
        },
    )


@staff_view
def protocol_confirm(request: HttpRequest, version: int) -> HttpResponse:
    """The named doctor confirms a proposed version with their password (and code)."""
    clinic = current_clinic(request)
    clinic_for_action(request.user, clinic, Action.PROTOCOL_CONFIRM)
    if request.method != "POST":
        return redirect("prescribing:protocol")
    form = ProtocolConfirmForm(request.POST)
    if form.is_valid():
        try:
            services.protocol_confirm(
                actor=web_actor(request),
                clinic=clinic,
                version=version,
                password=form.cleaned_data["password"],
                otp=form.cleaned_data["otp"],
            )
        except Invalid as error:
            add_errors(form, error)
        except (Conflict, Forbidden, NotFound) as error:
            messages.error(request, error.message)
            return redirect("prescribing:protocol")
        else:
            messages.success(
                request, _("Version %(version)s is confirmed and in force.") % {"version": version}
            )
            return redirect("prescribing:protocol")
    versions = list(
        DosingProtocol.objects.filter(clinic=clinic).select_related(
            "created_by", "doctor", "signoff__doctor"
        )
    )
    return _protocol_page(request, versions, form=None, confirm_form=form)
