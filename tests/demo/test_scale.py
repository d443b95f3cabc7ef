"""The bulk generator (``hab generate``): a tiny programme obeys what the application's
own writes guarantee: one record per patient and session, every dose the dose decision
allows, ledger balances that add up and a hash chain that verifies, consistent episodes,
and the dosing board and evaluation render on it."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from hab.core.models import Clinic, User
from hab.demo.scale.sink import COLUMNS
from hab.dosing import rules, summaries
from hab.dosing.models import (
    Administration,
    ClinicDay,
    Observation,
    PatientDay,
    SessionClose,
)
from hab.dosing.selectors import protocol_rules, window_start
from hab.incidents.models import Incident
from hab.intake.models import Episode
from hab.patients.models import Patient
from hab.prescribing.models import DosingProtocol, Prescription
from hab.research.models import FollowUp, Response
from hab.stock import services as stock_services
from hab.stock.models import LedgerEntry, LedgerHead
from tests.demo.conftest import generated

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme():
    return generated("40", clinics=2, years=0.25, seed=11)


def test_it_writes_every_part_of_the_programme(programme):
    rows = programme.rows
    for table in COLUMNS:
        if table not in ("incidents_incident", "incidents_incidentevent"):
            assert rows.get(table, 0) > 0, table
    assert Clinic.objects.count() == 2
    assert Patient.objects.count() == programme.people
    # About 85-90 % of the sessions due were attended.
    due = Administration.objects.count()
    missed = Administration.objects.filter(status="missed").count()
    assert 0.75 < 1 - missed / due < 0.95
    statuses = set(Administration.objects.values_list("status", flat=True))
    assert {"given", "missed"} <= statuses
    # Titration: a patient's first doses are the protocol's 15 mg, then 30 mg.
    first = Episode.objects.filter(previous__isnull=True).order_by("id").first()
    doses = list(
        Administration.objects.filter(episode=first, status="given")
        .order_by("given_at")
        .values_list("dose_mg", flat=True)[:2]
    )
    assert doses == [Decimal("15.0"), Decimal("30.0")]


def test_no_patient_is_dosed_twice_in_a_session(programme):
    twice = (
        Administration.objects.values("patient", "day", "slot", "group")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not twice.exists()


def test_every_dose_is_what_the_dose_decision_allowed(programme):
    """Each record replayed through ``rules.decide`` with the history before it."""
    protocols = {p.clinic_id: protocol_rules(p) for p in DosingProtocol.objects.all()}
    prescriptions = {p.pk: p for p in Prescription.objects.all()}
    zone = timezone.get_current_timezone()
    records = defaultdict(list)
    for record in Administration.objects.order_by("given_at", "id"):
        records[(record.patient_id, record.group)].append(record)
    checked = 0
    for history in records.values():
        for index, record in enumerate(history):
            rx = prescriptions[record.prescription_id]
            assert rx.stopped_on is None
            later = [
                p for p in prescriptions.values() if p.supersedes_id == rx.pk
            ]  # a newer prescription was not yet written when the dose was given
            assert all(p.created_at > record.given_at for p in later), record.pk
            assert float(record.prescribed_mg) == rx.dose_for(record.slot)
            if record.status not in ("given", "partial"):
                continue
            protocol = protocols[record.clinic_id]
            since = window_start(record.day, protocol)
            before = [
                rules.Dose(r.given_at, r.day, r.slot, r.medication, float(r.dose_mg), r.status)
                for r in history[:index]
            ]
            in_window = [d for d in before if d.day >= since]
            earlier = [d.day for d in before if d.day < since and d.taken]
            titration = None
            if rx.titration_start_mg is not None:
                titration = rules.Titration(
                    float(rx.titration_start_mg),
                    float(rx.titration_step_mg),
                    float(rx.titration_target_mg),
                )
            decision = rules.decide(
                protocol=protocol,
                prescription=rules.Prescription(
                    rx.medication,
                    rx.dose_for(record.slot),
                    float(rx.daily_max_mg),
                    rx.created_at.astimezone(zone).date(),
                    titration,
                ),
                history=in_window,
                now=record.given_at,
                day=record.day,
                slot=record.slot,
                slots_per_day=2,
                in_episode=True,
                taken_before_window=max(earlier) if earlier else None,
                assessment=rules.Assessment(
                    record.sedation, float(record.breath_alcohol_permille), record.respiratory_rate
                ),
            )
            assert not decision.blocked, (record.pk, decision.reasons)
            assert Decimal(str(decision.max_mg)) == record.max_allowed_mg, record.pk
            assert 0 < record.dose_mg <= record.max_allowed_mg <= record.prescribed_mg
            checked += 1
    assert checked > 1000
    daily = (
        Administration.objects.filter(status__in=["given", "partial"])
        .values("patient", "day", "group")
        .annotate(total=Sum("dose_mg"))
    )
    assert max(d["total"] for d in daily if d["group"] == "dam") <= 1000


def test_the_fast_paths_are_the_dose_decision_and_the_chain_on_every_row(monkeypatch):
    """With ``proving`` on, the generator puts every dose through ``rules.decide`` and every
    ledger entry through ``chain.entry_hash`` beside its fast paths and stops at the first
    row where they differ."""
    from hab.demo.scale.clinic import ClinicRun
    from hab.stock import chain

    calls = {"decide": 0, "entry_hash": 0}

    def counted(name, function):
        def call(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return call

    monkeypatch.setattr(ClinicRun, "proving", True)
    monkeypatch.setattr(rules, "decide", counted("decide", rules.decide))
    monkeypatch.setattr(chain, "entry_hash", counted("entry_hash", chain.entry_hash))

    generated("60", clinics=2, years=0.5, seed=7)

    # Every dose the patient came for (all but the missed) was decided by the rules.
    assert calls["decide"] == Administration.objects.exclude(status="missed").count() > 5000
    assert calls["entry_hash"] == LedgerEntry.objects.count() > 5000


def test_the_day_summaries_equal_the_records(programme):
    """The generator fills the day summaries from the records it wrote, to the row."""
    assert PatientDay.objects.count() > 1000
    assert ClinicDay.objects.filter(status="missed").exists()
    assert summaries.differences() == (0, [])


def test_the_ledger_adds_up_and_its_chain_verifies(programme):
    balances: dict[int, Decimal] = defaultdict(Decimal)
    for entry in LedgerEntry.objects.order_by("clinic", "seq"):
        balances[entry.batch_id] += entry.quantity_mg
        assert entry.balance_mg == balances[entry.batch_id] >= 0
    for clinic in Clinic.objects.all():
        verified = stock_services.verify(clinic)
        assert verified.broken is None
        assert verified.entries == LedgerEntry.objects.filter(clinic=clinic).count() > 0
        head = LedgerHead.objects.get(clinic=clinic)
        assert head.seq == verified.entries
    # One debit per dose given, of the dose.
    given = Administration.objects.filter(status__in=["given", "partial"])
    debits = LedgerEntry.objects.filter(kind="administration")
    assert debits.count() == given.count()
    assert debits.aggregate(s=Sum("quantity_mg"))["s"] == -given.aggregate(s=Sum("dose_mg"))["s"]


def test_episodes_agree_with_admissions_transfers_and_doses(programme):
    open_per_patient = (
        Episode.objects.filter(ended_on__isnull=True)
        .values("patient")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not open_per_patient.exists()
    episodes = {e.pk: e for e in Episode.objects.all()}
    today = timezone.localdate()
    for episode in episodes.values():
        assert episode.ended_on is None or episode.ended_on >= episode.admitted_on
        if episode.previous_id:
            previous = episodes[episode.previous_id]
            assert previous.end_reason == "transfer_hab"
            assert previous.ended_on == episode.admitted_on
            assert previous.patient_id == episode.patient_id
    for patient in Patient.objects.all():
        latest = max(
            (e for e in episodes.values() if e.patient_id == patient.pk),
            key=lambda e: e.admitted_on,
            default=None,
        )
        if latest is not None:
            assert patient.clinic_id == latest.clinic_id
    for record in Administration.objects.only("episode", "day", "clinic").iterator():
        episode = episodes[record.episode_id]
        end = episode.ended_on or today
        assert episode.admitted_on <= record.day < end
        assert record.clinic_id == episode.clinic_id
    # Every dose given has its observation; overdoses are incidents.
    taken = Administration.objects.filter(status__in=["given", "partial"]).count()
    assert Observation.objects.count() == taken
    overdoses = Observation.objects.filter(outcome="overdose").count()
    assert Incident.objects.filter(source="observation").count() == overdoses
    assert SessionClose.objects.exists()
    # Follow-ups: a schedule of nine time points for every course.
    courses = Episode.objects.filter(previous__isnull=True).count()
    assert FollowUp.objects.count() == 9 * courses
    assert Response.objects.exists()


def test_every_reference_points_at_a_row(programme):
    """The load skipped the foreign-key triggers: check every key by hand."""
    models = {m._meta.db_table: m for m in django_apps.get_models()}
    with connection.cursor() as cursor:
        for table in COLUMNS:
            for field in models[table]._meta.concrete_fields:
                if not field.is_relation:
                    continue
                parent = field.related_model._meta.db_table
                cursor.execute(
                    f"SELECT COUNT(*) FROM {table} t WHERE t.{field.column} IS NOT NULL "
                    f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = t.{field.column})"
                    if field.related_model._meta.pk.column == "id"
                    else "SELECT 0"
                )
                assert cursor.fetchone()[0] == 0, f"{table}.{field.column}"


def test_the_board_and_the_evaluation_render(programme, client):
    nurse = User.objects.get(username="nurse.oslo")
    client.force_login(nurse)
    page = client.get("/dosing/?slot=afternoon")
    assert page.status_code == 200
    due = Patient.objects.filter(
        clinic__code="oslo", episodes__ended_on__isnull=True, episodes__clinic__code="oslo"
    ).first()
    assert due.family_name in page.content.decode()
    client.force_login(User.objects.get(username="programme.oslo"))
    assert client.get("/evaluation/").status_code == 200


def test_the_command_refuses_a_database_that_has_the_clinics(programme):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="already has"):
        call_command("generate", "--scale", "40", "--clinics", "2", stdout=io.StringIO())


def test_dates_stay_within_the_trial(programme):
    today = timezone.localdate()
    first = Episode.objects.order_by("admitted_on").first().admitted_on
    assert first >= today - timedelta(days=round(0.25 * 365))
    assert not Administration.objects.filter(day__gte=today).exists()


def _catalogue(tables) -> set[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)",
            [list(tables)],
        )
        found = set(cursor.fetchall())
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s)",
            [list(tables)],
        )
        return found | set(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_the_big_tables_get_back_every_index_and_constraint_after_the_load():
    """On PostgreSQL the load drops the big tables' secondary indexes and builds them again
    afterwards, unique constraints included, two at a time."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps its indexes during the load")
    from hab.demo.scale import sink as sinks

    before = _catalogue(sinks.BIG)
    indexes = sinks.secondary_indexes(sinks.BIG)
    assert any("ADD CONSTRAINT" in definition for _t, _n, definition in indexes)
    sinks.drop_indexes(indexes)
    assert {name for _t, name, *_rest in _catalogue(sinks.BIG)}.isdisjoint(
        {name for _t, name, _d in indexes}
    )
    sinks.create_indexes(indexes)
    assert _catalogue(sinks.BIG) == before
