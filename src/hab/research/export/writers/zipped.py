"""The zip of the tabular formats: a file per table, a codebook and a README in English
and Norwegian."""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from django.utils import timezone

from hab.core import clock, spreadsheet

from ..scope import Scope
from ..tables import Table, tables
from .fhir import FHIR_DATES_EN, FHIR_DATES_NB
from .table_csv import write_csv
from .table_parquet import write_parquet
from .table_stat import write_stat

FREE_TEXT_WARNING = (
    "Free-text answers are included: they may name the patient or others, or hold a "
    "national id. Keep the file as identifiable data."
)
CODEBOOK_HEADER = ("table", "variable", "type", "label_en", "label_nb", "codes_en", "codes_nb")


def write_zip(scope: Scope, fmt: str, target) -> dict[str, int]:
    tables_ = tables(scope)
    with (
        tempfile.TemporaryDirectory() as work,
        zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf,
    ):
        for table in tables_:
            if fmt == "csv":
                write_csv(zf, table)
            elif fmt == "parquet":
                write_parquet(zf, table)
            else:
                write_stat(zf, table, fmt, Path(work))
        with (
            zf.open("codebook.csv", "w") as raw,
            io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle,
        ):
            writer = spreadsheet.writer(handle)
            writer.writerow(CODEBOOK_HEADER)
            writer.writerows(codebook_rows(tables_))
        zf.writestr("README.md", readme(scope, tables_, fmt))
    return {t.name: t.count for t in tables_}


def codebook_rows(tables_: list[Table]) -> Iterator[tuple]:
    for table in tables_:
        for column in table.columns:
            codes = column.codes or {}
            yield (
                table.name,
                column.name,
                column.type,
                column.label_en,
                column.label_nb,
                "; ".join(f"{code}={en}" for code, (en, _nb) in codes.items()),
                "; ".join(f"{code}={nb}" for code, (_en, nb) in codes.items()),
            )


def readme(scope: Scope, tables_: list[Table], fmt: str) -> str:
    lines = [
        "# HAB research export / forskningsuttrekk",
        "",
        f"Exported {timezone.localtime(clock.now()):%Y-%m-%d %H:%M} · format {fmt}",
        "",
        "## English",
        "",
        "Pseudonymised data from HAB (heroin-assisted treatment). `research_id` replaces every",
        "identifier; names and national ids are never exported. "
        + (
            "Calendar dates are included (the exporter holds the research_dates permission)."
            if scope.with_dates
            else "Dates are study days: days since the patient's first admission (day 0)."
        ),
        f"Patients with research consent: {len(scope.patients)}. Left out without (or after "
        f"withdrawing) research consent: {scope.left_out}.",
        (
            f"WARNING: {FREE_TEXT_WARNING}"
            if scope.free_text
            else "Free-text answers are left out (the exporter did not ask for them)."
        ),
        "Text cells that a spreadsheet would read as a formula (starting with =, +, -, @, "
        "a tab or a carriage return) begin with an apostrophe in the CSV files.",
        FHIR_DATES_EN,
        "Coded variables and their labels are in codebook.csv. Tables:",
        "",
        *[f"- {t.name}: {t.label_en} ({t.count} rows)" for t in tables_],
        "",
        "## Norsk",
        "",
        "Pseudonymiserte data fra HAB. `research_id` erstatter alle identifikatorer; navn og",
        "fødselsnummer eksporteres aldri. "
        + (
            "Datoer er med (brukeren har tillatelsen research_dates)."
            if scope.with_dates
            else "Datoer er studiedager: dager siden første innskriving (dag 0)."
        ),
        f"Pasienter med forskningssamtykke: {len(scope.patients)}. Utelatt uten (eller etter "
        f"tilbaketrukket) samtykke: {scope.left_out}.",
        (
            "ADVARSEL: Fritekstsvar er med: de kan navngi pasienten eller andre, eller "
            "inneholde fødselsnummer. Behandle filen som personidentifiserbare data."
            if scope.free_text
            else "Fritekstsvar er utelatt (brukeren ba ikke om dem)."
        ),
        "Tekstceller som et regneark ville lest som en formel (som begynner med =, +, -, @, "
        "tabulator eller vognretur) begynner med en apostrof i CSV-filene.",
        FHIR_DATES_NB,
        "Kodede variabler og etiketter står i codebook.csv. Tabeller:",
        "",
        *[f"- {t.name}: {t.label_nb} ({t.count} rader)" for t in tables_],
        "",
    ]
    return "\n".join(lines)
