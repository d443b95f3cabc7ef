"""Reads of the controlled-drug ledger: balances, the ledger with filters, counts due,
expiry warnings and open discrepancies."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from hab.core import clock
from hab.stock.models import Batch, Discrepancy, LedgerEntry, StockCount

EXPIRY_WARNING_DAYS = 30


def batch_balance(batch_id: int) -> Decimal:
    """The book balance of a batch: the balance after its newest entry."""
    balance = (
        LedgerEntry.objects.filter(batch_id=batch_id)
        .order_by("-seq")
        .values_list("balance_mg", flat=True)
        .first()
    )
    return balance if balance is not None else Decimal(0)


def _with_balance(batches: QuerySet[Batch]) -> QuerySet[Batch]:
    newest = LedgerEntry.objects.filter(batch=OuterRef("pk")).order_by("-seq")
    last_count = StockCount.objects.filter(batch=OuterRef("pk")).order_by("-counted_at", "-id")
    return batches.select_related("product").annotate(
        balance=Subquery(newest.values("balance_mg")[:1]),
        last_counted_at=Subquery(last_count.values("counted_at")[:1]),
    )


def debit_candidates(
    clinic_id: int, medication: str, today: datetime.date
) -> list[tuple[Batch, Decimal]] | None:
    """Unexpired batches of the medication holding stock, first expiry first, with their
    balances: one plain query on the dose's hot path (read under the chain head's lock).
    ``None`` when the clinic keeps no product of the medication in the ledger at all.
    The batches carry their product's name, for a refusal's message, without a query."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.id, p.name, b.id, b.lot, b.expires_on,
                   (SELECT e.balance_mg FROM stock_ledgerentry e
                     WHERE e.batch_id = b.id ORDER BY e.seq DESC LIMIT 1)
              FROM stock_product p
              LEFT JOIN stock_batch b ON b.product_id = p.id AND b.expires_on >= %s
             WHERE p.clinic_id = %s AND p.medication = %s
            """,
            [today, clinic_id, medication],
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    found = []
    for product_id, name, batch_id, lot, expires_on, balance in rows:
        if batch_id is None or balance is None:
            continue
        balance = Decimal(str(balance)).quantize(Decimal("0.1"))
        if balance <= 0:
            continue
        if isinstance(expires_on, str):  # SQLite hands dates back as text
            expires_on = datetime.date.fromisoformat(expires_on)
        batch = Batch(pk=batch_id, product_id=product_id, lot=lot, expires_on=expires_on)
        batch._state.adding, batch._state.db = False, "default"
        batch.product_name = name
        found.append((batch, balance))
    found.sort(key=lambda pair: (pair[0].expires_on, pair[0].lot, pair[0].pk))
    return found


@dataclass(frozen=True)
class BatchLine:
    batch: Batch
    balance_mg: Decimal
    last_counted_at: datetime.datetime | None
    count_due: bool
    expired: bool
    expires_soon: bool

    @property
    def product(self):
        return self.batch.product

    @property
    def balance_ml(self) -> Decimal | None:
        concentration = self.batch.product.concentration_mg_per_ml
        if not concentration:
            return None
        return (self.balance_mg / concentration).quantize(Decimal("0.01"))


def balances(clinic_id: int, *, count_hours: int = 8, with_empty: bool = False) -> list[BatchLine]:
    """Every batch of the clinic with its balance, whether a count is due (not counted
    within ``count_hours`` while it holds stock) and its expiry state."""
    now = clock.now()
    today = clock.today()
    lines = []
    batches = _with_balance(Batch.objects.filter(product__clinic_id=clinic_id)).order_by(
        "product__name", "expires_on", "lot"
    )
    for batch in batches:
        balance = batch.balance or Decimal(0)
        if balance == 0 and not with_empty:
            continue
        counted = batch.last_counted_at
        lines.append(
            BatchLine(
                batch=batch,
                balance_mg=balance,
                last_counted_at=counted,
                count_due=balance > 0
                and (counted is None or now - counted > timedelta(hours=count_hours)),
                expired=batch.expires_on < today,
                expires_soon=today <= batch.expires_on <= today + timedelta(EXPIRY_WARNING_DAYS),
            )
        )
    return lines


def ledger(
    clinic_id: int,
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    kind: str = "",
    username: str = "",
    product: str = "",
) -> QuerySet[LedgerEntry]:
    """The clinic's entries, newest first, with the filters of the ledger page."""
    entries = LedgerEntry.objects.filter(clinic_id=clinic_id).select_related(
        "product", "batch", "recorded_by", "witness", "administration"
    )
    if start:
        entries = entries.filter(at__gte=start_of(start))
    if end:
        entries = entries.filter(at__lt=start_of(end + timedelta(days=1)))
    if kind:
        entries = entries.filter(kind=kind)
    if username:
        entries = entries.filter(recorded_by__username=username)
    if product:
        entries = entries.filter(product__code=product)
    return entries.order_by("-seq")


