"""The dosing room as the nurse's tablet sees it: the board and a round of doses in Chromium.

  HAB_ALLOW_SYNTHETIC_IDS=1 .venv/bin/python bench/browser.py [--patients 30] [--loads 20] \
      [--workers N] [--keep DIR] [--out docs/benchmarks.md] [--json FILE] [--profile]

Builds the demo programme (``hab migrate`` + ``hab demo``, SQLite) in a temporary data dir;
with ``--keep DIR`` it is built there once a day and later runs work on a copy of it. Serves
it with gunicorn as ``scripts/serve`` does (sync workers, 2 per core + 1 unless
``--workers``; bench/dosing.py's ``app``, whose clock stands at 15:00 tomorrow, Oslo time,
so the whole afternoon session is due), and drives Debian's Chromium through Playwright:
nurse.oslo, logged in through the login form, on a 1024x768 touch tablet with a Norwegian
locale. Everything is timed inside the page (``performance.now()``, whose zero is the
navigation's start), not by Playwright's polling:

1. The board's first load, ``--loads`` times, each in a fresh tablet context (the login
   cookie, an empty cache): from the navigation's start to the first frame after the list of
   rows is in the document (a MutationObserver set before the page's first byte); then the
   same in one context that keeps its cache (the tablet all day).
2. The board's refresh, ``--loads`` times: the ``board-changed`` event htmx listens for (the
   one a dose's answer sends; the 30-second timer runs the same request) dispatched on
   ``<body>``, to htmx's ``afterSwap`` of ``#rows``, and its next frame.
3. A round of ``--patients`` due patients by taps: open the row's panel, tap identity
   checked, POSS 1, breath alcohol (a "0,00 målt" button when the panel has one, else the
   field typed), and Record. Timed from the tap on Record (the tap's own event time) to the
   confirmation (a ``role=status`` element in the panel saying "Registrert"/"Recorded")
   in the document, and to the next frame. The POST's resource timing splits it into the
   browser before the request, the server (request sent to first byte) and the swap.

The stable hooks are the dose form's field names (``identity_checked``, ``sedation``,
``breath_alcohol_permille``), ``form.dose-form``'s submit button, ``#rows``, ``#panel`` and
the ``role=status`` message, so the round survives changes to the panel's layout. A tap
whose target stays outside the screen scrolls the page to the list's end first (where the
pinned panel's foot was before issue 17); the table's header counts those taps and how the
breath alcohol was entered.

``--profile`` then records ten more doses in-process (Django's test client, the same clock)
and prints the record POST's time, its queries and their time, the slowest ones, and a
cProfile of one more (HAB's functions by cumulative time). With ``--out``
the table replaces the section between ``<!-- browser-dosing-room -->`` markers in that file.
Takes about two to four minutes on 2 cores, most of it building the demo.
"""

from __future__ import annotations

import argparse
import atexit
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import dosing as common  # noqa: E402  (bench/dosing.py: gunicorn, the clock wrapper, percentiles)
import report  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True, "locale": "nb-NO"}
CONFIRMATION_TARGET_MS = 300  # issue 17: tap on Record to the confirmation, p95
CONFIRMATION = r"Registrert|Recorded"  # not "Allerede registrert" (another nurse's dose)

