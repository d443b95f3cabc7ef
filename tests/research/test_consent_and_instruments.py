"""Research consent as the export sees it, and the instrument's answer checks for every
item type (a test instrument adds the date type the core instrument does not use)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from hab.core.access import Actor
from hab.patients import services as patient_services
from hab.research import instruments
from hab.research.models import Instrument, Item, ItemType, Option
from hab.research.selectors import research_consented

pytestmark = pytest.mark.django_db


def record(staff, patient, given: bool) -> None:
    patient_services.consent_record(
        actor=Actor.system(staff["coordinator.oslo"]),
        patient_id=patient.pk,
        kind="research",
        given=given,
    )


def test_only_the_latest_research_consent_counts(staff, make_patient):
    consenting, withdrawn, never, other_kind = (make_patient() for _ in range(4))
    record(staff, consenting, True)
    record(staff, withdrawn, True)
    record(staff, withdrawn, False)
    patient_services.consent_record(
        actor=Actor.system(staff["coordinator.oslo"]),
        patient_id=other_kind.pk,
        kind="treatment",
        given=True,
    )
    everyone = [p.pk for p in (consenting, withdrawn, never, other_kind)]

    assert research_consented(everyone) == {consenting.pk}
    assert research_consented([withdrawn.pk]) == set()
    assert research_consented([]) == set()


def test_consent_given_again_after_a_withdrawal_counts(staff, make_patient):
    patient = make_patient()
    record(staff, patient, True)
    record(staff, patient, False)
    record(staff, patient, True)

    assert research_consented([patient.pk]) == {patient.pk}


@pytest.fixture
def test_instrument():
    instrument = Instrument.objects.create(
        code="test_all_types",
        version=1,
        name_nb="Test",
        name_en="Test",
        created_at=timezone.now(),
    )
    kinds = [
        ("days", ItemType.INTEGER, 0, 30, True),
        ("open_low", ItemType.INTEGER, None, None, False),
        ("used", ItemType.YES_NO, None, None, True),
        ("place", ItemType.CHOICE, None, None, True),
        ("since", ItemType.DATE, None, None, True),
        ("note", ItemType.TEXT, None, None, False),
    ]
    for order, (code, kind, low, high, required) in enumerate(kinds):
        item = Item.objects.create(
            instrument=instrument,
            code=code,
            order=order,
            text_nb=code,
            text_en=code,
            type=kind,
            min_value=low,
            max_value=high,
            required=required,
        )
        if kind == ItemType.CHOICE:
            Option.objects.create(item=item, code=1, label_nb="Én", label_en="One")
            Option.objects.create(item=item, code=9, label_nb="Ni", label_en="Nine")
    return instruments.instrument_by_code("test_all_types")


GOOD = {"days": "7", "used": "nei", "place": 9, "since": "2026-02-03", "note": "  hei  "}


def test_valid_answers_become_typed_values(test_instrument):
    checked = instruments.check_answers(test_instrument, GOOD)

    assert checked.errors == []
    assert checked.values == {
        "days": 7,
        "open_low": None,
        "used": 0,
        "place": 9,
        "since": datetime.date(2026, 2, 3),
        "note": "hei",
    }


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("days", "7.5"),
        ("days", "31"),
        ("days", ""),
        ("used", "kanskje"),
        ("used", 2),
        ("place", 2),
        ("place", "én"),
        ("since", "03.02.2026"),
        ("since", "2026-02-30"),
        ("since", 20260203),
        ("note", ["a"]),
    ],
)
def test_each_type_refuses_what_it_is_not(test_instrument, code, value):
    checked = instruments.check_answers(test_instrument, GOOD | {code: value})

    assert [field for field, _m in checked.errors] == [f"answers.{code}"]


def test_an_unbounded_integer_takes_any_whole_number(test_instrument):
    checked = instruments.check_answers(test_instrument, GOOD | {"open_low": -5})

    assert checked.values["open_low"] == -5


def test_answers_must_be_keyed_by_item(test_instrument):
    assert instruments.check_answers(test_instrument, ["7"]).errors[0][0] == "answers"


def test_the_newest_active_version_is_in_use(test_instrument):
    Instrument.objects.create(
        code="test_all_types",
        version=2,
        name_nb="T2",
        name_en="T2",
        created_at=timezone.now(),
        active=False,
    )
    Instrument.objects.create(
        code="test_all_types", version=3, name_nb="T3", name_en="T3", created_at=timezone.now()
    )

    in_use = {i.code: i.version for i in instruments.active_instruments()}

    assert in_use == {"hab_core": 1, "test_all_types": 3}
    assert instruments.instrument_by_code("test_all_types").version == 3


def test_the_core_instrument_speaks_bokmal_first_and_english():
    from django.utils import translation

    item = instruments.instrument_by_code("hab_core").items.get(code="housing")
    with translation.override("nb"):
        assert instruments.text(item, "text").startswith("Hvor har du bodd")
        assert instruments.answer_label(item, 4) == "Uten bolig, på gata"
    with translation.override("en"):
        assert instruments.text(item, "text").startswith("Where have you lived")
        assert instruments.answer_label(item, 4) == "Homeless, on the street"
