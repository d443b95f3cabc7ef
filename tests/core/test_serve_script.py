"""scripts/serve, the production start: it refuses to serve a configuration that
`hab check-deploy` finds unsafe."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.db import connection

# The script's behaviour does not depend on the suite's database: run it once.
pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="runs with SQLite's pass")

ROOT = Path(__file__).resolve().parents[2]


def serve(tmp_path: Path, **environment: str) -> subprocess.CompletedProcess:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("HAB_", "DJANGO_"))
    }
    env.update(HAB_DATA_DIR=str(tmp_path), **environment)
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "serve")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_a_database_url_it_does_not_start(tmp_path):
    started = serve(tmp_path)
    assert started.returncode == 1
    assert "HAB_DATABASE_URL is not set" in started.stderr


def test_an_unsafe_configuration_is_refused_before_serving(tmp_path):
    started = serve(
        tmp_path,
        HAB_DATABASE_URL=f"sqlite:///{tmp_path / 'hab.sqlite3'}",
        HAB_SECURE_COOKIES="0",  # cookies over plain http: hab.E001
        HAB_BIND="127.0.0.1:1",
    )
    assert started.returncode != 0
    assert "hab.E001" in started.stderr + started.stdout
    assert "Booting worker" not in started.stderr  # gunicorn never started