# Installed in every page before its first byte: the moments the tests read back.
PROBE = """
(() => {
  const bench = (window.habBench = { rows: null, rowsFrame: null, tap: null, click: null,
                                     shown: null, shownFrame: null, failed: null, armed: false });
  const frame = (key) => requestAnimationFrame(() => { bench[key] = performance.now(); });
  const confirmation = new RegExp(CONFIRMATION);
  // The list is whole once something follows #rows in the document (or the parse is done).
  const rowsDone = () => {
    const rows = document.getElementById("rows");
    return rows && rows.querySelector(".board-row") &&
      (rows.nextSibling || document.readyState !== "loading");
  };
  const tapped = (event) => {
    if (bench.armed && event.target.closest &&
        event.target.closest("form.dose-form [type=submit]")) {
      // The event's own time, on performance.now()'s clock: the first of the tap's events
      // (touchstart), and the click the browser makes of it (htmx submits on that).
      if (bench.tap === null) bench.tap = event.timeStamp;
      if (event.type === "click" && bench.click === null) bench.click = event.timeStamp;
    }
  };
  for (const type of ["touchstart", "pointerdown", "mousedown", "click"]) {
    document.addEventListener(type, tapped, true);
  }
  new MutationObserver(() => {
    if (bench.rows === null && rowsDone()) { bench.rows = performance.now(); frame("rowsFrame"); }
    if (bench.tap === null || bench.shown !== null || bench.failed !== null) return;
    const panel = document.getElementById("panel");
    if (!panel) return;
    for (const status of panel.querySelectorAll("[role=status]")) {
      if (confirmation.test(status.textContent)) {
        bench.shown = performance.now(); frame("shownFrame"); return;
      }
    }
    const error = panel.querySelector("[role=alert], .errorlist");
    if (error) bench.failed = error.textContent.trim().slice(0, 200);
  }).observe(document, { childList: true, subtree: true, characterData: true });
  document.addEventListener("DOMContentLoaded", () => {
    if (bench.rows === null && rowsDone()) { bench.rows = performance.now(); frame("rowsFrame"); }
  });
})();
""".replace("CONFIRMATION", json.dumps(CONFIRMATION))


