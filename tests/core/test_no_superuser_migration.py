"""Migration core.0011 takes superuser status away and keeps what it implicitly gave a
researcher (calendar dates in exports) as an explicit grant.

The migration runs in a process of its own on a fresh SQLite database: rolling the shared
test database back and forth would change the schema under the tests beside it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.core.helpers import hab_environment

pytestmark = pytest.mark.clock(None)

SCRIPT = textwrap.dedent(
    """
    import json

    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("core", "0010_security_event_kinds")]
    call_command("migrate", "core", "0010_security_event_kinds", verbosity=0)
    old = MigrationExecutor(connection).loader.project_state(before).apps
    User, Membership = old.get_model("core", "User"), old.get_model("core", "Membership")
    oslo = old.get_model("core", "Clinic").objects.create(
        code="oslo", name="HAB Oslo", capacity=150
    )
    User.objects.create(username="root", is_superuser=True, is_staff=True)
    boss = User.objects.create(username="boss", is_superuser=True, is_staff=True)
    Membership.objects.create(user=boss, clinic=oslo, role="researcher")
    User.objects.create(username="plain")

    call_command("migrate", verbosity=0)

    from hab.core.models import User

    print(json.dumps({
        user.username: {
            "superuser": user.is_superuser,
            "staff": user.is_staff,
            "dates": user.has_perm("research.export_dates"),
        }
        for user in User.objects.filter(username__in=["root", "boss", "plain"])
    }))
    """
)


def test_the_migration_clears_superusers_and_keeps_a_researchers_dates(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=hab_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr
    users = json.loads(done.stdout.splitlines()[-1])
    assert not any(user["superuser"] for user in users.values())
    assert users["root"]["staff"]  # still in /admin/, with the role's rights only
    assert users["boss"]["dates"]
    assert not users["root"]["dates"]
    assert not users["plain"]["dates"]
