"""`hab check-deploy`: clean on a proper production configuration, failing otherwise."""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from hab.core.checks import check_secrets

REPO = Path(__file__).resolve().parents[2]


def hab(tmp_path: Path, command: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HAB_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "hab.settings",
    }
    return subprocess.run(
        [sys.executable, "-m", "hab.cli", command],
        env=base | env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_deploy(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return hab(tmp_path, "check-deploy", **env)


PRODUCTION = {
    "HAB_SECRET_KEY": secrets.token_urlsafe(48),
    "HAB_RESEARCH_KEY": secrets.token_urlsafe(48),
    "HAB_LEDGER_KEY": secrets.token_urlsafe(48),
    "HAB_ALLOWED_HOSTS": "hab.ous-hf.no",
    "HAB_PROXY_SSL_HEADER": "1",
    # PostgreSQL in production: a server that is not there, so the database checks say so.
    "HAB_DATABASE_URL": "postgres://hab@db.invalid:5432/hab",
}


def test_a_production_configuration_passes_on_a_migrated_database(tmp_path):
    env = dict(PRODUCTION)
    del env["HAB_DATABASE_URL"]  # SQLite in the data directory
    assert hab(tmp_path, "migrate", **env).returncode == 0

    result = check_deploy(tmp_path, **env)

    assert result.returncode == 0, result.stdout + result.stderr
    # SQLite is allowed, with a recommendation.
    assert "hab.W004" in result.stderr
    assert "ERRORS" not in result.stderr


def test_an_unreachable_database_is_the_only_finding_of_a_production_configuration(tmp_path):
    result = check_deploy(tmp_path, **PRODUCTION)

    assert result.returncode != 0
    assert "hab.E010" in result.stderr  # cannot connect to db.invalid
    assert "System check identified 1 issue" in result.stderr + result.stdout


def test_unsafe_settings_fail_it(tmp_path):
    unsafe = {"HAB_SECURE_COOKIES": "0", "HAB_REQUIRE_2FA": "0", "HAB_DEBUG": "1"}

    result = check_deploy(tmp_path, **(PRODUCTION | unsafe))

    assert result.returncode != 0
    for code in ["hab.E001", "hab.E002", "security.W018", "security.W012"]:
        assert code in result.stderr


@pytest.mark.django_db
def test_warnings_fail_it_only_when_asked(monkeypatch, settings):
    # A production configuration in this process, less HAB_SECRET_KEY (a warning).
    # The browser tests allow Django's sync calls from Playwright's event loop; a worker
    # that ran them first has the variable set, which the deploy checks rightly refuse.
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    monkeypatch.delenv("HAB_SECRET_KEY", raising=False)
    monkeypatch.delenv("HAB_SECRET_KEY_FILE", raising=False)
    monkeypatch.setenv("HAB_RESEARCH_KEY", secrets.token_urlsafe(48))
    monkeypatch.setenv("HAB_LEDGER_KEY", secrets.token_urlsafe(48))
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_SSL_REDIRECT = True
    settings.HAB_REQUIRE_2FA = True
    settings.ALLOWED_HOSTS = ["hab.ous-hf.no"]
    out = io.StringIO()

    call_command("check_deploy", stdout=out, stderr=out)

    assert "hab.W001" in out.getvalue()
    with pytest.raises(SystemCheckError, match=r"hab\.W001"):
        call_command("check_deploy", fail_level="WARNING", stdout=out, stderr=out)


@pytest.mark.parametrize(
    ("ledger_key", "code"),
    [(None, "hab.W005"), ("secret", "hab.E005"), ("research", "hab.E005"), ("own", None)],
)
def test_the_ledger_key_is_set_and_a_key_of_its_own(monkeypatch, settings, ledger_key, code):
    # HAB_LEDGER_KEY signs the ledger's checkpoints: from the environment (not generated
    # beside the database) and not the same as a key others hold.
    keys = {"secret": settings.SECRET_KEY, "research": settings.RESEARCH_KEY}
    monkeypatch.delenv("HAB_LEDGER_KEY_FILE", raising=False)
    if ledger_key is None:
        monkeypatch.delenv("HAB_LEDGER_KEY", raising=False)
    else:
        settings.LEDGER_KEY = keys.get(ledger_key, secrets.token_urlsafe(48))
        monkeypatch.setenv("HAB_LEDGER_KEY", settings.LEDGER_KEY)

    found = {problem.id for problem in check_secrets()} & {"hab.W005", "hab.E005"}

    assert found == ({code} if code else set())