def start_of(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of a day in Oslo."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def open_discrepancies(clinic_id: int) -> QuerySet[Discrepancy]:
    return (
        Discrepancy.objects.filter(clinic_id=clinic_id, resolution__isnull=True)
        .select_related("count__batch__product", "count__counted_by", "count__witness")
        .order_by("opened_at")
    )


def recent_counts(clinic_id: int, limit: int = 20) -> QuerySet[StockCount]:
    return (
        StockCount.objects.filter(clinic_id=clinic_id)
        .select_related("batch__product", "counted_by", "witness")
        .order_by("-counted_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class ExtractRow:
    """A line of the printed extract: one entry, or one day's doses from one batch."""

    at: datetime.datetime
    first_seq: int
    last_seq: int
    kind: str
    kind_label: str
    product: str
    lot: str
    quantity_mg: Decimal
    balance_mg: Decimal
    recorded_by: str
    witness: str
    text: str
    hash: str
    doses: int = 0


def extract(entries: QuerySet[LedgerEntry]) -> list[ExtractRow]:
    """The ledger for print: every receipt, waste, transfer and adjustment on its own
    line; the doses of a day summed per batch (how many, how much, the entry numbers),
    so a month fits on a few pages. The ledger page and API have every dose."""
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.db.models import Count, Max, Min, Sum
    from django.db.models.functions import TruncDate

    from hab.stock.models import Kind

    labels = dict(Kind.choices)
    rows = [
        ExtractRow(
            at=e.at,
            first_seq=e.seq,
            last_seq=e.seq,
            kind=e.kind,
            kind_label=str(labels[e.kind]),
            product=e.product.name,
            lot=e.batch.lot,
            quantity_mg=e.quantity_mg,
            balance_mg=e.balance_mg,
            recorded_by=str(e.recorded_by),
            witness=str(e.witness) if e.witness_id else "",
            text=" ".join(part for part in (e.reason, e.reference) if part),
            hash=e.hash,
        )
        for e in entries.exclude(kind=Kind.ADMINISTRATION).select_related(
            "product", "batch", "recorded_by", "witness"
        )
    ]
    days = list(
        entries.filter(kind=Kind.ADMINISTRATION)
        .order_by()
        .annotate(day=TruncDate("at", tzinfo=ZoneInfo(settings.TIME_ZONE)))
        .values("day", "batch_id")
        .annotate(n=Count("id"), first=Min("seq"), last=Max("seq"), total=Sum("quantity_mg"))
    )
    lasts = {
        e.seq: e
        for e in LedgerEntry.objects.filter(
            clinic_id__in=entries.values("clinic_id")[:1], seq__in=[d["last"] for d in days]
        ).select_related("product", "batch")
    }
    for day in days:
        last = lasts[day["last"]]
        rows.append(
            ExtractRow(
                at=last.at,
                first_seq=day["first"],
                last_seq=day["last"],
                kind=Kind.ADMINISTRATION,
                kind_label=str(labels[Kind.ADMINISTRATION]),
                product=last.product.name,
                lot=last.batch.lot,
                # SQLite sums in floating point; the amounts are tenths of a mg.
                quantity_mg=Decimal(str(day["total"])).quantize(Decimal("0.1")),
                balance_mg=last.balance_mg,
                recorded_by="",
                witness="",
                text="",
                hash=last.hash,
                doses=day["n"],
            )
        )
    rows.sort(key=lambda row: row.last_seq)
    return rows
