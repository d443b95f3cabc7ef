from __future__ import annotations

import datetime
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.utils import timezone

from hab.core import clock
from tests import clock as test_clock

OSLO_SUMMER = datetime.timedelta(hours=2)
OSLO_WINTER = datetime.timedelta(hours=1)
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.clock(None)
def test_the_clock_is_real_unless_set():
    before = timezone.now()

    assert before <= clock.now() <= timezone.now()


def test_the_clock_can_be_set_back_for_a_block():
    moment = timezone.make_aware(datetime.datetime(2023, 3, 26, 1, 30))

    with clock.at(moment):
        assert clock.now() == moment
        assert clock.today() == datetime.date(2023, 3, 26)
    assert clock.now() > moment


def test_the_clock_refuses_naive_times():
    with pytest.raises(ValueError, match="aware"), clock.at(datetime.datetime(2023, 1, 1)):
        pass


# --- the tests' fixed clock (tests/clock.py) ----------------------------------------------


def test_a_test_runs_at_the_suites_instant(fixed_clock):
    assert clock.now() == fixed_clock == test_clock.NOW
    assert clock.today() == test_clock.TODAY
    assert test_clock.resolve(os.environ.get("HAB_TEST_NOW")) == test_clock.NOW


def test_without_hab_test_now_the_suite_runs_today_at_half_past_nine_oslo_time():
    moment = test_clock.resolve(None)

    assert timezone.localtime(moment).time() == datetime.time(9, 30)
    assert timezone.localdate(moment) == timezone.localdate()  # the real day
    assert test_clock.resolve("") == test_clock.resolve("  ") == moment


def test_hab_test_now_takes_a_time_a_local_date_and_time_or_an_instant():
    late = test_clock.resolve("21:30")
    assert timezone.localdate(late) == timezone.localdate()
    assert timezone.localtime(late).time() == datetime.time(21, 30)
    # Local Oslo time, on the day the clocks go forward (23 hours) and back (25 hours).
    spring = test_clock.resolve("2026-03-29T23:50")
    assert (spring.utcoffset(), spring.astimezone(datetime.UTC).hour) == (OSLO_SUMMER, 21)
    autumn = test_clock.resolve("2026-10-25T23:50")
    assert (autumn.utcoffset(), autumn.astimezone(datetime.UTC).hour) == (OSLO_WINTER, 22)
    exact = test_clock.resolve("2026-03-29T21:50:00+00:00")
    assert exact == spring
    with pytest.raises(ValueError):
        test_clock.resolve("half past nine")


def test_hab_test_now_moves_the_whole_suite():
    """A fresh interpreter (as pytest's workers are) reads HAB_TEST_NOW once."""
    script = (
        "import django; django.setup()\n"
        "from tests import clock\n"
        "print(clock.NOW.isoformat(), clock.TODAY.isoformat())\n"
    )
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), str(REPO_ROOT)]),
        "HAB_TEST_NOW": "2026-10-25T23:50",
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert done.stdout.split() == ["2026-10-25T23:50:00+01:00", "2026-10-25"]


@pytest.mark.clock("2026-03-29T23:50")
def test_a_test_that_needs_another_instant_says_so(fixed_clock):
    assert clock.now() == fixed_clock
    assert (clock.today(), clock.now().utcoffset()) == (datetime.date(2026, 3, 29), OSLO_SUMMER)


def _in_a_thread(call):
    """What ``call`` returns when run in a thread of its own, as the live server's requests
    are: a fresh thread does not see the ContextVar the test's thread set."""
    found = []
    thread = threading.Thread(target=lambda: found.append(call()))
    thread.start()
    thread.join()
    return found[0]


def test_the_live_servers_requests_run_at_the_tests_instant():
    middleware = test_clock.LiveServerClock(lambda request: clock.now())
    real = timezone.now()

    assert _in_a_thread(clock.now) >= real  # the thread alone reads the real clock
    assert _in_a_thread(lambda: middleware(None)) == test_clock.NOW
    with test_clock.fixed(test_clock.resolve("2026-10-25T23:50")) as late:
        assert _in_a_thread(lambda: middleware(None)) == late == clock.now()
    assert _in_a_thread(lambda: middleware(None)) == test_clock.NOW


def test_the_test_clients_requests_keep_the_clock_the_test_set():
    middleware = test_clock.LiveServerClock(lambda request: clock.now())
    noon = test_clock.resolve("12:00")

    with clock.at(noon):
        assert middleware(None) == noon
    assert middleware(None) == test_clock.NOW


@pytest.mark.clock(None)
def test_a_test_on_the_real_clock_leaves_the_live_server_on_it_too():
    middleware = test_clock.LiveServerClock(lambda request: clock.now())
    before = timezone.now()

    assert before <= _in_a_thread(lambda: middleware(None)) <= timezone.now()


def test_a_block_can_go_back_to_the_real_clock():
    middleware = test_clock.LiveServerClock(lambda request: clock.now())
    before = timezone.now()

    with test_clock.fixed(None):
        assert before <= clock.now() <= timezone.now()
        assert before <= _in_a_thread(lambda: middleware(None)) <= timezone.now()
    assert clock.now() == test_clock.NOW
