"""Every protocol setting has a clinical range that cannot switch a safeguard off.

Each range is tried at both ends, just inside them and just outside them, through the
service; a representative set through the API and the page's form; the rules between
settings; the database's check constraints as a backstop; and a property that whatever
the ranges accept gives the dosing rules a protocol whose safeguards are all on.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from hab.core.errors import Invalid
from hab.dosing import rules as dosing
from hab.dosing.selectors import protocol_rules
from hab.prescribing.models import DosingProtocol
from hab.prescribing.rules import PROTOCOL_RANGES, PROTOCOL_SWITCHES, Problem, protocol_problems
from hab.prescribing.services import PROTOCOL_FIELDS
from tests.prescribing.helpers import DEMO, in_force, propose

pytestmark = pytest.mark.django_db

# Other settings moved out of the way so that only the range of the one tried can fail
# (a single-dose maximum of 15 mg needs day-1 doses and a first oral dose within it).
COMPANIONS = {
    "dam_max_single_mg": {
        "first_iv_dose_mg": 10,
        "day1_max_iv_dose_mg": 10,
        "first_oral_dose_mg": 10,
    },
    "dam_max_daily_mg": {"dam_max_single_mg": 50, "first_oral_dose_mg": 50},
    "day1_max_iv_dose_mg": {"first_iv_dose_mg": 5},
    "sedation_block_level": {"sedation_reduce_level": 2},
    "missed_days_reduce": {"missed_reduce_pct": 25},
    "missed_reduce_pct": {"missed_days_reduce": 1},
}


def step(name: str) -> Decimal:
    """The smallest change a value of the setting can make."""
    field = DosingProtocol._meta.get_field(name)
    places = getattr(field, "decimal_places", None)
    return Decimal(1).scaleb(-places) if places else Decimal(1)


def probes():
    for name, bounds in PROTOCOL_RANGES.items():
        low, high, d = Decimal(str(bounds.low)), Decimal(str(bounds.high)), step(name)
        yield pytest.param(name, low, True, id=f"{name}-at-min")
        yield pytest.param(name, high, True, id=f"{name}-at-max")
        yield pytest.param(name, low - d, False, id=f"{name}-under-min")
        yield pytest.param(name, high + d, False, id=f"{name}-over-max")


def as_value(name: str, value: Decimal):
    return value if step(name) < 1 else int(value)


def test_every_protocol_setting_has_a_range_or_is_a_switch():
    assert not set(PROTOCOL_RANGES) & set(PROTOCOL_SWITCHES)
    assert set(PROTOCOL_RANGES) | set(PROTOCOL_SWITCHES) == set(PROTOCOL_FIELDS)


def test_the_protocol_docs_give_every_switch():
    text = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text()
    for name, switch in PROTOCOL_SWITCHES.items():
        default = "on" if switch.default else "off"
        assert f"| `{name}` | {default} | {switch.why} |" in text, name
        assert DosingProtocol._meta.get_field(name).default is switch.default


def test_the_protocol_docs_give_every_range():
    text = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text()
    for name, bounds in PROTOCOL_RANGES.items():
        assert f"| `{name}` | {bounds.low}–{bounds.high}" in text, name


def test_the_defaults_and_the_demo_lie_within_the_ranges():
    defaults = {
        name: DosingProtocol._meta.get_field(name).get_default() for name in PROTOCOL_FIELDS
    }
    assert protocol_problems(defaults | DEMO) == []


@pytest.mark.parametrize(("name", "value", "accepted"), list(probes()))
def test_each_range_holds_at_its_ends_and_refuses_just_outside(staff, name, value, accepted):
    values = DEMO | COMPANIONS.get(name, {}) | {name: as_value(name, value)}
    before = DosingProtocol.objects.count()

    if accepted:
        made = propose(staff, values=values)
        assert getattr(made, name) == value
    else:
        with pytest.raises(Invalid) as refused:
            propose(staff, values=values)
        fields = {e.field for e in refused.value.errors}
        assert fields == {name}, refused.value.errors
        assert DosingProtocol.objects.count() == before


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"sedation_block_level": 3, "sedation_reduce_level": 3}, "sedation_block_level", "above"),
        ({"first_iv_dose_mg": 15, "day1_max_iv_dose_mg": 14}, "day1_max_iv_dose_mg", "at least"),
        ({"dam_max_single_mg": 29, "first_oral_dose_mg": 20}, "dam_max_single_mg", "at least"),
        ({"dam_max_single_mg": 99, "first_oral_dose_mg": 100}, "dam_max_single_mg", "at least"),
        ({"dam_max_daily_mg": 350, "dam_max_single_mg": 351}, "dam_max_daily_mg", "at least"),
        (
            {"hydromorphone_max_daily_mg": 100, "hydromorphone_max_single_mg": 101},
            "hydromorphone_max_daily_mg",
            "at least",
        ),
        (
            {"missed_days_block": 2, "missed_days_reduce": 2, "missed_reduce_pct": 25},
            "missed_days_block",
            "above",
        ),
        ({"missed_days_reduce": 1}, "missed_reduce_pct", "together"),
        ({"missed_reduce_pct": 25}, "missed_days_reduce", "together"),
    ],
)
def test_the_rules_between_settings_are_kept(staff, values, field, words):
    with pytest.raises(Invalid) as refused, translation.override("en"):
        propose(staff, values=DEMO | values)

    assert [e.field for e in refused.value.errors] == [field]
    assert words in refused.value.errors[0].message


@pytest.mark.parametrize(
    ("values", "ok"),
    [
        ({"sedation_block_level": 4, "sedation_reduce_level": 3}, True),
        ({"first_iv_dose_mg": 15, "day1_max_iv_dose_mg": 15}, True),
        ({"dam_max_single_mg": 100, "first_oral_dose_mg": 100}, True),
        ({"dam_max_daily_mg": 350, "dam_max_single_mg": 350}, True),
        ({"missed_days_block": 3, "missed_days_reduce": 2, "missed_reduce_pct": 50}, True),
    ],
)
def test_the_rules_between_settings_allow_their_edge(staff, values, ok):
    assert propose(staff, values=DEMO | values).pk


def test_a_value_kept_from_the_last_version_is_checked_too(staff):
    # given a version whose reduction after missed days is set
    in_force(staff, values=DEMO | {"missed_days_reduce": 2, "missed_reduce_pct": 25})

    # when the next version lowers the block to 2 days and changes nothing else
    with pytest.raises(Invalid) as refused:
        propose(staff, values={"missed_days_block": 2})

    # then the kept reduction day (2) is no longer before the block
    assert [e.field for e in refused.value.errors] == ["missed_days_block"]


def test_the_message_gives_the_range(staff):
    with pytest.raises(Invalid) as refused, translation.override("en"):
        propose(staff, values=DEMO | {"min_interval_minutes": 0, "titration_days": 0})

    messages = {e.field: e.message for e in refused.value.errors}
    assert "120–480 min" in messages["min_interval_minutes"]
    assert "3–5 days" in messages["titration_days"]


# The examples, each of which the dose decision used to follow.
UNSAFE = [
    ("titration_days", 0),
    ("sedation_block_level", 5),
    ("sedation_reduce_pct", 0),
    ("min_interval_minutes", 0),
    ("dam_max_daily_mg", 5000),
    ("breath_alcohol_max_permille", 5),
    ("observation_minutes", 0),
    ("induction_interval_minutes", 29),
    ("missed_days_block", 4),
    ("dam_iv_warn_daily_mg", 601),
    ("hydromorphone_max_daily_mg", 501),
    ("intoxication_reduce_pct", 0),
]


@pytest.mark.parametrize(("name", "value"), UNSAFE)
def test_the_api_refuses_a_setting_that_switches_a_safeguard_off(api_as, staff, name, value):
    response = api_as("clinic_lead.oslo").post(
        "/clinics/oslo/protocol",
        {"doctor": "doctor.oslo", "reason": "Prøver", "values": DEMO | {name: value}},
    )

    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    assert [d["field"] for d in detail] == [name]
    assert "Allowed" in detail[0]["message"]
    assert not DosingProtocol.objects.exists()


def test_the_api_accepts_the_edges(api_as, staff):
    values = DEMO | {
        "min_interval_minutes": 120,
        "induction_interval_minutes": 30,
        "observation_minutes": 15,
        "titration_days": 5,
        "breath_alcohol_max_permille": 0.5,
        "dam_max_daily_mg": 1000,
        "sedation_block_level": 4,
        "intoxication_reduce_pct": 25,
    }

    response = api_as("clinic_lead.oslo").post(
        "/clinics/oslo/protocol", {"doctor": "doctor.oslo", "reason": "Kanter", "values": values}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["values"]["breath_alcohol_max_permille"] == 0.5
    assert body["values"]["intoxication_reduce_pct"] == 25
    assert body["in_force"] is False


def test_the_api_lists_the_ranges(api_as, staff):
    ranges = {r["setting"]: r for r in api_as("nurse.oslo").get("/protocol-ranges").json()}

    assert set(ranges) == set(PROTOCOL_FIELDS)
    assert (ranges["sedation_block_level"]["min"], ranges["sedation_block_level"]["max"]) == (3, 4)
    assert ranges["breath_alcohol_max_permille"]["max"] == 0.5


def _form_data(client) -> dict:
    page = client.get("/prescribing/protocol/")
    form = page.context["form"]
    return {
        name: "" if value is None else value
        for name, value in form.initial.items()
        if name in form.fields
    } | {"doctor": "doctor.oslo", "reason": "Ny versjon"}


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("min_interval_minutes", "119", "120–480"),
        ("sedation_block_level", "5", "3–4"),
        ("breath_alcohol_max_permille", "0,51", "0.00–0.50"),
        ("titration_days", "6", "3–5"),
        ("observation_minutes", "14", "15–120"),
    ],
)
def test_the_form_shows_the_range_beside_the_field(web_as, staff, name, value, shown):
    in_force(staff)
    client = web_as("clinic_lead.oslo")

    response = client.post("/prescribing/protocol/", _form_data(client) | {name: value})

    assert response.status_code == 200
    assert shown in response.context["form"].errors[name][0]
    assert f'id="id_{name}_error"' in response.content.decode()
    assert DosingProtocol.objects.count() == 1


def test_the_form_saves_the_edge_and_shows_every_range(web_as, staff):
    in_force(staff)
    client = web_as("clinic_lead.oslo")
    page = client.get("/prescribing/protocol/").content.decode()

    response = client.post(
        "/prescribing/protocol/", _form_data(client) | {"min_interval_minutes": "120"}
    )

    assert 'id="id_min_interval_minutes_helptext"' in page and "120–480" in page
    assert response.status_code == 302
    assert DosingProtocol.objects.latest("version").min_interval_minutes == 120


@pytest.mark.parametrize(
    "values",
    [
        {"min_interval_minutes": 119},
        {"sedation_block_level": 5},
        {"sedation_block_level": 3, "sedation_reduce_level": 3},
        {"breath_alcohol_max_permille": Decimal("0.51")},
        {"dam_max_daily_mg": 1001},
        {"dam_max_single_mg": 401, "dam_max_daily_mg": 400},
        {"missed_days_reduce": 2, "missed_reduce_pct": None},
        {"intoxication_reduce_pct": 0},
    ],
)
def test_the_database_refuses_what_the_ranges_refuse(staff, values):
    made = propose(staff)
    row = {
        name: getattr(made, name)
        for name in ["clinic", "created_by", "doctor", "reason", *PROTOCOL_FIELDS]
    }

    with pytest.raises(IntegrityError), transaction.atomic():
        DosingProtocol.objects.create(version=2, created_at=made.created_at, **row | values)


def _between(name: str, low: Decimal, high: Decimal):
    places = getattr(DosingProtocol._meta.get_field(name), "decimal_places", 0)
    if not places:
        return st.integers(int(low), int(high))
    scale = 10**places
    return st.integers(int(low * scale), int(high * scale)).map(lambda n: Decimal(n) / scale)


def _inside(name: str):
    """A value in range (or empty, where the setting may be empty)."""
    bounds = PROTOCOL_RANGES[name]
    inside = _between(name, Decimal(str(bounds.low)), Decimal(str(bounds.high)))
    return st.one_of(inside, st.none()) if bounds.optional else inside


def _anywhere(name: str):
    """In range, outside it on either side, or empty."""
    bounds = PROTOCOL_RANGES[name]
    low, high = Decimal(str(bounds.low)), Decimal(str(bounds.high))
    span = max(high - low, Decimal(1))
    return st.one_of(_inside(name), _between(name, low - span, high + span), st.none())


@st.composite
def _accepted(draw):
    """Any complete version the ranges accept: values in range, then the settings that
    depend on others drawn within what those allow."""
    values = {name: draw(_inside(name)) for name in PROTOCOL_RANGES}

    def within(name, low=None, high=None):
        bounds = PROTOCOL_RANGES[name]
        low = max(Decimal(str(bounds.low)), Decimal(str(low or bounds.low)))
        high = min(Decimal(str(bounds.high)), Decimal(str(high or bounds.high)))
        return draw(_between(name, low, high))

    values["sedation_block_level"] = within(
        "sedation_block_level", low=values["sedation_reduce_level"] + 1
    )
    values["day1_max_iv_dose_mg"] = within("day1_max_iv_dose_mg", low=values["first_iv_dose_mg"])
    values["dam_max_single_mg"] = within(
        "dam_max_single_mg",
        low=max(values["day1_max_iv_dose_mg"], values["first_oral_dose_mg"]),
    )
    values["dam_max_daily_mg"] = within("dam_max_daily_mg", low=values["dam_max_single_mg"])
    if values["hydromorphone_max_single_mg"] is not None:
        values["hydromorphone_max_daily_mg"] = within(
            "hydromorphone_max_daily_mg", low=values["hydromorphone_max_single_mg"]
        )
    if values["missed_days_block"] == 1 or draw(st.booleans()):
        values["missed_days_reduce"] = values["missed_reduce_pct"] = None
    else:
        values["missed_days_reduce"] = within(
            "missed_days_reduce", high=values["missed_days_block"] - 1
        )
        values["missed_reduce_pct"] = within("missed_reduce_pct")
    values["breath_alcohol_max_permille"] = within("breath_alcohol_max_permille")
    return values


@settings(max_examples=300, deadline=None)
@given(_accepted())
def test_any_protocol_the_ranges_accept_keeps_every_safeguard_on(values):
    assert protocol_problems(values) == []
    rule = protocol_rules(DosingProtocol(version=1, **values))
    g = dosing.Group

    assert 3 <= rule.sedation_block_level <= 4
    assert rule.sedation_reduce_level < rule.sedation_block_level
    assert 25 <= rule.sedation_reduce_pct <= 50
    assert 25 <= rule.intoxication_reduce_pct <= 50
    assert rule.min_interval_minutes >= 120
    assert rule.induction_interval_minutes >= 30
    assert rule.observation_minutes >= 15
    assert 3 <= rule.titration_days <= 5
    assert 1 <= rule.missed_days_block <= 3
    assert rule.missed_days_reduce is None or rule.missed_days_reduce < rule.missed_days_block
    assert (rule.missed_days_reduce is None) == (rule.missed_reduce_pct is None)
    assert rule.missed_reduce_pct is None or rule.missed_reduce_pct >= 25
    assert 0 <= rule.breath_alcohol_max_permille <= 0.5
    assert rule.max_daily_mg[g.DAM] <= 1000
    assert rule.max_daily_mg[g.HYDROMORPHONE] <= 500
    assert rule.max_daily_mg[g.METHADONE] <= 150
    assert rule.max_daily_mg[g.MORPHINE] <= 600
    assert rule.max_single_mg[g.DAM] <= rule.max_daily_mg[g.DAM]
    assert rule.first_iv_dose_mg <= rule.day1_max_iv_dose_mg <= 30
    assert rule.day1_max_iv_dose_mg <= rule.max_single_mg[g.DAM]
    assert rule.first_oral_dose_mg <= min(100, rule.max_single_mg[g.DAM])
    assert 0 < rule.oral_daily_step_mg <= 300
    assert 0 < rule.step_pct_two_sessions <= 50
    assert 0 < rule.prev_day_pct_three_sessions <= 50
    assert rule.iv_warn_daily_mg <= 600
    assert rule.respiratory_rate_min is None or rule.respiratory_rate_min >= 8


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({name: _anywhere(name) for name in PROTOCOL_RANGES}))
def test_the_ranges_refuse_every_value_outside_them(values):
    problems = {p.setting for p in protocol_problems(values) if p.code == "range"}
    for name, value in values.items():
        if value is not None:
            assert (name in problems) == (not PROTOCOL_RANGES[name].holds(value))
        elif not PROTOCOL_RANGES[name].optional:
            assert Problem(name, "required") in protocol_problems(values)
