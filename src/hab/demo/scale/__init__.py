"""A synthetic programme at a chosen size, written in bulk: ``hab generate``.

Where the demo (``hab demo``) writes its few hundred patients through the services,
this writes years of a national programme as rows: the patient flow is planned first
(:mod:`.plan`), the registry, intake and follow-up rows are written by this process, and
each clinic's dosing and ledger (:mod:`.clinic`) by a worker process of its own on
PostgreSQL (``COPY``), or in turn on SQLite (``executemany``). The rows are the ones the
application's own writes would leave: the same constraints, the same hash chain, the same
dose decision. Run it on an empty, migrated database.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import time
import types
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, connections, transaction
from django.utils import timezone, translation

from hab.core.demo import SLOTS, demo_org_number
from hab.core.models import (
    Clinic,
    Membership,
    RoleChangeKind,
    RoleChangeProposal,
    SessionSlot,
    User,
)
from hab.core.roles import Grant, Role
from hab.demo.scale import sink as sinks
from hab.demo.scale.clinic import ClinicRun, Clock
from hab.demo.scale.plan import CLINICS, SCALES, Plan, Scale, plan, scale_for  # noqa: F401
from hab.demo.stock import PRODUCTS, fest_fields
from hab.dosing import rules
from hab.dosing.selectors import protocol_rules
from hab.intake.demo import ORGANISATIONS, SOURCES
from hab.intake.models import CriteriaSet
from hab.patients.demo import FAMILY, GIVEN
from hab.patients.national_id import make_synthetic
from hab.patients.services import research_id_for
from hab.prescribing.demo import DEMO_VALUES
from hab.prescribing.models import DosingProtocol, ProtocolSignoff
from hab.research import instruments
from hab.research import rules as research_rules
from hab.research.demo import _FollowUpDemo, _Person
from hab.stock.models import LedgerHead, Product

STREETS = ["Storgata", "Kirkegata", "Jernbanegata", "Strandgata", "Parkveien", "Skolegata"]
EXTRA_NURSES_PER = 40  # one more nurse for every this many places


@dataclass
class Setup:
    clinics: list[int]
    codes: list[str]
    staff: list[dict]
    slots: list[tuple[str, int, int]]
    protocols: list[int]
    products: list[dict]
    person_base: int = 0
    stay_base: int = 0
    # Each clinic's protocol as the dose decision reads it.
    rules: list[rules.Protocol] = field(default_factory=list)


@dataclass
class Result:
    scale: Scale
    seed: int
    database: str
    workers: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    people: int = 0
    stays: int = 0
    open_stays: int = 0
    overdoses: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def total_seconds(self) -> float:
        return self.seconds.get("total", 0.0)


def _seconds(hours: int, minutes: int = 0) -> int:
    return hours * 3600 + minutes * 60


def generate(scale: Scale, *, seed: int = 2026, workers: int = 2, log=lambda line: None) -> Result:
    started = time.perf_counter()
    sinks.check_columns()
    pg = sinks.postgres()
    workers = max(1, workers) if pg and not connection.in_atomic_block else 1
    codes = [c[0] for c in CLINICS[: scale.clinics]]
    if Clinic.objects.filter(code__in=codes).exists():
        raise RuntimeError("The database already has these clinics: generate into an empty one.")
    result = Result(scale, seed, connection.vendor, workers)
    today = timezone.localdate()
    rng = random.Random(seed)
    programme = plan(scale, today, rng)
    result.people, result.stays = len(programme.people), len(programme.stays)
    result.open_stays = sum(1 for s in programme.stays if s.ended_on is None)
    result.seconds["plan"] = time.perf_counter() - started
    log(
        f"Planned {scale.clinics} clinics, {result.people} patients, {result.stays} episodes "
        f"({result.open_stays} open) from {programme.start} ({result.seconds['plan']:.1f} s)."
    )
    zone = timezone.get_current_timezone()
    with translation.override(settings.LANGUAGE_CODE):
        if pg:
            total = _generate(programme, rng, seed, workers, zone, result, log)
        else:
            with sinks.loading(), transaction.atomic():
                total = _generate(programme, rng, seed, workers, zone, result, log)
    result.rows = dict(total)
    result.seconds["total"] = time.perf_counter() - started
    return result


def _generate(programme: Plan, rng, seed, workers, zone, result: Result, log):
    mark = time.perf_counter()
    setup = _setup(programme)
    sink = sinks.Sink()
    with sinks.loading():
        _people(programme, setup, sink, rng, zone)
        sink.flush()
    result.seconds["registry"] = time.perf_counter() - mark
    log(f"Registry, intake and follow-up written ({result.seconds['registry']:.1f} s).")
    mark = time.perf_counter()
    indexes = []
    if sink.pg and not connection.in_atomic_block:
        indexes = sinks.secondary_indexes(sinks.BIG)
        sinks.drop_indexes(indexes)
    total: dict[str, int] = dict(sink.added)
    try:
        jobs = _jobs(programme)
        if workers > 1:
            connections.close_all()
            context = multiprocessing.get_context("fork")
            global _JOB
            _JOB = (programme, setup, seed, zone)
            with context.Pool(workers) as pool:
                outcomes = list(pool.imap_unordered(_clinic_job, jobs))
        else:
            outcomes = []
            with sinks.loading():
                for index in jobs:
                    outcomes.append(_clinic(programme, setup, index, seed, zone, sink))
                sink.flush()
        result.seconds["dosing"] = time.perf_counter() - mark
        log(f"Dosing and ledger written ({result.seconds['dosing']:.1f} s).")
    finally:
        mark = time.perf_counter()
        sinks.create_indexes(indexes)
        result.seconds["indexes"] = time.perf_counter() - mark
    heads = []
    for index, stats, written in outcomes:
        result.overdoses += stats["overdoses"]
        heads.append(
            LedgerHead(clinic_id=setup.clinics[index], seq=stats["seq"], hash=stats["hash"])
        )
        for table, count in written.items():
            total[table] = total.get(table, 0) + count
    LedgerHead.objects.bulk_create(heads)
    if sink.pg:
        # VACUUM as well (outside a transaction): it marks the freshly written pages
        # all-visible, which the index-only reads of the board and the export need; left
        # to autovacuum, the first hours' reads visit the table for every row.
        mark = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
        result.seconds["vacuum, analyze"] = time.perf_counter() - mark
    return total


_JOB = None


def _jobs(programme: Plan) -> list[int]:
    """Clinics, largest first, so the workers finish together."""
    size = [0] * len(programme.capacities)
    for stay in programme.stays:
        size[stay.clinic] += ((stay.ended_on or programme.today) - stay.admitted_on).days
    return sorted(range(len(size)), key=lambda i: -size[i])


def _clinic_job(index: int):
    programme, setup, seed, zone = _JOB
    sink = sinks.Sink()
    with translation.override(settings.LANGUAGE_CODE), sinks.loading():
        outcome = _clinic(programme, setup, index, seed, zone, sink)
        sink.flush()
    connection.close()
    return outcome[0], outcome[1], dict(sink.added)


def _clinic(programme, setup, index, seed, zone, sink):
    before = dict(sink.added)
    stats = ClinicRun(programme, setup, index, sink, seed, zone).run()
    return index, stats, {t: n - before.get(t, 0) for t, n in sink.added.items()}


# --- clinics, staff, protocols, products --------------------------------------------------


def _setup(programme: Plan) -> Setup:
    password = make_password(settings.DEMO_PASSWORD)
    start = programme.start
    created = timezone.make_aware(
        timezone.datetime.combine(start - timedelta(days=30), timezone.datetime.min.time())
    )
    setup = Setup([], [], [], [], [], [])
    setup.slots = [
        (code, _seconds(s.hour, s.minute), _seconds(e.hour, e.minute)) for code, _n, s, e in SLOTS
    ]
    rng = random.Random(len(programme.capacities))
    for index, capacity in enumerate(programme.capacities):
        code, name, region, _size = CLINICS[index]
        clinic = Clinic.objects.create(
            code=code,
            name=name,
            health_region=region,
            capacity=capacity,
            org_number=demo_org_number(index),
        )
        SessionSlot.objects.bulk_create(
            SessionSlot(clinic=clinic, code=c, name=n, starts_at=s, ends_at=e)
            for c, n, s, e in SLOTS
        )
        users = {}
        for role in Role:
            users[role.value] = User(
                username=f"{role.value}.{code}",
                first_name=rng.choice(GIVEN["female"] + GIVEN["male"]),
                last_name=rng.choice(FAMILY),
                password=password,
                hpr_number=str(rng.randint(1_000_000, 9_999_999))
                if role in (Role.DOCTOR, Role.NURSE, Role.PSYCHOLOGIST)
                else "",
                # Staff for the Django admin, never superuser (hab.core.admin_rights).
                is_staff=role == Role.ADMIN,
            )
        extra = [
            User(
                username=f"nurse{n}.{code}",
                first_name=rng.choice(GIVEN["female"] + GIVEN["male"]),
                last_name=rng.choice(FAMILY),
                password=password,
                hpr_number=str(rng.randint(1_000_000, 9_999_999)),
            )
            for n in range(2, 2 + capacity // EXTRA_NURSES_PER)
        ]
        User.objects.bulk_create([*users.values(), *extra])
        saved = {u.username: u for u in User.objects.filter(username__endswith=f".{code}")}
        Membership.objects.bulk_create(
            [Membership(user=saved[u.username], clinic=clinic, role=r) for r, u in users.items()]
            + [Membership(user=saved[u.username], clinic=clinic, role=Role.NURSE) for u in extra]
        )
        staff = {role: saved[u.username].pk for role, u in users.items()}
        staff["nurses"] = [staff["nurse"]] + [saved[u.username].pk for u in extra]
        # One role change waiting for a second person, as in the small demo: the role page
        # shows the flow (the administrator proposes, the clinic lead decides).
        RoleChangeProposal.objects.create(
            at=created,
            proposed_by_id=staff["admin"],
            user_id=staff["researcher"],
            clinic=clinic,
            kind=RoleChangeKind.GRANT,
            role=Grant.RESEARCH_EXPORT_DATES,
            reason="Koblingsstudie mot Reseptregisteret godkjent av REK",
        )
        protocol = DosingProtocol.objects.create(
            clinic=clinic,
            version=1,
            created_at=created,
            created_by_id=staff["clinic_lead"],
            doctor_id=staff["doctor"],
            reason="Demoverdier, ikke en klinisk anbefaling (protocol-defaults.md).",
            demo_values=True,
            **DEMO_VALUES,
        )
        # In force from the start: the named doctor confirmed it (as the demo's doctors do
        # with their password through protocol_confirm).
        ProtocolSignoff.objects.create(
            protocol=protocol,
            doctor_id=staff["doctor"],
            confirmed_at=created,
            channel="system",
        )
        products = {}
        for pcode, pname, medication, form, concentration, pack in PRODUCTS:
            product = Product.objects.create(
                clinic=clinic,
                code=pcode,
                name=pname,
                medication=medication,
                form=form,
                concentration_mg_per_ml=concentration,
                **fest_fields(pcode),
            )
            products[medication] = (product.pk, pack, pcode)
        setup.clinics.append(clinic.pk)
        setup.codes.append(code)
        setup.staff.append(staff)
        setup.protocols.append(protocol.pk)
        setup.rules.append(protocol_rules(protocol))
        setup.products.append(products)
    return setup


# --- registry, intake, follow-up -----------------------------------------------------------


def _people(programme: Plan, setup: Setup, sink, rng: random.Random, zone) -> None:
    clock = Clock(zone, sink.pg)
    db = clock.db
    staff, codes = setup.staff, setup.codes
    setup.person_base = _block(sink, "patients_patient", len(programme.people))
    setup.stay_base = _block(sink, "intake_episode", len(programme.stays))
    used: set[str] = set()
    for person in programme.people:
        pid = setup.person_base + person.id
        born = date(1962, 1, 1) + timedelta(days=rng.randint(0, 365 * 38))
        d_number = rng.random() < 0.06
        while True:
            individual = rng.randint(0, 249) * 2 + (1 if person.sex == "male" else 0)
            national_id = make_synthetic(born, individual, d_number=d_number)
            if national_id and national_id not in used:
                used.add(national_id)
                break
        coordinator = staff[person.clinic]["coordinator"]
        registered = db(person.registered_on, _seconds(9))
        sink.add(
            "patients_patient",
            (
                pid,
                setup.clinics[person.clinic],
                national_id,
                "dnr" if d_number else "fnr",
                True,
                born.isoformat(),
                rng.choice(GIVEN[person.sex]),
                rng.choice(FAMILY),
                f"+47 9{rng.randint(1000000, 9999999)}" if rng.random() < 0.8 else "",
                f"{rng.choice(STREETS)} {rng.randint(1, 120)}" if rng.random() < 0.7 else "",
                "",
                research_id_for(national_id),
                registered,
                coordinator,
                registered,
            ),
        )
        kinds = [("treatment", 300)] + ([("research", 360)] if person.research else [])
        for kind, second in kinds:
            sink.add(
                "patients_consent",
                (
                    sink.ids.take("patients_consent"),
                    pid,
                    kind,
                    True,
                    db(person.registered_on, _seconds(9) + second),
                    coordinator,
                    "",
                ),
            )
        sink.add(
            "core_accesslog",
            (
                sink.ids.take("core_accesslog"),
                registered,
                coordinator,
                f"coordinator.{codes[person.clinic]}",
                "coordinator",
                pid,
                setup.clinics[person.clinic],
                "create",
                "patient",
                '{"import": "generated programme"}',
                "system",
                None,
                "care",
                "",
            ),
        )
    _referrals(programme, setup, sink, rng, clock)
    _episodes(programme, setup, sink, clock)
    _follow_ups(programme, setup, sink, rng, clock)


def _block(sink, table: str, count: int) -> int:
    """A run of ``count`` consecutive ids."""
    first = sink.ids.take(table)
    sink.ids.next[table] = first + count
    if sink.ids.end[table] < first + count:
        if sink.pg:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, first + count]
                )
        sink.ids.end[table] = first + count
    return first


def _referrals(programme: Plan, setup: Setup, sink, rng, clock: Clock) -> None:
    db = clock.db
    criteria = CriteriaSet.objects.order_by("-version").first()
    codes = list(criteria.criteria.values_list("code", flat=True))
    answers_yes = json.dumps(dict.fromkeys(codes, True))
    sources = [s for s, _w in SOURCES]
    weights = [w for _s, w in SOURCES]
    base = _block(sink, "intake_referral", len(programme.referrals))
    programme.referral_base = base
    for index, referral in enumerate(programme.referrals):
        rid = base + index
        staff = setup.staff[referral.clinic]
        pid = setup.person_base + referral.person.id
        source = rng.choices(sources, weights)[0]
        status = referral.status
        eligible_on = (
            referral.assessed_on if status in ("eligible", "waitlisted", "admitted") else None
        )
        received = referral.received_on
        sink.add(
            "intake_referral",
            (
                rid,
                pid,
                setup.clinics[referral.clinic],
                source,
                rng.choice(ORGANISATIONS[source]),
                "",
                received.isoformat(),
                "Henvisningsbrev",
                "",
                status,
                eligible_on.isoformat() if eligible_on else None,
                False,
                "",
                referral.offered_on.isoformat() if referral.offered_on else None,
                db(received, _seconds(9)),
                staff["coordinator"],
            ),
        )
        events = [(received, _seconds(9), staff["coordinator"], "received", "", "received", "")]
        if status in ("eligible", "waitlisted", "admitted", "not_eligible"):
            eligible = status != "not_eligible"
            on = referral.assessed_on
            answers = answers_yes
            if not eligible:
                answers = json.dumps({**dict.fromkeys(codes, True), codes[-1]: False})
            sink.add(
                "intake_eligibilityassessment",
                (
                    sink.ids.take("intake_eligibilityassessment"),
                    rid,
                    criteria.pk,
                    answers,
                    "{}",
                    eligible,
                    "" if eligible else "Ikke forsøkt LAR tilstrekkelig.",
                    on.isoformat(),
                    staff["doctor"],
                    db(on, _seconds(13)),
                ),
            )
            events.append(
                (
                    on,
                    _seconds(13),
                    staff["doctor"],
                    "assessment",
                    "received",
                    "eligible" if eligible else "not_eligible",
                    "",
                )
            )
            if status in ("waitlisted", "admitted"):
                events.append(
                    (
                        on,
                        _seconds(14),
                        staff["coordinator"],
                        "waitlisted",
                        "eligible",
                        "waitlisted",
                        "",
                    )
                )
        if referral.offered_on:
            events.append(
                (
                    referral.offered_on,
                    _seconds(15),
                    staff["clinic_lead"],
                    "offered",
                    "",
                    "",
                    referral.offered_on.isoformat(),
                )
            )
        if status == "admitted":
            events.append(
                (
                    referral.stay.admitted_on,
                    _seconds(8),
                    staff["clinic_lead"],
                    "admitted",
                    "waitlisted",
                    "admitted",
                    "",
                )
            )
        elif status in ("assessing", "withdrawn"):
            on = referral.assessed_on or min(programme.today, received + timedelta(days=2))
            events.append(
                (
                    on,
                    _seconds(12),
                    staff["coordinator"],
                    "status",
                    "received",
                    status,
                    "Ønsker ikke HAB likevel" if status == "withdrawn" else "",
                )
            )
        for on, seconds, by, kind, old, new, note in events:
            sink.add(
                "intake_referralevent",
                (
                    sink.ids.take("intake_referralevent"),
                    rid,
                    db(on, seconds),
                    by,
                    kind,
                    old,
                    new,
                    note,
                ),
            )


def _episodes(programme: Plan, setup: Setup, sink, clock: Clock) -> None:
    db = clock.db
    base = setup.stay_base
    for stay in programme.stays:
        staff = setup.staff[stay.clinic]
        referral = stay.root.referral
        rid = programme.referral_base + referral if referral is not None else None
        note = "Død; melding fra pårørende." if stay.end_reason == "death" else ""
        if stay.end_reason == "transfer_hab":
            note = "Flytter"
        sink.add(
            "intake_episode",
            (
                base + stay.id,
                setup.person_base + stay.person.id,
                setup.clinics[stay.clinic],
                rid,
                base + stay.previous.id if stay.previous else None,
                stay.admitted_on.isoformat(),
                stay.phase,
                staff["coordinator"],
                stay.ended_on.isoformat() if stay.ended_on else None,
                stay.end_reason,
                note,
                stay.death_on.isoformat() if stay.death_on else None,
                db(stay.admitted_on, _seconds(8)),
                staff["clinic_lead"],
            ),
        )
        if stay.previous is None:
            first = (
                "admitted",
                stay.admitted_on,
                _seconds(8),
                staff["clinic_lead"],
                {
                    "phase": "induction" if stay.phases else stay.phase,
                    "coordinator": f"coordinator.{setup.codes[stay.clinic]}",
                },
            )
        else:
            first = (
                "transfer_in",
                stay.admitted_on,
                _seconds(10),
                staff["clinic_lead"],
                {"source": setup.codes[stay.previous.clinic]},
            )
        events = [first]
        for on, old, new in stay.phases:
            events.append(("phase", on, _seconds(12), staff["doctor"], {"old": old, "new": new}))
        if stay.end_reason == "transfer_hab":
            events.append(
                (
                    "transfer_out",
                    stay.ended_on,
                    _seconds(10),
                    staff["clinic_lead"],
                    {"to": setup.codes[_next_clinic(programme, stay)]},
                )
            )
        elif stay.ended_on:
            events.append(
                (
                    "discharged",
                    stay.ended_on,
                    _seconds(15),
                    staff["doctor"],
                    {"reason": stay.end_reason},
                )
            )
        for kind, on, seconds, by, details in events:
            sink.add(
                "intake_episodeevent",
                (
                    sink.ids.take("intake_episodeevent"),
                    base + stay.id,
                    db(on, seconds),
                    on.isoformat(),
                    by,
                    kind,
                    json.dumps(details, ensure_ascii=False),
                ),
            )


def _next_clinic(programme: Plan, stay) -> int:
    following = programme.__dict__.setdefault(
        "following", {s.previous.id: s for s in programme.stays if s.previous is not None}
    )
    return following[stay.id].clinic


def _follow_ups(programme: Plan, setup: Setup, sink, rng, clock: Clock) -> None:
    """Every course's schedule (``research.rules.schedule``), the interviews done and the
    time points missed, with the answers the demo gives (``hab.research.demo``)."""
    db = clock.db
    today = programme.today
    instrument = instruments.instrument_by_code(instruments.CORE)
    items = list(instrument.items.all())
    values = types.SimpleNamespace(rng=rng)
    following = {s.previous.id: s for s in programme.stays if s.previous is not None}
    for root in programme.stays:
        if root.previous is not None:
            continue
        last = root
        while last.id in following:
            last = following[last.id]
        ended = last.ended_on
        coordinator = setup.staff[last.clinic]["coordinator"]
        person = _Person(rng)
        share = 0.86 if root.person.research else 0.5
        for slot in research_rules.schedule(root.admitted_on):
            follow_up = sink.ids.take("research_followup")
            sink.add(
                "research_followup",
                (
                    follow_up,
                    setup.stay_base + root.id,
                    setup.person_base + root.person.id,
                    slot.timepoint,
                    slot.due_on.isoformat(),
                    slot.window_from.isoformat(),
                    slot.window_to.isoformat(),
                ),
            )
            reason = research_rules.missed_reason(slot, today, ended, answered=False)
            if reason == research_rules.ENDED:
                missed_on = min(ended + timedelta(days=1), today)
                sink.add(
                    "research_missed",
                    (
                        sink.ids.take("research_missed"),
                        follow_up,
                        db(missed_on, _seconds(2)),
                        reason,
                    ),
                )
                continue
            if slot.window_from > today:
                continue
            if reason == research_rules.WINDOW_CLOSED:
                done = rng.random() < share
                if not done:
                    missed_on = min(slot.window_to + timedelta(days=1), today)
                    sink.add(
                        "research_missed",
                        (
                            sink.ids.take("research_missed"),
                            follow_up,
                            db(missed_on, _seconds(2)),
                            reason,
                        ),
                    )
                    continue
            else:
                done = (slot.months == 0 and rng.random() < 0.6) or (
                    today > slot.due_on and rng.random() < 0.35
                )
                if not done:
                    continue
            earliest = max(slot.window_from, root.admitted_on)
            latest = min(slot.window_to, today - timedelta(days=1))
            if ended is not None:
                latest = min(latest, max(ended, earliest))
            if latest < earliest:
                continue
            around = slot.due_on + timedelta(days=round(rng.gauss(4, 8)))
            day = min(max(around, earliest), latest)
            response = sink.ids.take("research_response")
            recorded = min(
                day + timedelta(days=rng.choice([0, 0, 1, 2])), today - timedelta(days=1)
            )
            sink.add(
                "research_response",
                (
                    response,
                    follow_up,
                    instrument.pk,
                    day.isoformat(),
                    db(recorded, _seconds(15)),
                    coordinator,
                    None,
                    "",
                ),
            )
            answers = _FollowUpDemo._values(values, person, slot.months)
            for item in items:
                value = answers.get(item.code)
                if value is None or value == "":
                    continue
                text = item.type == "text"
                sink.add(
                    "research_answer",
                    (
                        sink.ids.take("research_answer"),
                        response,
                        item.pk,
                        None if text else value,
                        None,
                        value if text else "",
                    ),
                )
