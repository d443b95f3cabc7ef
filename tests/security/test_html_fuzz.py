"""Odd input to every page and form of the HTML side: never a server error (issue 18).

The API has its schemathesis run (test_api_fuzz.py); the pages have no schema, so this
walker takes their shape from the code. Every named page of the URL conf, its ids filled
from the security world's records, is asked for by the first role that may see it; then

- every query parameter the view reads (found in its source and its helpers':
  ``request.GET.get("date")``, ``request.GET["batch"]``) and every field of the page's
  GET forms (filters bound to ``request.GET``) gets each odd value in turn, alone, and
  all of them at once in rotation;
- every POST form on the page is posted with each odd value in every field, in
  rotation, and the parameters the view reads from ``request.POST`` likewise.

An odd value may be refused (400, the form again with its error, 404), never a 500.
Fixed values, no randomness (a generator, not hypothesis): the same few thousand requests
on every run, about two minutes on one core. Each runs in a savepoint, so on PostgreSQL
one failed query does not spoil the requests after it.
"""

from __future__ import annotations

import inspect
import re
import sys
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

from django.db import transaction
from django.test import Client
from django.urls import resolve, reverse

from hab.core.roles import Role
from tests.pages import named_urls, url_arguments

PERSONAS = [f"{role.value}.oslo" for role in Role]

ODD_VALUES = [
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "",
    "abc",
    "99999999999999999999",
    "-1",
    "1e308",
    "NaN",
    "ø 𝄞 \u202eevil \u200b",
    "'; DROP TABLE x;--<script>",
    "x" * 5000,
    "2026-W99",
    "13",
    # PostgreSQL refuses NUL in text: it must never reach a query.
    "Kari\x00",
]
# Ids in the address: the int converter takes only digits, so the odd ones are these.
ODD_IDS = [0, 99999999999999999999]

_READS = re.compile(r"""request\.(GET|POST)(?:\.get|\.getlist)?[\(\[]\s*["'](\w+)["']""")


def _function_of(view):
    while hasattr(view, "__wrapped__"):
        view = view.__wrapped__
    return getattr(view, "view_class", view)


def params_read(view) -> dict[str, set[str]]:
    """The query and form parameters a view reads by name: in its own source and in the
    helpers of its module it calls (``_day_slot(request, clinic)``)."""
    function = _function_of(view)
    module = sys.modules[function.__module__]
    sources = [inspect.getsource(function)]
    for name in set(re.findall(r"\b(\w+)\(", sources[0])):
        helper = getattr(module, name, None)
        if inspect.isfunction(helper) and helper.__module__ == module.__name__:
            sources.append(inspect.getsource(helper))
    found: dict[str, set[str]] = {"GET": set(), "POST": set()}
    for source in sources:
        for method, name in _READS.findall(source):
            found[method].add(name)
    return found


