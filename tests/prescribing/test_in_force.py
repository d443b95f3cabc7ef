"""The prescriptions in force that the dosing room reads are those of the plain rule.

``prescriptions_in_force`` (the board's and every dose's read) looks only at the ends of
the patients' chains; ``active_prescriptions`` says the rule as the ORM writes it: the
last of each chain, not a stop, within its validity. Any history of prescriptions, new
chains, successors, stops, validity windows, even a successor of another patient's
prescription, gives both the same prescriptions in the same order.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hab.intake.models import Episode, Phase
from hab.prescribing.models import Prescription
from hab.prescribing.selectors import active_prescriptions, prescriptions_in_force

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 10)
MEDICATIONS = ["dam_injectable", "dam_tablet_sr", "methadone_oral"]

step = st.tuples(
    st.sampled_from(["new", "supersede", "supersede", "stop"]),
    st.integers(0, 2),  # the patient (for a new chain)
    st.sampled_from(MEDICATIONS),
    st.integers(-4, 3),  # valid from, days from DAY
    st.one_of(st.none(), st.integers(0, 4)),  # valid to, days after valid from
    st.integers(0, 3),  # minutes after the previous one: equal times happen
)


@pytest.fixture
def episodes(make_patient, staff):
    made = []
    for _ in range(3):
        patient = make_patient("oslo")
        made.append(
            Episode.objects.create(
                patient=patient,
                clinic=patient.clinic,
                admitted_on=DAY - datetime.timedelta(days=30),
                phase=Phase.values[0],
                created_by=staff["doctor.oslo"],
            )
        )
    return made


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, max_size=14), picks=st.data())
def test_in_force_agrees_with_the_rule(episodes, staff, steps, picks):
    doctor = staff["doctor.oslo"]
    at = timezone.make_aware(datetime.datetime(2026, 3, 1, 9))
    with transaction.atomic():
        open_ends: list[Prescription] = []  # prescriptions nothing supersedes yet
        for kind, who, medication, start, length, minutes in steps:
            at += datetime.timedelta(minutes=minutes)
            previous = None
            if kind != "new" and open_ends:
                previous = open_ends.pop(picks.draw(st.integers(0, len(open_ends) - 1)))
            # A successor is the patient's own, but the rule does not say so: now and
            # then one supersedes another patient's prescription.
            episode = episodes[who] if previous is None else previous.episode
            if previous is not None and picks.draw(st.integers(0, 9)) == 0:
                episode = episodes[(episodes.index(previous.episode) + 1) % 3]
            valid_from = DAY + datetime.timedelta(days=start)
            stop = kind == "stop" and previous is not None
            made = Prescription.objects.create(
                patient_id=episode.patient_id,
                episode=episode,
                medication=previous.medication if previous else medication,
                route="oral" if "oral" in medication or "tablet" in medication else "iv",
                doses_mg={} if stop else {"morning": 100.0, "afternoon": 150.5},
                daily_max_mg=400,
                valid_from=valid_from,
                valid_to=None if length is None else valid_from + datetime.timedelta(days=length),
                stopped_on=valid_from if stop else None,
                supersedes=previous,
                created_at=at,
                created_by=doctor,
            )
            open_ends.append(made)
        patients = [e.patient_id for e in episodes]
        asked = patients[: picks.draw(st.integers(1, 3))]
        for day in (DAY - datetime.timedelta(days=2), DAY, DAY + datetime.timedelta(days=3)):
            expected = {
                patient: [(p.pk, p.dose_for("afternoon"), float(p.daily_max_mg)) for p in found]
                for patient, found in active_prescriptions(asked, day).items()
            }
            got = {
                patient: [(p.pk, p.dose_for("afternoon"), p.daily_max_mg) for p in found]
                for patient, found in prescriptions_in_force(asked, day).items()
            }
            assert got == expected
        transaction.set_rollback(True)  # append-only: the rows go with the savepoint


def test_in_force_leaves_no_setting_behind(episodes, staff):
    """On PostgreSQL the read is planned without parallel workers; the setting ends with
    it, so later queries of the same transaction are planned as before."""
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        before = cursor.fetchone()[0]
        prescriptions_in_force([e.patient_id for e in episodes], DAY)
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == before
