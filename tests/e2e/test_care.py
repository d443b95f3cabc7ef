"""The individual plan (individuell plan) at HAB Oslo.

The coordinator finds a newly admitted patient without goals on the clinic's list of
plans, opens the plan and writes the patient's goals in two domains in their own words,
agrees an action, records the first review (the next is set three months on), invites the
mother to the responsibility group (the patient consents) and records where the patient
lives. A review whose next date comes before it is refused beside the field. The
psychologist then writes a note only psychologists read; the coordinator sees that a
note exists, never its text. Expected texts are computed with nb(): the care strings may
not be in the bokmål catalogue yet.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from hab.care import rules
from hab.care.models import CareNote, Goal, Involvement, PlanAction, Review, StatusRecord
from hab.core import clock
from hab.core.access import Actor
from hab.patients import services as patient_services
from hab.patients.models import Patient
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.e2e.helpers import nb
from tests.helpers import days_ago

pytestmark = pytest.mark.e2e


def nb_count(singular: str, plural: str, n: int) -> str:
    with translation.override("nb"):
        return translation.ngettext(singular, plural, n) % {"n": n}


@pytest.fixture
def jonas(eligible, api_as, staff) -> Patient:
    """Jonas Berg, admitted at HAB Oslo three weeks ago with the coordinator as his los;
    his mother is registered and he consents to sharing with relatives."""
    made = eligible("oslo", given_name="Jonas", family_name="Berg")
    response = api_as("clinic_lead.oslo").post(
        "/episodes",
        {
            "patient": made["patient"],
            "clinic": "oslo",
            "admitted_on": str(days_ago(21)),
            "coordinator": "coordinator.oslo",
        },
    )
    assert response.status_code == 201, response.content
    patient = Patient.objects.get(pk=made["patient"])
    coordinator = Actor.system(staff["coordinator.oslo"])
    patient_services.relative_save(
        actor=coordinator,
        patient_id=patient.pk,
        values={"name": "Randi Berg", "relation": "mor", "is_next_of_kin": True},
    )
    patient_services.consent_record(
        actor=coordinator, patient_id=patient.pk, kind="relatives", given=True
    )
    return patient


def add(page: Page, summary: str):
    """Opens a folded form on the plan page by its summary; returns the form."""
    details = page.locator("details.add", has=page.locator("summary", has_text=summary))
    details.locator("summary").click()
    return details.locator("form")


def messages(page: Page):
    return page.locator("main .messages")


def test_a_coordinator_makes_a_plan_and_the_psychologist_writes_a_restricted_note(
    live_server, page: Page, staff, jonas
):
    plan_path = f"/care/patients/{jonas.pk}/"

    # The coordinator's list of plans: Jonas has no goals yet.
    login(page, live_server, "coordinator.oslo")
    page.locator("header nav a[href='/care/']").click()
    expect(page).to_have_url(re.compile(r"/care/$"))
    row = page.locator("table.list tbody tr", has_text="Jonas Berg")
    expect(row.locator(".badge.warn")).to_have_text(nb("No goals yet"))
    check_accessibility(page)
    screenshot(page, "care-clinic")

    # The plan: two goals in the patient's own words.
    row.get_by_role("link", name="Jonas Berg").click()
    expect(page).to_have_url(re.compile(rf"{plan_path}$"))
    expect(page.locator("#next-review")).to_contain_text(
        rules.add_months(days_ago(21), 3).strftime("%d.%m.%Y")
    )
    check_accessibility(page)
    form = add(page, nb("New goal"))
    form.locator("#id_goal-domain").select_option("housing")
    form.locator("#id_goal-text").fill("Få min egen leilighet før jul")
    check_accessibility(page)
    form.locator("button[type=submit]").click()
    expect(messages(page)).to_contain_text(nb("The goal is added to the plan."))
    form = add(page, nb("New goal"))
    form.locator("#id_goal-domain").select_option("activity")
    form.locator("#id_goal-text").fill("Komme i gang med jobb på Fretex")
    form.locator("button[type=submit]").click()
    expect(messages(page)).to_contain_text(nb("The goal is added to the plan."))
    housing = page.locator("section.domain", has=page.locator("#domain-housing"))
    expect(housing.locator("blockquote.goal")).to_have_text("«Få min egen leilighet før jul»")
    activity = page.locator("section.domain", has=page.locator("#domain-activity"))
    expect(activity.locator("blockquote.goal")).to_have_text("«Komme i gang med jobb på Fretex»")

    # An agreed action, with the coordinator responsible and a due date.
    due = clock.today() + timedelta(days=30)
    form = add(page, nb("New action"))
    form.locator("#id_action-domain").select_option("housing")
    form.locator("#id_action-text").fill("Søke kommunal bolig sammen med NAV")
    form.locator("#id_action-owner").select_option("coordinator.oslo")
    form.locator("#id_action-due_on").fill(due.isoformat())
    form.locator("button[type=submit]").click()
    expect(messages(page)).to_contain_text(nb("The action is added to the plan."))
    action = housing.locator("tbody tr", has_text="Søke kommunal bolig sammen med NAV")
    expect(action).to_contain_text(due.strftime("%d.%m.%Y"))
    expect(action).to_contain_text(str(staff["coordinator.oslo"]))

    # The mother is invited to the responsibility group: the patient consents.
    network = page.locator("section.domain", has=page.locator("#domain-network"))
    form = add(page, nb("Involve a relative"))
    form.locator("#id_involvement-relative").select_option(label="Randi Berg (mor)")
    form.locator("#id_involvement-kind").select_option("responsibility_group")
    form.locator("button[type=submit]").click()
    expect(messages(page)).to_contain_text(nb("The relative's involvement is recorded."))
    expect(network.locator("ul.involvements")).to_contain_text("Randi Berg")
    expect(network.locator("ul.involvements")).to_contain_text("Invitert til ansvarsgruppen")

    # Housing and activity now.
    form = add(page, nb("Record housing and activity"))
    form.locator("#id_status-housing").select_option("hostel")
    form.locator("#id_status-activity").select_option("day_programme")
    form.locator("#id_status-note").fill("Bor på hospits i Storgata")
    form.locator("button[type=submit]").click()
    expect(messages(page)).to_contain_text(nb("The status is recorded."))

    # A review whose next date is before it is refused beside the field; nothing is saved.
    form = add(page, nb("Record a review"))
    form.locator("#id_review-held_on").fill(clock.today().isoformat())
    form.locator("input[name='review-staff'][value='coordinator.oslo']").check()
    form.locator("input[name='review-staff'][value='doctor.oslo']").check()
    form.locator("#id_review-next_on").fill(days_ago(1).isoformat())
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/reviews/new/$"))
    field = page.locator(".field", has=page.locator("#id_review-next_on"))
    expect(field.locator(".field-error")).to_have_text(
        nb("The next review must come after this one.")
    )
    assert Review.objects.count() == 0
    check_accessibility(page)

    # Corrected: the next review is left empty, so it is three months on.
    page.locator("#id_review-next_on").fill("")
    page.get_by_label("Randi Berg (mor)").check()
    page.locator("#id_review-others").fill("NAV-veileder")
    page.locator("#id_review-notes").fill(
        "Planen laget sammen med Jonas. Boligsøknad sendes denne uka."
    )
    screenshot(page, "care-review")
    page.locator("form.form button[type=submit].primary").click()
    expect(page).to_have_url(re.compile(rf"{plan_path}#reviews$"))
    expect(messages(page)).to_contain_text(nb("The review is recorded."))
    next_review = rules.add_months(clock.today(), 3).strftime("%d.%m.%Y")
    expect(page.locator("#next-review")).to_contain_text(next_review)
    reviews = page.locator("#reviews table.reviews tbody tr")
    expect(reviews).to_have_count(1)
    expect(reviews.first).to_contain_text("Randi Berg")
    expect(reviews.first).to_contain_text("NAV-veileder")
    check_accessibility(page)
    screenshot(page, "care-plan")

    # The psychologist opens the plan from the patient's page and writes a note that
    # only psychologists read.
    page.locator("header form[action$='/logout/'] button").click()
    login(page, live_server, "psychologist.oslo")
    page.goto(f"{live_server.url}/patients/{jonas.pk}/")
    page.locator(f".head-actions a[href='{plan_path}']").click()
    expect(page).to_have_url(re.compile(rf"{plan_path}$"))
    form = add(page, nb("New note"))
    for level in ("team", "clinical", "psychology"):
        expect(form.locator(f"input[name='note-visibility'][value='{level}']")).to_have_count(1)
    form.locator("input[name='note-visibility'][value='psychology']").check()
    form.locator("#id_note-text").fill(
        "Første samtale. Jonas er redd for å bo alene; vi lager en plan for kveldene."
    )
    check_accessibility(page)
    form.locator("button[type=submit]").click()
    expect(messages(page)).to_contain_text(nb("The note is saved."))
    notes = page.locator("#notes ul.notes li.note")
    expect(notes).to_have_count(1)
    expect(notes.first).to_contain_text("Jonas er redd for å bo alene")
    check_accessibility(page)
    page.locator("#notes").scroll_into_view_if_needed()
    screenshot(page, "care-notes")

    # The coordinator sees that a restricted note exists, never its text.
    page.locator("header form[action$='/logout/'] button").click()
    login(page, live_server, "coordinator.oslo")
    page.goto(f"{live_server.url}{plan_path}")
    expect(page.locator("#notes .restricted")).to_have_text(
        nb_count(
            "%(n)s note is restricted to other roles.",
            "%(n)s notes are restricted to other roles.",
            1,
        )
    )
    expect(page.locator("#notes")).not_to_contain_text("redd for å bo alene")
    expect(page.locator("input[name='note-visibility'][value='psychology']")).to_have_count(0)

    assert [g.domain for g in Goal.objects.order_by("at")] == ["housing", "activity"]
    action = PlanAction.objects.get()
    assert (action.owner_user, action.due_on) == (staff["coordinator.oslo"], due)
    review = Review.objects.get()
    assert review.next_on == rules.add_months(clock.today(), 3)
    assert review.others_attended == "NAV-veileder"
    assert Involvement.objects.get().kind == "responsibility_group"
    assert StatusRecord.objects.get().housing == "hostel"
    assert CareNote.objects.get().visibility == "psychology"
