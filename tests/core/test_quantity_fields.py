"""One field for every quantity: what HAB's forms read and show, and a walk over every
form in HAB that fails on a number field that is not the shared one."""

from __future__ import annotations

import importlib
import pkgutil
from decimal import Decimal
from pathlib import Path

import pytest
from django import forms
from django.utils import translation

import hab
from hab.core.formats import mg_text, number, plain
from hab.core.forms import QuantityField, WholeNumberField


class Amount(forms.Form):
    mg = QuantityField(decimal_places=1, min_value=0)
    rate = WholeNumberField(required=False, min_value=1, max_value=79)


@pytest.mark.parametrize("typed", ["399,5", "399.5", " 399,5 ", "399,50"])
def test_a_comma_or_a_point_is_the_same_amount(typed):
    form = Amount({"mg": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["mg"] == Decimal("399.5")


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("1.000,5", "can be read two ways"),
        ("1,000.5", "can be read two ways"),
        ("12,5x", "“x” is not part of a number"),
        ("1,2,3", "More than one decimal mark"),
        ("--1", "at most one sign"),
        ("1e3", "“e” is not part of a number"),
        ("1,500", "three decimals"),
    ],
)
def test_an_ambiguous_or_malformed_amount_is_refused_beside_the_field(typed, words):
    with translation.override("en"):
        form = Amount({"mg": typed})
        assert not form.is_valid()
        assert words in form.errors["mg"][0]
        assert "mg" in form.errors and list(form.errors) == ["mg"]


def test_the_refusal_is_in_norwegian_on_a_norwegian_page():
    with translation.override("nb"):
        form = Amount({"mg": "1.000,5"})
        assert not form.is_valid()
        assert "kan leses på to måter" in form.errors["mg"][0]


def test_the_decimals_allowed_are_checked_after_reading():
    assert Amount({"mg": "7,5"}).is_valid()
    assert not Amount({"mg": "7,55"}).is_valid()
    assert Amount({"mg": "0"}).is_valid()
    assert not Amount({"mg": "-0,1"}).is_valid()


def test_a_whole_number_field_refuses_a_fraction_instead_of_dropping_the_comma():
    for typed in ("12", "12,0", " 12 "):
        form = Amount({"mg": "1", "rate": typed})
        assert form.is_valid() and form.cleaned_data["rate"] == 12
    form = Amount({"mg": "1", "rate": "12,5"})
    assert not form.is_valid() and "rate" in form.errors
    # the range at, under and over its ends
    assert Amount({"mg": "1", "rate": "79"}).is_valid()
    assert not Amount({"mg": "1", "rate": "80"}).is_valid()
    assert Amount({"mg": "1", "rate": "1"}).is_valid()
    assert not Amount({"mg": "1", "rate": "0"}).is_valid()


def test_the_value_is_shown_back_the_way_the_language_writes_it():
    form = Amount(initial={"mg": Decimal("399.5")})
    with translation.override("nb"):
        html = str(form["mg"])
        assert 'value="399,5"' in html
        assert 'inputmode="decimal"' in html and 'type="text"' in html
    with translation.override("en"):
        assert 'value="399.5"' in str(form["mg"])
    assert 'inputmode="numeric"' in str(form["rate"])


def test_a_field_that_takes_a_minus_sign_offers_the_full_keyboard():
    field = QuantityField(keyboard="text")
    assert "inputmode" not in field.widget.attrs


def test_number_follows_the_language():
    with translation.override("nb"):
        assert number(Decimal("941780.7")) == "941\u00a0780,7"
        assert number(Decimal("0.2")) == "0,2"
        assert number(Decimal("7.50")) == "7,5"
        assert number(Decimal("1234.565"), 2) == "1\u00a0234,57"
        assert mg_text(Decimal("10000")) == "10\u00a0000"
    with translation.override("en"):
        assert number(Decimal("941780.7")) == "941,780.7"
        assert number(Decimal("0.2")) == "0.2"
        assert mg_text(Decimal("-2.5")) == "-2.5"
    assert plain(Decimal("941780.70")) == "941780.7"


# Every module named forms in HAB, and the form classes defined in them.
def _form_modules() -> list:
    found = []
    for info in pkgutil.walk_packages(hab.__path__, "hab."):
        if info.name.rsplit(".", 1)[-1] == "forms":
            found.append(importlib.import_module(info.name))
    return found


def _form_classes() -> list[type[forms.BaseForm]]:
    modules = _form_modules()
    classes, todo = [], [forms.BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("hab."):
                classes.append(sub)
    assert {m.__name__ for m in modules} >= {
        "hab.dosing.forms",
        "hab.stock.forms",
        "hab.prescribing.forms",
        "hab.evaluation.forms",
        "hab.incidents.forms",
    }
    return classes


def _wrong_number_fields(form_name: str, fields: dict) -> list[str]:
    wrong = []
    for name, field in fields.items():
        is_number = isinstance(field, forms.DecimalField | forms.FloatField | forms.IntegerField)
        if is_number and not isinstance(field, QuantityField | WholeNumberField):
            wrong.append(f"{form_name}.{name}: {type(field).__name__}")
        if isinstance(field.widget, forms.NumberInput):
            wrong.append(f"{form_name}.{name}: NumberInput")
    return wrong


def test_every_number_field_in_hab_is_the_shared_quantity_field():
    classes = _form_classes()
    assert len(classes) > 20
    wrong = []
    for cls in classes:
        wrong += _wrong_number_fields(cls.__name__, cls.base_fields)
    assert wrong == []


@pytest.mark.django_db
def test_the_fields_a_form_adds_itself_are_the_shared_field_too(clinics):
    from hab.prescribing.forms import PrescriptionForm, ProtocolForm
    from hab.research.forms import _field
    from hab.research.models import Item, ItemType

    prescription = PrescriptionForm(slots=clinics["oslo"].slots.all())
    assert any(name.startswith("dose_") for name in prescription.fields)
    protocol = ProtocolForm(doctors=[])
    wrong = _wrong_number_fields("PrescriptionForm", prescription.fields)
    wrong += _wrong_number_fields("ProtocolForm", protocol.fields)
    item = Item(code="days", type=ItemType.INTEGER, min_value=0, max_value=30)
    wrong += _wrong_number_fields("InterviewForm", {"days": _field(item)})
    assert wrong == []
    assert any(isinstance(f, QuantityField) for f in protocol.fields.values())
    assert any(isinstance(f, WholeNumberField) for f in protocol.fields.values())


def test_no_template_or_form_writes_a_browser_number_input():
    """A hand-written <input type="number"> would bring the dropped comma back."""
    root = Path(hab.__file__).parent
    offenders = []
    for path in root.rglob("*"):
        if path.suffix not in {".html", ".py", ".js"} or "vendor" in path.parts:
            continue
        text = path.read_text(errors="ignore")
        if 'type="number"' in text or "NumberInput" in text:
            offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_the_walk_would_find_a_bare_number_field():
    # the check itself can fail: a plain field or a browser number input is named
    found = _wrong_number_fields(
        "Bad",
        {
            "a": forms.DecimalField(),
            "b": forms.IntegerField(),
            "c": forms.CharField(widget=forms.NumberInput()),
            "d": QuantityField(),
        },
    )
    assert found == [
        "Bad.a: DecimalField",
        "Bad.a: NumberInput",
        "Bad.b: IntegerField",
        "Bad.b: NumberInput",
        "Bad.c: NumberInput",
    ]
