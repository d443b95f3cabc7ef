"""The prescriptions in force that the dosing room reads are those of the plain rule.

``prescriptions_in_force`` (the board's and every dose's read) walks from the ends of the
patients' chains; ``active_prescriptions`` says the rule with the ORM. The rule, written
out once more here over the rows as made: in each chain, the newest prescription valid
from the day or before (those superseding it are not valid yet), not a stop, within its
validity. Any history of prescriptions, new chains, successors valid from earlier or later
days, stops, validity windows, even a successor of another patient's prescription, gives
all three the same prescriptions, and the two reads the same order.
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
    st.integers(-4, 4),  # valid from, days from DAY: successors from earlier or later days
    st.one_of(st.none(), st.integers(0, 4)),  # valid to, days after valid from
    st.integers(0, 3),  # minutes after the previous one: equal times happen
)


def by_rule(rows: list[Prescription], patients: list[int], day: datetime.date):
    """The rule over the rows in memory: a prescription is in force when it is valid on
    the day, not a stop, and nothing after it in its chain is valid from the day or before."""
    successor = {p.supersedes_id: p for p in rows if p.supersedes_id is not None}
    found: dict[int, list[int]] = {}
    for p in rows:
        if p.patient_id not in patients or p.stopped_on is not None or p.valid_from > day:
            continue
        if p.valid_to is not None and p.valid_to < day:
            continue
        after = successor.get(p.pk)
        while after is not None and after.valid_from > day:
            after = successor.get(after.pk)
        if after is None:
            found.setdefault(p.patient_id, []).append(p.pk)
    return found


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
        rows: list[Prescription] = []
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
            rows.append(made)
        patients = [e.patient_id for e in episodes]
        asked = patients[: picks.draw(st.integers(1, 3))]
        for days in (-2, 0, 1, 3, 5):
            day = DAY + datetime.timedelta(days=days)
            assert {pk for found in by_rule(rows, asked, day).values() for pk in found} == {
                p.pk for found in active_prescriptions(asked, day).values() for p in found
            }
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
