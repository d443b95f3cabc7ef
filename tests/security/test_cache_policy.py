"""No copy of patient data stays in a browser or proxy (issue 18: shared tablets).

Every page, download and API answer to a logged-in request says ``Cache-Control:
no-store``, whatever its status; static files keep being cached.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.cache import get_max_age

from hab.core.roles import Role
from tests.pages import named_urls, url_arguments

PERSONAS = [f"{role.value}.oslo" for role in Role]


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",")}


def urls_of_pages() -> list[str]:
    """Every named page of HAB's own with its ids filled from the world's records."""
    arguments = url_arguments()
    urls = []
    for name, params in named_urls():
        if not params:
            urls.append(reverse(name))
        for kwargs in arguments.get(frozenset(params), []) if params else []:
            urls.append(reverse(name, kwargs=kwargs))
    return urls


def test_every_page_and_download_is_never_stored(world, staff):
    # given every role logged in
    clients = {}
    for name in PERSONAS:
        clients[name] = Client(raise_request_exception=False)
        clients[name].force_login(staff[name])
    urls = urls_of_pages()
    assert len(urls) > 80, "the walk found too few pages"
    # when each page is asked for as the first role that may see it (and by every role
    # where none may)
    seen_ok = set()
    missing = []
    for url in urls:
        for persona in PERSONAS:
            response = clients[persona].get(url)
            if "no-store" not in cache_control(response):
                missing.append(f"{persona} {url} {response.status_code}")
            if response.status_code == 200:
                seen_ok.add((url, response.get("Content-Type", "").split(";")[0]))
                break
    # then every answer says no-store: the pages, and the PDFs and files among them
    assert not missing, "\n".join(missing)
    kinds = {kind for _, kind in seen_ok}
    assert {"text/html", "application/pdf"} <= kinds, kinds


@pytest.mark.parametrize(
    "url",
    ["/dosing/", "/patients/", "/incidents/", "/stock/ledger/", "/research/export/?format=x"],
)
def test_pages_say_whose_answer_it_is(web_as, world, url):
    response = web_as("nurse.oslo").get(url)

    assert "no-store" in cache_control(response)
    assert "private" in cache_control(response)
    assert "Cookie" in response.get("Vary", "")


def test_the_record_page_of_a_patient_is_never_stored(web_as, world):
    response = web_as("doctor.oslo").get(f"/patients/{world['patient']}/")

    assert response.status_code == 200
    assert "no-store" in cache_control(response)
    assert get_max_age(response) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/patients",
        "/patients/{patient}",
        "/dosing/board?clinic=oslo",
        "/incidents?clinic=oslo",
        "/patients/{patient}/access-log",
        "/patients/99999999",  # a 404 is an answer too
    ],
)
def test_api_answers_are_never_stored(api_as, world, path):
    response = api_as("doctor.oslo").get(path.format(**world))

    assert response.status_code < 500
    assert "no-store" in cache_control(response)
    assert {"Authorization", "Cookie"} <= {v.strip() for v in response.get("Vary", "").split(",")}


def test_api_answers_without_a_login_are_never_stored_either(api_as, world):
    response = api_as(None).get(f"/patients/{world['patient']}")

    assert response.status_code == 401
    assert "no-store" in cache_control(response)


def test_static_files_keep_being_cached(web_as, world):
    # given a logged-in tablet, which also fetches the style sheet
    client = web_as("nurse.oslo")
    # when it asks for a static file
    response = client.get("/static/hab/css/hab.css")
    # then the file may be cached (WhiteNoise's own policy), unlike the pages
    assert response.status_code == 200
    assert "no-store" not in cache_control(response)
    assert get_max_age(response) and get_max_age(response) > 0


def test_the_login_page_is_still_never_stored(db):
    response = Client().get("/login/")

    assert "no-store" in cache_control(response)


def test_a_research_export_download_is_never_stored(web_as, world):
    response = web_as("researcher.oslo").get("/research/export/", {"format": "csv"})

    assert response.status_code == 200
    assert response.get("Content-Disposition", "").startswith("attachment")
    assert "no-store" in cache_control(response)
