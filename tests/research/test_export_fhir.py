"""The research export's FHIR Bundle (R4B): Patient, EpisodeOfCare, MedicationAdministration
and QuestionnaireResponse under research ids only; a day's doses are doses_daily's sums;
dates on the shifted calendar (day 0 = 2000-01-01) unless the exporter may see dates."""

from __future__ import annotations

import datetime
import io
import json
import uuid
from collections import defaultdict
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from hab.core import clock
from hab.core.access import Actor
from hab.dosing.models import Administration
from hab.intake.models import Episode
from hab.patients.models import Patient
from hab.research import export
from hab.research.models import Answer, FollowUp, Item, Response
from tests.dosing.helpers import TODAY
from tests.research.helpers import consent, download, tables_of

pytestmark = pytest.mark.django_db

DAY0 = datetime.date(2000, 1, 1)
ATC = {"N07BC06": "dam", "N07BC02": "methadone", "N02AA01": "morphine", "N02AA03": "hydromorphone"}


@pytest.fixture
def dosed(trial, instrument, staff):
    """The trial, with more to export: the second patient's adjunct opioids, a corrected
    partial dose and a day with nothing given; an earlier, ended episode of the first; a
    date among the first's answers."""
    from hab.dosing.services import administration_correct

    made, _days, _housing = instrument
    second = trial["patients"][1]
    episode = Episode.objects.get(patient_id=second, ended_on__isnull=True)
    day = TODAY - timedelta(days=5)
    rows = [
        (day, "morning", "dam_injectable", "dam", "partial", "12.3"),
        (day, "afternoon", "dam_injectable", "dam", "given", "0.2"),
        (day, "evening", "dam_injectable", "dam", "withheld", "0"),
        (day, "evening", "morphine_sr_oral", "morphine", "given", "30.5"),
        (day - timedelta(days=1), "morning", "methadone_oral", "methadone", "given", "60.1"),
        (day - timedelta(days=1), "afternoon", "methadone_oral", "methadone", "refused", "0"),
        (day - timedelta(days=2), "morning", "dam_injectable", "dam", "withheld", "0"),
        (
            day - timedelta(days=2),
            "evening",
            "hydromorphone_injectable",
            "hydromorphone",
            "missed",
            "0",
        ),
    ]
    records = Administration.objects.bulk_create(
        Administration(
            patient_id=second,
            episode=episode,
            clinic=episode.clinic,
            day=on,
            slot=slot,
            medication=medication,
            group=group,
            route="oral" if medication.endswith("oral") else "iv",
            status=status,
            dose_mg=mg,
            given_at=clock.now(),
            nurse=episode.created_by,
        )
        for on, slot, medication, group, status, mg in rows
    )
    administration_correct(
        actor=Actor.system(staff["nurse.oslo"]),
        administration_id=records[0].pk,
        reason="Wrong amount",
        dose_mg="7.7",
        status="partial",
    )
    first = trial["episode"]
    Episode.objects.create(
        patient_id=first.patient_id,
        clinic=first.clinic,
        admitted_on=first.admitted_on - timedelta(days=100),
        ended_on=first.admitted_on - timedelta(days=40),
        end_reason="dropout",
        phase="maintenance",
        created_by=first.created_by,
    )
    overdose = Item.objects.create(
        instrument=made,
        code="test_last_overdose",
        order=5,
        text_nb="Siste overdose",
        text_en="Last overdose",
        type="date",
        required=False,
    )
    current = Response.objects.get(corrected_by__isnull=True, instrument=made)
    Answer.objects.create(
        response=current, item=overdose, value_date=first.admitted_on - timedelta(days=70)
    )
    return trial


def written(staff, *, with_dates: bool = False, fmt: str = "fhir"):
    scope = export.scope_for(staff["researcher.oslo"], "oslo", with_dates=with_dates)
    target = io.BytesIO()
    if fmt == "fhir":
        export.write_fhir(scope, target)
    else:
        export.write_zip(scope, fmt, target)
    return target.getvalue()


