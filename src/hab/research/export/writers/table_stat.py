"""A table as a Stata (.dta) or SPSS (.sav) file in the zip, with English labels. pyreadstat
writes from a data frame, so these tables are held in memory one at a time."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..tables import Table


def frame(table: Table):
    import pandas as pd

    rows = list(table.rows())
    table.count = len(rows)
    data = pd.DataFrame.from_records(rows, columns=[c.name for c in table.columns])
    for column in table.columns:
        if column.type == "date":
            data[column.name] = pd.to_datetime(data[column.name])
        elif column.type == "int":
            data[column.name] = pd.to_numeric(data[column.name]).astype("float64")
        elif column.type == "str":
            data[column.name] = data[column.name].fillna("").astype(str)
    return data


def write_stat(zf: zipfile.ZipFile, table: Table, fmt: str, work: Path) -> None:
    import pyreadstat

    data = frame(table)
    labels = {
        c.name: {float(code): en for code, (en, _nb) in c.codes.items()}
        for c in table.columns
        if c.codes
    }
    column_labels = [c.label_en[:80] for c in table.columns]
    path = work / f"{table.name}.{fmt}"
    if fmt == "dta":
        pyreadstat.write_dta(
            data,
            str(path),
            column_labels=column_labels,
            variable_value_labels=labels,
            file_label=table.label_en[:80],
        )
    else:
        pyreadstat.write_sav(
            data,
            str(path),
            column_labels=column_labels,
            variable_value_labels=labels,
            file_label=table.label_en[:64],
        )
    zf.write(path, path.name)
    path.unlink()