class Forms(HTMLParser):
    """The POST forms of a page, (action, field names), and the fields of its GET forms
    (the filters, bound to ``request.GET`` as a whole)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[str]]] = []
        self.filters: set[str] = set()
        self._open: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form" and (values.get("method") or "").lower() == "post":
            self._open = (values.get("action") or "", [])
            self.forms.append(self._open)
        elif tag == "form":
            self._open = ("", [])
        elif tag in ("input", "select", "textarea", "button") and self._open is not None:
            name = values.get("name")
            if name and name != "csrfmiddlewaretoken" and name not in self._open[1]:
                self._open[1].append(name)

    def handle_endtag(self, tag):
        if tag == "form":
            if self._open is not None and self._open not in self.forms:
                self.filters.update(self._open[1])
            self._open = None


def rotation(names: list[str], turn: int) -> dict[str, str]:
    return {name: ODD_VALUES[(turn + i) % len(ODD_VALUES)] for i, name in enumerate(names)}


def pages() -> list[str]:
    arguments = url_arguments()
    urls = []
    for name, params in named_urls():
        if not params:
            urls.append(reverse(name))
            continue
        # A page whose kind of record the world lacks (a relative, a discrepancy) is
        # still asked for, with ids no record has, and its form posted.
        filled = arguments.get(frozenset(params)) or [{param: 1 for param in params}]
        urls.extend(reverse(name, kwargs=kwargs) for kwargs in filled)
        # One odd id for each page of a record (the rest of its address kept).
        for kwargs in filled[:1]:
            for odd in ODD_IDS:
                ids = {k: (odd if isinstance(v, int) else v) for k, v in kwargs.items()}
                urls.append(reverse(name, kwargs=ids))
    return urls


def test_no_page_or_form_answers_odd_input_with_a_server_error(world, staff):
    clients = {}
    for name in PERSONAS:
        clients[name] = Client(raise_request_exception=False)
        clients[name].force_login(staff[name])
    errors: list[str] = []
    asked = 0

    def ask(persona: str, method: str, url: str, data: dict | None = None):
        nonlocal asked
        asked += 1
        client = clients[persona]
        # On PostgreSQL a failed query spoils the transaction: the next request must
        # not fail for it.
        savepoint = transaction.savepoint()
        response = client.get(url, data) if method == "GET" else client.post(url, data or {})
        if response.status_code >= 500:
            transaction.savepoint_rollback(savepoint)
        else:
            transaction.savepoint_commit(savepoint)
        if response.status_code >= 500:
            shown = {k: (v[:20] + "…" if len(v) > 20 else v) for k, v in (data or {}).items()}
            errors.append(f"{persona} {method} {url} {shown}: {response.status_code}")
        return response

    posted: set[tuple[str, tuple[str, ...]]] = set()
    for url in pages():
        view = resolve(urlsplit(url).path).func
        reads = params_read(view)
        # the first role that may see the page (or the last one asked, to fuzz the refusal)
        for persona in PERSONAS:
            response = ask(persona, "GET", url)
            if response.status_code in (200, 405):
                break
        forms, filters = [], set()
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            parser = Forms()
            parser.feed(response.content.decode())
            forms, filters = parser.forms, parser.filters
        get_names = sorted(reads["GET"] | filters)
        if response.status_code != 405:
            for name in get_names:
                for value in ODD_VALUES:
                    ask(persona, "GET", url, {name: value})
            for turn in range(len(ODD_VALUES) if get_names else 0):
                ask(persona, "GET", url, rotation(get_names, turn))
        forms.append(("", sorted(reads["POST"])))
        for action, fields in forms:
            target = urlsplit(action).path if action else urlsplit(url).path
            if not target.startswith("/") or target.startswith(("/logout/", "/i18n/")):
                continue
            key = (resolve(target).view_name, tuple(fields))
            if key in posted or not fields:
                continue
            posted.add(key)
            for turn in range(len(ODD_VALUES)):
                ask(persona, "POST", target, rotation(fields, turn))

    assert asked > 2000, f"only {asked} requests: the walk found too little"
    assert not errors, f"{len(errors)} server errors:\n" + "\n".join(errors[:60])


def test_the_dosing_board_refuses_an_impossible_date_in_both_languages(web_as, world):
    client = web_as("nurse.oslo")

    client.cookies["django_language"] = "nb"
    norsk = client.get("/dosing/?date=0001-01-01")
    client.cookies["django_language"] = "en"
    english = client.get("/dosing/?date=0001-01-01")

    assert norsk.status_code == english.status_code == 400
    assert "Datoen 0001-01-01 er ikke en dato HAB kan vise" in norsk.content.decode()
    assert "The date 0001-01-01 is not a date HAB can show" in english.content.decode()


def test_a_dose_panel_refuses_an_impossible_date(web_as, world):
    response = web_as("nurse.oslo").get(
        f"/dosing/patients/{world['patient']}/", {"date": "0001-01-01"}
    )

    assert response.status_code == 400


def test_a_board_date_a_hundred_years_off_is_refused_and_one_within_is_shown(web_as, world):
    client = web_as("nurse.oslo")
    year = world["today"].year

    assert client.get("/dosing/", {"date": f"{year - 100}-06-01"}).status_code == 200
    assert client.get("/dosing/", {"date": f"{year - 101}-06-01"}).status_code == 400
    assert client.get("/dosing/", {"date": f"{year + 101}-06-01"}).status_code == 400


def test_back_entry_refuses_a_patient_that_is_not_a_number(web_as, world):
    client = web_as("nurse.oslo")
    client.cookies["django_language"] = "en"

    response = client.post("/dosing/back-entry/", {"patient": "abc"})

    assert response.status_code == 400
    assert "The form names a record that does not exist" in response.content.decode()


def test_a_clean_query_string_still_works(web_as, world):
    response = web_as("nurse.oslo").get("/dosing/?" + urlencode({"date": world["today"]}))

    assert response.status_code == 200


def test_the_ledger_filter_says_beside_the_field_when_a_date_is_a_century_off(web_as, world):
    client = web_as("nurse.oslo")
    client.cookies["django_language"] = "en"
    year = world["today"].year

    within = client.get("/stock/ledger/", {"date_from": f"{year - 100}-01-01"})
    over = client.get("/stock/ledger/", {"date_from": "0001-01-01", "date_to": "9999-12-31"})

    assert within.status_code == 200
    assert "is not a date HAB can show" not in within.content.decode()
    assert over.status_code == 200
    assert over.content.decode().count("is not a date HAB can show") == 2


def test_a_nul_in_the_address_is_a_400_page(web_as, world):
    client = web_as("nurse.oslo")
    client.cookies["django_language"] = "en"

    response = client.get("/patients/", {"q": "Kari\x00"})

    assert response.status_code == 400
    assert "The address holds a character no page can use." in response.content.decode()
