"""SQLite writers queue on a lock file (hab.core.backends.sqlite) instead of polling."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from django.db import connection, connections, transaction

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the writer lock is SQLite's")


def lock_is_free(path: str) -> bool:
    descriptor = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return True
    finally:
        os.close(descriptor)


@pytest.mark.django_db(transaction=True)
def test_a_write_transaction_holds_the_lock_until_it_commits_or_rolls_back():
    connection.ensure_connection()
    path = f"{connection.settings_dict['NAME']}-writer.lock"
    assert lock_is_free(path)
    with transaction.atomic():
        assert not lock_is_free(path)
    assert lock_is_free(path)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert not lock_is_free(path)
        raise RuntimeError("rolled back")
    assert lock_is_free(path)


@pytest.mark.django_db(transaction=True)
def test_a_second_writer_waits_for_the_first_and_then_goes_ahead():
    from hab.core.models import Clinic

    order: list[str] = []
    first_in = threading.Event()

    def second() -> None:
        first_in.wait(timeout=10)
        try:
            with transaction.atomic():
                order.append("second began")
                Clinic.objects.filter(code="nowhere").update(name="x")
        finally:
            connections.close_all()

    thread = threading.Thread(target=second)
    thread.start()
    with transaction.atomic():
        order.append("first began")
        first_in.set()
        thread.join(timeout=0.3)  # the second writer is queued, not running
        assert thread.is_alive()
        order.append("first commits")
    thread.join(timeout=10)
    assert order == ["first began", "first commits", "second began"]
