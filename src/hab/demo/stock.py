"""Demo part of the controlled-drug ledger: the products each clinic keeps, and the book of
the demo's sixty days, imported as a clinic would import its paper ledger when it starts
with HAB (weekly deliveries, a debit for every dose given so far, the witnessed waste of
partial doses and spills, two counts a day, one resolved discrepancy) through the ledger's
own import (``hab.stock.services.LedgerImport``), with the head signed at the end of every
day as the nightly ``hab ledger-checkpoint`` would have. Then, through the services like
any other day: a transfer to Bergen and this shift's count, which is 5 mg short and waits
for the clinic lead, and today's checkpoint.

It lives in the demo app, not in stock, because the book debits the doses given, which
are dosing's rows (an app above stock); the builder runs it at stock's turn.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from hab.core import clock
from hab.core.access import Actor
from hab.dosing import rules
from hab.dosing.models import Administration
from hab.stock import checkpoint, services
from hab.stock.models import (
    Batch,
    Discrepancy,
    DiscrepancyResolution,
    Kind,
    LedgerCheckpoint,
    LedgerEntry,
    StockCount,
)
from hab.stock.selectors import batch_balance

# (code, name, medication, form, mg/ml, delivered in packs of mg)
PRODUCTS = [
    (
        "dam-inj",
        "Diacetylmorfin 10 g pulver til injeksjonsvæske",
        "dam_injectable",
        "powder",
        100,
        10_000,
    ),
    ("dam-tab", "Diacetylmorfin 200 mg tabletter", "dam_tablet_ir", "tablet", None, 2_000),
    ("metadon", "Metadon mikstur 1 mg/ml", "methadone_oral", "solution", 1, 1_000),
]
# Plausible FEST identifiers (made up, in FEST's forms) for the product FEST lists:
# (medication dose id, LMR number, item number). Diacetylmorphine is imported for the
# trial and has none; Legemiddelregisteret then gets it from the local catalogue.
FEST = {
    "metadon": ("ID_5C1E8A3B-2F4D-4E6A-9B7C-1D2E3F4A5B6C", "3346127", "059321"),
}
MONTH = ["", "JAN", "FEB", "MAR", "APR", "MAI", "JUN", "JUL", "AUG", "SEP", "OKT", "NOV", "DES"]


def fest_fields(code: str) -> dict[str, str]:
    dose_id, lmr, item = FEST.get(code, ("", "", ""))
    return {"fest_dose_id": dose_id, "fest_lmr_number": lmr, "fest_item_number": item}


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def contribute(ctx) -> None:
    for clinic in ctx.clinics.values():
        _Book(ctx, clinic).build()
    oslo, bergen = ctx.clinics.get("oslo"), ctx.clinics.get("bergen")
    if oslo is None or bergen is None:
        return
    lead = Actor.system(ctx.users["clinic_lead.oslo"])
    dam = Batch.objects.filter(product__clinic=oslo, product__code="dam-inj")
    in_use = max(dam, key=lambda b: (batch_balance(b.pk), b.pk))
    services.transfer_record(
        actor=lead,
        clinic=oslo,
        to_clinic="bergen",
        product="dam-inj",
        batch=in_use.lot,
        quantity_mg=20_000,
        reason="Bergens levering er forsinket en dag",
    )
    book = batch_balance(in_use.pk)
    services.count_record(
        actor=Actor.system(ctx.users["nurse.oslo"]),
        clinic=oslo,
        product="dam-inj",
        batch=in_use.lot,
        counted_mg=book - 5,
        witness="doctor.oslo",
        note="Vaktskifte",
    )
    for clinic in ctx.clinics.values():
        services.checkpoint_record(clinic)
    ctx.log.append(
        "Ledger: products, deliveries, a debit per dose, waste and counts, signed "
        "checkpoints every day; one open discrepancy (5 mg) at HAB Oslo."
    )


class _Book:
    """The imported ledger of one clinic, written in time order."""

    def __init__(self, ctx, clinic) -> None:
        self.ctx, self.clinic, self.rng = ctx, clinic, ctx.rng
        self.today = clock.today()
        code = clinic.code
        self.nurse = ctx.users[f"nurse.{code}"]
        self.doctor = ctx.users[f"doctor.{code}"]
        self.lead = ctx.users[f"clinic_lead.{code}"]
        self.events: list[tuple] = []  # (time, order, kind, data)
        self.balance: dict[int, Decimal] = defaultdict(Decimal)
        self.batches: dict[str, list[Batch]] = defaultdict(list)

    def build(self) -> None:
        lead = Actor.system(self.lead)
        self.products = {}
        for code, name, medication, form, concentration, pack in PRODUCTS:
            product = services.product_create(
                actor=lead,
                clinic=self.clinic,
                code=code,
                name=name,
                medication=medication,
                form=form,
                concentration_mg_per_ml=concentration,
                **fest_fields(code),
            )
            self.products[medication] = (product, pack)
        doses = list(
            Administration.objects.filter(
                clinic=self.clinic,
                status__in=rules.TAKEN,
                dose_mg__gt=0,
                medication__in=list(self.products),
                corrects__isnull=True,
            )
            .order_by("given_at", "pk")
            .values(
                "pk", "given_at", "medication", "dose_mg", "prescribed_mg", "status", "nurse_id"
            )
        )
        if not doses:
            return
        first = timezone.localdate(doses[0]["given_at"])
        self._deliveries(doses, first)
        self._tablets()
        for dose in doses:
            self.events.append((dose["given_at"], 2, "dose", dose))
            if dose["status"] == "partial" and dose["medication"] == "dam_injectable":
                rest = Decimal(dose["prescribed_mg"]) - Decimal(dose["dose_mg"])
                if rest > 0:
                    when = dose["given_at"] + timedelta(minutes=4)
                    self.events.append((when, 3, "waste", (dose, rest, "Rest av delvis dose")))
        day = first
        while day < self.today:
            for hour, minute in ((11, 15), (17, 45)):
                self.events.append((_at(day, hour, minute), 5, "count", None))
            if self.rng.random() < 0.15:
                spill = Decimal(self.rng.choice([10, 15, 20, 30, 50]))
                when = _at(day, 9, self.rng.randint(0, 59))
                self.events.append((when, 3, "waste", (None, spill, "Søl ved opptrekk")))
            day += timedelta(days=1)
        self.short_day = self.today - timedelta(days=12)
        self._write()

    def _deliveries(self, doses, first: datetime.date) -> None:
        """Weekly deliveries of what the week uses, in whole packs, over a reserve of half a
        week; a new batch every third delivery. The last also covers the next week."""
        need: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
        for dose in doses:
            week = (timezone.localdate(dose["given_at"]) - first).days // 7
            need[(dose["medication"], week)] += Decimal(dose["dose_mg"])
        weeks = (self.today - first).days // 7 + 1
        for medication in ("dam_injectable", "methadone_oral"):
            product, pack = self.products[medication]
            for week in range(weeks):
                # The week's doses; the first delivery also stocks half a week in reserve,
                # the last the week after the demo is loaded.
                most = max(need[(medication, w)] for w in range(weeks))
                amount = need[(medication, week)]
                if week == 0:
                    amount += most / 2
                if week == weeks - 1:
                    amount += most
                if amount <= 0:
                    continue
                packs = math.ceil(amount / pack)
                day = first + timedelta(days=7 * week)
                batch_no = week // 3
                lot_day = first + timedelta(days=21 * batch_no)
                lot = f"{product.code[:3].upper()}{lot_day:%y}{MONTH[lot_day.month]}-{batch_no + 1}"
                self.events.append(
                    (
                        _at(day, 7, 30),
                        1,
                        "receipt",
                        (product, lot, lot_day + timedelta(days=540), Decimal(packs * pack)),
                    )
                )

    def _tablets(self) -> None:
        """Tablets in the safe for patients who change to oral: one batch close to its
        expiry date and one past it, for the clinic lead to deal with."""
        product, pack = self.products["dam_tablet_ir"]
        for lot, received, expires, amount in (
            ("DAM-T-2401", 200, -5, 400),
            ("DAM-T-2405", 40, 25, pack),
        ):
            when = _at(self.today - timedelta(days=received), 7, 45)
            expiry = self.today + timedelta(days=expires)
            self.events.append((when, 1, "receipt", (product, lot, expiry, Decimal(amount))))

    def _checkpoints(self, entries: list[LedgerEntry]) -> None:
        """Each past day's head signed at 23:55, as the nightly job signs it."""
        if not entries:
            return
        key = settings.LEDGER_KEY
        made, at = [], 0
        day = timezone.localdate(entries[0].at)
        seq, head_hash = entries[0].seq - 1, entries[0].prev_hash
        while day < self.today:
            signed_at = _at(day, 23, 55)
            while at < len(entries) and entries[at].at <= signed_at:
                seq, head_hash = entries[at].seq, entries[at].hash
                at += 1
            fields = {"clinic": self.clinic.pk, "day": day, "seq": seq, "head_hash": head_hash}
            made.append(
                LedgerCheckpoint(
                    **(fields | {"clinic": self.clinic}),
                    key_id=checkpoint.key_id(key),
                    signature=checkpoint.sign(key, created_at=signed_at, **fields),
                    created_at=signed_at,
                )
            )
            day += timedelta(days=1)
        LedgerCheckpoint.objects.bulk_create(made)

    # --- writing -------------------------------------------------------------------------

    def _batch(self, product, lot, expires_on, when) -> Batch:
        found = next((b for b in self.batches[product.medication] if b.lot == lot), None)
        if found is None:
            found = Batch.objects.create(
                product=product, lot=lot, expires_on=expires_on, created_at=when
            )
            self.batches[product.medication].append(found)
        return found

    def _in_use(self, medication: str, need: Decimal, day: datetime.date) -> Batch:
        usable = sorted(
            (b for b in self.batches[medication] if b.expires_on >= day),
            key=lambda b: (b.expires_on, b.lot),
        )
        for batch in usable:
            if self.balance[batch.pk] >= need:
                return batch
        raise RuntimeError(f"demo ledger: no {medication} batch holds {need} mg on {day}")

    def _remnants(self, medication: str, in_use: Batch) -> list[Batch]:
        return [
            b
            for b in self.batches[medication]
            if b.pk != in_use.pk and b.expires_on <= in_use.expires_on and self.balance[b.pk] > 0
        ]

    def _write(self) -> None:
        self.events.sort(key=lambda event: (event[0], event[1]))
        ledger = services.LedgerImport(self.clinic)
        counts: list[tuple[StockCount, Decimal]] = []
        short_done = False

        def add(when, batch, kind, quantity, by, **links) -> None:
            self.balance[batch.pk] += quantity
            ledger.add(
                at=when,
                batch=batch,
                kind=kind,
                quantity_mg=quantity,
                balance=self.balance[batch.pk],
                by=by,
                **links,
            )

        for when, _order, kind, data in self.events:
            day = timezone.localdate(when)
            if kind == "receipt":
                product, lot, expires_on, amount = data
                batch = self._batch(product, lot, expires_on, when)
                add(when, batch, Kind.RECEIPT, amount, self.nurse.pk, reference="Apotekleveranse")
            elif kind == "dose":
                amount = Decimal(data["dose_mg"])
                batch = self._in_use(data["medication"], amount, day)
                for left in self._remnants(data["medication"], batch):
                    # The last of the old batch is too little for a dose: wasted.
                    add(
                        when - timedelta(minutes=1),
                        left,
                        Kind.WASTE,
                        -self.balance[left.pk],
                        self.nurse.pk,
                        witness=self.doctor,
                        reason="Rest ved bytte av batch",
                    )
                add(
                    when,
                    batch,
                    Kind.ADMINISTRATION,
                    -amount,
                    data["nurse_id"],
                    administration=data["pk"],
                )
            elif kind == "waste":
                dose, amount, reason = data
                batch = self._in_use("dam_injectable", amount, day)
                by = dose["nurse_id"] if dose else self.nurse.pk
                witness = self.doctor if by != self.doctor.pk else self.lead
                add(when, batch, Kind.WASTE, -amount, by, witness=witness, reason=reason)
            elif kind == "count":
                for medication in ("dam_injectable", "methadone_oral", "dam_tablet_ir"):
                    for batch in self.batches[medication]:
                        book = self.balance[batch.pk]
                        if book <= 0:
                            continue
                        short = (
                            not short_done
                            and day == self.short_day
                            and medication == "dam_injectable"
                            and book > 1000
                        )
                        counted = book - 20 if short else book
                        short_done = short_done or short
                        count = StockCount(
                            clinic=self.clinic,
                            product_id=batch.product_id,
                            batch=batch,
                            counted_mg=counted,
                            book_mg=book,
                            difference_mg=counted - book,
                            counted_at=when,
                            counted_by=self.nurse,
                            witness=self.doctor,
                            note="Vaktskifte",
                        )
                        count.save()
                        if short:
                            counts.append((count, when))
                            explained = when + timedelta(minutes=10)
                            add(
                                explained,
                                batch,
                                Kind.COUNT_ADJUSTMENT,
                                counted - book,
                                self.lead.pk,
                                reason="Søl ved rekonstituering ble ikke ført; gjennomgått "
                                "med sykepleier",
                                count=count,
                            )
        self._checkpoints(ledger.save())
        for count, when in counts:
            discrepancy = Discrepancy.objects.create(
                count=count, clinic=self.clinic, opened_at=when
            )
            adjustment = LedgerEntry.objects.get(count=count, kind=Kind.COUNT_ADJUSTMENT)
            DiscrepancyResolution.objects.create(
                discrepancy=discrepancy,
                resolved_at=adjustment.at,
                resolved_by=self.lead,
                explanation=adjustment.reason,
                adjustment=adjustment,
            )
