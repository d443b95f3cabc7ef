"""A patient's right of access (GDPR art. 15; pasientjournalloven § 18 with pasient- og
brukerrettighetsloven § 5-1): everything HAB holds about one patient, and who has read it.

What belongs to a patient is found in the model registry, not in a hand-kept list: every
model with a foreign key to Patient, and the models that hang from those (a dose's
observation, a follow-up's answers, the ledger entry of a dose), so a table added later is
in the report without anyone remembering it. The clinic lead reads the report on a page
and hands it over as a ZIP (a PDF to read, JSON to process, the photo); every reading is
written to the access log, the report's own reading included.

Apps above this one add to the report through two hooks, called from their ``ready()``:
``register_readable`` holds back the rows the reader may not read on the app's own pages
(care notes above the reader's level: counted, never shown), and ``register_words`` names
the codes and keys the app stores in JSON and plain text (criteria, reasons), so the page
and the PDF read in words in the reader's language. The JSON download keeps the codes.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from hab.core import clock
from hab.core.access import Actor, access_log_write
from hab.core.models import AccessAction, AccessLog, Clinic, SessionSlot, User
from hab.core.policy import Action
from hab.patients.models import Patient
from hab.patients.selectors import patient_for_user

# How far from Patient a model may hang: Patient ← FollowUp ← Response ← Answer is three.
MAX_DEPTH = 3
FORMATS = ("page", "pdf", "json", "zip")

# What a reader may read of a model, where the owning app restricts it: a Q of the rows
# readable by the user at the clinic. The app's own rule, registered by the app.
ReadableRule = Callable[[User, Clinic], Q]
_READABLE: dict[type[models.Model], ReadableRule] = {}
# Functions that give stored codes and keys in words: {code: words} in the active language.
_WORDS: list[Callable[[], dict[str, str]]] = []


def register_readable(model: type[models.Model], rule: ReadableRule) -> None:
    """Rows of ``model`` the reader may not read are left out of every rendering of the
    report made by staff (page, PDF, JSON, ZIP, API), and counted as withheld."""
    _READABLE[model] = rule


def register_words(words: Callable[[], dict[str, str]]) -> None:
    _WORDS.append(words)


@cache
def patient_models() -> dict[type[models.Model], tuple[str, ...]]:
    """Every model that holds data about a patient, with the lookups from it to the
    patient's id, in the registry's (INSTALLED_APPS) order, the access log last.

    A model with its own foreign key to Patient is queried by it alone (its episode,
    referral or dose belongs to the same patient); others by the shortest chains of foreign
    keys that reach Patient. Self-references (corrections, supersessions) are not followed:
    the row they point at is the patient's already."""
    found: dict[type[models.Model], tuple[str, ...]] = {Patient: ("pk",)}
    level = {Patient: ("",)}
    for _depth in range(MAX_DEPTH):
        reached: dict[type[models.Model], list[str]] = {}
        for model in apps.get_models():
            if model in found:
                continue
            for fk in model._meta.concrete_fields:
                target = fk.related_model if fk.is_relation else None
                if target is None or target is model or target not in level:
                    continue
                for rest in level[target]:
                    path = f"{fk.name}__{rest}" if rest else fk.name
                    reached.setdefault(model, []).append(path)
        if not reached:
            break
        level = {model: tuple(paths) for model, paths in reached.items()}
        found |= level
    order = {model: index for index, model in enumerate(apps.get_models())}
    return dict(sorted(found.items(), key=lambda item: (item[0] is AccessLog, order[item[0]])))


@dataclass(frozen=True)
class Value:
    name: str
    label: str
    text: str  # as a person reads it
    data: Any  # as JSON carries it


@dataclass
class Row:
    pk: Any
    values: list[Value]

    @property
    def shown(self) -> list[Value]:
        """The values a person reads: the empty ones left out."""
        return [value for value in self.values if value.text]


@dataclass
class Section:
    key: str  # app_label.model_name
    title: str
    total: int
    rows: list[Row] = field(default_factory=list)
    # Rows held back at the reader's level (readable by another role: they decide what
    # of it the patient gets).
    withheld: int = 0

    @property
    def shown_all(self) -> bool:
        return len(self.rows) == self.total


@dataclass
class Report:
    patient: Patient
    sections: list[Section]
    made_at: datetime.datetime
    made_by: str
    clinic: Clinic

    @property
    def held(self) -> list[Section]:
        return [s for s in self.sections if s.total]

    @property
    def empty(self) -> list[Section]:
        return [s for s in self.sections if not s.total and not s.withheld]

    @property
    def withheld(self) -> list[Section]:
        return [s for s in self.sections if s.withheld]


