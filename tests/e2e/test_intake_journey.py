"""One referral from the inbox to admission, each step by the role that may take it.

The coordinator registers the referral, the doctor assesses it, the coordinator puts the
patient on the waitlist and the clinic lead offers a place and admits. Expected texts are
computed with nb(): the intake strings may not be in the bokmål catalogue yet.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from hab.core.access import Actor
from hab.core.models import Clinic
from hab.intake import services
from hab.intake.models import EligibilityAssessment, Episode, Phase, Referral, ReferralStatus
from hab.intake.selectors import active_criteria_set
from tests.conftest import synthetic_id
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.e2e.helpers import nb

pytestmark = pytest.mark.e2e


def criteria_codes() -> list[str]:
    return list(active_criteria_set().criteria.values_list("code", flat=True))


def switch_user(page: Page, live_server, username: str) -> None:
    """Logs the current person out from the header and the next one in."""
    page.locator("header form[action$='/logout/'] button").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    login(page, live_server, username)


def open_menu(page: Page, path: str) -> None:
    """Follows the main menu's link to ``path`` (for example /intake/referrals/)."""
    page.locator(f"header nav a[href$='{path}']").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(path)}$"))


def status_badge(page: Page):
    return page.locator(".page-head .head-actions .badge").first


def answer_criteria(page: Page, answers: dict[str, str]) -> None:
    for code, value in answers.items():
        page.locator(f"input[type=radio][name='c_{code}'][value='{value}']").check()


