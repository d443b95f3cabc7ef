"""Login through an OpenID Connect provider, against a small fake provider (HelseID-like)
that runs in a thread of the test: authorisation, token, userinfo and JWKS endpoints,
an RS256-signed id_token with a key made for the test."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from jwt.algorithms import RSAAlgorithm

from hab.core.models import User

pytestmark = pytest.mark.django_db

CLIENT_ID = "hab-test-client"
HPR_CLAIM = "helseid://claims/hpr/hpr_number"


@dataclass
class FakeProvider:
    """Issues codes and tokens for whoever the test says has logged in at the provider."""

    url: str = ""
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    claims: dict = field(default_factory=dict)
    signing_key: rsa.RSAPrivateKey | None = None  # another key: a forged token
    audience: str = CLIENT_ID
    codes: dict[str, str] = field(default_factory=dict)  # code -> nonce
    token_requests: list[dict] = field(default_factory=list)

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        payload = {
            "iss": self.url,
            "aud": self.audience,
            "sub": "pairwise-subject-1",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **self.claims,
        }
        return jwt.encode(
            payload, self.signing_key or self.key, algorithm="RS256", headers={"kid": "k1"}
        )

    def jwks(self) -> dict:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [jwk | {"kid": "k1", "alg": "RS256", "use": "sig"}]}


def _handler(provider: FakeProvider):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _json(self, body: dict, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/authorize":
                # The person has logged in at the provider (BankID and so on).
                code = f"code-{len(provider.codes) + 1}"
                provider.codes[code] = query["nonce"]
                target = (
                    query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
                )
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()
            elif url.path == "/jwks":
                self._json(provider.jwks())
            elif url.path == "/userinfo":
                self._json({"sub": "pairwise-subject-1", **provider.claims})
            else:
                self._json({"error": "not_found"}, 404)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            provider.token_requests.append(form)
            nonce = provider.codes.pop(form.get("code", ""), None)
            if self.path != "/token" or nonce is None or form.get("client_id") != CLIENT_ID:
                self._json({"error": "invalid_grant"}, 400)
                return
            self._json(
                {
                    "access_token": "at-1",
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": provider.id_token(nonce),
                }
            )

    return Handler


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def oidc(provider, settings):
    provider.claims = {}
    provider.signing_key = None
    provider.audience = CLIENT_ID
    provider.token_requests.clear()
    # pytest-django's settings fixture undoes all of these after the test.
    for name, value in {
        "HAB_OIDC_ENABLED": True,
        "HAB_OIDC_CLAIM": HPR_CLAIM,
        "HAB_OIDC_USER_FIELD": "hpr_number",
        "HAB_OIDC_IS_2FA": True,
        "OIDC_OP_ISSUER": provider.url,
        "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{provider.url}/authorize",
        "OIDC_OP_TOKEN_ENDPOINT": f"{provider.url}/token",
        "OIDC_OP_USER_ENDPOINT": f"{provider.url}/userinfo",
        "OIDC_OP_JWKS_ENDPOINT": f"{provider.url}/jwks",
        "OIDC_RP_CLIENT_ID": CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": "test-secret",
        "OIDC_TIMEOUT": 5,
        "AUTHENTICATION_BACKENDS": [
            *settings.AUTHENTICATION_BACKENDS,
            "hab.core.oidc.HabOIDCBackend",
        ],
    }.items():
        setattr(settings, name, value)
    return provider


def log_in_at_provider(client: Client, next_url: str = "/patients/"):
    """The browser: HAB -> the provider's login -> back to HAB's callback."""
    start = client.get("/oidc/login/", {"next": next_url})
    assert start.status_code == 302
    authorize = start["Location"]
    query = parse_qs(urlparse(authorize).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"]  # PKCE
    at_provider = requests.get(authorize, allow_redirects=False, timeout=5)
    callback = urlparse(at_provider.headers["Location"])
    return client.get(callback.path, parse_qs(callback.query))


@pytest.fixture
def doctor(staff) -> User:
    user = staff["doctor.oslo"]
    user.hpr_number = "123456789"
    user.save()
    return user


def test_a_doctor_logs_in_with_their_hpr_number(oidc, doctor, settings):
    settings.HAB_REQUIRE_2FA = True  # HelseID's login is the second factor
    oidc.claims = {HPR_CLAIM: "123456789", "name": "Lege Oslo"}
    client = Client()

    response = log_in_at_provider(client)

    assert response.status_code == 302 and response["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200
    assert int(client.session["_auth_user_id"]) == doctor.pk
    # The client authenticated itself to the token endpoint with the PKCE verifier.
    assert oidc.token_requests[-1]["code_verifier"]


def test_an_unknown_person_gets_no_user_and_nothing_is_created(oidc, doctor):
    oidc.claims = {HPR_CLAIM: "999999999"}
    users = User.objects.count()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    response = log_in_at_provider(client)

    assert response["Location"] == "/login/?oidc_failed=1"
    assert User.objects.count() == users
    page = client.get(response["Location"])
    assert "did not give a HAB user" in page.content.decode()
    assert client.get("/patients/")["Location"].startswith("/login/")


def test_a_deactivated_user_cannot_log_in_through_the_provider(oidc, doctor):
    doctor.is_active = False
    doctor.save()
    oidc.claims = {HPR_CLAIM: "123456789"}

    response = log_in_at_provider(Client())

    assert response["Location"] == "/login/?oidc_failed=1"


@pytest.mark.parametrize("forgery", ["other key", "other audience"])
def test_a_forged_id_token_is_refused(oidc, doctor, forgery):
    oidc.claims = {HPR_CLAIM: "123456789"}
    if forgery == "other key":
        oidc.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        oidc.audience = "someone-else"
    client = Client()

    response = log_in_at_provider(client)

    assert response.status_code in (302, 400)
    assert client.get("/patients/")["Location"].startswith("/login/")


def test_without_the_provider_counting_as_2fa_a_doctor_still_enrols(oidc, doctor, settings):
    settings.HAB_REQUIRE_2FA = True
    settings.HAB_OIDC_IS_2FA = False
    oidc.claims = {HPR_CLAIM: "123456789"}

    response = log_in_at_provider(Client())

    assert response["Location"] == "/login/enrol/"


def test_the_login_page_offers_the_provider_when_configured(oidc, client):
    page = client.get("/login/?next=/dosing/", HTTP_ACCEPT_LANGUAGE="en")

    assert 'href="/oidc/login/?next=/dosing/"' in page.content.decode()
    assert "Log in with HelseID" in page.content.decode()


def test_without_configuration_there_is_no_provider_login(client, staff):
    assert client.get("/oidc/login/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404
    assert "/oidc/login/" not in client.get("/login/").content.decode()
