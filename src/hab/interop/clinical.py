"""A patient's clinical record as one FHIR R4 Bundle, for when the patient moves to LAR
or another service: who they are, their episodes and coordinator, the individual plan,
every prescription and every dose record with its pre-dose assessment, the follow-up
answers and the consents.

The Bundle is a ``collection`` of identified resources. Dose records are append-only in
HAB and stay so here: a record that a correction replaced is written with status
``entered-in-error`` and an extension pointing at its replacement, so the receiver sees
both what was first recorded and what stands.
"""

from __future__ import annotations

import uuid

from django.db.models import Q

from hab.care.models import Goal, PlanAction
from hab.core.access import Actor
from hab.core.models import User
from hab.core.policy import Action
from hab.dosing.models import Administration
from hab.dosing.rules import TAKEN
from hab.intake.models import Episode
from hab.interop import codes
from hab.patients.models import Consent, Patient
from hab.patients.selectors import patient_open
from hab.prescribing.models import Prescription
from hab.research.models import Answer, Response

REPLACED_BY = f"{codes.HAB}:fhir:replaced-by"
PARTLY_GIVEN = f"{codes.HAB}:fhir:partly-given"
HAB_OBSERVATION = f"{codes.HAB}:observation"
RESPIRATORY_RATE = ("9279-1", "Respiratory rate")
GOAL_STATUS = {"active": "active", "achieved": "completed", "dropped": "cancelled"}
ACTION_STATUS = {"open": "in-progress", "done": "completed", "dropped": "cancelled"}
NOT_GIVEN = {"withheld", "refused", "missed"}
CONSENT_SCOPE = {
    "treatment": ("treatment", "Treatment"),
    "research": ("research", "Research"),
    "relatives": ("patient-privacy", "Privacy Consent"),
}


def bundle_for(actor: Actor, patient_id: int, *, now) -> dict:
    """The Bundle, after the policy and the access log (a read of the record)."""
    patient = patient_open(actor, patient_id, Action.PATIENT_FHIR, what="fhir document")
    return _Document(patient).bundle(now)


