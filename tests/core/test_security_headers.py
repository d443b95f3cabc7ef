"""Security headers, cookies and password hashing, as a browser or an auditor sees them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import get_hasher
from django.test import Client, override_settings

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[2] / "src" / "hab"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)
https = override_settings(
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
    LANGUAGE_COOKIE_SECURE=True,
    SECURE_HSTS_SECONDS=31536000,
)


@pytest.mark.parametrize("path", ["/login/", "/dosing/", "/api/v1/me", "/no-such-page/"])
def test_every_answer_carries_the_security_headers(web_as, path):
    response = web_as("nurse.oslo").get(path)

    assert response["Content-Security-Policy"] == CSP
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_only_the_api_docs_page_may_use_inline_styles(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert "style-src 'self' 'unsafe-inline'" in response["Content-Security-Policy"]
    assert "script-src 'self';" in response["Content-Security-Policy"]
    # Swagger UI comes from the package's static files, not from a CDN.
    assert "cdn." not in response.content.decode()


def test_no_hsts_over_plain_http(client):
    assert "Strict-Transport-Security" not in client.get("/login/")


@https
def test_hsts_over_https_when_secure_cookies_are_on(client):
    response = client.get("/login/", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000"


@https
def test_session_and_csrf_cookies_are_secure_httponly_and_samesite(staff):
    client = Client()
    page = client.get("/login/", secure=True)
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"

    response = client.post("/login/", {"username": "nurse.oslo", "password": PASSWORD}, secure=True)

    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_without_https_the_cookies_are_not_marked_secure(staff):
    # The demo and the test suite run on plain http (HAB_SECURE_COOKIES=0).
    response = Client().post("/login/", {"username": "nurse.oslo", "password": PASSWORD})

    session = response.cookies["sessionid"]
    assert not session["secure"] and session["httponly"]


def test_production_settings_hash_passwords_with_argon2(tmp_path):
    # The suite hashes with MD5 for speed; HAB's own settings must not.
    code = (
        "import django; django.setup(); "
        "from django.contrib.auth.hashers import make_password, get_hasher; "
        "print(get_hasher().algorithm, make_password('x').split('$')[0])"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "hab.settings",
        "HAB_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )

    assert out.stdout.split() == ["argon2", "argon2"]


def test_older_hashes_still_verify_and_upgrade(staff, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    user = staff["nurse.oslo"]
    assert user.password.startswith("md5$")

    assert Client().post("/login/", {"username": "nurse.oslo", "password": PASSWORD})["Location"]
    user.refresh_from_db()

    assert user.password.startswith("argon2$")
    assert get_hasher("argon2").verify(PASSWORD, user.password)


def _templates() -> list[Path]:
    return sorted(SRC.glob("**/templates/**/*.html"))


def _served(path: Path) -> bool:
    """Printed documents (WeasyPrint renders them to PDF, their CSS has an @page rule) are
    never served to a browser; their <style> is for the PDF."""
    return "@page" not in path.read_text()


@pytest.mark.parametrize(
    "pattern",
    [
        r"<script(?![^>]*\bsrc=)[^>]*>",  # inline script
        r"\son[a-z]+\s*=",  # onclick=, onchange=, ...
        r"javascript:",
        r"\sstyle\s*=",  # style attributes
        r"hx-on",  # htmx's inline handlers need eval
    ],
)
def test_no_template_needs_inline_script_or_style(pattern):
    offending = [
        str(path.relative_to(SRC))
        for path in _templates()
        if _served(path) and re.search(pattern, path.read_text(), re.I)
    ]

    assert offending == []


def test_no_served_template_has_a_style_block():
    offending = [
        str(path.relative_to(SRC))
        for path in _templates()
        if _served(path) and "<style" in path.read_text()
    ]

    assert offending == []