def access_report(
    actor: Actor, patient_id: int, *, channel_format: str, limit: int | None = None
) -> Report:
    """The report for a clinic lead of the patient's clinic. The reading is logged first,
    so the report's access log shows it. ``limit`` caps the rows read per section (the
    page); the downloads have them all."""
    patient = patient_for_user(actor, patient_id, Action.PATIENT_ACCESS_REPORT)
    access_log_write(
        actor=actor,
        patient=patient,
        action=AccessAction.VIEW,
        what="access report",
        details={"format": channel_format},
        policy_action=Action.PATIENT_ACCESS_REPORT,
    )
    words = Words.current(patient.clinic)
    sections = [
        _section(model, lookups, patient, limit, actor.user, words)
        for model, lookups in patient_models().items()
    ]
    return Report(
        patient=patient,
        sections=sections,
        made_at=clock.now(),
        made_by=actor.user.get_username(),
        clinic=patient.clinic,
    )


def _section(
    model, lookups: tuple[str, ...], patient: Patient, limit: int | None, user, words: Words
) -> Section:
    condition = Q()
    for lookup in lookups:
        condition |= Q(**{lookup: patient.pk})
    queryset = model._default_manager.filter(condition)
    if len(lookups) > 1:
        queryset = queryset.distinct()
    withheld = 0
    rule = _READABLE.get(model)
    if rule is not None:
        readable = rule(user, patient.clinic)
        withheld = queryset.exclude(readable).count()
        queryset = queryset.filter(readable)
    people = [
        fk.name
        for fk in model._meta.concrete_fields
        if fk.is_relation and fk.related_model in (settings_user(), Clinic)
    ]
    queryset = queryset.select_related(*people)
    if limit is not None:
        queryset = queryset.order_by("-pk")  # the page shows the latest
    elif not queryset.ordered:
        queryset = queryset.order_by("pk")
    total = queryset.count()
    objects = queryset[:limit] if limit is not None else queryset
    return Section(
        key=model._meta.label_lower,
        title=str(model._meta.verbose_name_plural).capitalize(),
        total=total,
        rows=[Row(obj.pk, _values(obj, words)) for obj in objects],
        withheld=withheld,
    )


def settings_user():
    return apps.get_model(settings.AUTH_USER_MODEL)


def _values(obj: models.Model, words: Words) -> list[Value]:
    found = []
    for model_field in obj._meta.concrete_fields:
        if model_field.primary_key or model_field.related_model is Patient:
            continue  # the row's number, and the patient the whole report is about
        text, data = _value(obj, model_field, words)
        found.append(Value(model_field.name, _label(model_field), text, data))
    return found


def _label(model_field) -> str:
    name = str(model_field.verbose_name)
    # A field without a verbose name of its own gets Django's English one ("recorded
    # by"): the catalogue's entry for it, where there is one, reads in the report's language.
    return _(name[:1].upper() + name[1:])


# Stored codes some models show in words of their own.
_SHOWN_AS = {
    (AccessLog, "what"): lambda row: row.what_label,
    (AccessLog, "roles"): lambda row: row.roles_label,
}


def _value(obj: models.Model, model_field, words: Words) -> tuple[str, Any]:
    """(text, JSON value) of one field: staff by username, clinics by code, other rows by
    their id, times in ISO 8601 (text in Oslo time), amounts exactly."""
    if model_field.is_relation:
        related_id = getattr(obj, model_field.attname)
        if related_id is None:
            return "", None
        related = model_field.related_model
        if related is settings_user():
            user = getattr(obj, model_field.name)
            return f"{user} ({user.get_username()})", user.get_username()
        if related is Clinic:
            clinic = getattr(obj, model_field.name)
            return clinic.name, clinic.code
        return f"{related._meta.verbose_name} #{related_id}", related_id
    raw = getattr(obj, model_field.attname)
    if isinstance(model_field, models.FileField):
        return raw.name or "", raw.name or None
    shown = _SHOWN_AS.get((type(obj), model_field.name))
    if raw is None or raw == "" or raw == [] or raw == {}:
        return "", raw
    if shown:
        return shown(obj), raw
    if model_field.choices:
        # An app's own words (in the reader's language) before the stored label.
        return words.registered.get(raw) or str(obj._get_FIELD_display(model_field)), raw
    if isinstance(raw, datetime.datetime):
        return date_format(timezone.localtime(raw), "d.m.Y H:i"), raw.isoformat()
    if isinstance(raw, datetime.date):
        return date_format(raw, "d.m.Y"), raw.isoformat()
    if isinstance(raw, datetime.time):
        return raw.strftime("%H:%M"), raw.isoformat()
    if isinstance(raw, bool):
        return (_("Yes") if raw else _("No")), raw
    if isinstance(raw, Decimal):
        return f"{raw.normalize():f}", str(raw)
    if isinstance(raw, dict | list):
        return words.read(raw), raw
    if isinstance(raw, str) and not isinstance(model_field, models.TextField):
        return words.code(raw), raw  # a code in a short field; free text stays as written
    return str(raw), raw


