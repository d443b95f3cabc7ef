"""The day summaries (``dosing.summaries``) are derived from the dose records and must
equal them at every moment: after every dose, correction, paper dose, guest dose, session
close and transfer, in any order, on both databases. ``hab verify-summaries`` finds a row
that differs and ``hab rebuild-summaries`` puts it right."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hab.core import clock
from hab.core.access import Actor
from hab.core.errors import DomainError
from hab.core.models import Clinic, User
from hab.dosing import services, summaries
from hab.dosing.models import Administration, ClinicDay, PatientDay
from hab.dosing.selectors import effective
from hab.intake import services as intake
from hab.intake.models import Episode
from tests.dosing.helpers import TODAY, local

pytestmark = pytest.mark.django_db

SLOTS = {"morning": 8, "afternoon": 14}
REASON = {"withheld": "Sedert", "refused": ""}

steps = st.lists(
    st.tuples(
        st.sampled_from(["dose", "guest", "correct", "paper", "close", "transfer"]),
        st.integers(0, 1),  # which patient
        st.sampled_from(sorted(SLOTS)),
        st.integers(0, 200),  # minutes into the session
        st.sampled_from(["given", "partial", "withheld", "refused"]),
        st.sampled_from([50, 150, 200, 260]),
        st.booleans(),  # confirm a breach when asked
    ),
    min_size=1,
    max_size=8,
)


class Rollback(Exception):
    pass


@pytest.fixture
def patients(on_prescription, api_as):
    """Two patients in maintenance at Oslo with ten days of imported history; the first
    may also be dosed at Bergen today."""
    with clock.at(local(TODAY - timedelta(days=1), 12)):
        made = [on_prescription(days=10)["patient"] for _ in range(2)]
        response = api_as("doctor.oslo").post(
            f"/patients/{made[0]}/guest-dosing",
            {"clinic": "bergen", "valid_from": str(TODAY), "valid_to": str(TODAY)},
        )
    assert response.status_code == 201, response.content
    return made


def _assessment():
    return {"sedation": 1, "breath_alcohol_permille": 0, "respiratory_rate": 14}


def _act(step, patients, clinics, users) -> None:
    kind, which, slot, minutes, status, mg, confirm = step
    patient = patients[which]
    amount = mg if status in ("given", "partial") else 0
    moment = local(TODAY, SLOTS[slot]) + timedelta(minutes=minutes)
    home = Episode.objects.get(patient_id=patient, ended_on__isnull=True).clinic.code
    nurse = Actor.system(users[f"nurse.{home}"])
    with clock.at(min(moment, local(TODAY, 17, 20))):
        if kind in ("dose", "guest"):
            code = ("bergen" if home == "oslo" else "oslo") if kind == "guest" else home
            services.administration_record(
                actor=Actor.system(users[f"nurse.{code}"]),
                clinic=clinics[code],
                patient_id=patient,
                day=TODAY,
                slot=slot,
                medication="dam_injectable",
                dose_mg=amount,
                route="iv",
                status=status,
                assessment=_assessment(),
                withheld_reason=REASON.get(status, ""),
            )
        elif kind == "correct":
            records = effective(Administration.objects.filter(patient_id=patient, day=TODAY))
            if not records:
                return
            target = max(records, key=lambda r: r.pk)
            services.administration_correct(
                actor=Actor.system(users[f"nurse.{target.clinic.code}"]),
                administration_id=target.pk,
                reason="Feil registrert",
                dose_mg=amount,
                status=status,
                assessment=_assessment(),
                confirm_breach=confirm,
            )
        elif kind == "paper":
            services.administration_back_enter(
                actor=nurse,
                clinic=clinics[home],
                patient_id=patient,
                day=TODAY,
                slot=slot,
                medication="dam_injectable",
                dose_mg=amount,
                status=status,
                given_at=local(TODAY, SLOTS[slot]) + timedelta(minutes=minutes // 2),
                given_by=f"nurse.{home}",
                assessment=_assessment(),
                withheld_reason=REASON.get(status, ""),
                confirm_breach=confirm,
                breach_reason="Papirlisten viser dette" if confirm else "",
            )
        elif kind == "close":
            services.session_close(
                actor=nurse,
                clinic=clinics[home],
                day=TODAY,
                slot=slot,
                observing_confirmed=patients,
            )
        else:
            episode = Episode.objects.get(patient_id=patient, ended_on__isnull=True)
            intake.episode_transfer(
                actor=Actor.system(users[f"clinic_lead.{home}"]),
                episode_id=episode.pk,
                to_clinic="bergen" if home == "oslo" else "oslo",
                on=TODAY,
            )


def _equal() -> None:
    count, shown = summaries.differences()
    assert count == 0, shown


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_the_summaries_equal_the_records_after_every_write(patients, staff, steps):
    clinics = {c.code: c for c in Clinic.objects.all()}
    users = {u.username: u for u in User.objects.all()}
    try:
        with transaction.atomic():
            summaries.rebuild()  # the imported history
            _equal()
            for step in steps:
                try:
                    with transaction.atomic():
                        _act(step, patients, clinics, users)
                except DomainError:
                    pass  # refused: nothing was written
                _equal()
            raise Rollback
    except Rollback:
        pass


def _dose(patient, clinic, user, slot, mg, status="given", reason=""):
    with clock.at(local(TODAY, SLOTS[slot], 5)):
        return services.administration_record(
            actor=Actor.system(user),
            clinic=clinic,
            patient_id=patient,
            day=TODAY,
            slot=slot,
            medication="dam_injectable",
            dose_mg=mg,
            route="iv",
            status=status,
            assessment=_assessment(),
            withheld_reason=reason,
        ).administration


def test_a_dose_and_its_correction_move_the_day_as_a_nurse_reads_it(patients, staff, clinics):
    patient, nurse, oslo = patients[0], staff["nurse.oslo"], clinics["oslo"]
    summaries.rebuild()
    first = _dose(patient, oslo, nurse, "morning", 200)
    day = PatientDay.objects.get(patient_id=patient, day=TODAY)
    assert (day.taken, day.given, day.taken_mg, day.injected_mg) == (1, 1, 200, 200)
    assert day.first_at == day.last_at == first.given_at
    _dose(patient, oslo, nurse, "afternoon", 0, "withheld", "Sedert")
    day = PatientDay.objects.get(patient_id=patient, day=TODAY)  # recomputed: a new row
    assert (day.taken, day.withheld, day.taken_mg) == (1, 1, 200)
    withheld = ClinicDay.objects.get(clinic=oslo, day=TODAY, status="withheld")
    assert (withheld.records, withheld.withheld_reason) == (1, "Sedert")

    with clock.at(local(TODAY, 9)):
        services.administration_correct(
            actor=Actor.system(nurse),
            administration_id=first.pk,
            reason="Feil mengde registrert",
            dose_mg=150,
            status="partial",
            assessment=_assessment(),
        )
    day = PatientDay.objects.get(patient_id=patient, day=TODAY)
    assert (day.taken, day.given, day.partial, day.taken_mg) == (1, 0, 1, Decimal(150))
    # The replaced record's count is gone, not left at nought.
    assert not ClinicDay.objects.filter(clinic=oslo, day=TODAY, status="given").exists()
    partial = ClinicDay.objects.get(clinic=oslo, day=TODAY, status="partial")
    assert (partial.records, partial.mg) == (1, Decimal(150))
    _equal()


def test_a_session_close_counts_its_missed_records(patients, staff, clinics):
    summaries.rebuild()
    with clock.at(local(TODAY, 11)):
        services.session_close(
            actor=Actor.system(staff["nurse.oslo"]),
            clinic=clinics["oslo"],
            day=TODAY,
            slot="morning",
        )
    missed = ClinicDay.objects.get(clinic=clinics["oslo"], day=TODAY, status="missed")
    # The first patient may still come to Bergen in this session: not missed.
    assert missed.records == Administration.objects.filter(day=TODAY, status="missed").count() == 1
    assert PatientDay.objects.get(patient_id=patients[1], day=TODAY).missed == 1
    assert not PatientDay.objects.filter(patient_id=patients[0], day=TODAY).exists()
    _equal()


def test_verify_finds_a_changed_row_and_rebuild_puts_it_right(patients, staff, clinics):
    call_command("rebuild-summaries", stdout=StringIO())
    out = StringIO()
    call_command("verify-summaries", stdout=out)
    assert "equal" in out.getvalue()

    day = PatientDay.objects.filter(patient_id=patients[0]).order_by("day").last()
    PatientDay.objects.filter(pk=day.pk).update(taken_mg=day.taken_mg + 1)
    ClinicDay.objects.filter(clinic=clinics["oslo"]).order_by("day").first().delete()
    out = StringIO()
    with pytest.raises(SystemExit) as exit:
        call_command("verify-summaries", stdout=out)
    assert exit.value.code == 1
    # The changed patient-day both ways, and the deleted count.
    assert "3 summary rows differ" in out.getvalue()
    assert str(patients[0]) in out.getvalue()

    out = StringIO()
    call_command("rebuild-summaries", "--clinic", "oslo", stdout=out)
    assert "rebuilt" in out.getvalue()
    call_command("verify-summaries", stdout=StringIO())


def test_rebuild_from_a_day_leaves_the_days_before_alone(patients, clinics):
    call_command("rebuild-summaries", stdout=StringIO())
    days = sorted(set(PatientDay.objects.values_list("day", flat=True)))
    before, since = days[0], days[-3]
    PatientDay.objects.all().delete()
    call_command("rebuild-summaries", "--from", str(since), stdout=StringIO())
    assert not PatientDay.objects.filter(day=before).exists()
    assert PatientDay.objects.filter(day=since).count() == len(patients)
    count, _shown = summaries.differences(since=since)
    assert count == 0
    count, _shown = summaries.differences(clinic_ids=[clinics["oslo"].pk])
    assert count > 0


@pytest.mark.parametrize(
    "options, message",
    [
        (["--clinic", "nowhere"], "No clinic with code 'nowhere'"),
        (["--from", "1.12"], "not a date"),
    ],
)
def test_a_wrong_option_is_named(options, message, clinics):
    for command in ("rebuild-summaries", "verify-summaries"):
        with pytest.raises(CommandError, match=message):
            call_command(command, *options)
