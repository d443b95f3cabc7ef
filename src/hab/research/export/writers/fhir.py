"""The FHIR R4B Bundle (collection) of the export, written entry by entry."""

from __future__ import annotations

import datetime
import json
import uuid

from django.utils import translation

from hab.core.models import Clinic
from hab.core.sql import not_corrected
from hab.intake.models import EndReason, Phase
from hab.research.models import Answer, Item, ItemType, Response

from ..queries import (
    GIVEN,
    chunks,
    current_doses,
    episode_records,
    given_doses,
    given_mg,
    group_atc,
    mg,
)
from ..scope import CHUNK, Scope

STUDY_DAY = "urn:hab:study-day"
SHIFTED_DAY0 = datetime.date(2000, 1, 1)
ATC_SYSTEM = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
DOSES_GIVEN = "urn:hab:doses-given"
FHIR_DATES_EN = (
    "In the FHIR Bundle (format fhir) every date is a whole day (no time of day) and carries "
    f"its study day exactly, as the extension {STUDY_DAY} (valueInteger) on the date itself. "
    "Without calendar dates, study day N is written as the date 2000-01-01 plus N days: a "
    "shifted calendar that keeps the intervals but no real date."
)
FHIR_DATES_NB = (
    "I FHIR-bundelen (format fhir) er hver dato en hel dag (uten klokkeslett) og har "
    f"studiedagen sin nøyaktig som utvidelsen {STUDY_DAY} (valueInteger) på selve datoen. "
    "Uten kalenderdatoer skrives studiedag N som datoen 2000-01-01 pluss N dager: en forskjøvet "
    "kalender som beholder intervallene, men ingen ekte dato."
)
RESPONSE_BATCH = 500


def research_url(kind: str, resource_id: str) -> str:
    """A resource's fullUrl in the research Bundle: a name-based UUID of its type and
    research id, the same in every export, saying nothing the id does not."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'urn:hab:research:{kind}/{resource_id}')}"


def fhir_date(scope: Scope, patient_id: int, name: str, day: datetime.date | None) -> dict:
    """The element ``name`` (a FHIR date or dateTime) for ``day``, with its study day as an
    extension on the value: the calendar date where the scope allows dates, else the study
    day written on the shifted calendar that starts at 2000-01-01 (day 0)."""
    if day is None:
        return {}
    study_day = scope.day(patient_id, day)
    written = day if scope.with_dates else SHIFTED_DAY0 + datetime.timedelta(days=study_day)
    return {
        name: written.isoformat(),
        f"_{name}": {"extension": [{"url": STUDY_DAY, "valueInteger": study_day}]},
    }


def _english(choices) -> dict[str, str]:
    with translation.override("en"):
        return {value: str(label) for value, label in choices}


def _concept(system: str, code: str, display: str) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _subject(scope: Scope, patient_id: int) -> dict:
    return {"reference": research_url("Patient", scope.patients[patient_id].lower())}


class _Bundle:
    """The Bundle's entries as they are written, counted per resource type."""

    def __init__(self, target) -> None:
        self.target = target
        self.counts = {
            "Patient": 0,
            "EpisodeOfCare": 0,
            "MedicationAdministration": 0,
            "QuestionnaireResponse": 0,
        }

    def open(self, dates: str) -> None:
        self.target.write(
            b'{"resourceType":"Bundle","meta":{"tag":[{"system":"urn:hab:export-dates","code":"'
            + dates.encode()
            + b'"}]},"type":"collection","entry":['
        )

    def entry(self, model, data: dict) -> None:
        """Writes the resource as built; checked against its R4B model, except the daily
        doses after the first (a million patient-days at national scale, at a millisecond
        each; their shape is this code's alone, and the tests check every one)."""
        kind = model.get_resource_type()
        resource = {"resourceType": kind, **data}
        if kind != "MedicationAdministration" or not self.counts[kind]:
            model.model_validate(resource)
        body = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
        url = research_url(kind, data["id"])
        comma = "," if sum(self.counts.values()) else ""
        self.target.write(f'{comma}{{"fullUrl":"{url}","resource":{body}}}'.encode())
        self.counts[kind] += 1

    def close(self) -> None:
        self.target.write(b"]}")


