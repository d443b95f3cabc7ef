"""HAB's own pages, as the tests that walk them all find them: every named URL, the
arguments that fill its parameters from the demo's objects, and the personas who open them.

Shared by the page walk (tests/core/test_every_page.py), the read log's walk and the
security tests' cache and markup checks.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver

# Not pages of HAB's own: Django's admin, the JSON API (its docs are Swagger's), the
# login flow and the language switch (they answer with redirects).
SKIPPED_PREFIXES = ("/admin/", "/api/", "/i18n/", "/login/", "/logout/", "/oidc/", "/static/")


def named_urls() -> list[tuple[str, list[str]]]:
    """Every named URL of HAB's own pages: (name, its parameters)."""
    found: list[tuple[str, list[str]]] = []

    def walk(patterns, namespace: str, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                space = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, space, route)
            elif isinstance(pattern, URLPattern) and pattern.name:
                if ("/" + route.lstrip("^")).startswith(SKIPPED_PREFIXES):
                    continue
                params = list(getattr(pattern.pattern, "converters", {}))
                found.append((namespace + pattern.name, params))

    walk(get_resolver().url_patterns, "", "")
    return found


def _oslo(model) -> models.QuerySet:
    names = {f.name for f in model._meta.get_fields()}
    objects = model.objects.all()
    if "clinic" in names:
        objects = objects.filter(clinic__code="oslo")
    elif "patient" in names:
        objects = objects.filter(patient__clinic__code="oslo")
    return objects.order_by("-pk")


def _variety(model, limit: int = 2) -> list:
    """A few objects of a model: one per status (or kind) where it has one."""
    objects = _oslo(model)
    for field in ("status", "kind", "phase"):
        try:
            model._meta.get_field(field)
        except FieldDoesNotExist:
            continue
        chosen = {}
        for obj in objects.iterator():
            chosen.setdefault(getattr(obj, field), obj)
        return list(chosen.values())
    return list(objects[:limit])


def url_arguments() -> dict[frozenset, list[dict]]:
    """For each set of URL parameters, the arguments that fill it from demo objects."""
    model = apps.get_model
    by_id = {
        "referral_id": model("intake", "Referral"),
        "episode_id": model("intake", "Episode"),
        "prescription_id": model("prescribing", "Prescription"),
        "administration_id": model("dosing", "Administration"),
        "incident_id": model("incidents", "Incident"),
        "follow_up_id": model("research", "FollowUp"),
        "response_id": model("research", "Response"),
        "discrepancy_id": model("stock", "Discrepancy"),
        "session_id": model("operations", "ClinicSession"),
        "assignment_id": model("operations", "Assignment"),
        "exception_id": model("operations", "CalendarException"),
        # The demo's pending role change of each clinic (a POST-only URL: walked as 405).
        "proposal_id": model("core", "RoleChangeProposal"),
    }
    of_patient = {
        "goal_id": model("care", "Goal"),
        "action_id": model("care", "PlanAction"),
        "relative_id": model("patients", "Relative"),
    }
    arguments: dict[frozenset, list[dict]] = {}
    for name, kind in by_id.items():
        arguments[frozenset([name])] = [{name: obj.pk} for obj in _variety(kind)]
    for name, kind in of_patient.items():
        arguments[frozenset(["patient_id", name])] = [
            {"patient_id": obj.patient_id, name: obj.pk} for obj in _variety(kind)
        ]
    # Patients at every step: waiting, in each phase of treatment (with prescriptions,
    # doses, relatives and follow-ups), discharged.
    episodes = model("intake", "Episode")
    patients = {e.patient_id for e in _variety(episodes)}
    patients |= {e.patient_id for e in _oslo(episodes).filter(ended_on__isnull=False)[:1]}
    waiting = _oslo(model("intake", "Referral")).filter(status="waitlisted")
    patients |= {r.patient_id for r in waiting[:1]}
    arguments[frozenset(["patient_id"])] = [{"patient_id": pk} for pk in sorted(patients)]
    arguments[frozenset(["patient_id", "kind"])] = [
        {"patient_id": pk, "kind": "pdf"} for pk in sorted(patients)[:1]
    ]
    protocols = _oslo(model("prescribing", "DosingProtocol"))
    arguments[frozenset(["version"])] = [{"version": p.version} for p in protocols[:2]]
    from hab.evaluation.charts import CHARTS

    arguments[frozenset(["name"])] = [{"name": name} for name in CHARTS]
    return arguments


# The personas in the order a record's page is tried: the first who may open it reads it.
PERSONAS = [
    f"{role}.oslo"
    for role in (
        "doctor",
        "nurse",
        "clinic_lead",
        "coordinator",
        "psychologist",
        "researcher",
        "programme",
        "admin",
    )
]