def resources(data: bytes, kind: str | None = None) -> list[dict]:
    found = [entry["resource"] for entry in json.loads(data)["entry"]]
    return [r for r in found if kind is None or r["resourceType"] == kind]


def study_day(element: dict, name: str) -> int:
    (extension,) = element[f"_{name}"]["extension"]
    assert extension["url"] == "urn:hab:study-day"
    return extension["valueInteger"]


def research_id(reference: dict) -> str:
    """The research id of the Patient a reference points at (by its fullUrl)."""
    for rid in Patient.objects.values_list("research_id", flat=True):
        if export.research_url("Patient", rid.lower()) == reference["reference"]:
            return rid
    raise AssertionError(f"{reference} points at no patient")


def test_every_full_url_is_a_uuid_and_every_reference_resolves(dosed, staff):
    entries = json.loads(written(staff))["entry"]
    urls = {entry["fullUrl"] for entry in entries}

    for url in urls:
        uuid.UUID(url.removeprefix("urn:uuid:"))
    references = {
        value["reference"]
        for entry in entries
        for value in entry["resource"].values()
        if isinstance(value, dict) and "reference" in value
    }
    assert references and references <= urls


def test_every_resource_parses_as_fhir_r4b(dosed, staff):
    data = written(staff)

    bundle = Bundle.model_validate_json(data)
    kinds = defaultdict(int)
    for entry in json.loads(data)["entry"]:
        resource = entry["resource"]
        model = get_fhir_model_class(resource["resourceType"])
        parsed = model.model_validate(resource)
        assert json.loads(parsed.model_dump_json(exclude_none=True)) == resource
        kinds[resource["resourceType"]] += 1
    assert len(bundle.entry) == sum(kinds.values())
    assert dict(kinds) == {
        "Patient": 2,
        "EpisodeOfCare": 3,
        "MedicationAdministration": 3 + 3 + 3,  # two patients' dam days; methadone, morphine
        "QuestionnaireResponse": 1,
    }
    assert len({entry["fullUrl"] for entry in json.loads(data)["entry"]}) == len(bundle.entry)


@pytest.mark.parametrize("with_dates", [False, True])
def test_a_medication_administration_per_day_and_group_holds_doses_daily_sums(
    dosed, staff, with_dates
):
    """The Bundle and the CSV of the same scope: a day's total per group in one is the
    day's dam_mg or other_mg in the other, and the number of doses dam_doses."""
    fhir = resources(written(staff, with_dates=with_dates), "MedicationAdministration")
    csv_rows = tables_of(written(staff, with_dates=with_dates, fmt="csv"))["doses_daily"]

    summed: dict[tuple[str, int], dict] = defaultdict(lambda: {"dam": 0.0, "other": 0.0})
    dam_doses: dict[tuple[str, int], int] = {}
    for given in fhir:
        assert given["status"] == "completed"
        (coding,) = given["medicationCodeableConcept"]["coding"]
        assert coding["system"] == "http://www.whocc.no/atc"
        group = ATC[coding["code"]]
        dose = given["dosage"]["dose"]
        assert (dose["unit"], dose["system"], dose["code"]) == (
            "mg",
            "http://unitsofmeasure.org",
            "mg",
        )
        period = given["effectivePeriod"]
        assert period["start"] == period["end"]
        key = (research_id(given["subject"]), study_day(period, "start"))
        assert study_day(period, "end") == key[1]
        summed[key]["dam" if group == "dam" else "other"] += dose["value"]
        (count,) = given["extension"]
        assert count["url"] == "urn:hab:doses-given" and count["valueInteger"] >= 1
        if group == "dam":
            dam_doses[key] = count["valueInteger"]
        if with_dates:
            row = next(r for r in csv_rows if (r["research_id"], int(r["day"])) == key)
            assert period["start"] == row["day_date"]
        else:
            assert period["start"] == str(DAY0 + timedelta(days=key[1]))

    by_day = {(r["research_id"], int(r["day"])): r for r in csv_rows}
    assert set(summed) <= set(by_day)
    for key, row in by_day.items():
        assert round(summed[key]["dam"], 1) == float(row["dam_mg"]), key
        assert round(summed[key]["other"], 1) == float(row["other_mg"]), key
        assert dam_doses.get(key, 0) == int(row["dam_doses"]), key
    # the fixture's own numbers: the correction counts; a day with nothing given has none
    groups = {
        (ATC[g["medicationCodeableConcept"]["coding"][0]["code"]], g["dosage"]["dose"]["value"])
        for g in fhir
        if research_id(g["subject"]) == Patient.objects.get(pk=dosed["patients"][1]).research_id
    }
    assert {("dam", 7.9), ("morphine", 30.5), ("methadone", 60.1), ("dam", 400.0)} == groups


