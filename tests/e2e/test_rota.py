"""The clinic lead's rota at HAB Oslo: an understaffed session is warned about and fixed.

Every session of the coming two weeks is staffed except tomorrow morning, where a nurse is
missing. The lead opens the rota from the menu, sees the shortfall on the week and on the
warnings page, assigns a nurse from the warning, and the warning is gone. Every page is
checked with axe; the week and the warnings are the guide's screenshots. Expected texts are
computed with nb(): the rota strings may not be in the bokmål catalogue yet.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from hab.core import clock
from hab.core import services as core_services
from hab.core.access import Actor
from hab.core.models import Clinic
from hab.core.roles import Role
from hab.operations import messages, rules, selectors, services
from hab.operations.models import Assignment, ClinicSession
from tests.conftest import PASSWORD
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.e2e.helpers import nb

pytestmark = pytest.mark.e2e

# HAB Oslo's nurses and doctors besides nurse.oslo and doctor.oslo.
EXTRA = [
    ("nurse2.oslo", Role.NURSE, "Nina", "Johansen"),
    ("nurse3.oslo", Role.NURSE, "Erik", "Larsen"),
    ("nurse4.oslo", Role.NURSE, "Amina", "Hussain"),
    ("doctor2.oslo", Role.DOCTOR, "Magnus", "Eriksen"),
]
NURSES = ["nurse.oslo", "nurse2.oslo", "nurse3.oslo", "nurse4.oslo"]
DOCTORS = ["doctor.oslo", "doctor2.oslo"]


def shortfall_nb(need: rules.Need, required: int, present: int) -> str:
    with translation.override("nb"):
        return messages.text(rules.Shortfall(need, required, present, on_call_counts=True))


@pytest.fixture
def planned(staff, clinics):
    """Three weeks of calendar at HAB Oslo, staffed through the planning service: two
    nurses a day and a doctor (on call at weekends); tomorrow morning one nurse only."""
    oslo = clinics["oslo"]
    for username, role, first, last in EXTRA:
        core_services.staff_create(
            username=username,
            password=PASSWORD,
            first_name=first,
            last_name=last,
            roles=[(oslo, role)],
        )
    lead = Actor.system(staff["clinic_lead.oslo"])
    today = clock.today()
    tomorrow = today + timedelta(days=1)
    # Planned early this morning, before the first session: today's sessions are staffed
    # too, whatever the hour the test runs at (a session that is over cannot be staffed).
    with clock.at(timezone.make_aware(datetime.combine(today, time(6)))):
        services.calendar_generate(actor=lead, clinic=oslo, days=21)
        plan = []
        for session in ClinicSession.objects.filter(clinic=oslo, ends_at__gt=clock.now()):
            i = (session.date - today).days
            short = session.date == tomorrow and session.slot.code == "morning"
            for k in (0,) if short else (0, 1):
                nurse = NURSES[(2 * i + k) % 4 if not short else 0]
                plan.append(services.Planned(session, nurse, "nurse"))
            duty = "on_call" if session.date.weekday() >= 5 else "on_duty"
            plan.append(services.Planned(session, DOCTORS[i % 2], "doctor", duty))
        services.assignments_plan(actor=lead, clinic=oslo, planned=plan)
    session = ClinicSession.objects.get(clinic=oslo, date=tomorrow, slot__code="morning")
    assert [r.session for r in selectors.warnings(oslo).understaffed] == [session]
    return session


def test_the_lead_sees_an_understaffed_session_and_assigns_a_nurse(
    live_server, page: Page, staff, planned
):
    session = planned
    tablet = {"width": 1024, "height": 768}
    page.set_viewport_size(tablet)
    missing = shortfall_nb(rules.Need.NURSES, 2, 1)

    # The rota from the menu: this week, and the next when tomorrow is a Monday.
    login(page, live_server, "clinic_lead.oslo")
    page.locator("header nav a[href='/operations/']").click()
    expect(page).to_have_url(re.compile(r"/operations/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("HAB Oslo")
    warnings_button = page.locator(".head-actions a[href='/operations/warnings/']")
    expect(warnings_button.locator(".badge.warn")).to_have_text("1")
    if session.date.weekday() == 0:
        page.locator(".week-nav a[rel=next]").click()
        expect(page).to_have_url(re.compile(rf"week={session.date.isoformat()}$"))
    block = page.locator(f".rota-session[data-session='{session.pk}']")
    expect(block).to_have_class(re.compile(r"\bunderstaffed\b"))
    expect(block.locator(".shortfalls .badge.warn")).to_have_text(missing)
    expect(page.locator(".rota-session.understaffed")).to_have_count(1)
    # On call is marked at the weekend.
    expect(page.locator(".rota-staff .badge").first).to_have_text(nb("on call"))
    check_accessibility(page)
    screenshot(page, "rota-week")

    # The warnings: the one session, with what it lacks.
    warnings_button.click()
    expect(page).to_have_url(re.compile(r"/operations/warnings/$"))
    rows = page.locator("#understaffed tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-session", str(session.pk))
    expect(rows.first.locator(".badge.warn")).to_have_text(missing)
    check_accessibility(page)
    screenshot(page, "rota-warnings")

    # Assign a nurse from the warning.
    rows.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/operations/sessions/{session.pk}/assign/"))
    expect(page.locator("main p.hint")).to_contain_text(missing)
    page.locator("#id_person").select_option("nurse4.oslo|nurse")
    expect(page.locator("#id_duty_0")).to_be_checked()
    check_accessibility(page)
    page.locator("form.form button[type=submit].primary").click()

    # Back on the warnings: nothing left to warn about.
    expect(page).to_have_url(re.compile(r"/operations/warnings/$"))
    expect(page.locator("main .messages")).to_contain_text("Amina Hussain")
    expect(page.locator("#understaffed")).to_have_count(0)
    expect(page.locator("#no-understaffed")).to_have_text(
        nb("Every session in the next 14 days is staffed.")
    )
    check_accessibility(page)

    # The week shows the session staffed, and the count is zero.
    page.locator(".head-actions a[href='/operations/']").click()
    expect(page.locator(".head-actions .badge.ok")).to_have_text("0")
    expect(page.locator(".rota-session.understaffed")).to_have_count(0)

    added = Assignment.objects.get(session=session, user__username="nurse4.oslo")
    assert (added.role, added.duty, added.assigned_by) == (
        "nurse",
        "on_duty",
        staff["clinic_lead.oslo"],
    )
    assert selectors.warnings(Clinic.objects.get(code="oslo")).count == 0
