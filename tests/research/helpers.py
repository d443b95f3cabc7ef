"""Helpers the research tests share: research consent, and the export downloaded and read."""

from __future__ import annotations

import csv
import io
import zipfile

from hab.core.access import Actor
from hab.patients import services as patient_services


def consent(staff, patient_id: int, given: bool) -> None:
    patient_services.consent_record(
        actor=Actor.system(staff["coordinator.oslo"]),
        patient_id=patient_id,
        kind="research",
        given=given,
    )


def download(api, fmt="csv", **query):
    response = api.get("/research/export", {"format": fmt} | query)
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content), response


def tables_of(data: bytes) -> dict[str, list[dict]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {
        name[:-4]: list(csv.DictReader(io.StringIO(archive.read(name).decode())))
        for name in archive.namelist()
        if name.endswith(".csv")
    }
