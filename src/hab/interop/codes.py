"""The code systems, identifier systems and profiles HAB writes into FHIR.

Pure data and small pure functions: no Django, no database. The identifier systems are
HL7 Norway's (no-basis), the profiles Legemiddelregisteret's (LMDI), the medicine codes
WHO's ATC and the national medicines catalogue's (FEST).
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

from hab.prescribing.models import ATC

OSLO = ZoneInfo("Europe/Oslo")

# Identifier systems (no-basis NamingSystems).
FNR = "urn:oid:2.16.578.1.12.4.1.4.1"  # fødselsnummer
DNR = "urn:oid:2.16.578.1.12.4.1.4.2"  # D-nummer
HPR = "urn:oid:2.16.578.1.12.4.1.4.4"  # Helsepersonellregisteret
ENH = "urn:oid:2.16.578.1.12.4.1.4.101"  # Enhetsregisteret (organisation number)
NATIONAL_ID_SYSTEM = {"fnr": FNR, "dnr": DNR}

# HAB's own identifiers of its records; the sending clinic's organisation number makes
# them unique between installations.
HAB = "urn:hab"

# Codes.
ATC_SYSTEM = "http://www.whocc.no/atc"
ICD10_SYSTEM = "urn:oid:2.16.578.1.12.4.1.1.7110"  # ICD-10 as used in Norway
OPIOID_DEPENDENCE = (
    "F11.2",
    "Psykiske lidelser og atferdsforstyrrelser som skyldes bruk av opioider: avhengighetssyndrom",
)
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"

# Routes in SNOMED CT (the FHIR route-codes value set).
ROUTE = {
    "iv": ("47625008", "Intravenous route"),
    "im": ("78421000", "Intramuscular route"),
    "oral": ("26643006", "Oral route"),
}

# The substance's name per ATC code; the code per medication is prescribing's (one
# table for the exports and FHIR alike). The four substances the trial uses.
ATC_DISPLAY = {
    "N07BC06": "Diamorfin",
    "N07BC02": "Metadon",
    "N02AA01": "Morfin",
    "N02AA03": "Hydromorfon",
}

# FEST's naming systems, and Legemiddelregisteret's for medicines from a local catalogue.
FEST_DOSE = "http://dmp.no/fhir/NamingSystem/festLegemiddelDose"
FEST_LMR = "http://dmp.no/fhir/NamingSystem/lmrLopenummer"
FEST_ITEM = "http://dmp.no/fhir/NamingSystem/fest-varenummer"
LOCAL_MEDICINE = "http://fhi.no/fhir/NamingSystem/lokaltLegemiddel"

# Legemiddelregisteret's profiles and extensions.
LMDI = "http://hl7.no/fhir/ig/lmdi/StructureDefinition/"
PROFILE = {
    "Patient": LMDI + "lmdi-patient",
    "Practitioner": LMDI + "lmdi-practitioner",
    "Organization": LMDI + "lmdi-organization",
    "Encounter": LMDI + "lmdi-encounter",
    "Condition": LMDI + "lmdi-condition",
    "Medication": LMDI + "lmdi-medication",
    "MedicationRequest": LMDI + "lmdi-medicationrequest",
    "MedicationAdministration": LMDI + "lmdi-medicationadministration",
}
CLASSIFICATION = LMDI + "legemiddel-classification"
CLINICAL_TRIAL = LMDI + "lmdi-klinisk-studie"


def resource_uuid(org_number: str, kind: str, pk: object) -> str:
    """A stable urn:uuid for one of HAB's rows: the same row gets the same id in every
    document the clinic sends, and no id says which database row it was."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_OID, f'{org_number}.{kind}.{pk}')}"


def instant(value: datetime.datetime) -> str:
    """A FHIR dateTime with the time to the second, in Norwegian local time."""
    return value.astimezone(OSLO).isoformat(timespec="seconds")


def mg(value: Decimal | float | int) -> dict:
    """A UCUM quantity in milligrams; a whole number is written without decimals."""
    number = Decimal(value)
    number = number.quantize(Decimal(1)) if number == number.to_integral() else number.normalize()
    return {
        "value": int(number) if number == number.to_integral() else float(number),
        "unit": "mg",
        "system": UCUM,
        "code": "mg",
    }


def national_identifier(id_kind: str, national_id: str) -> dict:
    return {"system": NATIONAL_ID_SYSTEM[id_kind], "value": national_id}


def route(code: str) -> dict:
    snomed, display = ROUTE[code]
    return {"coding": [{"system": SNOMED, "code": snomed, "display": display}]}


def atc(medication: str) -> dict:
    code = ATC[medication]
    return {"coding": [{"system": ATC_SYSTEM, "code": code, "display": ATC_DISPLAY[code]}]}