def write_fhir(scope: Scope, target) -> dict[str, int]:
    """A FHIR R4B Bundle (collection), written entry by entry: a Patient per research id (no
    other identifier), an EpisodeOfCare per episode, a MedicationAdministration per
    patient-day and dose group with a dose given (the day's total and number of doses, the
    sums of ``doses_daily``), and a QuestionnaireResponse per current follow-up response.

    R4B, not fhir.resources' default R5: Legemiddelregisteret's guide is FHIR R4. What
    differs here: MedicationAdministration has ``medicationCodeableConcept`` and
    ``effectivePeriod`` (R5: ``medication`` as a CodeableReference and ``occurence[x]``);
    EpisodeOfCare's ``type`` carries the phase, and an extension the end reason (R4B has no
    element for it); QuestionnaireResponse.questionnaire is a canonical in both but optional
    in R4B (R5 requires it), and ``authored`` is a dateTime, here a whole day.

    Dates: see ``FHIR_DATES_EN``. Ids are research ids and running numbers per patient (the
    episode number is that of the ``episodes`` table); no HAB database id. Answers are read
    a batch of responses at a time, so the queries do not grow with the responses."""
    bundle = _Bundle(target)
    bundle.open("calendar" if scope.with_dates else "shifted")
    _write_patients(scope, bundle)
    _write_episodes(scope, bundle)
    _write_doses(scope, bundle)
    _write_responses(scope, bundle)
    bundle.close()
    return bundle.counts


def _write_patients(scope: Scope, bundle: _Bundle) -> None:
    from fhir.resources.R4B.patient import Patient

    for research_id in scope.patients.values():
        bundle.entry(
            Patient,
            {
                "id": research_id.lower(),
                "identifier": [{"system": "urn:hab:research-id", "value": research_id}],
            },
        )


def _write_episodes(scope: Scope, bundle: _Bundle) -> None:
    """An EpisodeOfCare per episode, numbered per patient as in the episodes table."""
    from fhir.resources.R4B.episodeofcare import EpisodeOfCare

    clinic_code = dict(Clinic.objects.values_list("pk", "code"))
    phases, reasons = _english(Phase.choices), _english(EndReason.choices)
    number: dict[int, int] = {}
    for patient_id, clinic_id, admitted, ended, reason, phase in episode_records(scope, "phase"):
        number[patient_id] = number.get(patient_id, 0) + 1
        ending = {
            "extension": [
                {
                    "url": "urn:hab:end-reason",
                    "valueCodeableConcept": _concept(
                        "urn:hab:end-reason", reason, reasons.get(reason, reason)
                    ),
                }
            ]
        }
        bundle.entry(
            EpisodeOfCare,
            {
                "id": f"{scope.patients[patient_id].lower()}-e{number[patient_id]}",
                **(ending if ended and reason else {}),
                "status": "finished" if ended else "active",
                "type": [_concept("urn:hab:episode-phase", phase, phases.get(phase, phase))],
                "patient": _subject(scope, patient_id),
                "managingOrganization": {"display": clinic_code[clinic_id]},
                "period": fhir_date(scope, patient_id, "start", admitted)
                | fhir_date(scope, patient_id, "end", ended),
            },
        )


