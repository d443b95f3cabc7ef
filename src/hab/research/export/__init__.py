"""Pseudonymised research exports: one zip with a table per entity, a codebook and a
README, as CSV, Parquet, Stata or SPSS; or a FHIR Bundle.

No direct identifiers leave HAB: the research id (an HMAC of the national id under
HAB_RESEARCH_KEY) replaces every id, names and national ids never appear, and dates become
days since the patient's first admission unless the exporter holds the
``research.export_dates`` permission. Only patients whose latest research consent is
"given" are exported; the README says how many were left out. Rows are read from the
database in chunks and written as they come (CSV, Parquet), so memory does not grow with
the data; Stata and SPSS files are written per table from a data frame (pyreadstat needs
one). Every export is logged with the file's SHA-256.

Free-text answers (a follow-up's comment) may hold names, national ids or anything else a
patient said: they are left out unless the researcher asks for them (``free_text``), which
the export log records and the README, the page and the API answer warn about. Every CSV
cell goes through hab.core.spreadsheet, so no text becomes a spreadsheet formula.

The package: ``scope`` (who may export, and which patients), ``queries`` (the rows),
``tables`` (the columns and their labels), ``writers`` (one per format), ``log`` (the
service that writes and logs an export) and ``download`` (the file as a response).
"""

from .download import download
from .log import FORMATS, Exported, export
from .queries import GIVEN, current_doses, given_doses, given_mg, group_atc, mg
from .scope import CHUNK, Scope, export_clinic_ids, export_clinics, scope_for
from .tables import Column, Table, follow_up_tables, tables
from .writers.fhir import research_url, write_fhir
from .writers.zipped import FREE_TEXT_WARNING, write_zip

__all__ = [
    "CHUNK",
    "FORMATS",
    "FREE_TEXT_WARNING",
    "GIVEN",
    "Column",
    "Exported",
    "Scope",
    "Table",
    "current_doses",
    "download",
    "export",
    "export_clinic_ids",
    "export_clinics",
    "follow_up_tables",
    "given_doses",
    "given_mg",
    "group_atc",
    "mg",
    "research_url",
    "scope_for",
    "tables",
    "write_fhir",
    "write_zip",
]
