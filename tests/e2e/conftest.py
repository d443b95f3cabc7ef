"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

One browser is shared by the whole session; every test gets a fresh context (cookies,
storage) with a Norwegian locale, as a clinic's tablet or PC would send.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from hab.patients.models import Patient
from tests.conftest import PASSWORD
from tests.dosing.helpers import history, local
from tests.e2e.helpers import DOSES, SET_UP_ON, admit
from tests.prescribing.helpers import in_force

# Playwright's sync API runs an event loop in the test thread; Django's async-safety
# check would then refuse the ORM calls the fixtures and tests make.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

REPO_ROOT = Path(__file__).resolve().parents[2]
IMG_DIR = REPO_ROOT / "docs" / "guide" / "img"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
# Norwegian texts are asserted only once the bokmål catalogue is compiled; until then
# the pages show the English source strings even in "nb".
NB_READY = (REPO_ROOT / "src" / "hab" / "locale" / "nb" / "LC_MESSAGES" / "django.mo").exists()

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

_axe = Axe()
# Per page: the stylesheet or script responses that failed ("404 http://.../static/...").
_broken_assets: dict[Page, list[str]] = {}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(apt-get install chromium); Playwright's own browser download is not used.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def watched_page(browser: Browser, **context_options) -> Iterator[Page]:
    """A page in a new Norwegian browser context, watched for static files that fail to
    load (``assert_assets_loaded``)."""
    context = browser.new_context(locale="nb-NO", **context_options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    broken = _broken_assets.setdefault(page, [])
    page.on(
        "response",
        # 304 Not Modified is a served file the browser had cached; 4xx and 5xx are not.
        lambda r: (
            broken.append(f"{r.status} {r.url}") if _is_asset(r.url) and r.status >= 400 else None
        ),
    )
    page.on(
        "requestfailed",
        lambda r: broken.append(f"{r.failure} {r.url}") if _is_asset(r.url) else None,
    )
    try:
        yield page
    finally:
        _broken_assets.pop(page, None)
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with watched_page(browser, viewport={"width": 1280, "height": 800}) as page:
        yield page


def _is_asset(url: str) -> bool:
    return "/static/" in url


def assert_assets_loaded(page: Page) -> None:
    """The pages are worthless without their stylesheet and htmx: fail clearly when missing."""
    broken = _broken_assets.get(page, [])
    assert not broken, "static files were not served:\n" + "\n".join(broken)


def login(page: Page, live_server, username: str, password: str = PASSWORD) -> None:
    """Logs in through the login form and waits until the start page has loaded."""
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))
    page.wait_for_load_state()
    assert_assets_loaded(page)


def check_accessibility(page: Page) -> None:
    """Fails on serious or critical WCAG 2.1 A/AA violations found by axe-core."""
    page.wait_for_load_state()
    assert_assets_loaded(page)  # Contrast and target sizes mean nothing without the CSS.
    options = {
        "runOnly": {"type": "tag", "values": WCAG_TAGS},
        "resultTypes": ["violations"],
    }
    results = _axe.run(page, options=options)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        lines = [f"{len(blocking)} serious/critical accessibility violation(s) on {page.url}:"]
        for violation in blocking:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
            lines.append(f"  {violation.get('helpUrl', '')}")
            for node in violation["nodes"]:
                target = " ".join(str(t) for t in node["target"])
                lines.append(f"    * {target}")
                summary = node.get("failureSummary", "").replace("\n", " ")
                if summary:
                    lines.append(f"      {summary}")
        report = "\n".join(lines)
        print(report)
        pytest.fail(report, pytrace=False)


def screenshot(page: Page, name: str) -> Path:
    """Saves a full-page PNG for the user guide: docs/guide/img/<name>.png. A page that
    fits the screen and scrolls inside (the dosing room) is taken as the screen shows it:
    a full-page shot would stretch its screen-high layout to the length of its list."""
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    path = IMG_DIR / f"{name}.png"
    fits = page.evaluate("document.body.scrollHeight <= window.innerHeight")
    page.screenshot(path=str(path), full_page=not fits)
    return path


# --- a patient on a prescription at HAB Oslo, for the dosing room's tests --------------


@pytest.fixture
def protocol(staff):
    """Oslo's dosing protocol, as the dosing tests' ``protocols`` fixture makes it."""
    return in_force(staff, "oslo", demo_values=True)


@pytest.fixture
def patient_on_prescription(staff, protocol):
    """A patient admitted at HAB Oslo with injectable diacetylmorphine 200 + 200 mg."""

    def make(given: str, family: str, born: date, *, history_days: int = 10) -> Patient:
        patient = admit(
            given, family, born, staff, doses=DOSES, daily_max=450, at=local(SET_UP_ON, 10)
        )
        if history_days:
            history(patient.pk, history_days)
        return patient

    return make
