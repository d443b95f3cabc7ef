"""Django's SQLite backend, with writers queued on a lock file instead of polling.

Every ``atomic`` block begins ``BEGIN IMMEDIATE`` (settings): SQLite then lets one writer in
and makes the others retry on its busy handler, which sleeps in growing steps (up to 100 ms)
between tries. Under a dosing round's load that turns into a long tail: a nurse's request
may sleep through several other doses that came later. Here each connection first takes an
exclusive ``flock`` on ``<database>-writer.lock``: the kernel wakes the next writer the moment
the previous one commits, so writers wait only for the work ahead of them. The busy timeout
still covers writers outside HAB (the sqlite3 shell, a backup) and autocommit statements.
"""

from __future__ import annotations

import fcntl
import os

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_lock: int | None = None

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            path = f"{self.settings_dict['NAME']}-writer.lock"
            self._writer_lock = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        return connection

    def _start_transaction_under_autocommit(self):
        if self._writer_lock is not None:
            fcntl.flock(self._writer_lock, fcntl.LOCK_EX)
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self):
        try:
            super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self):
        try:
            super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            super()._close()
        finally:
            if self._writer_lock is not None:
                os.close(self._writer_lock)  # also releases a lock still held
                self._writer_lock = None

    def _release_writer_lock(self) -> None:
        if self._writer_lock is not None:
            fcntl.flock(self._writer_lock, fcntl.LOCK_UN)
