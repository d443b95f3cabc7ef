"""Pages: the record as a FHIR document, and the clinic lead's report to
Legemiddelregisteret."""

from __future__ import annotations

import datetime
import json
import tempfile
import zipfile
from pathlib import Path

from django import forms
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hab.core import clock
from hab.core.errors import Invalid
from hab.core.policy import Action, clinic_for_action
from hab.core.web import current_clinic, form_page, staff_view, web_actor
from hab.interop import clinical, services


@staff_view
def patient_fhir(request: HttpRequest, patient_id: int) -> HttpResponse:
    bundle = clinical.bundle_for(web_actor(request), patient_id, now=clock.now())
    body = json.dumps(bundle, ensure_ascii=False, indent=1).encode()
    response = HttpResponse(body, content_type="application/fhir+json")
    response["Content-Disposition"] = f'attachment; filename="hab-patient-{patient_id}-fhir.json"'
    response["Cache-Control"] = "private, no-store"
    return response


class LmdiForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    sealed = forms.BooleanField(
        label=gettext_lazy("Signed and encrypted for sending (needs the certificates)"),
        required=False,
    )

    def field_for(self, field: str) -> str:
        return {"from": "date_from", "to": "date_to"}.get(field, field)


@staff_view
def lmdi_page(request: HttpRequest) -> HttpResponse:
    clinic = clinic_for_action(request.user, current_clinic(request), Action.LMDI_REPORT)
    yesterday = clock.today() - datetime.timedelta(days=1)
    form = LmdiForm(request.POST or None, initial={"date_from": yesterday, "date_to": yesterday})

    def save(data: dict) -> HttpResponse:
        work = Path(tempfile.mkdtemp(prefix="hab-lmdi-"))
        stem = f"lmdi-{clinic.code}-{data['date_from']}-{data['date_to']}"
        summary = services.lmdi_report(
            actor=web_actor(request),
            clinic=clinic,
            start=data["date_from"],
            end=data["date_to"],
            out=work / f"{stem}.json",
            sealed=data["sealed"],
        )
        if not summary.bundles:
            raise Invalid.one("date_from", _("No doses were given in this period."))
        archive = work / f"{stem}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in summary.files:
                zipped.write(path, path.name)
                path.unlink()
        response = FileResponse(archive.open("rb"), as_attachment=True, filename=archive.name)
        response["Cache-Control"] = "private, no-store"
        archive.unlink()  # the open file stays readable until the response is sent
        work.rmdir()
        return response

    return form_page(
        request,
        form,
        title=_("Report to Legemiddelregisteret"),
        intro=_(
            "Every dose given at %(clinic)s in the period, as FHIR Bundles for the "
            "Norwegian Medicines Registry (LMDI), in a zip file. The registry wants each "
            "day's doses the next day. Every patient in the report is written to their "
            "access log as disclosed."
        )
        % {"clinic": clinic.name},
        cancel_url=reverse("home"),
        save=save,
        extra={"submit_label": _("Download the report")},
    )