def test_an_episode_of_care_per_episode_with_phase_and_end_reason(dosed, staff):
    data = written(staff)
    episodes = resources(data, "EpisodeOfCare")
    csv_rows = tables_of(written(staff, fmt="csv"))["episodes"]

    first = Patient.objects.get(pk=dosed["patients"][0]).research_id
    assert len(episodes) == len(csv_rows) == 3
    mine = sorted(
        (e for e in episodes if research_id(e["patient"]) == first), key=lambda e: e["id"]
    )
    ended, current = mine
    assert (ended["id"], current["id"]) == (f"{first.lower()}-e1", f"{first.lower()}-e2")
    assert ended["status"] == "finished" and current["status"] == "active"
    assert ended["type"][0]["coding"][0] == {
        "system": "urn:hab:episode-phase",
        "code": "maintenance",
        "display": "Maintenance",
    }
    (reason,) = ended["extension"]
    assert reason["url"] == "urn:hab:end-reason"
    assert reason["valueCodeableConcept"]["coding"][0]["system"] == "urn:hab:end-reason"
    assert reason["valueCodeableConcept"]["coding"][0]["code"] == "dropout"
    assert "extension" not in current
    assert ended["managingOrganization"] == {"display": "oslo"}
    # periods in study days, as the episodes table has them
    assert (study_day(ended["period"], "start"), study_day(ended["period"], "end")) == (0, 60)
    assert ended["period"]["start"] == "2000-01-01" and ended["period"]["end"] == "2000-03-01"
    assert study_day(current["period"], "start") == 100 and "end" not in current["period"]
    table = {(r["research_id"], r["start_day"], r["end_day"]) for r in csv_rows}
    assert (first, "0", "60") in table and (first, "100", "") in table


def real_dates(dosed) -> set[str]:
    """Every calendar date of the trial's patients that the Bundle could leak."""
    patients = dosed["patients"]
    days = set(Administration.objects.filter(patient_id__in=patients).values_list("day", flat=True))
    for episode in Episode.objects.filter(patient_id__in=patients):
        days |= {episode.admitted_on, episode.ended_on} - {None}
    days |= set(
        Response.objects.filter(follow_up__patient_id__in=patients).values_list(
            "answered_on", flat=True
        )
    )
    days |= set(Answer.objects.exclude(value_date=None).values_list("value_date", flat=True))
    days |= set(FollowUp.objects.filter(patient_id__in=patients).values_list("due_on", flat=True))
    return {day.isoformat() for day in days}


def test_without_dates_no_identifier_and_no_real_date_is_in_the_json(dosed, staff):
    text = written(staff).decode()

    for patient in Patient.objects.filter(pk__in=dosed["patients"]):
        for secret in (
            patient.national_id,
            patient.given_name,
            patient.family_name,
            patient.birth_date.isoformat(),
        ):
            assert secret not in text
    for day in real_dates(dosed):
        assert day not in text, day
    assert '"code":"shifted"' in text
    # ids are research ids and numbers, never HAB's own
    for resource in resources(text.encode()):
        rid = resource["id"].split("-")[0].upper()
        assert Patient.objects.filter(research_id=rid).exists(), resource["id"]
    (answered,) = resources(text.encode(), "QuestionnaireResponse")
    assert answered["authored"] == "2000-04-12"  # study day 102
    assert study_day(answered, "authored") == 102
    date = next(i for i in answered["item"] if i["linkId"] == "test_last_overdose")
    assert date["answer"][0]["valueDate"] == "2000-01-31"
    assert study_day(date["answer"][0], "valueDate") == 30