def test_a_referral_goes_from_the_inbox_to_admission(live_server, page: Page, staff):
    national_id = synthetic_id()
    today = timezone.localdate()

    # 1. The coordinator registers the referral of a person new to HAB.
    login(page, live_server, "coordinator.oslo")
    open_menu(page, "/intake/referrals/")
    expect(page.locator("header nav a[href$='/intake/referrals/']")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text(nb("Referrals"))
    check_accessibility(page)

    page.locator("main a[href$='/intake/referrals/new/']").click()
    expect(page).to_have_url(re.compile(r"/intake/referrals/new/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(nb("New referral"))
    page.locator("#id_national_id").fill(national_id)
    page.locator("#id_given_name").fill("Nora")
    page.locator("#id_family_name").fill("Fjellheim")
    page.locator("#id_source").select_option("lar")
    page.locator("#id_referring_organisation").fill("LAR Oslo øst")
    expect(page.locator("#id_received_on")).to_have_value(today.isoformat())
    check_accessibility(page)
    screenshot(page, "referral-new")
    page.locator("form.form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/intake/referrals/\d+/$"))
    referral = Referral.objects.get(patient__national_id=national_id)
    assert page.url.endswith(f"/intake/referrals/{referral.pk}/")
    patient = referral.patient
    assert (patient.clinic.code, referral.clinic.code) == ("oslo", "oslo")
    assert (referral.source, referral.received_on) == ("lar", today)
    assert referral.created_by.username == "coordinator.oslo"
    expect(page.locator(".messages")).to_contain_text(nb("The referral is registered."))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nora Fjellheim")
    expect(status_badge(page)).to_have_text(nb(ReferralStatus.RECEIVED.label))
    expect(page.locator("main")).to_contain_text("LAR Oslo øst")
    # Assessing is the doctor's, offering and admitting the clinic lead's.
    expect(page.locator("main a[href$='/assess/']")).to_have_count(0)
    expect(page.locator("main form[action$='/offer/']")).to_have_count(0)
    expect(page.locator("main a[href$='/admit/']")).to_have_count(0)
    check_accessibility(page)
    screenshot(page, "referral")

    # 2. The doctor assesses eligibility from the inbox.
    referral_url = f"/intake/referrals/{referral.pk}/"
    switch_user(page, live_server, "doctor.oslo")
    open_menu(page, "/intake/referrals/")
    row = page.locator("main table.list tbody tr", has=page.locator(f"a[href$='{referral_url}']"))
    expect(row.locator(".badge")).to_have_text(nb(ReferralStatus.RECEIVED.label))
    row.locator(f"a[href$='{referral_url}']").click()
    expect(page).to_have_url(re.compile(rf"{referral_url}$"))
    page.locator(f"main a[href$='{referral_url}assess/']").click()
    expect(page).to_have_url(re.compile(rf"{referral_url}assess/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(nb("Assess eligibility"))

    # One criterion unknown but "eligible" without a justification is refused.
    codes = criteria_codes()
    assert len(codes) >= 2
    expect(page.locator("input[type=radio][name^='c_'][value='yes']")).to_have_count(len(codes))
    unknown = codes[-1]
    answer_criteria(page, {code: "unknown" if code == unknown else "yes" for code in codes})
    page.locator("input[type=radio][name='eligible'][value='yes']").check()
    expect(page.locator("#id_notes")).to_have_value("")
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(rf"{referral_url}assess/$"))
    notes_field = page.locator(".field", has=page.locator("#id_notes"))
    expect(notes_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(notes_field.locator(".field-error")).to_have_text(
        nb("The decision does not follow from the answers: write the justification in the notes.")
    )
    expect(page.locator(".field-error")).to_have_count(1)
    # The answers given are kept.
    expect(page.locator(f"input[name='c_{unknown}'][value='unknown']")).to_be_checked()
    expect(page.locator("input[name='eligible'][value='yes']")).to_be_checked()
    assert EligibilityAssessment.objects.count() == 0, "an unjustified assessment was saved"
    check_accessibility(page)

    # Every criterion met: eligible follows from the answers (on a fresh form, so that the
    # guide's picture shows no stale error).
    page.locator(f"form.form .actions a[href$='{referral_url}']").click()
    expect(page).to_have_url(re.compile(rf"{referral_url}$"))
    expect(status_badge(page)).to_have_text(nb(ReferralStatus.RECEIVED.label))
    page.locator(f"main a[href$='{referral_url}assess/']").click()
    answer_criteria(page, dict.fromkeys(codes, "yes"))
    page.locator("input[type=radio][name='eligible'][value='yes']").check()
    expect(page.locator(".field-error")).to_have_count(0)
    expect(page.locator("input[type=radio][name^='c_'][value='yes']:checked")).to_have_count(
        len(codes)
    )
    screenshot(page, "assessment")
    page.locator("form.form button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"{referral_url}$"))
    expect(page.locator(".messages")).to_contain_text(nb("The assessment is saved."))
    expect(status_badge(page)).to_have_text(nb(ReferralStatus.ELIGIBLE.label))
    assessment = EligibilityAssessment.objects.get(referral=referral)
    assert assessment.eligible and assessment.assessed_by.username == "doctor.oslo"
    assert assessment.answers == dict.fromkeys(codes, True)
    expect(page.locator("section.assessment tbody tr")).to_have_count(len(codes))

    # 3. The coordinator puts the patient on the waitlist.
    switch_user(page, live_server, "coordinator.oslo")
    open_menu(page, "/intake/referrals/")
    page.locator(f"main table.list a[href$='{referral_url}']").click()
    expect(page).to_have_url(re.compile(rf"{referral_url}$"))
    page.locator(f".actions-bar form[action$='{referral_url}waitlist/'] button").click()
    expect(page).to_have_url(re.compile(rf"{referral_url}$"))
    expect(page.locator(".messages")).to_contain_text(nb("The patient is on the waitlist."))
    expect(status_badge(page)).to_have_text(nb(ReferralStatus.WAITLISTED.label))
    referral.refresh_from_db()
    assert (referral.status, referral.eligible_on) == (ReferralStatus.WAITLISTED, today)

    open_menu(page, "/intake/waitlist/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(nb("Waitlist"))
    waiting = page.locator("main table.list tbody tr")
    expect(waiting).to_have_count(1)
    cells = waiting.first.locator("td")
    expect(cells.nth(0)).to_have_text("1")
    expect(cells.nth(1).locator(f"a[href$='{referral_url}']")).to_have_text("Fjellheim, Nora")
    expect(cells.nth(2)).to_have_text(today.strftime("%d.%m.%Y"))
    expect(cells.nth(3)).to_have_text("0")
    check_accessibility(page)
    screenshot(page, "waitlist")

    # 4. The clinic lead offers a place and admits.
    switch_user(page, live_server, "clinic_lead.oslo")
    open_menu(page, "/intake/waitlist/")
    page.locator(f"main table.list a[href$='{referral_url}']").click()
    expect(page).to_have_url(re.compile(rf"{referral_url}$"))
    page.locator(f".actions-bar form[action$='{referral_url}offer/'] button").click()
    expect(page).to_have_url(re.compile(rf"{referral_url}$"))
    expect(page.locator(".messages")).to_contain_text(nb("A place is offered."))
    referral.refresh_from_db()
    assert referral.offered_on == today

    page.locator(f".actions-bar a[href$='{referral_url}admit/']").click()
    expect(page).to_have_url(re.compile(rf"{referral_url}admit/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        nb("Admit %(name)s") % {"name": "Nora Fjellheim"}
    )
    expect(page.locator("#id_admitted_on")).to_have_value(today.isoformat())
    expect(page.locator("#id_phase")).to_have_value(Phase.INDUCTION)
    page.locator("#id_coordinator").select_option("coordinator.oslo")
    page.locator("form.form button[type=submit]").click()

    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))
    expect(page.locator(".messages")).to_contain_text(
        nb("%(name)s is admitted.") % {"name": "Nora Fjellheim"}
    )
    episode = Episode.objects.get(patient=patient)
    assert (episode.clinic.code, episode.phase, episode.admitted_on) == (
        "oslo",
        Phase.INDUCTION,
        today,
    )
    assert episode.coordinator.username == "coordinator.oslo"
    assert episode.referral_id == referral.pk
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ADMITTED

    treatment = page.locator("section.card.episode")
    expect(treatment.get_by_role("heading", level=2)).to_have_text(nb("Treatment"))
    expect(treatment).to_contain_text(
        nb("In treatment at %(clinic)s since %(day)s")
        % {"clinic": "HAB Oslo", "day": today.strftime("%d.%m.%Y")}
    )
    expect(treatment.locator(".badge", has_text=nb(Phase.INDUCTION.label))).to_have_text(
        nb(Phase.INDUCTION.label)
    )
    expect(treatment).to_contain_text(staff["coordinator.oslo"].get_full_name())
    # The timeline: received, assessed, waitlisted, admitted.
    treatment.locator("details summary").click()
    timeline = treatment.locator("ul.timeline")
    expect(timeline).to_be_visible()
    expect(timeline.locator("li")).to_have_count(4)
    expect(timeline.locator("li").first).to_contain_text(
        nb("Referral received from %(org)s") % {"org": "LAR Oslo øst"}
    )
    expect(timeline).to_contain_text(nb("Assessed eligible"))
    expect(timeline).to_contain_text(nb(ReferralStatus.WAITLISTED.label))
    expect(timeline.locator("li").last).to_contain_text(
        nb("Admitted to %(clinic)s") % {"clinic": "HAB Oslo"}
    )
    check_accessibility(page)
    screenshot(page, "patient-in-treatment")

    open_menu(page, "/intake/capacity/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(nb("Capacity"))
    used = page.locator(".stat", has=page.get_by_text(nb("places used"), exact=True))
    expect(used.locator(".value")).to_have_text("1")
    free = page.locator(".stat", has=page.get_by_text(nb("places free"), exact=True))
    expect(free.locator(".value")).to_have_text("199")
    waiting_stat = page.locator(".stat", has=page.get_by_text(nb("on the waitlist"), exact=True))
    expect(waiting_stat.locator(".value")).to_have_text("0")
    check_accessibility(page)
    screenshot(page, "capacity")


def _eligible_referral(staff, clinic: Clinic, make_patient, **patient_fields) -> Referral:
    """A referral assessed eligible, made through the services (no browser)."""
    patient = make_patient(clinic.code, **patient_fields)
    referral = services.referral_create(
        actor=Actor.system(staff[f"coordinator.{clinic.code}"]),
        clinic=clinic,
        source="lar",
        referring_organisation="LAR Oslo øst",
        patient_id=patient.pk,
    )
    services.referral_assess(
        actor=Actor.system(staff[f"doctor.{clinic.code}"]),
        referral_id=referral.pk,
        answers=dict.fromkeys(criteria_codes(), True),
        eligible=True,
    )
    return referral


def test_admission_to_a_full_clinic_is_refused(live_server, page: Page, staff, make_patient):
    Clinic.objects.filter(code="oslo").update(capacity=1)
    oslo = Clinic.objects.get(code="oslo")
    first = _eligible_referral(staff, oslo, make_patient, given_name="Ola", family_name="Først")
    services.episode_admit(
        actor=Actor.system(staff["clinic_lead.oslo"]),
        patient_id=first.patient_id,
        clinic=oslo,
        referral_id=first.pk,
    )
    second = _eligible_referral(
        staff, oslo, make_patient, given_name="Kari", family_name="Nummerto"
    )

    login(page, live_server, "clinic_lead.oslo")
    open_menu(page, "/intake/referrals/")
    page.locator(f"main table.list a[href$='/intake/referrals/{second.pk}/']").click()
    page.locator(f".actions-bar a[href$='/intake/referrals/{second.pk}/admit/']").click()
    expect(page).to_have_url(re.compile(rf"/intake/referrals/{second.pk}/admit/$"))
    expect(page.locator("main p.hint").first).to_have_text(
        nb("%(free)s of %(capacity)s places are free at %(clinic)s.")
        % {"free": 0, "capacity": 1, "clinic": "HAB Oslo"}
    )
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()

    expect(page).to_have_url(re.compile(rf"/intake/referrals/{second.pk}/admit/$"))
    error = page.locator("form.form .error")
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_have_text(
        nb(
            "%(clinic)s is full: all %(capacity)s places are taken. Put the patient on the "
            "waitlist or discharge someone first."
        )
        % {"clinic": "HAB Oslo", "capacity": 1}
    )
    expect(page.locator(".field-error")).to_have_count(0)
    assert Episode.objects.count() == 1
    assert not Episode.objects.filter(patient_id=second.patient_id).exists()
    second.refresh_from_db()
    assert second.status == ReferralStatus.ELIGIBLE
