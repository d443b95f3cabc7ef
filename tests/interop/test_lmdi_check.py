"""The LMDI checker: a Bundle like the guide's example passes, broken copies fail as expected."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhirpathpy import evaluate
from fhirpathpy.models import models
from hypothesis import given
from hypothesis import strategies as st

from tests.interop.lmdi_check import assert_valid, fhir_problems, lmdi_problems, rules
from tests.interop.lmdi_profiles import RULES_PATH, dumps, extract

LMDI = "http://hl7.no/fhir/ig/lmdi/StructureDefinition/"
MUNICIPALITY = "http://hl7.no/fhir/StructureDefinition/no-basis-municipalitycode"
UCUM = "http://unitsofmeasure.org"
TIME_REQUIRED = next(
    i["expression"]
    for i in rules()["profiles"]["lmdi-medicationadministration"]["invariants"]
    if i["key"] == "time-required"
)

PATIENT, PRACTITIONER, MUNICIPALITY_ORG, NURSING_HOME = (
    f"urn:uuid:{d * 8}-{d * 4}-4{d * 3}-8{d * 3}-{d * 12}" for d in "1234"
)
ENCOUNTER, MEDICATION, REQUEST, ADMINISTRATION, CONDITION = (
    f"urn:uuid:{d * 8}-{d * 4}-4{d * 3}-8{d * 3}-{d * 12}" for d in "56789"
)


def _district(name: str, code: str, display: str) -> dict:
    return {
        "district": name,
        "_district": {
            "extension": [
                {
                    "url": MUNICIPALITY,
                    "valueCoding": {
                        "system": "urn:oid:2.16.578.1.12.4.1.1.3402",
                        "code": code,
                        "display": display,
                    },
                }
            ]
        },
    }


def _resources() -> list[tuple[str, str, dict]]:
    """(fullUrl, profile id, resource) as in the guide's Bundle-Scenario-Sykehjem-Oksykodon."""
    trondheim = _district("Trondheim", "5001", "Trondheim - Tråante")
    return [
        (
            PATIENT,
            "lmdi-patient",
            {
                "resourceType": "Patient",
                "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "12705825562"}],
                "gender": "male",
                "birthDate": "1958-05-12",
                "address": [
                    {
                        "use": "home",
                        "type": "physical",
                        **_district("Oslo", "0301", "Oslo"),
                        "extension": [
                            {
                                "url": "http://hl7.no/fhir/StructureDefinition/no-basis-urban-district",
                                "valueCoding": {
                                    "system": "urn:oid:2.16.578.1.12.4.1.1.3403",
                                    "code": "030102",
                                    "display": "Grünerløkka",
                                },
                            }
                        ],
                    }
                ],
            },
        ),
        (
            PRACTITIONER,
            "lmdi-practitioner",
            {
                "resourceType": "Practitioner",
                "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.4", "value": "9144900"}],
            },
        ),
        (
            MUNICIPALITY_ORG,
            "lmdi-organization",
            {
                "resourceType": "Organization",
                "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.101", "value": "942110464"}],
                "name": "TRONDHEIM KOMMUNE",
                "address": [{"type": "physical", **trondheim}],
            },
        ),
        (
            NURSING_HOME,
            "lmdi-organization",
            {
                "resourceType": "Organization",
                "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.101", "value": "985626154"}],
                "name": "BYNESET OG NYPANTUNET HELSE- OG VELFERDSSENTER SYKEHJEM",
                "partOf": {"reference": MUNICIPALITY_ORG},
                "address": [{"type": "physical", **trondheim}],
            },
        ),
        (
            ENCOUNTER,
            "lmdi-encounter",
            {
                "resourceType": "Encounter",
                "status": "in-progress",
                "class": {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "SS",
                    "display": "short stay",
                },
                "serviceProvider": {"reference": NURSING_HOME},
            },
        ),
        (
            MEDICATION,
            "lmdi-medication",
            {
                "resourceType": "Medication",
                "identifier": [
                    {
                        "system": "http://dmp.no/fhir/NamingSystem/festLegemiddelVirkestoff",
                        "value": "C31AF94A-5D5A-4C91-9B99-BB221E26E4C9",
                    }
                ],
                "extension": [
                    {
                        "url": LMDI + "legemiddel-classification",
                        "valueCodeableConcept": {
                            "coding": [
                                {
                                    "system": "http://www.whocc.no/atc",
                                    "code": "N02AA05",
                                    "display": "Oksykodon",
                                }
                            ]
                        },
                    }
                ],
                "code": {
                    "coding": [
                        {
                            "system": "http://dmp.no/fhir/NamingSystem/festLegemiddelVirkestoff",
                            "code": "C31AF94A-5D5A-4C91-9B99-BB221E26E4C9",
                            "display": "Oksykodon",
                        }
                    ]
                },
                "form": {
                    "coding": [
                        {
                            "system": "urn:oid:2.16.578.1.12.4.1.1.7448",
                            "code": "51",
                            "display": "Mikstur, oppløsning",
                        }
                    ]
                },
            },
        ),
        (
            REQUEST,
            "lmdi-medicationrequest",
            {
                "resourceType": "MedicationRequest",
                "extension": [
                    {
                        "url": LMDI + "lmdi-prosentvis-doseendring",
                        "valueQuantity": {"value": 80, "system": UCUM, "code": "%", "unit": "%"},
                    },
                    {"url": LMDI + "lmdi-del-av-behandlingsregime", "valueString": "FOLFOX6"},
                    {"url": LMDI + "lmdi-klinisk-studie", "valueBoolean": True},
                ],
                "status": "active",
                "intent": "order",
                "medicationReference": {"reference": MEDICATION},
                "subject": {"reference": PATIENT},
                "requester": {"reference": PRACTITIONER},
                "encounter": {"reference": ENCOUNTER},
                "authoredOn": "2025-03-10",
                "reasonReference": [{"reference": CONDITION}],
            },
        ),
        (
            ADMINISTRATION,
            "lmdi-medicationadministration",
            {
                "resourceType": "MedicationAdministration",
                "status": "completed",
                "medicationReference": {"reference": MEDICATION},
                "subject": {"reference": PATIENT},
                "context": {"reference": ENCOUNTER},
                "request": {"reference": REQUEST},
                "effectiveDateTime": "2024-05-28T09:30:00+02:00",
                "reasonReference": [{"reference": CONDITION}],
                "dosage": {
                    "route": {
                        "coding": [
                            {
                                "system": "http://snomed.info/sct",
                                "code": "421521009",
                                "display": "Swallow",
                            }
                        ]
                    },
                    "dose": {"value": 10.0, "unit": "mg", "system": UCUM, "code": "mg"},
                },
            },
        ),
        (
            CONDITION,
            "lmdi-condition",
            {
                "resourceType": "Condition",
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "code": {
                    "coding": [
                        {
                            "system": "urn:oid:2.16.578.1.12.4.1.1.7110",
                            "code": "F11.2",
                            "display": "Opioidavhengighet",
                        }
                    ]
                },
                "subject": {"reference": PATIENT},
            },
        ),
    ]


