from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from hab.core import clock


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
