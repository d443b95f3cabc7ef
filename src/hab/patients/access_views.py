"""The clinic lead's page of everything HAB holds about a patient, and its downloads."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from hab.core.web import staff_view, web_actor
from hab.patients import access_report

PAGE_ROWS = 100  # per section on the page; the downloads have every row


@staff_view
def access_report_page(request: HttpRequest, patient_id: int) -> HttpResponse:
    report = access_report.access_report(
        web_actor(request), patient_id, channel_format="page", limit=PAGE_ROWS
    )
    return render(request, "patients/access_report.html", {"report": report})


@staff_view
def access_report_download(request: HttpRequest, patient_id: int, kind: str) -> HttpResponse:
    if kind not in ("zip", "pdf", "json"):
        raise Http404
    report = access_report.access_report(web_actor(request), patient_id, channel_format=kind)
    stem = access_report.file_stem(report)
    if kind == "zip":
        body, content_type = access_report.as_zip(report), "application/zip"
    elif kind == "pdf":
        body, content_type = access_report.as_pdf(report), "application/pdf"
    else:
        data = access_report.as_json(report)
        body = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
        content_type = "application/json"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{stem}.{kind}"'
    response["Cache-Control"] = "private, no-store"
    return response
