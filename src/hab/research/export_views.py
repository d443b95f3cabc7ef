"""The researcher's export page: choose the format (and clinic), download, see the log."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hab.core.errors import Invalid
from hab.core.web import staff_view
from hab.research import export
from hab.research.models import ExportLog


@staff_view
def export_page(request: HttpRequest) -> HttpResponse:
    """The page, or with ``format`` the file; both only for researchers (the export's own
    check, in ``export_clinics`` and ``export.export``)."""
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
            return export.download(made)
    return render(
        request,
        "research/export.html",
        {
            "clinics": export.export_clinics(request.user),
            "formats": export.FORMATS,
            "log": ExportLog.objects.filter(user=request.user)[:20],
            "with_dates": request.user.has_perm("research.export_dates"),
            "error": error,
        },
    )
