"""One clinic's years of dosing, written as rows: prescriptions (titration, reviews after
missed days, dose changes, stops), administrations for every session (given, partial,
withheld, refused, missed), post-dose observations with the rare overdose and its
incident, closed sessions, and the controlled-drug ledger (weekly deliveries, batch
changes, a debit per dose, witnessed waste, daily counts) hash-chained like every entry.

Each dose is the dose decision of ``hab.dosing.rules.decide`` for the clinic's protocol,
called with the patient's taken doses of the window. Most doses, in a run of days going
on with nothing to limit them, take a fast path that reads the same limits from the same
protocol; tests/demo/test_scale.py generates a programme with ``ClinicRun.proving`` on,
which puts every dose through ``decide`` as well and every ledger entry through
``hab.stock.chain.entry_hash``, and holds both paths equal on every row.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import deque
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache

from hab.demo.scale.plan import Plan, Stay
from hab.dosing import messages, rules
from hab.dosing.selectors import window_start
from hab.prescribing import taper
from hab.stock import chain

# Before a transfer the patient comes every day for this many days and has the full dose,
# so the receiving clinic starts from the course's maintenance dose.
FORCED_DAYS = 10
HMS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]
WITHHELD = [
    ("Sedert (POSS 4) ved ankomst", 4, "0.00"),
    ("Promille over grensen", 1, "0.40"),
    ("Påvirket av benzodiazepiner", 3, "0.00"),
]
MONTH = ["", "JAN", "FEB", "MAR", "APR", "MAI", "JUN", "JUL", "AUG", "SEP", "OKT", "NOV", "DES"]
OTHER_INCIDENTS = [
    ("injection_site", "minor", "Abscess på injeksjonsstedet; henvist til sårpoliklinikk."),
    ("violence", "moderate", "Truende oppførsel i venterommet; vakthold tilkalt."),
    ("seizure", "serious", "Krampeanfall i venterommet; ambulanse tilkalt."),
    ("allergic", "minor", "Kløe og utslett etter dose; antihistamin gitt."),
    ("other", "minor", "Pasienten falt i trappen ved inngangen; ingen skade."),
]


@lru_cache(maxsize=4096)
def reason_text(code: str, severity: str, params: tuple) -> str:
    return messages.text(rules.Reason(code, rules.Severity(severity), dict(params)))


@lru_cache(maxsize=4096)
def titration_step(plan: tuple, previous_mg: float) -> tuple[float, tuple]:
    """``rules.titration_step`` of a plan (start, step, target) after a dose, with its
    reason as the generator keeps it: made once for each plan and dose."""
    step, reason = rules.titration_step(rules.Titration(*plan), previous_mg)
    return step, reason_row(reason)


# Where a status is counted in a day's summary (``tally``): taken first, then each status.
STATUS_COLUMN = {"given": 1, "partial": 2, "withheld": 3, "refused": 4, "missed": 5}


def reason_row(reason: rules.Reason) -> tuple:
    """A reason as the generator keeps it: (code, severity, params as pairs)."""
    return reason.code, reason.severity.value, tuple(reason.params.items())


@lru_cache(maxsize=65536)
def reasons_json(reasons: tuple) -> str:
    """The administration's reasons as the application stores them (their texts)."""
    return json.dumps([reason_text(*r) for r in reasons], ensure_ascii=False)


@lru_cache(maxsize=256)
def doses_json(doses: tuple) -> str:
    return json.dumps(dict(doses))


@lru_cache(maxsize=64)
def json_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def mg(value: float) -> str:
    return f"{value:.1f}"


