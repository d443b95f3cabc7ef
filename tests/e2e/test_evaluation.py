"""The programme owner opens the evaluation dashboard for the first half of 2025, sees the
key figures (small numbers withheld) and every chart, and downloads the annual report as a
PDF; with a programme of sixty courses, sees the ways of leaving HAB as competing risks,
the published trials beside HAB's retention, and limits the follow-up outcomes to
consenting patients."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from pathlib import Path

import pypdfium2
import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from hab.evaluation import charts
from hab.intake.models import Episode
from tests.e2e.conftest import check_accessibility, login, screenshot, watched_page
from tests.e2e.helpers import nb
from tests.e2e.tablet import tap_login

pytestmark = pytest.mark.e2e


def test_the_dashboard_shows_the_charts_and_the_report_downloads(
    live_server,
    page: Page,
    staff,
    world,
    costs,
):
    login(page, live_server, "programme.oslo")
    page.goto(f"{live_server.url}/evaluation/?from=2025-01-01&to=2025-06-30")
    expect(page.get_by_role("heading", level=1)).to_contain_text(nb("Evaluation"))
    main = page.locator("main")
    # Four patients at Oslo: the programme owner sees "< 5", and not the retention
    # figures that would give them back.
    expect(main.locator(".stat .value").first).to_have_text("< 5")
    expect(main.locator(".small-numbers")).to_contain_text("Tall under 5 vises som «< 5»")
    expect(main).to_contain_text("skjermet")
    expect(main).not_to_contain_text("0,75")
    expect(main).to_contain_text("Helse Sør-Øst")
    images = main.locator(".charts img")
    expect(images).to_have_count(len(charts.CHARTS))
    for index in range(len(charts.CHARTS)):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        assert image.get_attribute("alt")
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
    check_accessibility(page)

    with page.expect_download() as info:
        main.locator("a[href*='/evaluation/report.pdf']").click()
    data = Path(info.value.path()).read_bytes()
    text = "\n".join(p.get_textpage().get_text_range() for p in pypdfium2.PdfDocument(data))
    assert "2025" in text and "HAB Oslo" in text
    assert "< 5" in text and "skjermet" in text


# Sixty courses from 2023 on, ended in every way (or still running): enough that the
# programme owner sees figures, not "< 5".
REASONS = ["", "", "transfer_lar", "dropout", "", "other_treatment", "discharged", "", "prison"]
REASONS += ["", "moved", "", "death", "", "other", ""]


@pytest.fixture
def programme(make_patient, staff, clinics) -> list[Episode]:
    lead = staff["clinic_lead.oslo"]
    out = []
    for n in range(60):
        clinic = "oslo" if n % 5 < 3 else "bergen"
        admitted = datetime.date(2023, 1, 9) + datetime.timedelta(days=n * 11)
        reason = REASONS[n % len(REASONS)]
        ended = admitted + datetime.timedelta(days=40 + (n * 37) % 500) if reason else None
        if ended and ended > datetime.date(2025, 12, 1):
            ended, reason = None, ""
        out.append(
            Episode.objects.create(
                patient=make_patient(clinic),
                clinic=clinics[clinic],
                admitted_on=admitted,
                ended_on=ended,
                end_reason=reason,
                death_on=ended if reason == "death" else None,
                phase="maintenance",
                created_by=lead,
            )
        )
    return out


RUNNING_YEAR = timezone.make_aware(datetime.datetime(2025, 12, 4, 9, 30))


@pytest.mark.clock(RUNNING_YEAR.isoformat())
def test_the_owner_sees_how_people_leave_hab_and_the_trials_beside_it(
    live_server, page: Page, staff, programme
):
    login(page, live_server, "programme.oslo")
    page.goto(f"{live_server.url}/evaluation/?from=2025-01-01&to=2025-12-31")
    main = page.locator("main")
    # The running year is reported to today, in words.
    expect(page.get_by_role("heading", level=1)).to_contain_text("1. januar – 4. desember 2025")
    expect(main.locator(".until-today")).to_contain_text("Perioden slutter i dag")
    expect(main).to_contain_text("Dødsfall siden start")

    # The competing-risks chart, with its words for a screen reader, and its table.
    chart = main.locator(".charts img[src*='/charts/leaving.svg']")
    chart.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=chart.element_handle()
    )
    expect(chart).to_have_attribute("alt", re.compile("andelen fortsatt i HAB øverst"))
    leaving = main.locator("section.leaving")
    expect(leaving.get_by_role("heading")).to_have_text(
        "Måter å avslutte HAB på siden start (konkurrerende risikoer)"
    )
    for label in ("Fortsatt i HAB", "Til LAR eller annen behandling", "Fengsel", "Død"):
        expect(leaving.locator("tbody th", has_text=label).first).to_be_visible()

    # Each trial with its source, HAB's estimate beside it.
    references = main.locator("section.references")
    expect(references.locator("tbody tr")).to_have_count(6)
    expect(references).to_contain_text("87,8 %")
    expect(references).to_contain_text("N Engl J Med 2009")
    expect(references).to_contain_text("Lancet 2010")
    check_accessibility(page)
    screenshot(page, "evaluation-dashboard")

    # Follow-up outcomes of consenting patients only: chosen, stated, kept for the report.
    expect(main.locator(".population").first).to_have_text("Oppfølgingsresultater: alle pasienter.")
    main.locator("#id_outcomes").select_option("consented")
    main.locator("form.filters button[type=submit]").click()
    expect(main.locator(".population").first).to_have_text(
        "Oppfølgingsresultater: bare pasienter med forskningssamtykke."
    )
    expect(main.locator("a[href*='/evaluation/report.pdf']")).to_have_attribute(
        "href", re.compile("outcomes=consented")
    )
    check_accessibility(page)


@pytest.fixture
def tablet(browser: Browser) -> Iterator[Page]:
    options = {"viewport": {"width": 1024, "height": 768}, "has_touch": True}
    with watched_page(browser, **options) as page:
        yield page


@pytest.mark.clock(RUNNING_YEAR.isoformat())
def test_the_tables_read_on_a_tablet(live_server, tablet: Page, staff, programme):
    tap_login(tablet, live_server, "programme.oslo")
    tablet.goto(f"{live_server.url}/evaluation/?from=2025-01-01&to=2025-12-31")
    for section in ("section.leaving", "section.references"):
        table = tablet.locator(f"{section} table")
        table.scroll_into_view_if_needed()
        expect(table).to_be_visible()
    # Nothing sideways: the page fits the tablet's width.
    assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    check_accessibility(tablet)
