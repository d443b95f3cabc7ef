"""One writer per format: a table as CSV, Parquet or Stata/SPSS into the zip
(``zipped.write_zip``), or the FHIR Bundle (``fhir.write_fhir``)."""
