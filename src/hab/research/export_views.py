"""The researcher's export page: choose the format (and clinic), download, see the log."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render

from hab.core.errors import Forbidden, Invalid
from hab.core.models import Clinic
from hab.core.policy import Action, clinic_ids_where
from hab.core.web import staff_view
from hab.research import export
from hab.research.models import ExportLog


@staff_view
def export_page(request: HttpRequest) -> HttpResponse:
    clinic_ids = clinic_ids_where(request.user, Action.RESEARCH_EXPORT)
    if not clinic_ids:
        raise Forbidden("Research exports are for researchers.")
    error = ""
    if request.GET.get("format"):
        try:
            made = export.export(
                request.user,
                request.GET["format"],
                request.GET.get("clinic", ""),
                free_text=request.GET.get("free_text") == "1",
            )
        except Invalid as problem:
            error = problem.errors[0].message
        else:
            response = FileResponse(
                made.path.open("rb"),
                as_attachment=True,
                filename=made.filename,
                content_type=made.content_type,
            )
            made.path.unlink()
            return response
    return render(
        request,
        "research/export.html",
        {
            "clinics": Clinic.objects.filter(pk__in=clinic_ids).order_by("name"),
            "formats": export.FORMATS,
            "log": ExportLog.objects.filter(user=request.user)[:20],
            "with_dates": request.user.has_perm("research.export_dates"),
            "error": error,
        },
    )