# --- codes in words -------------------------------------------------------------------------

CODE = re.compile(r"[a-z][a-z0-9_]*")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class Words:
    """Stored codes (choice values, event kinds, reasons) and JSON keys (field names,
    criteria) in words of the active language, for the page and the PDF."""

    codes: dict[str, str]
    keys: dict[str, str]
    registered: dict[str, str]  # the apps' own words (register_words)
    named: dict[str, str] = field(default_factory=dict)  # codes and keys, for lists

    def __post_init__(self) -> None:
        self.named = self.codes | self.keys  # "fields changed" lists field names

    @classmethod
    def current(cls, clinic: Clinic) -> Words:
        # Words of the access log's details that no model names.
        codes: dict[str, str] = {
            "page": _("page"),
            "api": "API",
            "administration history": _("dose history"),
        }
        keys: dict[str, str] = {
            "fields": _("fields changed"),
            "old": _("before"),
            "new": _("after"),
            "created": _("created"),
            "kind": _("kind"),
            "import": _("imported"),
            "days": _("days"),
        }
        # The session codes by the names the clinics give them, the patient's clinic first.
        slots = SessionSlot.objects.order_by("clinic_id", "pk")
        for slot in [*slots.filter(clinic=clinic), *slots.exclude(clinic=clinic)]:
            codes.setdefault(slot.code, slot.name)
        for model in apps.get_models():
            if not model.__module__.startswith("hab."):
                continue
            keys.setdefault(model._meta.model_name, str(model._meta.verbose_name))
            for model_field in model._meta.concrete_fields:
                keys.setdefault(model_field.name, _label(model_field))
                for value, label in getattr(model_field, "flatchoices", None) or []:
                    if isinstance(value, str) and value:
                        codes.setdefault(value, str(label))
        registered: dict[str, str] = {}
        for words in _WORDS:
            registered |= words()
        return cls(codes | registered, keys | registered, registered)

    def code(self, text: str) -> str:
        """A stored code in words; a list of codes ("doctor,nurse") each in words; any
        other text as it is."""
        if text in self.codes:
            return self.codes[text]
        parts = text.split(",")
        if all(CODE.fullmatch(part) and part in self.named for part in parts):
            return ", ".join(self.codes.get(part) or self.key(part) for part in parts)
        return text

    def key(self, name: str) -> str:
        return self.keys.get(name) or self.codes.get(name) or name.replace("_", " ")

    def read(self, data: Any) -> str:
        """A JSON value as a person reads it: keys and codes in words, yes/no, dates."""
        if isinstance(data, dict):
            return "; ".join(f"{_capital(self.key(k))}: {self.read(v)}" for k, v in data.items())
        if isinstance(data, list):
            return ", ".join(self.read(v) for v in data)
        if isinstance(data, bool):
            return _("Yes") if data else _("No")
        if data is None:
            return "–"
        if isinstance(data, str):
            if ISO_DATE.fullmatch(data):
                try:
                    return date_format(datetime.date.fromisoformat(data), "d.m.Y")
                except ValueError:
                    return data
            return self.code(data)
        return str(data)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- the downloads --------------------------------------------------------------------------


def as_json(report: Report) -> dict:
    """The machine-readable report: every field of every row, by field name."""
    patient = report.patient
    return {
        "patient": patient.pk,
        "clinic": report.clinic.code,
        "made_at": report.made_at.isoformat(),
        "made_by": report.made_by,
        "sections": [
            {
                "model": section.key,
                "title": section.title,
                "count": section.total,
                "withheld": section.withheld,
                "rows": [
                    {"id": row.pk} | {value.name: value.data for value in row.values}
                    for row in section.rows
                ],
            }
            for section in report.sections
        ],
    }


def as_pdf(report: Report) -> bytes:
    from weasyprint import HTML

    html = render_to_string("patients/access_report_pdf.html", {"report": report})
    return HTML(string=html).write_pdf()


def file_stem(report: Report) -> str:
    return f"innsyn-{report.patient.pk}-{timezone.localtime(report.made_at):%Y%m%d}"


def as_zip(report: Report) -> bytes:
    """The report to hand over: the PDF to read, the JSON to process, the photo if any."""
    stem = file_stem(report)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}.pdf", as_pdf(report))
        archive.writestr(
            f"{stem}.json",
            json.dumps(as_json(report), ensure_ascii=False, indent=2, default=str),
        )
        photo = report.patient.photo
        if photo:
            with photo.open("rb") as handle:
                archive.writestr(f"{stem}-foto{_suffix(photo.name)}", handle.read())
    return buffer.getvalue()


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:] if dot > name.rfind("/") else ""
