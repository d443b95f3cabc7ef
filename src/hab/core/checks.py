"""HAB's own deployment checks, run by ``hab check-deploy`` with Django's ``check --deploy``.

Registered under the tag ``hab`` as deploy checks: they run only with ``--deploy``, so
development and the test suite are not nagged. Other modules add their checks under
the same tag (``register(..., TAG, deploy=True)``).
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

from django.conf import settings
from django.core.checks import Error, Warning, register

TAG = "hab"
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def _from_environment(name: str) -> bool:
    return bool(os.environ.get(name) or os.environ.get(f"{name}_FILE"))


@register(TAG, deploy=True)
def check_secrets(app_configs=None, **kwargs):
    problems = []
    if not _from_environment("HAB_SECRET_KEY"):
        problems.append(
            Warning(
                "HAB_SECRET_KEY is not set: HAB uses a key generated into the data "
                "directory, which other servers do not share.",
                hint="Set HAB_SECRET_KEY (or HAB_SECRET_KEY_FILE) from the secret store.",
                id="hab.W001",
            )
        )
    if not _from_environment("HAB_RESEARCH_KEY"):
        problems.append(
            Warning(
                "HAB_RESEARCH_KEY is not set: the research pseudonyms depend on a key "
                "generated into the data directory; losing it changes every research id.",
                hint="Set HAB_RESEARCH_KEY and keep a copy with the backups' keys.",
                id="hab.W002",
            )
        )
    if not _from_environment("HAB_LEDGER_KEY"):
        problems.append(
            Warning(
                "HAB_LEDGER_KEY is not set: the ledger's checkpoints are signed with a key "
                "generated into the data directory, beside an embedded database and in "
                "reach of whoever can change it.",
                hint="Set HAB_LEDGER_KEY (or HAB_LEDGER_KEY_FILE) from the secret store, "
                "not from the database host's disk or its backups.",
                id="hab.W005",
            )
        )
    elif settings.LEDGER_KEY in (settings.SECRET_KEY, settings.RESEARCH_KEY):
        problems.append(
            Error(
                "HAB_LEDGER_KEY is the same as HAB_SECRET_KEY or HAB_RESEARCH_KEY: whoever "
                "holds one of those could sign ledger checkpoints.",
                hint="Give HAB_LEDGER_KEY a key of its own (e.g. openssl rand -base64 48).",
                id="hab.E005",
            )
        )
    return problems


@register(TAG, deploy=True)
def check_https(app_configs=None, **kwargs):
    if settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE:
        return []
    return [
        Error(
            "Cookies are sent over plain HTTP (HAB_SECURE_COOKIES is off).",
            hint="Serve HAB over HTTPS and leave HAB_SECURE_COOKIES on (its default).",
            id="hab.E001",
        )
    ]


@register(TAG, deploy=True)
def check_logins(app_configs=None, **kwargs):
    problems = []
    if not settings.HAB_REQUIRE_2FA:
        problems.append(
            Error(
                "HAB_REQUIRE_2FA is off: doctors, researchers, clinic leads and "
                "administrators log in with a password alone.",
                hint="Remove HAB_REQUIRE_2FA=0 (only the demo sets it).",
                id="hab.E002",
            )
        )
    if not getattr(settings, "AXES_ENABLED", True):
        problems.append(
            Error("django-axes is disabled: no lock-out after failed logins.", id="hab.E003")
        )
    if settings.HAB_OIDC_ENABLED:
        endpoints = [
            settings.OIDC_OP_AUTHORIZATION_ENDPOINT,
            settings.OIDC_OP_TOKEN_ENDPOINT,
            settings.OIDC_OP_USER_ENDPOINT,
            settings.OIDC_OP_JWKS_ENDPOINT,
        ]
        plain = [url for url in endpoints if urlparse(url).scheme != "https"]
        if plain:
            problems.append(
                Error(
                    "OpenID Connect endpoints must use https: " + ", ".join(plain),
                    id="hab.E004",
                )
            )
    return problems


@register(TAG, deploy=True)
def check_hosts(app_configs=None, **kwargs):
    if set(settings.ALLOWED_HOSTS) - _LOCAL_HOSTS:
        return []
    return [
        Warning(
            "HAB_ALLOWED_HOSTS names only this machine; nobody else can reach HAB.",
            hint="Set HAB_ALLOWED_HOSTS to the host name staff use, e.g. hab.ous-hf.no.",
            id="hab.W003",
        )
    ]


@register(TAG, deploy=True)
def check_database_engine(app_configs=None, **kwargs):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "sqlite" not in engine:
        return []
    return [
        Warning(
            "The database is SQLite. It suits one clinic server with a few workers; a "
            "programme with several clinics should run on PostgreSQL.",
            hint="Set HAB_DATABASE_URL=postgres://... (see docs/operations.md).",
            id="hab.W004",
        )
    ]


_LMDI_SETTINGS = (
    "HAB_LMDI_SENDER_CERT",
    "HAB_LMDI_SENDER_KEY",
    "HAB_LMDI_RECIPIENT_CERT",
)


@register(TAG, deploy=True)
def check_lmdi_certificates(app_configs=None, **kwargs):
    """Reports to Legemiddelregisteret need all three files: only some of them set is a slip."""
    given = [name for name in _LMDI_SETTINGS if getattr(settings, name, "")]
    password = bool(getattr(settings, "HAB_LMDI_SENDER_KEY_PASSWORD", ""))
    if len(given) == len(_LMDI_SETTINGS) or not (given or password):
        return []
    missing = [name for name in _LMDI_SETTINGS if name not in given]
    return [
        Warning(
            "Reports to Legemiddelregisteret are only partly configured: "
            + ", ".join(missing)
            + " not set, so reports cannot be signed and encrypted.",
            hint="Set all of HAB_LMDI_SENDER_CERT, HAB_LMDI_SENDER_KEY and "
            "HAB_LMDI_RECIPIENT_CERT, or none (see docs/operations.md).",
            id="hab.W006",
        )
    ]
