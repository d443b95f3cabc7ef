"""A researcher downloads a pseudonymised export from the export page."""

from __future__ import annotations

import io
import zipfile

import pytest
from playwright.sync_api import Page, expect

from hab.research.models import ExportLog
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.e2e.helpers import nb

pytestmark = pytest.mark.e2e


def test_a_researcher_downloads_the_export(live_server, page: Page, staff):
    login(page, live_server, "researcher.oslo")
    page.locator("header nav a[href$='/research/export/']").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(nb("Research export"))
    page.locator("#id_format").select_option("csv")
    check_accessibility(page)
    with page.expect_download() as download:
        page.get_by_role("button", name=nb("Download")).click()
    with open(download.value.path(), "rb") as data:
        archive = zipfile.ZipFile(io.BytesIO(data.read()))
    assert {"patients.csv", "codebook.csv", "README.md"} <= set(archive.namelist())

    page.reload()
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list")).to_contain_text(ExportLog.objects.get().sha256[:16])
    screenshot(page, "research-export")


def test_a_researcher_asks_for_free_text_after_reading_the_warning(live_server, page: Page, staff):
    login(page, live_server, "researcher.oslo")
    page.locator("header nav a[href$='/research/export/']").click()
    warning = nb(
        "Free-text answers are left out unless you ask for them: they may name the patient "
        "or others, or hold a national id. If you include them, keep the file as "
        "identifiable data; the export log records that you asked."
    )
    expect(page.locator("#free-text-warning")).to_have_text(warning)
    box = page.get_by_label(nb("Include free-text answers"))
    expect(box).not_to_be_checked()

    box.check()
    with page.expect_download() as download:
        page.get_by_role("button", name=nb("Download")).click()
    with zipfile.ZipFile(download.value.path()) as archive:
        readme = archive.read("README.md").decode()

    assert "ADVARSEL: Fritekstsvar er med" in readme
    assert ExportLog.objects.get().free_text is True
    page.reload()
    expect(page.locator("table.list tbody tr").first).to_contain_text(nb("Included"))
    check_accessibility(page)
