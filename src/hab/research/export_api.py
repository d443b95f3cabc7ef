"""GET /research/export: the pseudonymised research export (researchers only)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from hab.research import export

router = Router(tags=["research"])


@router.get(
    "/research/export",
    summary="Pseudonymised export: zip (csv, parquet, dta, sav) or FHIR Bundle (fhir)",
    response={200: None},
)
def research_export(
    request: HttpRequest, format: str = "csv", clinic: str = "", free_text: bool = False
):
    """Free-text answers are left out unless ``free_text=true``; then the answer carries
    a warning (``X-HAB-Warning``) and the export log records the request. The service
    answers 403 to anyone but a researcher and 422 to a format it does not write."""
    made = export.export(request.user, format, clinic, free_text=free_text)
    response = export.download(made)
    response["X-HAB-SHA256"] = made.sha256
    response["X-HAB-Left-Out"] = str(made.left_out)
    response["X-HAB-Free-Text"] = "included" if made.free_text else "left-out"
    if made.free_text:
        response["X-HAB-Warning"] = export.FREE_TEXT_WARNING
    return response