def valid_bundle() -> dict:
    entries = []
    for full_url, profile, resource in _resources():
        resource = {
            "resourceType": resource["resourceType"],
            "meta": {"profile": [LMDI + profile]},
            **{k: v for k, v in resource.items() if k != "resourceType"},
        }
        entries.append(
            {
                "fullUrl": full_url,
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
        )
    return {
        "resourceType": "Bundle",
        "meta": {"profile": [LMDI + "lmdi-bundle"]},
        "identifier": {"system": "urn:oid:2.16.578.1.34.10.3", "value": "bundle-001"},
        "timestamp": "2024-02-07T13:28:17.239+02:00",
        "type": "transaction",
        "entry": entries,
    }


def _resource(bundle: dict, resource_type: str, index: int = 0) -> dict:
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ][index]


def _broken(change) -> dict:
    bundle = copy.deepcopy(valid_bundle())
    change(bundle)
    return bundle


def _has(problems: list[str], *needles: str) -> bool:
    return any(all(n in p for n in needles) for p in problems)


# --- the valid Bundle -----------------------------------------------------------------------------


def test_the_guide_example_bundle_has_no_problems():
    bundle = valid_bundle()
    assert fhir_problems(bundle) == []
    assert lmdi_problems(bundle) == []
    assert_valid(bundle)