def test_with_the_dates_permission_the_real_dates_are_in_the_json(dosed, staff):
    text = written(staff, with_dates=True).decode()

    for day in Administration.objects.filter(
        patient_id__in=dosed["patients"][:2], status__in=("given", "partial")
    ).values_list("day", flat=True):
        assert day.isoformat() in text
    (answered,) = resources(text.encode(), "QuestionnaireResponse")
    admitted = dosed["episode"].admitted_on
    assert answered["authored"] == str(admitted + timedelta(days=2))
    assert study_day(answered, "authored") == 102
    first = Patient.objects.get(pk=dosed["patients"][0]).research_id
    current = next(
        e for e in resources(text.encode(), "EpisodeOfCare") if e["id"] == f"{first.lower()}-e2"
    )
    assert current["period"]["start"] == str(admitted)
    assert '"code":"calendar"' in text
    for patient in Patient.objects.filter(pk__in=dosed["patients"]):
        assert patient.national_id not in text and patient.family_name not in text


def test_a_patient_without_research_consent_is_left_out(dosed, staff):
    data = written(staff)

    text = data.decode()
    consenting = {Patient.objects.get(pk=pk).research_id for pk in dosed["patients"][:2]}
    for pk in dosed["patients"][2:]:
        assert Patient.objects.get(pk=pk).research_id.lower() not in text
    referenced = {
        research_id(r.get("subject") or r.get("patient"))
        for r in resources(data)
        if r["resourceType"] != "Patient"
    }
    assert referenced == consenting
    assert {r["identifier"][0]["value"] for r in resources(data, "Patient")} == consenting


def test_the_queries_do_not_grow_with_the_responses(dosed, staff, instrument):
    made, days, _housing = instrument
    current = Response.objects.get(corrected_by__isnull=True, instrument=made)

    def queries(responses: int) -> int:
        have = Response.objects.filter(corrected_by__isnull=True).count()
        for _ in range(responses - have):
            extra = Response.objects.create(
                follow_up=current.follow_up,
                instrument=made,
                answered_on=current.answered_on,
                recorded_at=clock.now(),
                recorded_by=current.recorded_by,
            )
            Answer.objects.create(response=extra, item=days, value_int=3)
        scope = export.scope_for(staff["researcher.oslo"], "oslo")
        with CaptureQueriesContext(connection) as captured:
            counts = export.write_fhir(scope, io.BytesIO())
        assert counts["QuestionnaireResponse"] == responses
        return len(captured)

    assert queries(2) == queries(10)


def test_the_readme_and_the_api_describe_the_fhir_dates(dosed, api_as):
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(download(api_as("researcher.oslo"))[0]))
    readme = archive.read("README.md").decode()
    assert "urn:hab:study-day" in readme and "2000-01-01" in readme
    assert "forskjøvet" in readme

    data, response = download(api_as("researcher.oslo"), "fhir")
    assert response["Content-Type"] == "application/fhir+json"
    assert Bundle.model_validate_json(data).type == "collection"


@pytest.mark.parametrize("fmt", ["fhir", "csv"])
def test_the_queries_do_not_grow_with_the_patients(
    dosed,
    staff,
    on_prescription,
    fmt,
):
    def queries(more: int) -> int:
        for _ in range(more):
            consent(staff, on_prescription(days=3)["patient"], True)
        scope = export.scope_for(staff["researcher.oslo"], "oslo")
        with CaptureQueriesContext(connection) as captured:
            if fmt == "fhir":
                export.write_fhir(scope, io.BytesIO())
            else:
                export.write_zip(scope, fmt, io.BytesIO())
        return len(captured)

    assert queries(0) == queries(3)
