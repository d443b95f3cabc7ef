"""GET /research/export: the pseudonymised research export (researchers only)."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest
from ninja import Router

from hab.core.errors import Forbidden, Invalid
from hab.core.policy import Action, clinic_ids_where
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
    a warning (``X-HAB-Warning``) and the export log records the request."""
    if not clinic_ids_where(request.user, Action.RESEARCH_EXPORT):
        raise Forbidden("Research exports are for researchers.")
    if format not in export.FORMATS:
        raise Invalid.one("format", "Choose one of: " + ", ".join(export.FORMATS) + ".")
    made = export.export(request.user, format, clinic, free_text=free_text)
    response = FileResponse(
        made.path.open("rb"),
        as_attachment=True,
        filename=made.filename,
        content_type=made.content_type,
    )
    made.path.unlink()  # the open handle keeps the data until the response is sent
    response["X-HAB-SHA256"] = made.sha256
    response["X-HAB-Left-Out"] = str(made.left_out)
    response["X-HAB-Free-Text"] = "included" if made.free_text else "left-out"
    if made.free_text:
        response["X-HAB-Warning"] = export.FREE_TEXT_WARNING
    return response