# --- broken copies --------------------------------------------------------------------------------


def _set_type_collection(bundle):
    bundle["type"] = "collection"


def _drop_patient_profile(bundle):
    del _resource(bundle, "Patient")["meta"]


def _foreign_profile_only(bundle):
    _resource(bundle, "Practitioner")["meta"]["profile"] = [
        "http://hl7.no/fhir/StructureDefinition/no-basis-Practitioner"
    ]


def _patient_without_identifier(bundle):
    del _resource(bundle, "Patient")["identifier"]


def _dose_date_only(bundle):
    _resource(bundle, "MedicationAdministration")["effectiveDateTime"] = "2024-05-28"


def _dose_period_date_only(bundle):
    administration = _resource(bundle, "MedicationAdministration")
    del administration["effectiveDateTime"]
    administration["effectivePeriod"] = {"start": "2024-05-28T09:30:00+02:00", "end": "2024-05-28"}


def _dose_without_time(bundle):
    del _resource(bundle, "MedicationAdministration")["effectiveDateTime"]


def _practitioner_with_fnr(bundle):
    _resource(bundle, "Practitioner")["identifier"].append(
        {"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "12705825562"}
    )


def _organization_without_enh_or_resh(bundle):
    _resource(bundle, "Organization", 1)["identifier"] = [
        {"system": "urn:oid:2.16.578.1.12.4.1.4.4", "value": "123"}
    ]


def _dangling_reference(bundle):
    _resource(bundle, "MedicationAdministration")["request"] = {
        "reference": "urn:uuid:00000000-0000-4000-8000-000000000000"
    }


def _put_request(bundle):
    bundle["entry"][0]["request"]["method"] = "PUT"


def _status_in_progress(bundle):
    _resource(bundle, "MedicationAdministration")["status"] = "in-progress"


def _subject_is_a_practitioner(bundle):
    _resource(bundle, "MedicationAdministration")["subject"] = {"reference": PRACTITIONER}


def _condition_in_icd11_and_atc(bundle):
    _resource(bundle, "Condition")["code"]["coding"].append(
        {"system": "http://www.whocc.no/atc", "code": "N02AA05"}
    )


def _patient_with_name(bundle):
    _resource(bundle, "Patient")["name"] = [{"family": "Nordmann"}]


def _medication_as_code(bundle):
    administration = _resource(bundle, "MedicationAdministration")
    del administration["medicationReference"]
    administration["medicationCodeableConcept"] = {"text": "Oksykodon"}


def _request_without_requester(bundle):
    del _resource(bundle, "MedicationRequest")["requester"]


def _medication_without_code_or_ingredient(bundle):
    medication = _resource(bundle, "Medication")
    del medication["code"]


def _no_full_url(bundle):
    del bundle["entry"][1]["fullUrl"]


def _unknown_element(bundle):
    _resource(bundle, "Encounter")["colour"] = "blue"


def _npr_episode_without_identifiers(bundle):
    _resource(bundle, "Encounter")["extension"] = [
        {"url": LMDI + "npr-episode-identifier", "extension": []}
    ]


def _wrong_dose_change_unit(bundle):
    _resource(bundle, "MedicationRequest")["extension"][0]["valueQuantity"]["code"] = "mg"


BROKEN = [
    (_set_type_collection, lmdi_problems, ("Bundle", "type must be 'transaction'", "collection")),
    (_drop_patient_profile, lmdi_problems, ("entry[0] Patient", "no LMDI profile", "lmdi-patient")),
    (_drop_patient_profile, lmdi_problems, ("Bundle", "invariant lr-allowed-resources failed")),
    (_foreign_profile_only, lmdi_problems, ("entry[1] Practitioner", "no LMDI profile")),
    (_foreign_profile_only, lmdi_problems, ("invariant lr-allowed-resources failed",)),
    (
        _foreign_profile_only,
        lmdi_problems,
        ("requester", "expected Practitioner (lmdi-practitioner)"),
    ),
    (_patient_without_identifier, lmdi_problems, ("entry[0] Patient", "HAB rule", "FNR")),
    (
        _dose_date_only,
        lmdi_problems,
        ("invariant time-required failed at effectiveDateTime", "2024-05-28"),
    ),
    (
        _dose_period_date_only,
        lmdi_problems,
        ("invariant time-required failed at effectivePeriod.end",),
    ),
    (
        _dose_without_time,
        lmdi_problems,
        ("MedicationAdministration", "effective[x] is required (1..1)"),
    ),
    (
        _practitioner_with_fnr,
        lmdi_problems,
        ("Practitioner", "identifier[FNR]", "prohibited (0..0)"),
    ),
    (
        _organization_without_enh_or_resh,
        lmdi_problems,
        ("entry[3] Organization", "invariant lmdi-org-identifier failed"),
    ),
    (_dangling_reference, lmdi_problems, ("request → urn:uuid:00000000", "does not resolve")),
    (_put_request, lmdi_problems, ("Bundle entry[0]: request.method must be 'POST'", "'PUT'")),
    (
        _status_in_progress,
        lmdi_problems,
        ("status 'in-progress' is not in", "completed, entered-in-error"),
    ),
    (
        _subject_is_a_practitioner,
        lmdi_problems,
        ("subject →", "is a Practitioner", "expected Patient (lmdi-patient)"),
    ),
    (
        _condition_in_icd11_and_atc,
        lmdi_problems,
        ("Condition", "code.coding system http://www.whocc.no/atc is not allowed", "closed"),
    ),
    (_patient_with_name, lmdi_problems, ("Patient", "name is prohibited (0..0)")),
    (_medication_as_code, lmdi_problems, ("medicationCodeableConcept is not allowed",)),
    (
        _request_without_requester,
        lmdi_problems,
        ("MedicationRequest", "requester is required (1..1), found 0"),
    ),
    (
        _medication_without_code_or_ingredient,
        lmdi_problems,
        ("invariant lmdi-medication-code-or-ingredient failed",),
    ),
    (_no_full_url, lmdi_problems, ("entry[1]", "HAB rule: fullUrl is required")),
    (
        _unknown_element,
        fhir_problems,
        ("entry[4] Encounter", "colour", "Extra inputs are not permitted"),
    ),
    (
        _npr_episode_without_identifiers,
        lmdi_problems,
        ("extension npr-episode-identifier", "invariant npr-episode-at-least-one failed"),
    ),
    (
        _wrong_dose_change_unit,
        lmdi_problems,
        ("lmdi-prosentvis-doseendring", "valueQuantity.code must be '%'"),
    ),
    (_dose_date_only, fhir_problems, ()),  # a date is a valid dateTime: only LMDI rejects it
]


@pytest.mark.parametrize(
    ("change", "check", "needles"),
    BROKEN,
    ids=[f"{c.__name__.strip('_')}-{k.__name__}" for c, k, _ in BROKEN],
)
def test_a_broken_bundle_fails_with_the_expected_message(change, check, needles):
    problems = check(_broken(change))
    if not needles:
        assert problems == []
        return
    assert _has(problems, *needles), "\n".join(problems)


def test_a_resource_claims_only_the_lmdi_profile_of_its_type():
    bundle = _broken(
        lambda b: _resource(b, "Patient")["meta"]["profile"].append(LMDI + "lmdi-practitioner")
    )
    assert _has(lmdi_problems(bundle), "Patient", "more than one LMDI profile")
    bundle = _broken(
        lambda b: _resource(b, "Patient")["meta"].update(profile=[LMDI + "lmdi-practitioner"])
    )
    assert _has(lmdi_problems(bundle), "lmdi-practitioner does not fit a Patient")


def test_assert_valid_lists_every_problem():
    bundle = _broken(lambda b: (_set_type_collection(b), _dose_date_only(b)))
    with pytest.raises(AssertionError) as failure:
        assert_valid(bundle)
    message = str(failure.value)
    assert "type must be 'transaction'" in message
    assert "invariant time-required failed" in message


def test_a_dose_in_an_entered_in_error_record_passes():
    bundle = _broken(
        lambda b: _resource(b, "MedicationAdministration").update(status="entered-in-error")
    )
    assert lmdi_problems(bundle) == []


def test_an_organization_with_resh_only_passes():
    bundle = _broken(
        lambda b: _resource(b, "Organization", 1).update(
            identifier=[{"system": "urn:oid:2.16.578.1.12.4.1.4.102", "value": "4208723"}]
        )
    )
    assert lmdi_problems(bundle) == []


def test_a_patient_with_a_d_number_passes():
    bundle = _broken(
        lambda b: _resource(b, "Patient").update(
            identifier=[{"system": "urn:oid:2.16.578.1.12.4.1.4.2", "value": "41667987421"}]
        )
    )
    assert lmdi_problems(bundle) == []


# --- fhirpathpy -----------------------------------------------------------------------------------


def test_fhirpathpy_evaluates_time_required_on_the_value():
    """fhirpathpy binds $this inside select(), not at the top, and matches searches."""
    r4 = models["r4"]
    dose = {
        "resourceType": "MedicationAdministration",
        "effectiveDateTime": "2024-05-28T09:30:00+02:00",
    }
    assert evaluate(dose, f"%context.effectiveDateTime[0].select({TIME_REQUIRED})", {}, r4) == [
        True
    ]
    dose["effectiveDateTime"] = "2024-05-28"
    assert evaluate(dose, f"%context.effectiveDateTime[0].select({TIME_REQUIRED})", {}, r4) == [
        False
    ]
    with pytest.raises(KeyError):
        evaluate("2024-05-28T09:30:00+02:00", TIME_REQUIRED)
    assert evaluate({}, "'abc'.matches('b')") == [True]
    assert evaluate({}, "'abc'.matches('^b$')") == [False]


@given(
    st.dates(),
    st.times(),
    st.sampled_from(["Z", "+02:00", "+01:00", "-05:30"]),
)
def test_time_required_accepts_any_instant_and_rejects_its_date(day, moment, zone):
    bundle = valid_bundle()
    administration = _resource(bundle, "MedicationAdministration")
    administration["effectiveDateTime"] = f"{day.isoformat()}T{moment.strftime('%H:%M:%S')}{zone}"
    assert lmdi_problems(bundle) == []
    administration["effectiveDateTime"] = day.isoformat()
    assert _has(lmdi_problems(bundle), "invariant time-required failed")


# --- the extraction -------------------------------------------------------------------------------


def test_the_extraction_covers_what_the_checker_needs():
    data = rules()
    profiles = data["profiles"]
    assert set(profiles) == {
        "lmdi-bundle",
        "lmdi-condition",
        "lmdi-encounter",
        "lmdi-medication",
        "lmdi-medicationadministration",
        "lmdi-medicationrequest",
        "lmdi-organization",
        "lmdi-patient",
        "lmdi-practitioner",
        "lmdi-substance",
    }
    practitioner_ids = profiles["lmdi-practitioner"]["slicing"]["identifier"]
    assert practitioner_ids["rules"] == "closed"
    assert practitioner_ids["slices"]["HPR"]["value"] == "urn:oid:2.16.578.1.12.4.1.4.4"
    assert {n for n, s in practitioner_ids["slices"].items() if s["max"] == "0"} == {"FNR", "DNR"}
    patient_ids = profiles["lmdi-patient"]["slicing"]["identifier"]["slices"]
    assert patient_ids["FNR"]["value"] == "urn:oid:2.16.578.1.12.4.1.4.1"
    assert patient_ids["DNR"]["value"] == "urn:oid:2.16.578.1.12.4.1.4.2"
    assert patient_ids["FNR"]["min"] == 0  # the profile does not require one: see the HAB rule
    organization_ids = profiles["lmdi-organization"]["slicing"]["identifier"]["slices"]
    assert organization_ids["ENH"]["value"] == "urn:oid:2.16.578.1.12.4.1.4.101"
    assert organization_ids["RSH"]["value"] == "urn:oid:2.16.578.1.12.4.1.4.102"
    conditions = profiles["lmdi-condition"]["slicing"]["code.coding"]
    assert conditions["rules"] == "closed" and len(conditions["slices"]) == 4
    status = next(
        b for b in profiles["lmdi-medicationadministration"]["bindings"] if b["path"] == "status"
    )
    assert {c["code"] for c in status["codes"]} == {"completed", "entered-in-error"}
    keys = {
        (i["key"], i["path"])
        for d in list(profiles.values()) + list(data["extensions"].values())
        for i in d["invariants"]
    }
    assert keys == {
        ("lr-allowed-resources", ""),
        ("lmdi-medication-code-or-ingredient", ""),
        ("lmdi-org-identifier", ""),
        ("time-required", "effectiveDateTime"),
        ("time-required", "effectivePeriod.start"),
        ("time-required", "effectivePeriod.end"),
        ("npr-episode-at-least-one", ""),
    }


def _top_elements(definition: dict) -> set[str]:
    paths = [r["path"] for r in definition["required"] + definition["limited"]]
    paths += definition["prohibited"] + [f["path"] for f in definition["fixed"]]
    paths += (
        list(definition["slicing"]) + list(definition["types"]) + list(definition["references"])
    )
    paths += [b["path"] for b in definition["bindings"]] + [
        i["path"] for i in definition["invariants"]
    ]
    return {p.split(".")[0].split("[")[0] for p in paths if p}


def test_every_element_the_profiles_name_exists_in_the_r4b_models():
    """R4B stands in for R4: the elements LMDI constrains must be there under the same name."""
    for profile in rules()["profiles"].values():
        model = get_fhir_model_class(profile["resourceType"])
        fields = {f.alias or name for name, f in model.model_fields.items()} | set(
            model.model_fields
        )
        for element in _top_elements(profile):
            choices = {
                f for f in fields if f.startswith(element) and f[len(element) :][:1].isupper()
            }
            assert element in fields or choices, (profile["url"], element)


def _reference_folder() -> Path | None:
    candidates = [
        os.environ.get("HAB_LMDI_REFERENCE"),
        "/work/shared/reference/lmdi",
        str(Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "lmdi"),
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "LMDI" / "input" / "fsh").is_dir():
            return Path(candidate)
    return None


def test_the_committed_rules_match_the_fsh():
    folder = _reference_folder()
    if folder is None:
        pytest.skip(
            "LMDI reference copy not found (set HAB_LMDI_REFERENCE, or place it at "
            "/work/shared/reference/lmdi or ../shared/reference/lmdi); the committed "
            "tests/interop/data/lmdi-rules.json is used as is"
        )
    extracted = extract(folder)
    assert extracted == json.loads(RULES_PATH.read_text(encoding="utf-8"))
    assert dumps(extracted) == RULES_PATH.read_text(encoding="utf-8")
