"""The export as a service: checks who asks, writes the file, logs it with its SHA-256."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from hab.core import clock
from hab.core.errors import Invalid
from hab.core.models import User
from hab.research.models import ExportLog

from .scope import export_clinic_ids, scope_within
from .writers.fhir import write_fhir
from .writers.zipped import write_zip

FORMATS = ("csv", "parquet", "dta", "sav", "fhir")


@dataclass(frozen=True)
class Exported:
    path: Path
    filename: str
    content_type: str
    sha256: str
    rows: dict[str, int]
    left_out: int
    free_text: bool = False


def export(user: User, fmt: str, clinic: str = "", *, free_text: bool = False) -> Exported:
    """Writes the export to a temporary file, logs it and returns where it is. Raises
    Forbidden for anyone but a researcher, then Invalid for a format HAB does not write.
    Free-text answers only with ``free_text``, which the log keeps."""
    clinic_ids = export_clinic_ids(user)
    if fmt not in FORMATS:
        raise Invalid.one("format", "Choose one of: " + ", ".join(FORMATS) + ".")
    scope = scope_within(user, clinic_ids, clinic, free_text=free_text)
    with tempfile.NamedTemporaryFile(prefix="hab-export-", delete=False) as handle:
        rows = write_fhir(scope, handle) if fmt == "fhir" else write_zip(scope, fmt, handle)
    path = Path(handle.name)
    sha256 = _sha256(path)
    stamp = f"{timezone.localtime(clock.now()):%Y%m%d-%H%M}"
    ExportLog.objects.create(
        at=clock.now(),
        user=user,
        format=fmt,
        filters={"clinic": clinic} if clinic else {},
        with_dates=scope.with_dates,
        free_text=scope.free_text,
        rows=rows,
        left_out=scope.left_out,
        sha256=sha256,
    )
    if fmt == "fhir":
        filename, content_type = f"hab-fhir-{stamp}.json", "application/fhir+json"
    else:
        filename, content_type = f"hab-research-{fmt}-{stamp}.zip", "application/zip"
    return Exported(path, filename, content_type, sha256, rows, scope.left_out, scope.free_text)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
