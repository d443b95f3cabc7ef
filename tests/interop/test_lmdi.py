"""Reports to Legemiddelregisteret: what a Bundle holds, how a period is split, and who
may make one. Every Bundle is checked against the LMDI profiles and parsed by
fhir.resources (tests/interop/lmdi_check.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from hab.core import clock
from hab.core.access import Actor
from hab.core.errors import Forbidden, Invalid
from hab.core.models import AccessLog, Clinic
from hab.interop import codes, lmdi, services
from hab.stock import services as stock_services
from tests.clock import TODAY
from tests.interop.conftest import DAYS, HPR
from tests.interop.lmdi_check import assert_valid

pytestmark = pytest.mark.django_db

START = TODAY - timedelta(days=DAYS)


def _bundles(size: int = lmdi.MAX_ADMINISTRATIONS) -> list[dict]:
    clinic = Clinic.objects.get(code="oslo")
    return list(lmdi.bundles(clinic, START, TODAY, now=clock.now(), size=size))


def _resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _by_identifier(bundle: dict) -> dict[str, dict]:
    return {r["identifier"][0]["value"]: r for r in _resources(bundle, "MedicationAdministration")}


def test_the_bundle_meets_the_lmdi_profiles(scene):
    [bundle] = _bundles()

    assert_valid(bundle)
    assert bundle["type"] == "transaction"
    assert {e["request"]["method"] for e in bundle["entry"]} == {"POST"}


def test_every_given_dose_once_as_it_stands(scene):
    [bundle] = _bundles()
    doses = _by_identifier(bundle)

    # Six sessions before today (one missed) and today's dose: the missed one is not a
    # dose, the others are each reported once under their first record's id.
    assert sorted(doses) == sorted(
        str(pk)
        for pk in {scene["first"], scene["withdrawn"], scene["today"]}
        | set(range(scene["first"], scene["first"] + 2 * DAYS)) - {scene["missed"]}
    )
    corrected = doses[str(scene["first"])]
    assert corrected["status"] == "completed"
    assert corrected["dosage"]["dose"] == {
        "value": 150,
        "unit": "mg",
        "system": "http://unitsofmeasure.org",
        "code": "mg",
    }
    # Corrected to "not given": withdrawn, so a receiver that had the first version drops it.
    assert doses[str(scene["withdrawn"])]["status"] == "entered-in-error"
    assert str(scene["missed"]) not in doses


def test_a_dose_names_its_time_route_medicine_and_prescription(scene):
    [bundle] = _bundles()
    urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    today = _by_identifier(bundle)[str(scene["today"])]

    assert today["effectiveDateTime"].startswith(f"{TODAY.isoformat()}T15:")
    assert today["dosage"]["route"]["coding"][0]["code"] == "47625008"  # intravenous
    medication = urls[today["medicationReference"]["reference"]]
    atc = medication["extension"][0]["valueCodeableConcept"]["coding"][0]
    assert (atc["system"], atc["code"]) == ("http://www.whocc.no/atc", "N07BC06")
    request = urls[today["request"]["reference"]]
    assert request["identifier"][0]["value"] == str(scene["prescription"])
    prescriber = urls[request["requester"]["reference"]]
    assert prescriber["identifier"] == [{"system": codes.HPR, "value": HPR}]
    patient = urls[today["subject"]["reference"]]
    assert patient["identifier"][0]["system"] == codes.FNR
    diagnosis = urls[today["reasonReference"][0]["reference"]]
    assert diagnosis["code"]["coding"][0]["code"] == "F11.2"
    organisation = urls[urls[today["context"]["reference"]]["serviceProvider"]["reference"]]
    assert organisation["identifier"][0]["value"] == Clinic.objects.get(code="oslo").org_number


@pytest.mark.parametrize(
    ("medication", "atc"),
    [
        ("dam_injectable", "N07BC06"),
        ("dam_tablet_ir", "N07BC06"),
        ("methadone_oral", "N07BC02"),
        ("morphine_sr_oral", "N02AA01"),
        ("hydromorphone_injectable", "N02AA03"),
    ],
)
def test_atc_codes_of_the_trials_medicines(medication, atc):
    assert codes.atc(medication)["coding"][0]["code"] == atc


def test_a_product_in_fest_is_named_by_its_fest_ids_else_by_the_local_catalogue(scene, staff):
    clinic = Clinic.objects.get(code="oslo")
    stock_services.product_create(
        actor=Actor.system(staff["clinic_lead.oslo"]),
        clinic=clinic,
        code="dam-inj",
        name="Diacetylmorfin 10 g",
        medication="dam_injectable",
        form="powder",
    )
    [bundle] = _bundles()
    [local] = _resources(bundle, "Medication")
    assert local["code"]["coding"] == [
        {
            "system": codes.LOCAL_MEDICINE,
            "code": f"{clinic.org_number}.dam-inj",
            "display": "Diacetylmorfin 10 g",
        }
    ]

    stock_services.product_create(
        actor=Actor.system(staff["clinic_lead.oslo"]),
        clinic=clinic,
        code="dam-inj-fest",
        name="Diacetylmorfin 10 g (FEST)",
        medication="dam_injectable",
        form="powder",
        fest_dose_id="id_921b9637-16fe-48e6-bf54-8303007885f3",
        fest_lmr_number="3347478",
    )
    [bundle] = _bundles()
    [listed] = _resources(bundle, "Medication")
    assert listed["code"]["coding"] == [
        {"system": codes.FEST_DOSE, "code": "ID_921B9637-16FE-48E6-BF54-8303007885F3"},
        {"system": codes.FEST_LMR, "code": "3347478"},
    ]
    assert_valid(bundle)


def test_a_bad_fest_id_is_refused_beside_its_field(clinics, staff):
    with pytest.raises(Invalid) as refused:
        stock_services.product_create(
            actor=Actor.system(staff["clinic_lead.oslo"]),
            clinic=clinics["oslo"],
            code="x",
            name="X",
            medication="methadone_oral",
            form="solution",
            fest_lmr_number="334747",
            fest_item_number="12345a",
        )
    assert [e.field for e in refused.value.errors] == ["fest_lmr_number", "fest_item_number"]


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_a_period_is_split_into_self_contained_bundles(scene, size):
    whole = _by_identifier(_bundles()[0])
    parts = _bundles(size=size)

    seen: list[str] = []
    for bundle in parts:
        assert len(_resources(bundle, "MedicationAdministration")) <= size
        assert_valid(bundle)  # every reference resolves inside its own Bundle
        seen += list(_by_identifier(bundle))
    assert sorted(seen) == sorted(whole)
    assert len(parts) == -(-len(whole) // size)


def test_write_numbers_the_files_of_several_bundles(scene, tmp_path):
    clinic = Clinic.objects.get(code="oslo")

    one = lmdi.write(clinic, START, TODAY, tmp_path / "one.json", now=clock.now())
    several = lmdi.write(clinic, START, TODAY, tmp_path / "many.json", now=clock.now(), size=2)

    assert one.files == [tmp_path / "one.json"] and one.bundles == 1
    assert [p.name for p in several.files] == [f"many-00{n}.json" for n in (1, 2, 3)]
    assert several.administrations == one.administrations == 6
    assert several.entered_in_error == 1
    for path in several.files:
        assert json.loads(path.read_text())["resourceType"] == "Bundle"


def test_a_clinic_without_an_organisation_number_cannot_report(scene, staff, tmp_path):
    Clinic.objects.filter(code="oslo").update(org_number="")

    with pytest.raises(Invalid) as refused:
        services.lmdi_report(
            actor=Actor.system(staff["clinic_lead.oslo"]),
            clinic=Clinic.objects.get(code="oslo"),
            start=START,
            end=TODAY,
            out=tmp_path / "x.json",
        )
    assert refused.value.errors[0].field == "clinic"
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("start", "end"),
    [(TODAY, TODAY - timedelta(days=1)), (TODAY, TODAY + timedelta(days=1))],
    ids=["ends-before-it-starts", "ends-after-today"],
)
def test_a_period_that_cannot_be_reported_is_refused(scene, staff, tmp_path, start, end):
    with pytest.raises(Invalid) as refused:
        services.lmdi_report(
            actor=Actor.system(staff["clinic_lead.oslo"]),
            clinic=Clinic.objects.get(code="oslo"),
            start=start,
            end=end,
            out=tmp_path / "x.json",
        )
    assert refused.value.errors[0].field == "to"
    assert not AccessLog.objects.filter(what="register report").exists()


def test_a_period_ending_today_is_allowed(scene, staff, tmp_path):
    summary = services.lmdi_report(
        actor=Actor.system(staff["clinic_lead.oslo"]),
        clinic=Clinic.objects.get(code="oslo"),
        start=TODAY,
        end=TODAY,
        out=tmp_path / "today.json",
    )
    assert summary.administrations == 1


@pytest.mark.parametrize("role", ["nurse", "doctor", "coordinator", "researcher", "programme"])
def test_only_the_clinic_lead_reports(scene, staff, tmp_path, role):
    with pytest.raises(Forbidden):
        services.lmdi_report(
            actor=Actor.system(staff[f"{role}.oslo"]),
            clinic=Clinic.objects.get(code="oslo"),
            start=START,
            end=TODAY,
            out=tmp_path / "x.json",
        )


def test_each_patient_in_a_report_is_logged_as_disclosed(scene, staff, tmp_path):
    services.lmdi_report(
        actor=Actor.system(staff["clinic_lead.oslo"]),
        clinic=Clinic.objects.get(code="oslo"),
        start=START,
        end=TODAY,
        out=tmp_path / "r.json",
    )

    [row] = AccessLog.objects.filter(what="register report")
    assert (row.patient_id, row.action, row.username) == (
        scene["patient"],
        "disclose",
        "clinic_lead.oslo",
    )
    assert row.details["from"] == START.isoformat()


def test_the_command_writes_the_report(scene, tmp_path, capsys):
    out = tmp_path / "lmdi.json"

    call_command(
        "lmdi", "--clinic", "oslo", "--from", str(START), "--to", str(TODAY), "--out", str(out)
    )

    printed = capsys.readouterr().out
    assert "6 doses of 1 patients (1 withdrawn) in 1 Bundle" in printed
    bundle = json.loads(out.read_text())
    assert_valid(bundle)
    total = sum(
        Decimal(str(r["dosage"]["dose"]["value"]))
        for r in _resources(bundle, "MedicationAdministration")
        if r["status"] == "completed"
    )
    assert total == 150 + 200 * 3 + 200  # the corrected dose, three more days, today


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--clinic", "tromso"], "No clinic with the code 'tromso'"),
        (["--from", "2026-13-01"], "is not a date"),
        (["--out", "/no/such/folder/x.json"], "does not exist"),
        (["--user", "nobody"], "No active user"),
        (["--user", "nurse.oslo"], "Your role does not give access"),
    ],
)
def test_the_command_says_what_is_wrong(scene, tmp_path, arguments, message):
    given = {
        "--clinic": "oslo",
        "--from": str(START),
        "--to": str(TODAY),
        "--out": str(tmp_path / "x.json"),
    }
    given.update(dict(zip(arguments[::2], arguments[1::2], strict=True)))

    with pytest.raises(CommandError, match=message):
        call_command("lmdi", *[part for pair in given.items() for part in pair])


def test_a_period_without_doses_writes_nothing(scene, tmp_path, capsys):
    empty = TODAY - timedelta(days=100)
    call_command(
        "lmdi",
        "--clinic",
        "oslo",
        "--from",
        str(empty),
        "--to",
        str(empty),
        "--out",
        str(tmp_path / "x.json"),
    )

    assert "No doses given" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())
