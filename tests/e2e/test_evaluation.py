"""The programme owner opens the evaluation dashboard for the first half of 2025, sees the
key figures (small numbers withheld) and every chart, and downloads the annual report as a
PDF."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
import pytest
from playwright.sync_api import Page, expect

from hab.evaluation import charts
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.e2e.test_dosing_round import nb
from tests.evaluation.conftest import world  # noqa: F401  (fixture)
from tests.evaluation.test_charts_report import costs  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e


def test_the_dashboard_shows_the_charts_and_the_report_downloads(
    live_server,
    page: Page,
    staff,
    world,  # noqa: F811
    costs,  # noqa: F811
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
    screenshot(page, "evaluation-dashboard")

    with page.expect_download() as info:
        main.locator("a[href*='/evaluation/report.pdf']").click()
    data = Path(info.value.path()).read_bytes()
    text = "\n".join(p.get_textpage().get_text_range() for p in pypdfium2.PdfDocument(data))
    assert "2025" in text and "HAB Oslo" in text
    assert "< 5" in text and "skjermet" in text