def _write_doses(scope: Scope, bundle: _Bundle) -> None:
    """A MedicationAdministration per patient-day and dose group: doses_daily's sums, kept
    apart by group."""
    from fhir.resources.R4B.medicationadministration import MedicationAdministration

    atc = group_atc()
    days = (
        current_doses(scope)
        .filter(GIVEN)
        .values("patient_id", "day", "group")
        .annotate(doses=given_doses(), total=given_mg())
        .order_by("patient_id", "day", "group")
        .values_list("patient_id", "day", "group", "doses", "total")
    )
    for patient_id, day, group, doses, total in days.iterator(chunk_size=CHUNK):
        study_day = scope.day(patient_id, day)
        coding = [{"system": ATC_SYSTEM, "code": atc[group]}] if group in atc else []
        bundle.entry(
            MedicationAdministration,
            {
                "id": f"{scope.patients[patient_id].lower()}-{group}-d{study_day}",
                "extension": [{"url": DOSES_GIVEN, "valueInteger": doses}],
                "status": "completed",
                "medicationCodeableConcept": {
                    **({"coding": coding} if coding else {}),
                    "text": group,
                },
                "subject": _subject(scope, patient_id),
                "effectivePeriod": fhir_date(scope, patient_id, "start", day)
                | fhir_date(scope, patient_id, "end", day),
                "dosage": {
                    "dose": {"value": mg(total), "unit": "mg", "system": UCUM, "code": "mg"}
                },
            },
        )


def _write_responses(scope: Scope, bundle: _Bundle) -> None:
    """A QuestionnaireResponse per current response; the answers of a batch of responses
    read in one query."""
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    items = {
        pk: (code, kind, order, instrument)
        for pk, code, kind, order, instrument in Item.objects.values_list(
            "pk", "code", "type", "order", "instrument__code"
        )
        if kind != ItemType.TEXT or scope.free_text
    }
    responses = (
        not_corrected(Response.objects.filter(follow_up__patient_id__in=scope.ids))
        .order_by("follow_up__patient_id", "answered_on", "pk")
        .values_list(
            "pk",
            "follow_up__patient_id",
            "follow_up__timepoint",
            "answered_on",
            "instrument__code",
            "instrument__version",
        )
    )
    number: dict[int, int] = {}
    for batch in chunks(responses.iterator(chunk_size=RESPONSE_BATCH), RESPONSE_BATCH):
        answers: dict[int, list[tuple]] = {}
        for response_id, item_id, value_int, value_date, value_text in Answer.objects.filter(
            response_id__in=[row[0] for row in batch], item_id__in=list(items)
        ).values_list("response_id", "item_id", "value_int", "value_date", "value_text"):
            answers.setdefault(response_id, []).append(
                (items[item_id], value_int, value_date, value_text)
            )
        for response_id, patient_id, timepoint, answered, instrument, version in batch:
            number[patient_id] = number.get(patient_id, 0) + 1
            given = sorted(answers.get(response_id, []), key=lambda a: (a[0][2], a[0][0]))
            bundle.entry(
                QuestionnaireResponse,
                {
                    "id": f"{scope.patients[patient_id].lower()}-q{number[patient_id]}",
                    "status": "completed",
                    "questionnaire": f"urn:hab:questionnaire:{instrument}|{version}",
                    "subject": _subject(scope, patient_id),
                    **fhir_date(scope, patient_id, "authored", answered),
                    "item": [
                        {"linkId": "timepoint", "answer": [{"valueString": timepoint}]},
                        {
                            "linkId": "study_day",
                            "answer": [{"valueInteger": scope.day(patient_id, answered)}],
                        },
                        *_answer_items(scope, patient_id, version, given),
                    ],
                },
            )


def _answer_items(scope: Scope, patient_id: int, version: int, given: list[tuple]) -> list:
    """The answered items of a response, each as its FHIR value (an unanswered item is
    left out)."""
    found = []
    for (code, kind, _order, instrument), value_int, value_date, text in given:
        if kind == ItemType.TEXT:
            value = {"valueString": text} if text else {}
        elif kind == ItemType.DATE:
            value = fhir_date(scope, patient_id, "valueDate", value_date)
        elif value_int is None:
            value = {}
        elif kind == ItemType.YES_NO:
            value = {"valueBoolean": bool(value_int)}
        elif kind == ItemType.CHOICE:
            system = f"urn:hab:{instrument}:v{version}:{code}"
            value = {"valueCoding": {"system": system, "code": str(value_int)}}
        else:
            value = {"valueInteger": value_int}
        if value:
            found.append({"linkId": code, "answer": [value]})
    return found