def _django_admin(data: Path, *command: str) -> None:
    environment = dict(os.environ, HAB_DATA_DIR=str(data), PYTHONPATH=str(HERE.parent / "src"))
    done = subprocess.run(
        [sys.executable, "-m", "django", *command], env=environment, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"django-admin {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def build(keep: str | None) -> tuple[str, float]:
    """The demo's data dir (a copy of ``keep``'s when built there today, migrated to this
    checkout) and its build time. Built by ``django-admin migrate`` and ``demo`` in
    processes of their own, so that this one sets Django up once, on the copy gunicorn
    serves."""
    work = tempfile.mkdtemp(prefix="hab-bench-browser.")
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    copy = Path(work, "data")
    stamp = Path(keep, "built-on") if keep else None
    today = datetime.date.today().isoformat()
    if stamp and stamp.exists() and stamp.read_text() == today:
        shutil.copytree(keep, copy)
        _django_admin(copy, "migrate", "--no-input", "-v", "0")
        return str(copy), 0.0
    target = Path(keep) if keep else copy
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    started = time.perf_counter()
    _django_admin(target, "migrate", "--no-input", "-v", "0")
    _django_admin(target, "demo")
    built_s = time.perf_counter() - started
    if stamp:
        stamp.write_text(today)
        shutil.copytree(keep, copy)
    return str(copy), built_s


def bench_clock() -> datetime.datetime:
    from zoneinfo import ZoneInfo

    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    return datetime.datetime.combine(tomorrow, datetime.time(15), ZoneInfo("Europe/Oslo"))


def serve(data: str, workers: int, moment: datetime.datetime) -> common.Gunicorn:
    """gunicorn on a free loopback port, as scripts/serve runs it, once every worker answers."""
    os.environ["HAB_DATA_DIR"] = data
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    from hab.core.services import token_create

    token = token_create(username="nurse.oslo", password=settings.DEMO_PASSWORD)
    connections.close_all()
    environment = dict(
        os.environ,
        BENCH_CLOCK=moment.isoformat(),
        HAB_DATA_DIR=data,
        HAB_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SETTINGS_MODULE="hab.settings",
    )
    server = common.Gunicorn(workers, "sync", environment)
    server.wait(token)
    return server


# --- in the browser --------------------------------------------------------------------------
def login(browser, base: str) -> dict:
    """Logs nurse.oslo in by taps on the login form; the context's cookies, for the others."""
    from django.conf import settings

    context = browser.new_context(**TABLET)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.locator("#id_username").tap()
    page.locator("#id_username").fill("nurse.oslo")
    page.locator("#id_password").tap()
    page.locator("#id_password").fill(settings.DEMO_PASSWORD)
    page.locator("main form button[type=submit]").tap()
    page.wait_for_url(re.compile(r"^(?!.*/login/)"))
    state = context.storage_state()
    context.close()
    return state


def board_load(page, url: str) -> dict:
    response = page.goto(url, wait_until="load")
    if response is None or response.status != 200 or "/login/" in page.url:
        sys.exit(
            f"The board answered {response and response.status} at {page.url}:\n"
            + (response.text()[:1500] if response else "")
        )
    page.wait_for_function("() => window.habBench && window.habBench.rowsFrame !== null")
    timing = page.evaluate(
        """() => {
            const nav = performance.getEntriesByType("navigation")[0];
            const paint = performance.getEntriesByName("first-contentful-paint")[0];
            return { ttfb: nav.responseStart, html: nav.responseEnd, load: nav.loadEventEnd,
                     fcp: paint ? paint.startTime : null,
                     rows: window.habBench.rows, frame: window.habBench.rowsFrame,
                     count: document.querySelectorAll("#rows .board-row").length };
        }"""
    )
    return timing


def board_refresh(page) -> dict:
    """Dispatches the event a dose's answer sends; times it to htmx's swap of #rows."""
    page.evaluate(
        """() => {
            const bench = window.habBench;
            bench.refresh = null; bench.refreshFrame = null; bench.sent = performance.now();
            const done = (event) => {
                if (!event.detail.target || event.detail.target.id !== "rows") return;
                document.body.removeEventListener("htmx:afterSwap", done);
                bench.refresh = performance.now();
                requestAnimationFrame(() => { bench.refreshFrame = performance.now(); });
            };
            document.body.addEventListener("htmx:afterSwap", done);
            performance.clearResourceTimings();
            document.body.dispatchEvent(new Event("board-changed"));
        }"""
    )
    page.wait_for_function("() => window.habBench.refreshFrame !== null", timeout=30_000)
    return page.evaluate(
        """() => {
            const bench = window.habBench;
            const get = performance.getEntriesByType("resource")
                .filter((e) => e.name.includes("part=rows")).pop();
            return { swap: bench.refresh - bench.sent, frame: bench.refreshFrame - bench.sent,
                     server: get ? get.responseStart - get.requestStart : null };
        }"""
    )


# The taps that needed the page scrolled first (see ``tap``), and how each breath alcohol
# was entered.
SCROLLED: list[str] = []
ALCOHOL: list[str] = []


def tap(target, what: str) -> None:
    """Taps ``target`` where it is; when it stays outside the screen (before issue 17 the
    pinned panel kept its lower part below a 1024x768 screen except at the end of the list),
    scrolls the page to its end, as the nurse had to, and taps it there."""
    try:
        target.tap(timeout=2_000)
    except PlaywrightTimeout:
        SCROLLED.append(what)
        target.page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
        target.tap()


def tap_choice(form, selector: str) -> None:
    """Taps a checkbox or radio button, or its label where the panel draws its own."""
    field = form.locator(selector).first
    if field.is_visible():
        tap(field, selector)
    else:
        field_id = field.get_attribute("id")
        label = form.locator(f"label[for='{field_id}']") if field_id else None
        if label is not None and label.count():
            tap(label.first, selector)
        else:
            tap(field.locator("xpath=ancestor::label").first, selector)
    if not field.is_checked():
        raise RuntimeError(f"{selector} did not get checked by a tap")


def dose(page, row_id: str) -> dict:
    """One patient by taps; the tap on Record to the confirmation, timed in the page."""
    tap(page.locator(f"#{row_id} .act button.primary").first, "Open")
    form = page.locator("#panel form.dose-form")
    try:
        form.wait_for(state="visible", timeout=10_000)
    except PlaywrightTimeout:
        return {"skipped": page.locator("#panel").inner_text()[:300]}
    tap_choice(form, "input[name=identity_checked]")
    tap_choice(form, "input[name=sedation][value='1']")
    measured = form.get_by_role("button", name=re.compile(r"^\s*0[,.]00\s+(målt|measured)"))
    alcohol = form.locator("input[name=breath_alcohol_permille]")
    if measured.count():
        tap(measured.first, "0,00 målt")
        ALCOHOL.append("by the one-tap button")
    elif alcohol.count() and alcohol.is_visible():
        tap(alcohol, "breath_alcohol_permille")
        alcohol.fill("0,00")
        ALCOHOL.append("typed")
    else:
        ALCOHOL.append("not asked")
    record = form.locator("[type=submit]").last
    page.evaluate(
        """() => {
            Object.assign(window.habBench, { tap: null, click: null, shown: null,
                                             shownFrame: null, failed: null, armed: true });
            performance.clearResourceTimings();
        }"""
    )
    tap(record, "Record")
    page.wait_for_function(
        "() => window.habBench.shownFrame !== null || window.habBench.failed !== null",
        timeout=30_000,
    )
    result = page.evaluate(
        """() => {
            const bench = window.habBench;
            bench.armed = false;
            const post = performance.getEntriesByType("resource")
                .filter((e) => e.initiatorType === "xmlhttprequest")
                .filter((e) => e.name.includes("/dosing/patients/"))
                .pop();
            return { failed: bench.failed, tap: bench.tap, click: bench.click,
                     shown: bench.shown,
                     frame: bench.shownFrame,
                     opened: post ? post.startTime : null,
                     sent: post ? post.requestStart || post.startTime : null,
                     first_byte: post ? post.responseStart : null,
                     answered: post ? post.responseEnd : null };
        }"""
    )
    if result["failed"]:
        raise RuntimeError(f"{row_id}: the panel answered {result['failed']!r}")
    # The nurse looks at the confirmation while the board catches up: wait for the row's
    # refresh (the answer's board-changed) so that the next tap starts from a quiet page.
    page.locator(f"#{row_id}:not(.state-due)").wait_for(state="attached", timeout=30_000)
    return result


def drive(base: str, loads: int, patients: int, slot_url: str) -> dict:
    from playwright.sync_api import sync_playwright

    samples: dict[str, list[float]] = {}
    extras: dict = {}

    def add(key: str, value) -> None:
        if value is not None:
            samples.setdefault(key, []).append(value)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            state = login(browser, base)
            url = f"{base}{slot_url}"

            # 1. First loads, each in a fresh context: the cookie, no cache.
            for _ in range(loads + 1):
                context = browser.new_context(storage_state=state, **TABLET)
                context.add_init_script(PROBE)
                timing = board_load(context.new_page(), url)
                context.close()
                if "rows" not in extras:
                    extras["rows"] = timing["count"]
                    continue  # the first warms the server's workers
                add("cold rows", timing["frame"])
                add("cold ttfb", timing["ttfb"])
                add("cold load", timing["load"])
            # ... and in one context that keeps its cache, as the room's tablet does.
            context = browser.new_context(storage_state=state, **TABLET)
            context.set_default_timeout(15_000)
            context.add_init_script(PROBE)
            page = context.new_page()
            board_load(page, url)
            for _ in range(loads):
                timing = board_load(page, url)
                add("warm rows", timing["frame"])
                add("warm ttfb", timing["ttfb"])

            # 2. Refreshes of the list.
            board_refresh(page)
            for _ in range(loads):
                timing = board_refresh(page)
                add("refresh swap", timing["swap"])
                add("refresh frame", timing["frame"])
                add("refresh server", timing["server"])

            # 3. The round: the due rows the nurse can open, top to bottom.
            due = page.eval_on_selector_all(
                "#rows .board-row.state-due",
                "rows => rows.filter(r => r.querySelector('.act button.primary')).map(r => r.id)",
            )
            # One row per prescription: a patient with two is opened once (the panel doses
            # the first due).
            due = list(dict.fromkeys(due))
            extras["due"] = len(due)
            if len(due) < patients:
                sys.exit(f"Only {len(due)} patients can be dosed on the board; asked {patients}.")
            dosed = 0
            for row_id in due:
                if dosed == patients:
                    break
                result = dose(page, row_id)
                if "skipped" in result:
                    extras.setdefault("skipped", []).append(f"{row_id}: {result['skipped']}")
                    continue
                dosed += 1
                add("dose shown", result["shown"] - result["tap"])
                add("dose frame", result["frame"] - result["tap"])
                if result["click"] is not None:
                    add("dose tap to click", result["click"] - result["tap"])
                if result["sent"] is not None and result["click"] is not None:
                    add("dose click to request", result["sent"] - result["click"])
                    add("dose click to xhr", result["opened"] - result["click"])
                if result["sent"] is not None:
                    add("dose server", result["first_byte"] - result["sent"])
                    add("dose swap", result["shown"] - result["answered"])
            if dosed < patients:
                sys.exit(f"Only {dosed} of {patients} patients could be dosed: {extras}")
            extras["version"] = browser.version
            extras["scrolled"] = {what: SCROLLED.count(what) for what in dict.fromkeys(SCROLLED)}
            extras["alcohol"] = {how: ALCOHOL.count(how) for how in dict.fromkeys(ALCOHOL)}
            context.close()
        finally:
            browser.close()
    return {"samples": samples, **extras}


# --- the server's side of a dose -------------------------------------------------------------
class Timed:
    """Each query's SQL and milliseconds on the connection (an execute wrapper)."""

    def __init__(self) -> None:
        self.queries: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append(((time.perf_counter() - start) * 1000, sql))


def profile(moment: datetime.datetime, count: int = 10) -> str:
    """The record POST in-process (the data dir gunicorn served, after the round): its
    time, its queries and their time, the slowest of them, and where the rest goes
    (cProfile of one more dose: HAB's functions by their own and their callees' time)."""
    import cProfile
    import pstats

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop ran in this thread
    from django.db import connection
    from django.test import Client

    from hab.core import clock
    from hab.core.access import Actor
    from hab.core.models import Clinic, User
    from hab.dosing import selectors

    nurse = User.objects.get(username="nurse.oslo")
    client = Client(HTTP_ACCEPT_LANGUAGE="nb")
    client.force_login(nurse)
    day = moment.date()
    times: list[float] = []
    runs: list[Timed] = []
    profiler = cProfile.Profile()
    with clock.at(moment):
        oslo = Clinic.objects.get(code="oslo")
        board = selectors.board(Actor.system(nurse), oslo, day, "afternoon")
        # Patients with nothing recorded yet (the panel doses a patient's first prescription
        # due; a second one, e.g. of a patient the round dosed, is not the panel's).
        touched = {r.patient.pk for r in board.rows if r.state != "due" or r.decision.blocked}
        due = list(dict.fromkeys(r.patient.pk for r in board.rows if r.patient.pk not in touched))
        for number, patient in enumerate(due[: count + 1]):
            url = f"/dosing/patients/{patient}/?slot=afternoon&date={day}"
            panel = client.get(url, headers={"HX-Request": "true"}).content.decode()
            dose_mg = re.search(r'name="dose_mg"[^>]*value="([^"]*)"', panel)
            body = {
                "slot": "afternoon",
                "date": str(day),
                "identity_checked": "on",
                "sedation": "1",
                "breath_alcohol_permille": "0,00",
                "status": "given",
                "intoxication": "none",
                "dose_mg": dose_mg.group(1) if dose_mg else "",
            }
            timed = Timed()
            last = number == count
            with connection.execute_wrapper(timed):
                start = time.perf_counter()
                if last:
                    profiler.enable()
                response = client.post(url, body, headers={"HX-Request": "true"})
                if last:
                    profiler.disable()
                elapsed = (time.perf_counter() - start) * 1000
            if not re.search(CONFIRMATION, response.content.decode()):
                sys.exit(f"The in-process dose was not recorded:\n{response.content[:3000]!r}")
            if not last:
                times.append(elapsed)
                runs.append(timed)
    in_queries = [sum(ms for ms, _sql in run.queries) for run in runs]
    lines = [
        f"record POST in-process, {len(times)} doses: median {statistics.median(times):.1f} ms, "
        f"max {max(times):.1f} ms; {statistics.median([len(r.queries) for r in runs]):.0f} "
        f"queries, {statistics.median(in_queries):.1f} ms in them (medians)",
        "slowest queries of the last dose:",
    ]
    for ms, sql in sorted(runs[-1].queries, reverse=True)[:6]:
        lines.append(f"  {ms:6.2f} ms  {' '.join(sql.split())[:150]}")
    lines.append("one more dose under cProfile, HAB's functions by cumulative time:")
    stats = pstats.Stats(profiler)
    rows = [
        (cumulative, calls, f"{Path(file).name}:{line} {name}")
        for (file, line, name), (_cc, calls, _tt, cumulative, _callers) in stats.stats.items()
        if "/hab/" in file
    ]
    for cumulative, calls, where in sorted(rows, reverse=True)[:15]:
        lines.append(f"  {cumulative * 1000:7.1f} ms  ×{calls:<4} {where}")
    return "\n".join(lines)


def summary(samples: list[float]) -> str:
    return (
        f"{len(samples)} | {statistics.median(samples):.0f} | {common.p95(samples):.0f} | "
        f"{max(samples):.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=30)
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--keep", help="build the demo here once a day and reuse it")
    parser.add_argument("--out", help="docs/benchmarks.md: replace the section's table")
    parser.add_argument("--json", help="write every sample here")
    parser.add_argument("--profile", action="store_true", help="time the record POST's queries")
    options = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hab.settings")
    os.environ.setdefault("HAB_ALLOW_SYNTHETIC_IDS", "1")
    os.environ["HAB_SECURE_COOKIES"] = "0"  # plain http on the loopback
    os.environ["HAB_REQUIRE_2FA"] = "0"
    os.environ.setdefault("HAB_ALLOWED_HOSTS", "127.0.0.1,testserver")
    os.environ.pop("HAB_DATABASE_URL", None)

    load = os.getloadavg()[0]
    started = time.perf_counter()
    data, built_s = build(options.keep)
    moment = bench_clock()
    server = serve(data, options.workers, moment)
    try:
        base = f"http://127.0.0.1:{server.port}"
        slot_url = f"/dosing/?slot=afternoon&date={moment.date():%Y-%m-%d}"
        result = drive(base, options.loads, options.patients, slot_url)
    finally:
        server.stop()
    samples = result["samples"]

    def line(label: str, key: str, target: str = "", limit: float | None = None) -> str:
        values = samples[key]
        met = "" if limit is None else ("yes" if common.p95(values) < limit else "**no**")
        return f"| {label} | {summary(values)} | {target} | {met} |"

    rows = [
        line(
            "board, first load in a new tablet context (empty cache): start to rows shown",
            "cold rows",
        ),
        line("… of which the HTML's first byte", "cold ttfb"),
        line("… load event", "cold load"),
        line("board, load with the tablet's cache: start to rows shown", "warm rows"),
        line("board refresh (`board-changed`): event to `#rows` swapped", "refresh swap"),
        line("… to the next frame", "refresh frame"),
        line("… of which the server (request sent to first byte)", "refresh server"),
        line(
            "tap on Record to the confirmation in the panel",
            "dose shown",
            f"p95 < {CONFIRMATION_TARGET_MS} ms",
            CONFIRMATION_TARGET_MS,
        ),
        line("… to the next frame", "dose frame"),
        line("… of which the tap to its click (the touch events)", "dose tap to click"),
        line("… of which the click to the request sent (htmx)", "dose click to request"),
        line("… of which the server (request sent to first byte)", "dose server"),
        line("… of which the answer to the confirmation in the document", "dose swap"),
    ]
    import django

    header = (
        f"{datetime.date.today()}, Chromium {result.get('version', '?')} headless "
        f"(Playwright, 1024x768 touch, nb-NO), gunicorn {options.workers} sync workers, SQLite, "
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()} (load average {load:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end); demo "
        + (f"built in {built_s:.0f} s" if built_s else "reused")
        + f"; HAB Oslo's afternoon at {moment:%H:%M} tomorrow: {result['rows']} rows, "
        f"{result['due']} due; {options.patients} patients dosed by taps ("
        + (
            "taps that needed the page scrolled to the list's end first: "
            + ", ".join(f"{what} ×{n}" for what, n in result["scrolled"].items())
            if result["scrolled"]
            else "every tap on the screen where it was"
        )
        + "; breath alcohol "
        + ", ".join(f"{how} ×{n}" for how, n in result["alcohol"].items())
        + f"); whole run {time.perf_counter() - started:.0f} s."
    )
    table = report.table(
        header, ["measurement (ms)", "n", "median", "p95", "max", "target", "met"], rows
    )
    print(table, flush=True)
    if options.out:
        report.write_section(options.out, "browser-dosing-room", table)
    if options.json:
        Path(options.json).write_text(json.dumps(result, indent=1))
    if options.profile:
        print(profile(moment))


if __name__ == "__main__":
    main()
