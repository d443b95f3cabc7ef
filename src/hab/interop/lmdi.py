"""Reports to Legemiddelregisteret (LMDI): every dose a clinic gave in a period, as
``LegemiddelregisterBundle`` documents.

A Bundle is a ``transaction`` of POST entries, each resource carrying its LMDI profile:
the patient (Pasient), the prescriber (Helsepersonell), the clinic (Organisasjon), the
episode (Episode), opioid dependence (Diagnose, ICD-10 F11.2), the medicine (Legemiddel),
the prescription (Legemiddelrekvirering) and the dose (Legemiddeladministrering).

Each dose is reported once per chain of records: a corrected dose is reported as it
stands, under the identifier of its first record, so a receiver that got the first
version replaces it; a dose corrected to "not given" is reported ``entered-in-error``.
A Bundle holds at most ``MAX_ADMINISTRATIONS`` doses with the resources they refer to,
so a year becomes several self-contained Bundles. The guide sets no size; a day's doses
of a full clinic fit in one. The rows are read in chunks and each Bundle is written as it
is complete, so memory stays flat however long the period.

The resources are built as plain dicts for speed; the tests parse every one with
fhir.resources and check it against the LMDI profiles (tests/interop/).
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby
from pathlib import Path

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from hab.core.errors import Invalid
from hab.core.models import Clinic, SessionSlot, User
from hab.dosing.models import Administration
from hab.dosing.rules import TAKEN
from hab.intake.models import Episode
from hab.interop import codes
from hab.patients.models import Patient
from hab.prescribing.models import Prescription
from hab.stock.models import Product

MAX_ADMINISTRATIONS = 2000
_FIELDS = (
    "id",
    "chain",
    "patient_id",
    "episode_id",
    "prescription_id",
    "medication",
    "route",
    "status",
    "dose_mg",
    "given_at",
)


@dataclass
class Summary:
    """What a report held: the Bundles and their doses."""

    bundles: int = 0
    administrations: int = 0
    entered_in_error: int = 0
    files: list[Path] = field(default_factory=list)
    patients: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Dose:
    """A chain of dose records as it stands: its first record's id, the newest version,
    and whether that version says the dose was given."""

    chain: int
    patient_id: int
    episode_id: int
    prescription_id: int | None
    medication: str
    route: str
    dose_mg: Decimal
    given_at: datetime.datetime
    given: bool


def check_period(clinic: Clinic, start: datetime.date, end: datetime.date) -> None:
    """Refuses a report Legemiddelregisteret could not use, naming the field."""
    if end < start:
        raise Invalid.one("to", _("The period ends before it starts."))
    if not clinic.org_number:
        raise Invalid.one(
            "clinic",
            _("The clinic has no organisation number; the clinic lead adds it first."),
        )


def doses(clinic: Clinic, start: datetime.date, end: datetime.date) -> Iterator[Dose]:
    """The clinic's dose chains of the period that were given at some point, newest
    version each, in patient order; read in chunks."""
    rows = (
        Administration.objects.filter(clinic=clinic, day__gte=start, day__lte=end)
        .annotate(chain=Coalesce(F("original_id"), F("id")))
        .order_by("patient_id", "chain", "id")
        .values_list(*_FIELDS)
        .iterator(chunk_size=5000)
    )
    for chain, versions in groupby(rows, key=lambda row: row[1]):
        versions = list(versions)
        newest = versions[-1]
        if newest[7] in TAKEN:
            shown, given = newest, True
        else:
            taken = [row for row in versions if row[7] in TAKEN]
            if not taken:
                continue  # never given: nothing for the register
            shown, given = taken[-1], False
        yield Dose(
            chain=chain,
            patient_id=shown[2],
            episode_id=shown[3],
            prescription_id=shown[4],
            medication=shown[5],
            route=shown[6] or "oral",
            dose_mg=shown[8],
            given_at=shown[9],
            given=given,
        )


def _chunks(items: Iterator[Dose], size: int) -> Iterator[list[Dose]]:
    chunk: list[Dose] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Builder:
    """Builds the resources of one clinic's Bundles; what is the same in every Bundle
    (the clinic, its medicines, its session times) is read once."""

    def __init__(self, clinic: Clinic) -> None:
        self.clinic = clinic
        self.org = clinic.org_number
        self.org_url = self.url("clinic", clinic.pk)
        products: dict[str, Product] = {}
        for product in Product.objects.filter(clinic=clinic).order_by("id"):
            # A product FEST lists wins over a local one of the same medicine.
            if product.medication not in products or (
                product.fest_dose_id and not products[product.medication].fest_dose_id
            ):
                products[product.medication] = product
        self.products = products
        self.slot_times = {
            code: starts.strftime("%H:%M:%S")
            for code, starts in SessionSlot.objects.filter(clinic=clinic).values_list(
                "code", "starts_at"
            )
        }

    def url(self, kind: str, pk: object) -> str:
        return codes.resource_uuid(self.org, kind, pk)

    @staticmethod
    def entry(url: str, resource: dict) -> dict:
        return {
            "fullUrl": url,
            "resource": resource,
            "request": {"method": "POST", "url": resource["resourceType"]},
        }

    @staticmethod
    def meta(kind: str) -> dict:
        return {"profile": [codes.PROFILE[kind]]}

    def organization(self) -> dict:
        return {
            "resourceType": "Organization",
            "meta": self.meta("Organization"),
            "identifier": [{"system": codes.ENH, "value": self.org}],
            "name": self.clinic.name,
        }

    def patient(self, patient: dict) -> dict:
        return {
            "resourceType": "Patient",
            "meta": self.meta("Patient"),
            "identifier": [codes.national_identifier(patient["id_kind"], patient["national_id"])],
            "birthDate": patient["birth_date"].isoformat(),
        }

    def condition(self, patient_id: int) -> dict:
        code, display = codes.OPIOID_DEPENDENCE
        return {
            "resourceType": "Condition",
            "meta": self.meta("Condition"),
            "clinicalStatus": {"coding": [{"system": codes.CONDITION_CLINICAL, "code": "active"}]},
            "code": {"coding": [{"system": codes.ICD10_SYSTEM, "code": code, "display": display}]},
            "subject": {"reference": self.url("patient", patient_id)},
        }

    def encounter(self, episode: dict) -> dict:
        return {
            "resourceType": "Encounter",
            "meta": self.meta("Encounter"),
            "identifier": [{"system": f"{codes.HAB}:episode", "value": str(episode["id"])}],
            "status": "in-progress" if episode["ended_on"] is None else "finished",
            "class": {"system": codes.ACT_CODE, "code": "AMB", "display": "ambulatory"},
            "serviceProvider": {"reference": self.org_url},
        }

    def practitioner(self, hpr_number: str) -> dict:
        resource = {"resourceType": "Practitioner", "meta": self.meta("Practitioner")}
        if hpr_number:
            resource["identifier"] = [{"system": codes.HPR, "value": hpr_number}]
        return resource

    def medication(self, medication: str) -> dict:
        product = self.products.get(medication)
        coding = []
        if product and product.fest_dose_id:
            coding.append({"system": codes.FEST_DOSE, "code": product.fest_dose_id})
        if product and product.fest_lmr_number:
            coding.append({"system": codes.FEST_LMR, "code": product.fest_lmr_number})
        if product and product.fest_item_number:
            coding.append({"system": codes.FEST_ITEM, "code": product.fest_item_number})
        if not coding:
            # Not in FEST: the clinic's own catalogue names it, and the ingredient says
            # what it is.
            code = f"{self.org}.{product.code if product else medication}"
            display = product.name if product else medication
            coding.append({"system": codes.LOCAL_MEDICINE, "code": code, "display": display})
        return {
            "resourceType": "Medication",
            "meta": self.meta("Medication"),
            "extension": [
                {"url": codes.CLASSIFICATION, "valueCodeableConcept": codes.atc(medication)}
            ],
            "code": {"coding": coding},
            "ingredient": [{"itemCodeableConcept": codes.atc(medication), "isActive": True}],
        }

    def request(self, rx: dict, prescriber_url: str) -> dict:
        if rx["stopped_on"] is not None:
            status = "stopped"
        elif rx["superseded"]:
            status = "completed"
        else:
            status = "active"
        dosage = []
        for sequence, (slot, amount) in enumerate(sorted(rx["doses_mg"].items()), start=1):
            if not amount:
                continue
            repeat = {"frequency": 1, "period": 1, "periodUnit": "d"}
            if slot in self.slot_times:
                repeat["timeOfDay"] = [self.slot_times[slot]]
            dosage.append(
                {
                    "sequence": sequence,
                    "timing": {"repeat": repeat},
                    "route": codes.route(rx["route"]),
                    "doseAndRate": [{"doseQuantity": codes.mg(amount)}],
                    "maxDosePerPeriod": {
                        "numerator": codes.mg(rx["daily_max_mg"]),
                        "denominator": {"value": 1, "unit": "d", "system": codes.UCUM, "code": "d"},
                    },
                }
            )
        resource = {
            "resourceType": "MedicationRequest",
            "meta": self.meta("MedicationRequest"),
            # Every dose in HAB is given in the national trial of heroin-assisted treatment.
            "extension": [{"url": codes.CLINICAL_TRIAL, "valueBoolean": True}],
            "identifier": [{"system": f"{codes.HAB}:prescription", "value": str(rx["id"])}],
            "status": status,
            "intent": "order",
            "medicationReference": {"reference": self.url("medication", rx["medication"])},
            "subject": {"reference": self.url("patient", rx["patient_id"])},
            "encounter": {"reference": self.url("episode", rx["episode_id"])},
            "authoredOn": codes.instant(rx["created_at"]),
            "requester": {"reference": prescriber_url},
            "reasonReference": [{"reference": self.url("condition", rx["patient_id"])}],
        }
        if dosage:
            resource["dosageInstruction"] = dosage
        return resource

    def administration(self, dose: Dose) -> dict:
        resource = {
            "resourceType": "MedicationAdministration",
            "meta": self.meta("MedicationAdministration"),
            "identifier": [{"system": f"{codes.HAB}:administration", "value": str(dose.chain)}],
            "status": "completed" if dose.given else "entered-in-error",
            "medicationReference": {"reference": self.url("medication", dose.medication)},
            "subject": {"reference": self.url("patient", dose.patient_id)},
            "context": {"reference": self.url("episode", dose.episode_id)},
            "effectiveDateTime": codes.instant(dose.given_at),
            "reasonReference": [{"reference": self.url("condition", dose.patient_id)}],
            "dosage": {"route": codes.route(dose.route), "dose": codes.mg(dose.dose_mg)},
        }
        if dose.prescription_id is not None:
            resource["request"] = {"reference": self.url("prescription", dose.prescription_id)}
        return resource

    def bundle(self, chunk: list[Dose], now: datetime.datetime) -> dict:
        """One self-contained Bundle: the doses and every resource they refer to."""
        patient_ids = sorted({d.patient_id for d in chunk})
        episode_ids = sorted({d.episode_id for d in chunk})
        rx_ids = sorted({d.prescription_id for d in chunk if d.prescription_id is not None})
        patients = Patient.objects.filter(pk__in=patient_ids).values(
            "id", "id_kind", "national_id", "birth_date"
        )
        episodes = Episode.objects.filter(pk__in=episode_ids).values("id", "ended_on")
        prescriptions = list(
            Prescription.objects.filter(pk__in=rx_ids)
            .annotate(superseded=F("superseded_by__id"))
            .values(
                "id",
                "patient_id",
                "episode_id",
                "medication",
                "route",
                "doses_mg",
                "daily_max_mg",
                "stopped_on",
                "superseded",
                "created_at",
                "created_by_id",
            )
        )
        hpr = dict(
            User.objects.filter(pk__in={rx["created_by_id"] for rx in prescriptions}).values_list(
                "id", "hpr_number"
            )
        )
        medications = sorted(
            {d.medication for d in chunk} | {rx["medication"] for rx in prescriptions}
        )
        entries = [self.entry(self.org_url, self.organization())]
        for patient in patients:
            entries.append(self.entry(self.url("patient", patient["id"]), self.patient(patient)))
            entries.append(
                self.entry(self.url("condition", patient["id"]), self.condition(patient["id"]))
            )
        for episode in episodes:
            entries.append(self.entry(self.url("episode", episode["id"]), self.encounter(episode)))
        for medication in medications:
            entries.append(
                self.entry(self.url("medication", medication), self.medication(medication))
            )
        for user_id, number in sorted(hpr.items()):
            entries.append(self.entry(self.url("user", user_id), self.practitioner(number)))
        for rx in prescriptions:
            entries.append(
                self.entry(
                    self.url("prescription", rx["id"]),
                    self.request(rx, self.url("user", rx["created_by_id"])),
                )
            )
        for dose in chunk:
            entries.append(self.entry(self.url("dose", dose.chain), self.administration(dose)))
        return {
            "resourceType": "Bundle",
            "meta": {"profile": [codes.LMDI + "lmdi-bundle"]},
            "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
            "type": "transaction",
            "timestamp": codes.instant(now),
            "entry": entries,
        }


def bundles(
    clinic: Clinic,
    start: datetime.date,
    end: datetime.date,
    *,
    now: datetime.datetime,
    size: int = MAX_ADMINISTRATIONS,
    summary: Summary | None = None,
) -> Iterator[dict]:
    """The period's Bundles one by one; ``summary`` counts what they hold."""
    check_period(clinic, start, end)
    summary = summary if summary is not None else Summary()
    builder = _Builder(clinic)
    for chunk in _chunks(doses(clinic, start, end), size):
        summary.bundles += 1
        summary.administrations += len(chunk)
        summary.entered_in_error += sum(1 for dose in chunk if not dose.given)
        summary.patients.update(dose.patient_id for dose in chunk)
        yield builder.bundle(chunk, now)


def write(
    clinic: Clinic,
    start: datetime.date,
    end: datetime.date,
    out: Path,
    *,
    now: datetime.datetime,
    seal=None,
    size: int = MAX_ADMINISTRATIONS,
) -> Summary:
    """Writes the period's Bundles to ``out`` (one Bundle) or ``out-001.json``,
    ``out-002.json``… (several). ``seal``, when given, turns each Bundle's bytes into the
    signed and encrypted envelope written instead."""
    summary = Summary()
    written: list[Path] = []
    for bundle in bundles(clinic, start, end, now=now, size=size, summary=summary):
        data = json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode()
        if seal is not None:
            data = json.dumps(seal(data), ensure_ascii=False, indent=1).encode()
        path = out.with_name(f"{out.stem}-{summary.bundles:03d}{out.suffix or '.json'}")
        path.write_bytes(data)
        written.append(path)
    if len(written) == 1:
        written[0].replace(out)
        written = [out]
    summary.files = written
    return summary
