"""A table as Parquet in the zip, its labels and codes in the schema's field metadata."""

from __future__ import annotations

import io
import json
import zipfile

from ..queries import chunks
from ..tables import Table
from .table_csv import copied

ROW_GROUP_BYTES = 4 << 20  # of CSV text: about 100,000 rows of doses_daily


def arrow_schema(table: Table):
    import pyarrow as pa

    kinds = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "date": pa.date32()}
    fields = []
    for column in table.columns:
        metadata = {"label_en": column.label_en, "label_nb": column.label_nb}
        if column.codes:
            metadata["codes"] = json.dumps({str(k): v for k, v in column.codes.items()})
        fields.append(pa.field(column.name, kinds[column.type], metadata=metadata))
    return pa.schema(fields)


def write_parquet(zf: zipfile.ZipFile, table: Table) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(table)
    with (
        zf.open(f"{table.name}.parquet", "w") as raw,
        pq.ParquetWriter(pa.PythonFile(raw, mode="w"), schema) as writer,
    ):
        if table.copy is not None:
            written = _write_copied(writer, table, schema)
        else:
            written = _write_rows(writer, table, schema)
        if not written:
            writer.write_table(schema.empty_table())


def _write_copied(writer, table: Table, schema) -> bool:
    """PostgreSQL's CSV read by Arrow's own reader, a block (a row group) at a time, here:
    a reader pulling the lines itself would read them in another thread, on another
    connection to the database."""
    from pyarrow import csv as pa_csv

    read_options = pa_csv.ReadOptions(column_names=schema.names, use_threads=False)
    convert_options = pa_csv.ConvertOptions(column_types={f.name: f.type for f in schema})
    written = False
    for block in copied(table, ROW_GROUP_BYTES):
        read = pa_csv.read_csv(
            io.BytesIO(block), read_options=read_options, convert_options=convert_options
        )
        writer.write_table(read.cast(schema))
        written = True
    return written


def _write_rows(writer, table: Table, schema) -> bool:
    import pyarrow as pa

    written = False
    for batch in chunks(table.rows()):
        columns = list(zip(*batch, strict=True))
        arrays = [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)]
        writer.write_batch(pa.record_batch(arrays, schema=schema))
        table.count += len(batch)
        written = True
    return written
