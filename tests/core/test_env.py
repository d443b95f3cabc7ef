"""Settings come from HAB_* variables and fail loudly on nonsense."""

from __future__ import annotations

import pytest

from hab.env import SettingError, envbool, envint, envlist, envsecret, envstr


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("on", True), ("TRUE", True), ("0", False), ("no", False)]
)
def test_envbool_reads_the_usual_words(monkeypatch, raw, expected):
    monkeypatch.setenv("HAB_FLAG", raw)

    assert envbool("HAB_FLAG") is expected


def test_envbool_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("HAB_FLAG", "maybe")

    with pytest.raises(SettingError, match="HAB_FLAG"):
        envbool("HAB_FLAG")


def test_envint_refuses_words(monkeypatch):
    monkeypatch.setenv("HAB_NUMBER", "ten")

    with pytest.raises(SettingError, match="whole number"):
        envint("HAB_NUMBER", 1)


def test_defaults_apply_when_unset(monkeypatch):
    monkeypatch.delenv("HAB_UNSET", raising=False)

    assert envbool("HAB_UNSET", True) is True
    assert envint("HAB_UNSET", 7) == 7
    assert envlist("HAB_UNSET", ["a"]) == ["a"]


def test_a_value_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("HAB_THING_FILE", str(secret))

    assert envstr("HAB_THING") == "from-a-file"


def test_a_generated_secret_is_kept_and_reused(monkeypatch, tmp_path):
    monkeypatch.delenv("HAB_KEY", raising=False)

    first = envsecret("HAB_KEY", tmp_path, "key")
    second = envsecret("HAB_KEY", tmp_path, "key")

    assert first == second and len(first) >= 32
    assert (tmp_path / "key").stat().st_mode & 0o777 == 0o600


def test_a_short_secret_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("HAB_KEY", "short")

    with pytest.raises(SettingError, match="32"):
        envsecret("HAB_KEY", tmp_path, "key")


def test_debug_is_off_by_default():
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "HAB_DATA_DIR": "/tmp/hab-env-test"}
    out = subprocess.run(
        [sys.executable, "-c", "import hab.settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE)"],
        env=env | {"PYTHONPATH": "src"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert out.stdout.split() == ["False", "True"]