def tenths(value: int) -> str:
    """An amount kept in tenths of a mg (exact: the ledger's balances are sums)."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}{value // 10}.{value % 10}"


class Clock:
    """Local times of a day as the database's text and as the hash chain's."""

    def __init__(self, zone, pg: bool) -> None:
        self.zone, self.suffix = zone, "+00" if pg else ""
        self.offsets: dict[date, tuple[str, int]] = {}
        self._day = None  # the day last asked for: its prefixes (days come in order)
        self._db = self._hashed = ""
        self._offset = 0

    def day(self, day: date) -> tuple[str, int]:
        found = self.offsets.get(day)
        if found is None:
            from datetime import datetime, time

            noon = datetime.combine(day, time(12), tzinfo=self.zone)
            found = self.offsets[day] = (day.isoformat(), int(noon.utcoffset().total_seconds()))
        return found

    def _switch(self, day: date) -> None:
        iso, self._offset = self.day(day)
        self._db, self._hashed, self._day = iso + " ", iso + "T", day

    def db(self, day: date, seconds: int) -> str:
        if day != self._day:
            self._switch(day)
        return self._db + HMS[seconds - self._offset] + self.suffix

    def hashed(self, day: date, seconds: int) -> str:
        if day != self._day:
            self._switch(day)
        return self._hashed + HMS[seconds - self._offset] + ".000000+00:00"


class Group:
    """A patient's medication group at this clinic: the prescription in force and what the
    dose decision reads from the history."""

    __slots__ = (
        "before",
        "daily_max",
        "doses",
        "group",
        "inducted",
        "issued_on",
        "kind",
        "last_day",
        "last_mg",
        "medication",
        "route",
        "run_start",
        "rx",
        "taken",
        "titration",
        "today",
        "today_mg",
    )

    def __init__(self, medication: str) -> None:
        self.medication = medication
        self.kind = rules.MEDICATION_GROUP[medication]
        self.group = self.kind.value
        self.route = "oral" if medication == "methadone_oral" else "iv"
        # The protocol's induction limits apply to this medication in a run's first days.
        self.inducted = medication in rules.INJECTABLE or medication in rules.ORAL_DAM
        # The taken doses of the dose decision's window, each [day, seconds, slot, mg,
        # status, its ``rules.Dose`` once the slow path has needed it], and the last day
        # dosed before the window.
        self.taken: deque[list] = deque()
        self.before: date | None = None
        self.rx = None
        self.doses: dict[str, float] = {}
        self.daily_max = 0.0
        self.titration = None
        self.issued_on = None
        self.last_day = None
        self.last_mg = 0.0
        self.run_start = None
        self.today = None
        self.today_mg = 0.0


class Patient:
    __slots__ = ("absent_left", "arrive", "dam", "episode", "methadone", "nurse", "person", "stay")

    def __init__(self, stay: Stay, rng: random.Random, nurses: list[int], setup) -> None:
        self.stay = stay
        self.person = stay.person.id + setup.person_base  # the rows' ids
        self.episode = stay.id + setup.stay_base
        self.dam = Group("dam_injectable")
        self.methadone = Group("methadone_oral") if stay.root.methadone else None
        self.absent_left = 0
        self.arrive = (rng.randint(5, 150), rng.randint(5, 180))  # minutes into each session
        self.nurse = rng.choice(nurses)


class ClinicRun:
    # On in the tests: every dose through ``rules.decide`` beside the fast path and every
    # ledger entry through ``chain.entry_hash`` beside the text written here, both held
    # equal (a programme is generated some five times slower).
    proving = False

    def __init__(self, plan: Plan, setup, index: int, sink, seed: int, zone) -> None:
        self.plan, self.setup, self.index, self.sink = plan, setup, index, sink
        self.rng = random.Random(seed * 7919 + index)
        self.clinic = setup.clinics[index]
        self.protocol = setup.protocols[index]
        self.rules: rules.Protocol = setup.rules[index]
        self.iso = ""  # the day in one_day, as text
        self.staff = setup.staff[index]
        self.clock = Clock(zone, sink.pg)
        self.products = setup.products[index]  # medication -> (product id, pack mg, code)
        self.batches: dict[str, list[list]] = {"dam_injectable": [], "methadone_oral": []}
        # Where the batches that may still hold stock begin: a batch emptied before the
        # newest is never filled again (deliveries go to the newest or a new one).
        self.first = {"dam_injectable": 0, "methadone_oral": 0}
        self.add = sink.add
        self.take = sink.ids.take
        # The three rows of every dose: their ids from counters.
        self.administration_id = sink.ids.counter("dosing_administration")
        self.observation_id = sink.ids.counter("dosing_observation")
        self.entry_id = sink.ids.counter("stock_ledgerentry")
        self.deliveries = {"dam_injectable": 0, "methadone_oral": 0}
        self.seq, self.prev = 0, chain.GENESIS
        self.events: list[tuple] = []
        self.stats = {"overdoses": 0, "incidents": 0}
        # The day's summaries as its records are written (``tally``).
        self.patient_days: dict[tuple, list] = {}
        self.clinic_days: dict[tuple, list] = {}

    # --- rows ---------------------------------------------------------------------------

    def live(self, medication: str) -> list[list]:
        """The batches from the first that may still hold stock, oldest first."""
        batches = self.batches[medication]
        first = self.first[medication]
        while first < len(batches) - 1 and batches[first][3] <= 0:
            first += 1
        self.first[medication] = first
        return batches[first:] if first else batches

    def prescribe(
        self, p: Patient, g: Group, day: date, seconds: int, target: float, titrate: bool, reason
    ) -> None:
        rx = self.take("prescribing_prescription")
        slots = ("afternoon",) if g.medication == "methadone_oral" else ("morning", "afternoon")
        doses = tuple((s, float(target)) for s in slots)
        protocol = self.rules
        dam_max = protocol.max_daily_mg[rules.Group.DAM]
        daily = 80.0 if g.medication == "methadone_oral" else min(dam_max, target * 2 + 50)
        # The titration plan starts at the protocol's first injection and steps by its
        # first day's most.
        g.titration = (
            (protocol.first_iv_dose_mg, protocol.day1_max_iv_dose_mg, float(target))
            if titrate
            else None
        )
        self.add(
            "prescribing_prescription",
            (
                rx,
                p.stay.person.id + self.setup.person_base,
                p.stay.id + self.setup.stay_base,
                g.medication,
                g.route,
                doses_json(doses),
                mg(daily),
                day.isoformat(),
                None,
                *((mg(v) for v in g.titration) if titrate else (None, None, None)),
                reason,
                g.rx,
                None,
                self.clock.db(day, seconds),
                self.staff["doctor"],
                "",
            ),
        )
        g.rx, g.doses, g.daily_max, g.issued_on = rx, dict(doses), daily, day

    def stop(self, p: Patient, g: Group, day: date, seconds: int, reason: str) -> None:
        if g.rx is None:
            return
        rx = self.take("prescribing_prescription")
        self.add(
            "prescribing_prescription",
            (
                rx,
                p.stay.person.id + self.setup.person_base,
                p.stay.id + self.setup.stay_base,
                g.medication,
                g.route,
                "{}",
                mg(g.daily_max),
                day.isoformat(),
                None,
                None,
                None,
                None,
                reason,
                g.rx,
                day.isoformat(),
                self.clock.db(day, seconds),
                self.staff["doctor"],
                "",
            ),
        )
        g.rx = None

    # --- the dose decision --------------------------------------------------------------

    def decide(self, g: Group, day: date, slot: str, seconds: int, sedation: int):
        """``rules.decide`` for this dose: (prescribed, max, reasons as tuples)."""
        prescribed = g.doses.get(slot, 0.0)
        quick = self.runs_on(g, day, prescribed, sedation)
        if quick is not None:
            fast = prescribed, *quick
            if not self.proving:
                return fast
            assert fast == self.decided(g, day, slot, seconds, sedation, prescribed), (day, slot)
            return fast
        return self.decided(g, day, slot, seconds, sedation, prescribed)

    def runs_on(self, g: Group, day: date, prescribed: float, sedation: int) -> tuple | None:
        """(max, reasons) when the decision is the ordinary one, else None: a run of days
        going on past its induction, no missed day to reduce for, and under every limit of
        the protocol (the same limits ``rules.decide`` reads; the sessions are hours apart)
        but the titration plan's step. The reasons such a dose can have are the step, made
        by the rules' own ``titration_step``, and the warning over the day's injected line,
        made by the rules' own ``iv_over_warn``."""
        protocol = self.rules
        last_day = g.last_day
        if sedation >= protocol.sedation_reduce_level or last_day is None:
            return None
        given_today = g.today_mg if g.today == day else 0.0
        if given_today <= 0:
            missed = (day - last_day).days - 1
            reduce_from = protocol.missed_days_reduce or protocol.missed_days_block
            if missed >= min(reduce_from, protocol.missed_days_block):
                return None
        if g.inducted and (day - g.run_start).days + 1 <= protocol.titration_days:
            return None
        group = g.kind
        if min(g.daily_max, protocol.max_daily_mg[group]) - given_today < prescribed:
            return None
        single_max = protocol.max_single_mg.get(group)
        if single_max is not None and single_max < prescribed:
            return None
        most, reasons = prescribed, ()
        if g.titration is not None:
            step, reason = titration_step(g.titration, g.last_mg)
            if step <= 0:
                return None
            if step < prescribed:
                most, reasons = step, (reason,)
        most = rules.floor_mg(most)
        if g.medication != "dam_injectable":
            return most, reasons
        # Every dose of the group today is injected diacetylmorphine: the group is it.
        warning = rules.iv_over_warn(protocol.iv_warn_daily_mg, given_today, most)
        if warning is None:
            return most, reasons
        return most, (*reasons, reason_row(warning))

    def decided(self, g: Group, day: date, slot: str, seconds: int, sedation: int, prescribed):
        """``rules.decide`` itself, on the group's taken doses of the window."""
        since = window_start(day, self.rules)
        self.forget(g, since)
        offset = self.clock.day(day)[1]
        midnight = datetime.combine(day, time(), UTC)
        titration = rules.Titration(*g.titration) if g.titration is not None else None
        decision = rules.decide(
            protocol=self.rules,
            prescription=rules.Prescription(
                g.medication, prescribed, g.daily_max, g.issued_on, titration
            ),
            history=self.history(g),
            now=midnight + timedelta(seconds=seconds - offset),
            day=day,
            slot=slot,
            slots_per_day=len(self.setup.slots),
            in_episode=True,
            taken_before_window=g.before,
            assessment=rules.Assessment(sedation=sedation),
        )
        # The generator writes the doctor's review before a patient back after missed
        # days is dosed: nothing it doses is blocked.
        assert not decision.blocked, (day, slot, decision.reasons)
        reasons = tuple(reason_row(r) for r in decision.reasons)
        return prescribed, decision.max_mg, reasons

    def history(self, g: Group) -> list[rules.Dose]:
        """The window's taken doses as ``rules.decide`` reads them, each made once, the
        first time the slow path needs it (most doses never take it)."""
        doses = []
        for taken in g.taken:
            if taken[5] is None:
                day, seconds, slot, mg, status = taken[:5]
                midnight = datetime.combine(day, time(), UTC)
                at = midnight + timedelta(seconds=seconds - self.clock.day(day)[1])
                taken[5] = rules.Dose(at, day, slot, g.medication, mg, status)
            doses.append(taken[5])
        return doses

    @staticmethod
    def forget(g: Group, since: date) -> None:
        """Drops the taken doses before the window, keeping the last day among them."""
        taken = g.taken
        while taken and taken[0][0] < since:
            g.before = taken.popleft()[0]

    # --- the days -----------------------------------------------------------------------

    def run(self) -> dict:
        plan, rng = self.plan, self.rng
        stays = sorted(
            (s for s in plan.stays if s.clinic == self.index), key=lambda s: (s.admitted_on, s.id)
        )
        waiting = iter(stays)
        upcoming = next(waiting, None)
        active: list[Patient] = []
        day = plan.opens_on[self.index]
        nurses = self.staff["nurses"]
        while day < plan.today:
            while upcoming is not None and upcoming.admitted_on <= day:
                p = Patient(upcoming, rng, nurses, self.setup)
                self.admit(p, day)
                active.append(p)
                upcoming = next(waiting, None)
            leaving = [p for p in active if p.stay.ended_on is not None and p.stay.ended_on <= day]
            for p in leaving:
                self.leave(p)
                active.remove(p)
            if day.weekday() == 0 or day == plan.opens_on[self.index]:
                self.receipts(day, active)
            self.one_day(day, active)
            day += timedelta(days=1)
        self.stats["seq"], self.stats["hash"] = self.seq, self.prev
        # The counters' unused ids go back: the next clinic in this process goes on from
        # them, as with ``take``.
        for table, counter in (
            ("dosing_administration", self.administration_id),
            ("dosing_observation", self.observation_id),
            ("stock_ledgerentry", self.entry_id),
        ):
            self.sink.ids.next[table] = counter()
        return self.stats

    def admit(self, p: Patient, day: date) -> None:
        stay = p.stay
        target = self.plan.target_on(stay, day)
        if stay.previous is not None:  # a transfer: the course goes on at the same dose
            # The other clinic dosed the patient yesterday, in a run begun long before.
            yesterday = day - timedelta(days=1)
            last_slot, starts, _ends = self.setup.slots[-1]
            for g in (p.dam, p.methadone):
                if g is None:
                    continue
                dose = target if g is p.dam else stay.root.methadone
                g.last_day, g.last_mg = yesterday, dose
                g.run_start = stay.root.admitted_on
                g.taken.append([yesterday, starts, last_slot, dose, "given", None])
                g.before = yesterday - timedelta(days=1)
            self.prescribe(p, p.dam, day, 7 * 3600 + 1800, target, False, "Overført; fortsetter")
        else:
            self.prescribe(
                p, p.dam, day, 7 * 3600 + 1800, target, True, "Oppstart: titrering etter protokoll"
            )
        if p.methadone is not None:
            amount = stay.root.methadone
            self.prescribe(p, p.methadone, day, 7 * 3600 + 1810, amount, False, "Nattdekning")

    def leave(self, p: Patient) -> None:
        stay = p.stay
        transfer = stay.end_reason == "transfer_hab"
        seconds = 7 * 3600 if transfer else 15 * 3600
        reason = "Overført til annen HAB-klinikk" if transfer else "Utskrevet"
        for g in (p.dam, p.methadone):
            if g is not None:
                self.stop(p, g, stay.ended_on, seconds, reason)

    def attends(self, p: Patient, day: date) -> tuple[bool, bool]:
        stay, rng = p.stay, self.rng
        if (day - stay.admitted_on).days < 3 and stay.previous is None:
            return True, True
        if stay.attend_last_days and (stay.ended_on - day).days <= FORCED_DAYS:
            return True, True
        if stay.fade_from is not None and day >= stay.fade_from:
            return False, False
        if p.absent_left > 0:
            p.absent_left -= 1
            return False, False
        if rng.random() < stay.absent_start:
            p.absent_left = int(rng.expovariate(1 / 1.7))
            return False, False
        roll = rng.random()
        if roll < 0.025:
            return False, True
        if roll < 0.04:
            return True, False
        return True, True

    def one_day(self, day: date, active: list[Patient]) -> None:
        rng = self.rng
        plan = self.plan
        present = {}
        for p in active:
            stay = p.stay
            root = stay.root
            tapering = bool(stay.taper) and day >= stay.taper[0][0]
            if root.adjust_on == day and stay.admitted_on < day and not tapering:
                self.prescribe(
                    p, p.dam, day, 7 * 3600 + 1500, root.adjust_to, False, "Dosejustering"
                )
            if tapering and p.dam.rx is not None:
                step = next((mg for on, mg in stay.taper if on == day), None)
                if step is not None:
                    every, pct = taper.pace(stay.id)
                    self.prescribe(
                        p, p.dam, day, 7 * 3600 + 1530, step, False, taper.reason(every, pct)
                    )
            came = self.attends(p, day)
            present[p] = came
            if came[0] or came[1]:
                # Back after three or more days without a dose: the doctor reviews first.
                for g in (p.dam, p.methadone):
                    if g is None or g.last_day is None or g.rx is None:
                        continue
                    # Only a review from the day the block began lifts it (``decide``).
                    missed = (day - g.last_day).days - 1
                    gap = self.rules.missed_days_block
                    if missed >= gap and g.issued_on <= g.last_day + timedelta(days=gap):
                        titrate = g.medication == "dam_injectable"
                        self.prescribe(
                            p,
                            g,
                            day,
                            7 * 3600 + 2400,
                            plan.target_on(stay, day) if titrate else stay.root.methadone,
                            titrate,
                            f"Gjennomgått etter {missed} dager uten dose",
                        )
        self.iso = day.isoformat()
        for slot_index, (slot, starts, ends) in enumerate(self.setup.slots):
            self.events = []
            missed = 0
            close = ends + 600
            for p in active:
                came = present[p][slot_index]
                for g in (p.dam, p.methadone):
                    if g is None or g.doses.get(slot, 0) <= 0:
                        continue
                    if not came:
                        self.missed(p, g, day, slot, close)
                        missed += 1
                        continue
                    minute = p.arrive[slot_index] + int(rng.gauss(0, 12))
                    limit = (ends - starts) // 60 - 6
                    seconds = starts + 60 * min(limit, max(1, minute)) + int(rng.random() * 60)
                    if g.medication == "methadone_oral":
                        seconds += 120
                    self.dose(p, g, day, slot, seconds)
            self.add(
                "dosing_sessionclose",
                (
                    self.take("dosing_sessionclose"),
                    self.clinic,
                    day.isoformat(),
                    slot,
                    self.clock.db(day, close),
                    self.staff["nurse"],
                    missed,
                ),
            )
            self.events.sort(key=lambda e: e[0])
            for event in self.events:
                self.book(day, *event)
        if active and rng.random() < len(active) * 0.0003:
            self.reported(day, rng.choice(active))
        self.count(day)
        self.summed()

    # --- the day summaries --------------------------------------------------------------

    def tally(self, p: Patient, g: Group, status: str, amount: float, reason: str, at) -> None:
        """Adds a dose record to the day's summaries (``dosing.summaries`` defines them;
        the tests hold these equal to that definition): ``at`` is its time when taken.
        A patient's day: the records taken and by status (``STATUS_COLUMN``), the mg taken
        and injected, the first and the last dose's time."""
        day = self.patient_days.get((p.person, p.episode, g.group))
        if day is None:
            day = self.patient_days[(p.person, p.episode, g.group)] = [0] * 6 + [0.0, 0.0, at, at]
        day[STATUS_COLUMN[status]] += 1
        if at is not None:
            day[0] += 1
            day[6] += amount
            if g.medication in rules.INJECTABLE:
                day[7] += amount
            day[8] = day[8] or at
            day[9] = at
        count = self.clinic_days.get((g.group, g.route, status, reason))
        if count is None:
            count = self.clinic_days[(g.group, g.route, status, reason)] = [0, 0.0]
        count[0] += 1
        count[1] += amount

    def summed(self) -> None:
        """Writes the day's summaries (the day's records are all written)."""
        add, take, clinic, iso = self.add, self.take, self.clinic, self.iso
        for (person, episode, group), c in self.patient_days.items():
            add(
                "dosing_patientday",
                (take("dosing_patientday"), person, iso, clinic, episode, group, *c[:6])
                + (f"{c[6]:.1f}", f"{c[7]:.1f}", c[8], c[9]),
            )
        for (group, route, status, reason), (records, amount) in self.clinic_days.items():
            row = (take("dosing_clinicday"), clinic, iso, group, route, status, reason, records)
            add("dosing_clinicday", (*row, f"{amount:.1f}"))
        self.patient_days.clear()
        self.clinic_days.clear()

    def missed(self, p: Patient, g: Group, day: date, slot: str, close: int) -> None:
        self.tally(p, g, "missed", 0.0, "", None)
        self.add(
            "dosing_administration",
            (
                self.administration_id(),
                p.person,
                p.episode,
                g.rx,
                self.protocol,
                self.clinic,
                self.iso,
                slot,
                g.medication,
                g.group,
                g.route,
                "missed",
                "0.0",
                mg(g.doses[slot]),
                "0.0",
                "[]",
                "",
                None,
                None,
                None,
                "",
                self.clock.db(day, close),
                self.staff["nurse"],
                None,
                None,
                None,
                "",
                None,
                None,
                self.clock.db(day, close),
                "",
                False,
                "[]",
                "",
                None,
            ),
        )

    def dose(self, p: Patient, g: Group, day: date, slot: str, seconds: int) -> None:
        rng = self.rng
        stay = p.stay
        forced = stay.attend_last_days and (stay.ended_on - day).days <= FORCED_DAYS
        roll = rng.random() if g.medication == "dam_injectable" and not forced else 1.0
        status, sedation, alcohol, withheld = "given", 1, "0.00", ""
        if roll < 0.010:
            status = "withheld"
            withheld, sedation, alcohol = WITHHELD[int(roll * 300) % 3]
        elif roll < 0.016:
            status = "refused"
        elif roll < 0.028:
            status = "partial"
        elif roll < 0.036:
            sedation = 3
        decision_sedation = sedation if status in rules.TAKEN else 1
        prescribed, most, reasons = self.decide(g, day, slot, seconds, decision_sedation)
        protocol = self.rules
        if status == "withheld" and sedation >= protocol.sedation_block_level:
            most, reasons = 0.0, [("sedation_block", "block", (("level", sedation),))]
        elif status == "withheld" and alcohol != "0.00":
            most = 0.0
            limit = protocol.breath_alcohol_max_permille
            reasons = [("alcohol", "block", (("value", float(alcohol)), ("max", limit)))]
        amount = 0.0
        if status == "given":
            amount = most
        elif status == "partial":
            amount = rules.floor_mg(most * rng.uniform(0.5, 0.85))
        if status in rules.TAKEN and amount <= 0:
            status, amount, withheld = "withheld", 0.0, "Ingen dose tillatt nå"
        taken = amount > 0
        record = self.administration_id()
        nurse = p.nurse if rng.random() < 0.7 else rng.choice(self.staff["nurses"])
        at = self.clock.db(day, seconds)
        self.tally(p, g, status, amount, withheld, at if taken else None)
        self.add(
            "dosing_administration",
            (
                record,
                p.person,
                p.episode,
                g.rx,
                self.protocol,
                self.clinic,
                self.iso,
                slot,
                g.medication,
                g.group,
                g.route,
                status,
                f"{amount:.1f}",
                f"{prescribed:.1f}",
                f"{most:.1f}",
                reasons_json(tuple(reasons)) if reasons else "[]",
                withheld,
                sedation,
                alcohol,
                12 + int(rng.random() * 9),
                "",
                at,
                nurse,
                self.clock.db(day, seconds + protocol.observation_minutes * 60) if taken else None,
                None,
                None,
                "",
                None,
                None,
                at,
                "none" if taken else "",
                False,
                "[]",
                "",
                None,
            ),
        )
        if not taken:
            return
        if g.today != day:
            # The day's first dose: a new run when there was none, or after the days
            # without a dose that end one (``rules.decide``'s run).
            if g.last_day is None or (day - g.last_day).days - 1 >= protocol.missed_days_block:
                g.run_start = day
            g.today, g.today_mg = day, 0.0
        g.today_mg += amount
        g.last_day, g.last_mg = day, amount
        g.taken.append([day, seconds, slot, amount, status, None])
        if len(g.taken) > 16:
            self.forget(g, window_start(day, protocol))
        self.observe(p, record, day, seconds, nurse, g)
        self.events.append((seconds, "dose", g.medication, amount, nurse, record))
        if status == "partial" and most - amount > 0:
            self.events.append((seconds + 240, "rest", g.medication, most - amount, nurse, None))

    def observe(self, p: Patient, record: int, day: date, seconds: int, nurse: int, g: Group):
        rng = self.rng
        ended = seconds + self.rules.observation_minutes * 60 + int(rng.random() * 480)
        outcome, note, naloxone = "no_concern", "", None
        if g.medication == "dam_injectable":
            roll = rng.random()
            if roll < 1 / 6000:
                outcome, naloxone = "overdose", rng.choice(["0.40", "0.80"])
                note = "Respirasjonsdepresjon etter dose; nalokson gitt, våknet etter få minutter."
            elif roll < 1 / 400:
                outcome, note = "sedated", "Sedert (POSS 3) i observasjonen; fulgt til våken."
        observation_at = self.clock.db(day, ended)
        self.add(
            "dosing_observation",
            (
                self.observation_id(),
                record,
                observation_at,
                outcome,
                naloxone,
                note,
                nurse,
            ),
        )
        if outcome == "overdose":
            self.stats["overdoses"] += 1
            self.incident(
                day,
                ended,
                "overdose",
                "serious",
                p,
                record,
                note,
                "observation",
                nurse,
                naloxone=naloxone,
            )

    def reported(self, day: date, p: Patient) -> None:
        kind, severity, text = self.rng.choice(OTHER_INCIDENTS)
        seconds = self.rng.randint(8 * 3600, 17 * 3600)
        self.incident(day, seconds, kind, severity, p, None, text, "report", self.staff["nurse"])

    def incident(self, day, seconds, kind, severity, p, record, text, source, by, naloxone=None):
        rng = self.rng
        incident = self.take("incidents_incident")
        at = self.clock.db(day, seconds)
        self.add(
            "incidents_incident",
            (
                incident,
                self.clinic,
                kind,
                severity,
                at,
                p.stay.person.id + self.setup.person_base,
                record,
                None,
                naloxone,
                (1 if naloxone == "0.40" else 2) if naloxone else None,
                rng.random() < 0.3 if naloxone else False,
                rng.random() < 0.1 if naloxone else False,
                text,
                "",
                source,
                at,
                by,
            ),
        )
        self.stats["incidents"] += 1
        lead = self.staff["clinic_lead"]
        steps = [(day, seconds + 60, by, "open", None, "")]
        follow = day + timedelta(days=1)
        if follow < self.plan.today:
            steps.append((follow, 10 * 3600, lead, "follow_up", lead, "Gjennomgås i fagmøtet."))
        closed = day + timedelta(days=rng.randint(7, 21))
        if closed < self.plan.today:
            steps.append(
                (closed, 14 * 3600, lead, "closed", lead, "Gjennomgått; rutinen er fulgt.")
            )
        for on, when, who, status, owner, note in steps:
            self.add(
                "incidents_incidentevent",
                (
                    self.take("incidents_incidentevent"),
                    incident,
                    self.clock.db(on, when),
                    who,
                    status,
                    owner,
                    note,
                ),
            )

    # --- the ledger ---------------------------------------------------------------------

    def entry(
        self,
        day,
        seconds,
        batch,
        kind,
        quantity,
        by,
        witness=None,
        reason="",
        ref="",
        administration=None,
    ) -> None:
        self.seq += 1
        batch[3] += quantity
        balance = batch[3]
        product = batch[4]
        quantity_text, balance_text = tenths(quantity), tenths(balance)
        hashed_at = self.clock.hashed(day, seconds)
        text = (
            '{"administration":%s,"at":"%s","balance_mg":"%s","batch":%d,"clinic":%d,'  # noqa: UP031
            '"count":null,"kind":"%s","prev_hash":"%s","product":%d,"quantity_mg":"%s",'
            '"reason":%s,"recorded_by":%d,"reference":%s,"seq":%d,"transfer_from":null,'
            '"witness":%s}'
            % (
                "null" if administration is None else administration,
                hashed_at,
                balance_text,
                batch[0],
                self.clinic,
                kind,
                self.prev,
                product,
                quantity_text,
                json_text(reason),
                by,
                json_text(ref),
                self.seq,
                "null" if witness is None else witness,
            )
        )
        # The bytes ``chain.entry_hash`` hashes, laid out once here for speed; with
        # ``proving`` on, every entry is hashed by the chain as well and held equal.
        digest = hashlib.sha256(text.encode()).hexdigest()
        if self.proving:
            expected = chain.entry_hash(
                {
                    "seq": self.seq,
                    "clinic": self.clinic,
                    "product": product,
                    "batch": batch[0],
                    "kind": kind,
                    "quantity_mg": Decimal(quantity_text),
                    "balance_mg": Decimal(balance_text),
                    "at": hashed_at,
                    "recorded_by": by,
                    "witness": witness,
                    "reason": reason,
                    "reference": ref,
                    "administration": administration,
                    "transfer_from": None,
                    "count": None,
                },
                self.prev,
            )
            assert expected == digest, "the generated hash differs from hab.stock.chain"
        self.add(
            "stock_ledgerentry",
            (
                self.entry_id(),
                self.clinic,
                self.seq,
                product,
                batch[0],
                kind,
                quantity_text,
                balance_text,
                self.clock.db(day, seconds),
                by,
                witness,
                reason,
                ref,
                administration,
                None,
                None,
                self.prev,
                digest,
            ),
        )
        self.prev = digest

    def new_batch(self, medication: str, day: date, seconds: int) -> list:
        product, _pack, code = self.products[medication]
        number = len(self.batches[medication]) + 1
        lot = f"{code[:3].upper()}{day:%y}{MONTH[day.month]}-{number}"
        batch = [self.take("stock_batch"), lot, day + timedelta(days=540), 0, product]
        self.add(
            "stock_batch",
            (batch[0], product, lot, batch[2].isoformat(), self.clock.db(day, seconds)),
        )
        self.batches[medication].append(batch)
        return batch

    def receive(self, medication: str, day: date, seconds: int, amount: float, ref: str) -> None:
        _product, pack, _code = self.products[medication]
        amount = math.ceil(amount / pack) * pack * 10  # in tenths of a mg
        count = self.deliveries[medication]
        self.deliveries[medication] += 1
        batches = self.batches[medication]
        if count % 3 == 0 or not batches:
            batch = self.new_batch(medication, day, seconds)
        else:
            batch = batches[-1]
        self.entry(day, seconds, batch, "receipt", amount, self.staff["nurse"], ref=ref)

    def receipts(self, day: date, active: list[Patient]) -> None:
        """Monday's delivery: two weeks of what the patients in treatment are prescribed,
        less what is in the safe."""
        need = {"dam_injectable": 0.0, "methadone_oral": 0.0}
        for p in active:
            need["dam_injectable"] += sum(p.dam.doses.values()) or 2 * p.stay.root.target
            if p.methadone is not None:
                need["methadone_oral"] += p.stay.root.methadone
        if not active:
            need["dam_injectable"] = self.plan.capacities[self.index] * 30.0
        for medication, daily in need.items():
            stock = sum(b[3] for b in self.live(medication) if b[2] > day) / 10
            amount = daily * 14 + 2000 - stock
            if amount > 0:
                self.receive(medication, day, 7 * 3600 + 1800, amount, "Apotekleveranse")

    def book(self, day, seconds, kind, medication, amount, nurse, record) -> None:
        amount = round(amount * 10)  # in tenths of a mg from here on
        if kind == "rest":
            batch = self.in_use(medication, amount, day, seconds)
            self.entry(
                day,
                seconds,
                batch,
                "waste",
                -amount,
                nurse,
                self.staff["doctor"],
                "Rest av delvis dose",
            )
            return
        batch = self.in_use(medication, amount, day, seconds)
        for left in self.live(medication):
            if left is batch:
                break
            if left[3] > 0 and left[2] <= batch[2]:
                # The last of the old batch is too little for a dose: wasted, witnessed.
                self.entry(
                    day,
                    seconds - 30,
                    left,
                    "waste",
                    -left[3],
                    nurse,
                    self.staff["doctor"],
                    "Rest ved bytte av batch",
                )
        self.entry(day, seconds, batch, "administration", -amount, nurse, administration=record)

    def in_use(self, medication: str, amount: int, day: date, seconds: int) -> list:
        """First expiry, first out: the oldest unexpired batch that holds the dose."""
        for batch in self.live(medication):
            if batch[2] >= day and batch[3] >= amount:
                return batch
        self.receive(medication, day, seconds - 60, max(amount / 10, 5000.0), "Hastelevering")
        return self.in_use(medication, amount, day, seconds)

    def count(self, day: date) -> None:
        """The evening count at the shift change: every batch with stock, two people."""
        at = self.clock.db(day, 17 * 3600 + 45 * 60)
        for medication in self.batches:
            product = self.products[medication][0]
            for batch in self.live(medication):
                if batch[3] <= 0:
                    continue
                book = tenths(batch[3])
                self.add(
                    "stock_stockcount",
                    (
                        self.take("stock_stockcount"),
                        self.clinic,
                        product,
                        batch[0],
                        book,
                        book,
                        "0.0",
                        at,
                        self.staff["nurse"],
                        self.staff["doctor"],
                        "Vaktskifte",
                    ),
                )
