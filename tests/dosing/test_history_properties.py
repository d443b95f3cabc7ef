"""The protocol's invariants over random days of real records: doses at the home clinic
and as a guest at the other clinic, corrections and paper (back-entered) doses, each
through its service. Whatever the order and the amounts, a day that breaks a limit has a
confirmed breach on record with its incident, and nothing but a confirmed breach ever
breaks one; the patient's next dose of the group then waits for a doctor."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hab.core import clock
from hab.core.access import Actor
from hab.core.errors import DomainError
from hab.core.models import Clinic, User
from hab.dosing import services
from hab.dosing.models import Administration
from hab.dosing.selectors import context_for, effective
from hab.incidents.models import Incident
from tests.dosing.helpers import TODAY, local

pytestmark = pytest.mark.django_db

DAILY_MAX = 450
INTERVAL = timedelta(minutes=180)
SLOTS = {"morning": 8, "afternoon": 14}

actions = st.lists(
    st.tuples(
        st.sampled_from(["dose", "guest", "correct", "paper"]),
        st.sampled_from(sorted(SLOTS)),
        st.integers(0, 200),  # minutes into the session
        st.sampled_from([50, 150, 200, 260, 400]),
        st.booleans(),  # confirm a breach when asked
    ),
    min_size=1,
    max_size=6,
)


class Rollback(Exception):
    pass


@pytest.fixture
def patient(on_prescription, api_as):
    # Prescribed and authorised yesterday: the day's records come after it.
    with clock.at(local(TODAY - timedelta(days=1), 12)):
        made = on_prescription(daily=DAILY_MAX, days=10)
        response = api_as("doctor.oslo").post(
            f"/patients/{made['patient']}/guest-dosing",
            {"clinic": "bergen", "valid_from": str(TODAY), "valid_to": str(TODAY)},
        )
    assert response.status_code == 201, response.content
    return made["patient"]


def _assessment():
    return {"sedation": 1, "breath_alcohol_permille": 0, "respiratory_rate": 14}


def _act(kind, slot, minutes, mg, confirm, patient, clinics, users) -> None:
    moment = local(TODAY, SLOTS[slot]) + timedelta(minutes=minutes)
    nurse = Actor.system(users["nurse.oslo"])
    with clock.at(min(moment, local(TODAY, 17, 20))):
        if kind in ("dose", "guest"):
            code = "bergen" if kind == "guest" else "oslo"
            services.administration_record(
                actor=Actor.system(users[f"nurse.{code}"]),
                clinic=clinics[code],
                patient_id=patient,
                day=TODAY,
                slot=slot,
                medication="dam_injectable",
                dose_mg=mg,
                route="iv",
                status="given",
                assessment=_assessment(),
            )
        elif kind == "correct":
            records = effective(Administration.objects.filter(patient_id=patient, day=TODAY))
            if not records:
                return
            target = max(records, key=lambda r: r.pk)
            services.administration_correct(
                actor=nurse,
                administration_id=target.pk,
                reason="Feil mengde registrert",
                dose_mg=mg,
                status="given",
                confirm_breach=confirm,
            )
        else:
            services.administration_back_enter(
                actor=nurse,
                clinic=clinics["oslo"],
                patient_id=patient,
                day=TODAY,
                slot=slot,
                medication="dam_injectable",
                dose_mg=mg,
                status="given",
                given_at=local(TODAY, SLOTS[slot]) + timedelta(minutes=minutes // 2),
                given_by="nurse.oslo",
                assessment=_assessment(),
                confirm_breach=confirm,
                breach_reason="Papirlisten viser dette" if confirm else "",
            )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=actions)
def test_no_limit_is_broken_unnoticed(patient, staff, steps):
    clinics = {c.code: c for c in Clinic.objects.all()}
    users = {u.username: u for u in User.objects.all()}
    try:
        with transaction.atomic():
            for step in steps:
                try:
                    with transaction.atomic():
                        _act(*step, patient, clinics, users)
                except DomainError:
                    pass  # refused: nothing was written
            _check(patient, clinics)
            raise Rollback
    except Rollback:
        pass


def _check(patient: int, clinics) -> None:
    records = effective(Administration.objects.filter(patient_id=patient, day=TODAY))
    taken = sorted(
        (r for r in records if r.status in ("given", "partial") and r.dose_mg > 0),
        key=lambda r: r.given_at,
    )
    total = sum((r.dose_mg for r in taken), Decimal(0))
    close = any(
        later.given_at - earlier.given_at < INTERVAL for earlier, later in itertools.pairwise(taken)
    )
    confirmed = Administration.objects.filter(
        patient_id=patient, day=TODAY, breach_confirmed_at__isnull=False
    )
    if total > DAILY_MAX or close:
        # The day breaks a limit: only a confirmed breach can have let it in, and it has
        # its incident.
        assert confirmed.exists(), (total, [(r.given_at, r.dose_mg) for r in taken])
    for record in confirmed:
        assert Incident.objects.filter(administration=record).exists()
    event(f"records of the day: {len(taken)}; confirmed breaches: {confirmed.count()}")
    if confirmed.exists():
        # The next dose of the group waits for a doctor.
        tomorrow = TODAY + timedelta(days=1)
        ctx = context_for(clinics["oslo"], [patient], tomorrow)
        [prescription] = ctx.prescriptions[patient]
        decision = ctx.decide(patient, prescription, "morning", local(tomorrow, 9))
        assert "breach_review" in {r.code for r in decision.reasons}
    # Nothing ever goes over the limits without being confirmed: every unconfirmed
    # record keeps the day's rules at the time it was written.
    for record in records:
        if record.breach_confirmed_at is None and record.status in ("given", "partial"):
            assert record.dose_mg <= max(Decimal(DAILY_MAX), record.max_allowed_mg)
