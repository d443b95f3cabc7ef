"""The clinical FHIR Bundle of one patient, over the API."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from ninja import Router

from hab.core import clock
from hab.core.api import request_actor
from hab.interop import clinical

router = Router(tags=["FHIR"])
FHIR_JSON = "application/fhir+json"


@router.get(
    "/patients/{int:patient_id}/fhir",
    summary="The patient's clinical record as a FHIR R4 Bundle (logged)",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "A FHIR R4 Bundle (collection)",
                "content": {FHIR_JSON: {"schema": {"type": "object"}}},
            }
        }
    },
)
def patient_fhir(request: HttpRequest, patient_id: int):
    bundle = clinical.bundle_for(request_actor(request), patient_id, now=clock.now())
    response = HttpResponse(json.dumps(bundle, ensure_ascii=False), content_type=FHIR_JSON)
    response["Cache-Control"] = "private, no-store"
    return response
