"""The dosing indicators add up patient-days in the database; here they are checked against
the definition worked out in Python on random doses and phase changes."""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hab.dosing import summaries
from hab.dosing.models import Administration
from hab.evaluation import indicators as ind
from hab.intake.models import Episode, EpisodeEvent

START = datetime.date(2025, 3, 1)
PERIOD = ind.Period(START, START + datetime.timedelta(days=13))
PHASES = ("induction", "maintenance", "tapering")
MEDICATIONS = ("dam_injectable", "dam_tablet_ir", "methadone_oral")
STATUSES = ("given", "partial", "withheld", "missed", "refused")
SLOTS = ("morning", "afternoon", "evening")

doses = st.lists(
    st.tuples(
        st.integers(-2, 15),  # day from the start (some outside the period)
        st.sampled_from(SLOTS),
        st.sampled_from(MEDICATIONS),
        st.sampled_from(STATUSES),
        st.integers(1, 800).map(lambda half_mg: Decimal(half_mg) / 2),  # mg, if given
    ),
    max_size=25,
)
changes = st.lists(
    st.tuples(st.integers(-3, 16), st.sampled_from(PHASES), st.sampled_from(PHASES)),
    max_size=3,
)


def expected(episode_phase, phase_changes, records):
    """The definition: per day with a dose given, that day's phase (the last change on or
    before it, else the first change's old phase, else the episode's), the day's
    diacetylmorphine in mg, and the days attended."""
    changes_in_order = sorted(phase_changes, key=lambda c: c[0])

    def phase_on(day):
        if not changes_in_order:
            return episode_phase
        phase = changes_in_order[0][1]
        for on, _old, new in changes_in_order:
            if on <= day:
                phase = new
        return phase

    given_days, dam = set(), defaultdict(Decimal)
    for day, _slot, medication, status, mg in records:
        if status in ("given", "partial") and PERIOD.start <= day <= PERIOD.end:
            given_days.add(day)
            if medication.startswith("dam_"):
                dam[day] += mg
    by_phase = defaultdict(list)
    for day, total in dam.items():
        by_phase[phase_on(day)].append(total)
    bins = defaultdict(int)
    for total in dam.values():
        bins[math.floor(total / ind.DOSE_BIN_MG)] += 1
    return len(given_days), by_phase, bins


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(doses=doses, phase_changes=changes, episode_phase=st.sampled_from(PHASES))
def test_the_database_adds_up_as_the_definition(
    make_patient, staff, clinics, doses, phase_changes, episode_phase
):
    with transaction.atomic():
        lead, nurse = staff["clinic_lead.oslo"], staff["nurse.oslo"]
        patient = make_patient("oslo")
        episode = Episode.objects.create(
            patient=patient,
            clinic=clinics["oslo"],
            admitted_on=START - datetime.timedelta(days=5),
            phase=episode_phase,
            created_by=lead,
        )
        changed = []
        for n, (offset, old, new) in enumerate(phase_changes):
            on = START + datetime.timedelta(days=offset)
            at = datetime.datetime.combine(on, datetime.time(8, n), tzinfo=datetime.UTC)
            EpisodeEvent.objects.create(
                episode=episode, at=at, on=on, by=lead, kind="phase",
                details={"old": old, "new": new},
            )  # fmt: skip
            changed.append((on, old, new))
        records, taken = [], set()
        for offset, slot, medication, status, mg in doses:
            day = START + datetime.timedelta(days=offset)
            group = "dam" if medication.startswith("dam_") else "other"
            if (day, slot, group) in taken:
                continue  # one record per day, session and medication group
            taken.add((day, slot, group))
            amount = mg if status in ("given", "partial") else Decimal(0)
            Administration.objects.create(
                patient=patient, episode=episode, clinic=episode.clinic, day=day, slot=slot,
                medication=medication, group=group, route="iv", status=status,
                dose_mg=amount, nurse=nurse,
                given_at=datetime.datetime.combine(day, datetime.time(9), tzinfo=datetime.UTC),
            )  # fmt: skip
            records.append((day, slot, medication, status, amount))

        summaries.rebuild()  # written around the services, as an import writes them
        got = ind.dosing([clinics["oslo"].pk], PERIOD)
        attended, by_phase, bins = expected(episode_phase, changed, records)
        assert got["attended_days"] == attended
        assert got["mean_daily_dose_mg_by_phase"] == {
            phase: round(float(sum(totals) / len(totals)), 1)
            for phase, totals in sorted(by_phase.items())
        }
        histogram = {
            b["from_mg"] // ind.DOSE_BIN_MG: b["patient_days"] for b in got["daily_dose_histogram"]
        }
        assert {b: n for b, n in histogram.items() if n} == dict(bins)
        if bins:
            assert sorted(histogram) == list(range(min(bins), max(bins) + 1))
        transaction.set_rollback(True)
