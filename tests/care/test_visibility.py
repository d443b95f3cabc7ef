"""Who reads which notes, from a table: a reader never receives a note above their level,
not even its existence (only a count of restricted notes), and an author can only choose
a level they can read."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hab.care import rules, selectors, services
from hab.care.models import CareNote
from hab.core import services as core_services
from hab.core.access import Actor
from hab.core.models import Clinic
from hab.core.policy import Action
from hab.core.roles import Role
from tests.conftest import PASSWORD
from tests.permissions import ALLOWED

pytestmark = pytest.mark.django_db

LEVELS = ["team", "clinical", "psychology"]
# Written out, independently of the policy: who reads notes at each level.
READERS = {
    "team": {"doctor", "nurse", "psychologist", "coordinator", "clinic_lead"},
    "clinical": {"doctor", "psychologist"},
    "psychology": {"psychologist"},
}
WRITERS = {"doctor", "psychologist", "coordinator", "clinic_lead"}


def test_the_table_agrees_with_the_authorisation_table():
    assert READERS["team"] == ALLOWED[Action.CARE_VIEW]
    assert READERS["clinical"] == ALLOWED[Action.NOTE_READ_CLINICAL]
    assert READERS["psychology"] == ALLOWED[Action.NOTE_READ_PSYCHOLOGY]
    assert ALLOWED[Action.CARE_NOTE_WRITE] == WRITERS


@pytest.fixture
def notes(patient, api_as):
    """One note at each level, written by the psychologist (who reads them all)."""
    api = api_as("psychologist.oslo")
    for level in LEVELS:
        response = api.post(
            f"/patients/{patient.pk}/care-plan/notes",
            {"text": f"Notat {level}", "visibility": level},
        )
        assert response.status_code == 201, response.content
    return patient


@pytest.mark.parametrize("role", sorted(READERS["team"]))
def test_each_role_reads_the_notes_of_its_levels_only(api_as, notes, role):
    plan = api_as(f"{role}.oslo").get(f"/patients/{notes.pk}/care-plan").json()

    seen = {n["visibility"] for n in plan["notes"]}
    expected = {level for level in LEVELS if role in READERS[level]}
    assert seen == expected
    assert plan["restricted_notes"] == len(LEVELS) - len(expected)
    assert {n["text"] for n in plan["notes"]} == {f"Notat {level}" for level in expected}


@pytest.mark.parametrize(("role", "level"), list(itertools.product(sorted(WRITERS), LEVELS)))
def test_an_author_chooses_only_a_level_they_can_read(api_as, patient, role, level):
    response = api_as(f"{role}.oslo").post(
        f"/patients/{patient.pk}/care-plan/notes", {"text": "Notat", "visibility": level}
    )

    if role in READERS[level]:
        assert response.status_code == 201, response.content
    else:
        assert response.status_code == 422
        assert response.json()["detail"][0]["field"] == "visibility"


@pytest.mark.parametrize("role", sorted(set(Role.values) - WRITERS))
def test_roles_that_do_not_write_notes_are_refused(api_as, patient, role):
    response = api_as(f"{role}.oslo").post(
        f"/patients/{patient.pk}/care-plan/notes", {"text": "Notat", "visibility": "team"}
    )

    assert response.status_code == 403


def test_the_plan_page_shows_only_readable_notes(web_as, notes):
    page = web_as("coordinator.oslo").get(f"/care/patients/{notes.pk}/")

    body = page.content.decode()
    assert page.status_code == 200
    assert "Notat team" in body
    assert "Notat clinical" not in body
    assert "Notat psychology" not in body


def test_a_correction_is_the_authors_own_at_the_same_level(api_as, notes):
    note = CareNote.objects.get(visibility="clinical")
    path = f"/patients/{notes.pk}/care-plan/notes"

    by_doctor = api_as("doctor.oslo").post(
        path, {"text": "Rettet", "visibility": "clinical", "replaces": note.pk}
    )
    lower = api_as("psychologist.oslo").post(
        path, {"text": "Rettet", "visibility": "team", "replaces": note.pk}
    )
    # The coordinator cannot read it: to them it does not exist.
    hidden = api_as("coordinator.oslo").post(
        path, {"text": "Rettet", "visibility": "team", "replaces": note.pk}
    )
    corrected = api_as("psychologist.oslo").post(
        path, {"text": "Rettet", "visibility": "clinical", "replaces": note.pk}
    )

    assert by_doctor.json()["detail"] == [
        {"field": "replaces", "message": "Only the author can correct a note."}
    ]
    assert lower.json()["detail"][0]["field"] == "visibility"
    assert hidden.json()["detail"] == [
        {"field": "replaces", "message": "No such note in this plan."}
    ]
    assert corrected.status_code == 201
    texts = [
        n["text"]
        for n in api_as("doctor.oslo").get(f"/patients/{notes.pk}/care-plan").json()["notes"]
    ]
    assert "Rettet" in texts
    assert "Notat clinical" not in texts


# --- the rule, and a property over every combination of roles ----------------------------


@given(team=st.booleans(), clinical=st.booleans(), psychology=st.booleans())
def test_readable_levels_are_exactly_the_granted_ones(team, clinical, psychology):
    levels = rules.readable_levels(team=team, clinical=clinical, psychology=psychology)

    assert (rules.Visibility.TEAM in levels) == team
    assert (rules.Visibility.CLINICAL in levels) == clinical
    assert (rules.Visibility.PSYCHOLOGY in levels) == psychology
    for level in rules.Visibility:
        assert rules.may_choose(level, levels) == rules.may_read(level, levels)


_reader_serial = itertools.count(1)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    roles=st.sets(st.sampled_from(Role.values), max_size=4),
    written=st.lists(
        st.tuples(
            st.sampled_from(["doctor", "psychologist", "coordinator"]), st.sampled_from(LEVELS)
        ),
        max_size=6,
    ),
)
def test_no_reader_ever_receives_a_note_above_their_level(staff, patient, roles, written):
    # given: notes written by whoever may write them, and a reader with any roles at all
    clinic = Clinic.objects.get(code="oslo")
    for author, level in written:
        if author in READERS[level]:
            services.note_write(
                actor=Actor.system(staff[f"{author}.oslo"]),
                patient_id=patient.pk,
                text=f"{level} av {author}",
                visibility=level,
            )
    reader = core_services.staff_create(
        username=f"reader{next(_reader_serial)}",
        password=PASSWORD,
        first_name="Leser",
        last_name="Test",
        roles=[(clinic, Role(role)) for role in sorted(roles)],
    )
    allowed = {level for level in LEVELS if roles & READERS[level]}

    # when
    if not roles & READERS["team"]:
        return  # no care relationship: the plan is refused altogether (tested elsewhere)
    plan = selectors.plan_for(Actor.system(reader), patient)

    # then
    assert {n.visibility for n in plan.notes} <= allowed
    current = CareNote.objects.filter(patient=patient, replaced_by__isnull=True)
    assert len(plan.notes) == current.filter(visibility__in=allowed).count()
    assert plan.restricted_notes == current.exclude(visibility__in=allowed).count()