class _Document:
    def __init__(self, patient: Patient) -> None:
        self.patient = patient
        self.clinic = patient.clinic
        # The installation's own key makes the ids stable for this patient's rows.
        self.key = self.clinic.org_number or f"hab-{self.clinic.code}"
        self.entries: list[dict] = []
        self.users: dict[int, User] = {}

    def url(self, kind: str, pk: object) -> str:
        return codes.resource_uuid(self.key, kind, pk)

    def add(self, url: str, resource: dict) -> None:
        self.entries.append({"fullUrl": url, "resource": resource})

    def practitioner(self, user_id: int | None) -> dict | None:
        if user_id is None:
            return None
        self.users.setdefault(user_id, None)
        return {"reference": self.url("user", user_id)}

    def bundle(self, now) -> dict:
        self.add_patient()
        episodes = list(Episode.objects.filter(patient=self.patient).order_by("admitted_on"))
        for episode in episodes:
            self.add_episode(episode)
        self.add_plan(episodes)
        self.add_prescriptions()
        self.add_doses()
        self.add_responses()
        self.add_consents()
        self.add_organisation()
        self.add_practitioners()
        return {
            "resourceType": "Bundle",
            "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
            "type": "collection",
            "timestamp": codes.instant(now),
            "entry": self.entries,
        }

    # --- who ------------------------------------------------------------------------

    def add_patient(self) -> None:
        p = self.patient
        resource = {
            "resourceType": "Patient",
            "identifier": [codes.national_identifier(p.id_kind, p.national_id)],
            "name": [{"use": "official", "family": p.family_name, "given": [p.given_name]}],
            "birthDate": p.birth_date.isoformat(),
            "managingOrganization": {"reference": self.url("clinic", self.clinic.pk)},
        }
        if p.phone:
            resource["telecom"] = [{"system": "phone", "value": p.phone}]
        if p.address:
            resource["address"] = [{"use": "home", "text": p.address}]
        self.add(self.url("patient", p.pk), resource)

    def subject(self) -> dict:
        return {"reference": self.url("patient", self.patient.pk)}

    def add_organisation(self) -> None:
        resource = {"resourceType": "Organization", "name": self.clinic.name}
        if self.clinic.org_number:
            resource["identifier"] = [{"system": codes.ENH, "value": self.clinic.org_number}]
        self.add(self.url("clinic", self.clinic.pk), resource)

    def add_practitioners(self) -> None:
        for user in User.objects.filter(pk__in=list(self.users)).order_by("pk"):
            resource = {
                "resourceType": "Practitioner",
                "name": [{"family": user.last_name, "given": [user.first_name]}],
            }
            if user.hpr_number:
                resource["identifier"] = [{"system": codes.HPR, "value": user.hpr_number}]
            self.add(self.url("user", user.pk), resource)

    # --- the course of treatment ----------------------------------------------------

    def add_episode(self, episode: Episode) -> None:
        period = {"start": episode.admitted_on.isoformat()}
        if episode.ended_on:
            period["end"] = episode.ended_on.isoformat()
        resource = {
            "resourceType": "EpisodeOfCare",
            "identifier": [{"system": f"{codes.HAB}:episode", "value": str(episode.pk)}],
            "status": "active" if episode.ended_on is None else "finished",
            "type": [
                {
                    "coding": [{"system": f"{codes.HAB}:episode-phase", "code": episode.phase}],
                    "text": episode.get_phase_display(),
                }
            ],
            "diagnosis": [{"condition": {"reference": self.url("condition", self.patient.pk)}}],
            "patient": self.subject(),
            "managingOrganization": {"reference": self.url("clinic", self.clinic.pk)},
            "period": period,
        }
        if episode.coordinator_id:
            resource["careManager"] = self.practitioner(episode.coordinator_id)
        self.add(self.url("episode", episode.pk), resource)
        if not any(e["fullUrl"] == self.url("condition", self.patient.pk) for e in self.entries):
            code, display = codes.OPIOID_DEPENDENCE
            self.add(
                self.url("condition", self.patient.pk),
                {
                    "resourceType": "Condition",
                    "clinicalStatus": {
                        "coding": [{"system": codes.CONDITION_CLINICAL, "code": "active"}]
                    },
                    "code": {
                        "coding": [{"system": codes.ICD10_SYSTEM, "code": code, "display": display}]
                    },
                    "subject": self.subject(),
                },
            )

    def add_plan(self, episodes: list[Episode]) -> None:
        goals = list(Goal.objects.filter(patient=self.patient, replaced_by__isnull=True))
        actions = list(PlanAction.objects.filter(patient=self.patient, replaced_by__isnull=True))
        if not goals and not actions:
            return
        for goal in goals:
            self.add(
                self.url("goal", goal.pk),
                {
                    "resourceType": "Goal",
                    "lifecycleStatus": GOAL_STATUS[goal.status],
                    "category": [
                        {"coding": [{"system": f"{codes.HAB}:domain", "code": goal.domain}]}
                    ],
                    "description": {"text": goal.text},
                    "subject": self.subject(),
                    "startDate": goal.at.date().isoformat(),
                },
            )
        activities = []
        for action in actions:
            detail = {
                "kind": "ServiceRequest",
                "code": {"coding": [{"system": f"{codes.HAB}:domain", "code": action.domain}]},
                "status": ACTION_STATUS[action.status],
                "description": action.text,
            }
            if action.owner_user_id:
                detail["performer"] = [self.practitioner(action.owner_user_id)]
            else:
                detail["performer"] = [self.subject()] if action.owner_kind == "patient" else []
                if not detail["performer"]:
                    del detail["performer"]
            if action.due_on:
                detail["scheduledString"] = f"by {action.due_on.isoformat()}"
            activities.append({"detail": detail})
        current = next((e for e in reversed(episodes) if e.ended_on is None), None)
        plan = {
            "resourceType": "CarePlan",
            "status": "active" if current else "completed",
            "intent": "plan",
            "title": "Individuell plan",
            "subject": self.subject(),
            "goal": [{"reference": self.url("goal", goal.pk)} for goal in goals],
            "activity": activities,
        }
        if not plan["goal"]:
            del plan["goal"]
        if not activities:
            del plan["activity"]
        self.add(self.url("careplan", self.patient.pk), plan)

    # --- medicines ------------------------------------------------------------------

    def add_prescriptions(self) -> None:
        prescriptions = list(
            Prescription.objects.filter(patient=self.patient).order_by("created_at", "pk")
        )
        superseded = {rx.supersedes_id for rx in prescriptions if rx.supersedes_id}
        for rx in prescriptions:
            in_force = rx.stopped_on is None and rx.pk not in superseded
            resource = {
                "resourceType": "MedicationRequest",
                "identifier": [{"system": f"{codes.HAB}:prescription", "value": str(rx.pk)}],
                "status": "active" if in_force else ("stopped" if rx.stopped_on else "completed"),
                "intent": "order",
                "medicationCodeableConcept": {
                    **codes.atc(rx.medication),
                    "text": rx.get_medication_display(),
                },
                "subject": self.subject(),
                "supportingInformation": [{"reference": self.url("episode", rx.episode_id)}],
                "authoredOn": codes.instant(rx.created_at),
                "requester": self.practitioner(rx.created_by_id),
                "reasonReference": [{"reference": self.url("condition", self.patient.pk)}],
                "dosageInstruction": [
                    {
                        "sequence": n,
                        "text": f"{slot}: {amount} mg",
                        "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                        "route": codes.route(rx.route),
                        "doseAndRate": [{"doseQuantity": codes.mg(amount)}],
                        "maxDosePerPeriod": {
                            "numerator": codes.mg(rx.daily_max_mg),
                            "denominator": {
                                "value": 1,
                                "unit": "d",
                                "system": codes.UCUM,
                                "code": "d",
                            },
                        },
                    }
                    for n, (slot, amount) in enumerate(sorted(rx.doses_mg.items()), start=1)
                    if amount
                ],
                "dispenseRequest": {
                    "validityPeriod": {
                        "start": rx.valid_from.isoformat(),
                        **({"end": rx.valid_to.isoformat()} if rx.valid_to else {}),
                    }
                },
            }
            if not resource["dosageInstruction"]:
                del resource["dosageInstruction"]
            if rx.supersedes_id:
                resource["priorPrescription"] = {
                    "reference": self.url("prescription", rx.supersedes_id)
                }
            if rx.reason:
                resource["note"] = [{"text": rx.reason}]
            self.add(self.url("prescription", rx.pk), resource)

    def add_doses(self) -> None:
        records = list(
            Administration.objects.filter(patient=self.patient).order_by("given_at", "pk")
        )
        replaced_by = {r.corrects_id: r.pk for r in records if r.corrects_id}
        for record in records:
            url = self.url("dose", record.pk)
            observations = self.add_assessment(record)
            status = "completed" if record.status in TAKEN else "not-done"
            if record.pk in replaced_by:
                status = "entered-in-error"
            resource = {
                "resourceType": "MedicationAdministration",
                "identifier": [{"system": f"{codes.HAB}:administration", "value": str(record.pk)}],
                "status": status,
                "medicationCodeableConcept": {
                    **codes.atc(record.medication),
                    "text": record.get_medication_display(),
                },
                "subject": self.subject(),
                "context": {"reference": self.url("episode", record.episode_id)},
                "effectiveDateTime": codes.instant(record.given_at),
                "performer": [{"actor": self.practitioner(record.nurse_id)}],
                "dosage": {"dose": codes.mg(record.dose_mg)},
            }
            if record.route:
                resource["dosage"]["route"] = codes.route(record.route)
            if record.prescription_id:
                resource["request"] = {
                    "reference": self.url("prescription", record.prescription_id)
                }
            if observations:
                resource["supportingInformation"] = [{"reference": o} for o in observations]
            if record.status in NOT_GIVEN:
                resource["statusReason"] = [
                    {"text": record.withheld_reason or record.get_status_display()}
                ]
            extensions = []
            if record.status == "partial":
                extensions.append({"url": PARTLY_GIVEN, "valueBoolean": True})
            if record.pk in replaced_by:
                extensions.append(
                    {
                        "url": REPLACED_BY,
                        "valueReference": {"reference": self.url("dose", replaced_by[record.pk])},
                    }
                )
            if extensions:
                resource["extension"] = extensions
            notes = [n for n in (record.notes, record.correction_reason) if n]
            if notes:
                resource["note"] = [{"text": n} for n in notes]
            self.add(url, resource)

    def add_assessment(self, record: Administration) -> list[str]:
        """The pre-dose assessment as Observations: sedation (POSS 1–4), breath alcohol
        and respiratory rate, where measured."""
        found = []
        common = {
            "resourceType": "Observation",
            "status": "final",
            "subject": self.subject(),
            "effectiveDateTime": codes.instant(record.given_at),
            "performer": [self.practitioner(record.nurse_id)],
        }
        if record.sedation is not None:
            found.append(
                (
                    "poss",
                    {
                        **common,
                        "code": {
                            "coding": [
                                {
                                    "system": HAB_OBSERVATION,
                                    "code": "poss",
                                    "display": "Pasero Opioid-induced Sedation Scale",
                                }
                            ]
                        },
                        "valueInteger": record.sedation,
                    },
                )
            )
        if record.breath_alcohol_permille is not None:
            found.append(
                (
                    "alcohol",
                    {
                        **common,
                        "code": {
                            "coding": [
                                {
                                    "system": HAB_OBSERVATION,
                                    "code": "breath-alcohol",
                                    "display": "Breath alcohol",
                                }
                            ]
                        },
                        "valueQuantity": {
                            "value": float(record.breath_alcohol_permille),
                            "unit": "‰",
                            "system": codes.UCUM,
                            "code": "[ppth]",
                        },
                    },
                )
            )
        if record.respiratory_rate is not None:
            code, display = RESPIRATORY_RATE
            found.append(
                (
                    "rr",
                    {
                        **common,
                        "category": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                        "code": "vital-signs",
                                    }
                                ]
                            }
                        ],
                        "code": {
                            "coding": [{"system": codes.LOINC, "code": code, "display": display}]
                        },
                        "valueQuantity": {
                            "value": record.respiratory_rate,
                            "unit": "/min",
                            "system": codes.UCUM,
                            "code": "/min",
                        },
                    },
                )
            )
        urls = []
        for kind, resource in found:
            url = self.url(f"assessment-{kind}", record.pk)
            self.add(url, resource)
            urls.append(url)
        return urls

    # --- follow-up and consent ------------------------------------------------------

    def add_responses(self) -> None:
        responses = list(
            Response.objects.filter(follow_up__patient=self.patient, corrected_by__isnull=True)
            .select_related("instrument", "follow_up")
            .order_by("answered_on", "pk")
        )
        answers: dict[int, list] = {}
        for answer in Answer.objects.filter(response__in=responses).select_related("item"):
            answers.setdefault(answer.response_id, []).append(answer)
        for response in responses:
            items = [
                {"linkId": "timepoint", "answer": [{"valueString": response.follow_up.timepoint}]}
            ]
            for answer in sorted(answers.get(response.pk, []), key=lambda a: a.item.order):
                value = _answer_value(answer)
                if value is not None:
                    items.append({"linkId": answer.item.code, "answer": [value]})
            self.add(
                self.url("response", response.pk),
                {
                    "resourceType": "QuestionnaireResponse",
                    "questionnaire": (
                        f"urn:hab:questionnaire:{response.instrument.code}"
                        f"|{response.instrument.version}"
                    ),
                    "status": "completed",
                    "subject": self.subject(),
                    "authored": response.answered_on.isoformat(),
                    "author": self.practitioner(response.recorded_by_id),
                    "item": items,
                },
            )

    def add_consents(self) -> None:
        for consent in Consent.objects.filter(patient=self.patient).order_by("at", "pk"):
            scope, display = CONSENT_SCOPE[consent.kind]
            newer = Consent.objects.filter(
                Q(at__gt=consent.at) | Q(at=consent.at, pk__gt=consent.pk),
                patient=self.patient,
                kind=consent.kind,
            ).exists()
            resource = {
                "resourceType": "Consent",
                "status": "inactive" if newer else ("active" if consent.given else "rejected"),
                "scope": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                            "code": scope,
                            "display": display,
                        }
                    ]
                },
                "category": [
                    {
                        "coding": [
                            {"system": codes.LOINC, "code": "59284-0", "display": "Patient Consent"}
                        ],
                        "text": consent.get_kind_display(),
                    }
                ],
                "patient": self.subject(),
                "dateTime": codes.instant(consent.at),
                "performer": [self.subject()],
                "organization": [{"reference": self.url("clinic", self.clinic.pk)}],
                "policyRule": {
                    "coding": [
                        {"system": codes.ACT_CODE, "code": "OPTIN" if consent.given else "OPTOUT"}
                    ]
                },
                "provision": {"type": "permit" if consent.given else "deny"},
            }
            self.add(self.url("consent", consent.pk), resource)


def _answer_value(answer: Answer) -> dict | None:
    item = answer.item
    if item.type == "text":
        return {"valueString": answer.value_text} if answer.value_text else None
    if item.type == "date":
        return {"valueDate": answer.value_date.isoformat()} if answer.value_date else None
    if answer.value_int is None:
        return None
    if item.type == "yes_no":
        return {"valueBoolean": bool(answer.value_int)}
    if item.type == "choice":
        return {
            "valueCoding": {
                "system": f"urn:hab:{item.instrument_id}:{item.code}",
                "code": str(answer.value_int),
            }
        }
    return {"valueInteger": answer.value_int}
