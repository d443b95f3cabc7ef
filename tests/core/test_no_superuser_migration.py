"""Migration core.0011 takes superuser status away and keeps what it implicitly gave a
researcher (calendar dates in exports) as an explicit grant."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from hab.core.models import User

BEFORE = [("core", "0010_security_event_kinds")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_clears_superusers_and_keeps_a_researchers_dates(clinics):
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    OldUser, OldMembership = old.get_model("core", "User"), old.get_model("core", "Membership")
    oslo = old.get_model("core", "Clinic").objects.get(code="oslo")
    root = OldUser.objects.create(username="root", is_superuser=True, is_staff=True)
    boss = OldUser.objects.create(username="boss", is_superuser=True, is_staff=True)
    OldMembership.objects.create(user=boss, clinic=oslo, role="researcher")
    plain = OldUser.objects.create(username="plain")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)

    users = {u.username: u for u in User.objects.filter(pk__in=[root.pk, boss.pk, plain.pk])}
    assert not any(u.is_superuser for u in users.values())
    assert users["root"].is_staff  # still in /admin/, with the role's rights only
    assert users["boss"].has_perm("research.export_dates")
    assert not users["root"].has_perm("research.export_dates")
    assert not users["plain"].has_perm("research.export_dates")
