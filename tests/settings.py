"""Test settings: HAB's settings with the environment the test command sets.

Everything still comes from HAB_* variables; defaults here only make a bare
`pytest` run work too.
"""

import os
import tempfile

os.environ.setdefault("HAB_DATA_DIR", tempfile.mkdtemp(prefix="hab-test-"))
os.environ.setdefault("HAB_ALLOW_SYNTHETIC_IDS", "1")
os.environ.setdefault("HAB_SECURE_COOKIES", "0")
os.environ.setdefault("HAB_SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ.setdefault("HAB_RESEARCH_KEY", "test-research-key-" + "y" * 40)
os.environ.setdefault("HAB_LEDGER_KEY", "test-ledger-key-" + "z" * 40)
os.environ.setdefault("HAB_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
# The second factor is off for the suite; the tests of it turn it on (override_settings).
os.environ.setdefault("HAB_REQUIRE_2FA", "0")

from hab.settings import *  # noqa: F403
from tests.flush import allow_test_flush

# Django empties SQLite after a transactional test with DELETE, which the append-only
# tables refuse: the flush lifts their DELETE triggers for its own transaction only.
allow_test_flush()

# Hashing real passwords is slow on purpose; tests need not pay for it.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if "sqlite" in DATABASES["default"]["ENGINE"]:  # noqa: F405
    # A file, not the shared-cache in-memory database: concurrency tests need SQLite's real
    # locking (WAL, busy_timeout, IMMEDIATE), which shared-cache mode does not give.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405

# The browser tests' live server answers at the test's fixed instant (tests/clock.py),
# first so that every middleware after it reads that time too.
MIDDLEWARE = ["tests.clock.LiveServerClock", *MIDDLEWARE]  # noqa: F405
