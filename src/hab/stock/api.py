"""The controlled-drug ledger in the API: the stock rows of the API contract (docs/api.md),
plus the ledger itself, transfers, adjustments, discrepancies and the chain check."""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from hab.core.api import clinic_by_code, request_actor
from hab.core.api_contract import Input, stored_decimal
from hab.core.errors import Invalid
from hab.core.policy import Action, clinic_for_action
from hab.stock import selectors, services
from hab.stock.models import Discrepancy, Kind, LedgerEntry, Product, StockCount
from hab.stock.selectors import open_discrepancies

router = Router(tags=["stock"])

# Amounts to the places the ledger keeps: more is a 422 on the field, never rounded.
LedgerMg = stored_decimal(LedgerEntry, "quantity_mg")
CountedMg = stored_decimal(StockCount, "counted_mg")


# Text is limited to what the ledger's columns hold (stock.models), so that a longer text is
# refused with its field instead of cut short or refused by the database.
class ReceiptIn(Input):
    clinic: str
    product: str
    batch: str = Field(..., max_length=40)
    quantity_mg: LedgerMg
    expires_on: datetime.date | None = None
    reference: str = Field("", max_length=100)


class WasteIn(Input):
    clinic: str
    product: str
    batch: str = Field(..., max_length=40)
    quantity_mg: LedgerMg
    witness: str = ""
    reason: str = Field("", max_length=300)


class TransferIn(Input):
    clinic: str
    to_clinic: str
    product: str
    batch: str = Field(..., max_length=40)
    quantity_mg: LedgerMg
    reason: str = Field("", max_length=300)


class AdjustmentIn(Input):
    clinic: str
    product: str
    batch: str = Field(..., max_length=40)
    quantity_mg: LedgerMg
    reason: str = Field("", max_length=300)


class CountIn(Input):
    clinic: str
    product: str
    batch: str = Field(..., max_length=40)
    counted_mg: CountedMg
    witness: str = ""
    note: str = Field("", max_length=300)


class ResolveIn(Input):
    explanation: str = Field("", max_length=1000)
    adjust: bool = False


class EntryOut(Schema):
    id: int
    seq: int
    clinic: str
    kind: str
    product: str
    batch: str
    quantity_mg: float
    balance_mg: float
    at: datetime.datetime
    recorded_by: str
    witness: str | None
    reason: str
    reference: str
    administration: int | None
    transfer_from: int | None
    hash: str


class CountOut(Schema):
    id: int
    product: str
    batch: str
    counted_mg: float
    book_mg: float
    difference_mg: float
    discrepancy: int | None


class BalanceOut(Schema):
    product: str
    product_name: str
    medication: str
    batch: str
    expires_on: datetime.date
    balance_mg: float
    balance_ml: float | None
    expired: bool
    expires_soon: bool
    last_counted_at: datetime.datetime | None
    count_due: bool


class DiscrepancyOut(Schema):
    id: int
    product: str
    batch: str
    counted_mg: float
    book_mg: float
    difference_mg: float
    counted_by: str
    opened_at: datetime.datetime
    resolved: bool
    explanation: str | None


class VerifyOut(Schema):
    clinic: str
    entries: int
    ok: bool
    first_broken_seq: int | None
    problem: str | None


class LedgerFilter(Schema):
    clinic: str
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    kind: str = ""
    user: str = ""
    product: str = ""
    limit: int = 200
    offset: int = 0


def entry_out(entry: LedgerEntry, clinic_code: str) -> dict:
    return {
        "id": entry.pk,
        "seq": entry.seq,
        "clinic": clinic_code,
        "kind": entry.kind,
        "product": entry.product.code,
        "batch": entry.batch.lot,
        "quantity_mg": float(entry.quantity_mg),
        "balance_mg": float(entry.balance_mg),
        "at": entry.at,
        "recorded_by": entry.recorded_by.username,
        "witness": entry.witness.username if entry.witness_id else None,
        "reason": entry.reason,
        "reference": entry.reference,
        "administration": entry.administration_id,
        "transfer_from": entry.transfer_from_id,
        "hash": entry.hash,
    }


def _entry(entry: LedgerEntry) -> dict:
    entry = (
        LedgerEntry.objects.select_related("product", "batch", "recorded_by", "witness", "clinic")
        .filter(pk=entry.pk)
        .get()
    )
    return entry_out(entry, entry.clinic.code)


def discrepancy_out(d: Discrepancy) -> dict:
    resolution = getattr(d, "resolution", None)
    return {
        "id": d.pk,
        "product": d.count.batch.product.code,
        "batch": d.count.batch.lot,
        "counted_mg": float(d.count.counted_mg),
        "book_mg": float(d.count.book_mg),
        "difference_mg": float(d.count.difference_mg),
        "counted_by": d.count.counted_by.username,
        "opened_at": d.opened_at,
        "resolved": resolution is not None,
        "explanation": resolution.explanation if resolution else None,
    }


@router.post("/stock/receipts", response={201: EntryOut}, summary="Receive stock")
def receipt(request: HttpRequest, payload: ReceiptIn):
    entry = services.receipt_record(
        actor=request_actor(request),
        clinic=clinic_by_code(payload.clinic),
        product=payload.product,
        batch=payload.batch,
        quantity_mg=payload.quantity_mg,
        expires_on=payload.expires_on,
        reference=payload.reference,
    )
    return Status(201, _entry(entry))


@router.post("/stock/waste", response={201: EntryOut}, summary="Record witnessed waste (kassasjon)")
def waste(request: HttpRequest, payload: WasteIn):
    entry = services.waste_record(
        actor=request_actor(request),
        clinic=clinic_by_code(payload.clinic),
        product=payload.product,
        batch=payload.batch,
        quantity_mg=payload.quantity_mg,
        witness=payload.witness,
        reason=payload.reason,
    )
    return Status(201, _entry(entry))


@router.post(
    "/stock/transfers", response={201: list[EntryOut]}, summary="Send stock to another clinic"
)
def transfer(request: HttpRequest, payload: TransferIn):
    out, into = services.transfer_record(
        actor=request_actor(request),
        clinic=clinic_by_code(payload.clinic),
        to_clinic=payload.to_clinic,
        product=payload.product,
        batch=payload.batch,
        quantity_mg=payload.quantity_mg,
        reason=payload.reason,
    )
    return Status(201, [_entry(out), _entry(into)])


@router.post(
    "/stock/adjustments", response={201: EntryOut}, summary="Adjust the book (clinic lead)"
)
def adjustment(request: HttpRequest, payload: AdjustmentIn):
    entry = services.adjustment_record(
        actor=request_actor(request),
        clinic=clinic_by_code(payload.clinic),
        product=payload.product,
        batch=payload.batch,
        quantity_mg=payload.quantity_mg,
        reason=payload.reason,
    )
    return Status(201, _entry(entry))


@router.post("/stock/counts", response={201: CountOut}, summary="Record a stock count")
def count(request: HttpRequest, payload: CountIn):
    counted = services.count_record(
        actor=request_actor(request),
        clinic=clinic_by_code(payload.clinic),
        product=payload.product,
        batch=payload.batch,
        counted_mg=payload.counted_mg,
        witness=payload.witness,
        note=payload.note,
    )
    c = counted.count
    return Status(
        201,
        {
            "id": c.pk,
            "product": c.product.code,
            "batch": c.batch.lot,
            "counted_mg": float(c.counted_mg),
            "book_mg": float(c.book_mg),
            "difference_mg": float(c.difference_mg),
            "discrepancy": counted.discrepancy.pk if counted.discrepancy else None,
        },
    )


@router.get("/stock/balance", response=list[BalanceOut], summary="Book balance per batch")
def balance(request: HttpRequest, clinic: str, include_empty: bool = False):
    place = clinic_for_action(request.user, clinic_by_code(clinic), Action.STOCK_VIEW)
    from hab.prescribing.selectors import protocol_in_force

    protocol = protocol_in_force(place.pk)
    lines = selectors.balances(
        place.pk,
        count_hours=protocol.stock_count_hours if protocol else 8,
        with_empty=include_empty,
    )
    return [
        {
            "product": line.product.code,
            "product_name": line.product.name,
            "medication": line.product.medication,
            "batch": line.batch.lot,
            "expires_on": line.batch.expires_on,
            "balance_mg": float(line.balance_mg),
            "balance_ml": None if line.balance_ml is None else float(line.balance_ml),
            "expired": line.expired,
            "expires_soon": line.expires_soon,
            "last_counted_at": line.last_counted_at,
            "count_due": line.count_due,
        }
        for line in lines
    ]


@router.get("/stock/ledger", response=list[EntryOut], summary="The ledger, newest first")
def ledger(request: HttpRequest, filters: Query[LedgerFilter]):
    place = clinic_for_action(request.user, clinic_by_code(filters.clinic), Action.STOCK_VIEW)
    if filters.kind and filters.kind not in Kind.values:
        kinds = ", ".join(Kind.values)
        raise Invalid.one("kind", _("Choose one of: %(kinds)s.") % {"kinds": kinds})
    if not 1 <= filters.limit <= 1000:
        raise Invalid.one("limit", _("Between 1 and 1000."))
    if filters.offset < 0:
        raise Invalid.one("offset", _("0 or more."))
    entries = selectors.ledger(
        place.pk,
        start=filters.date_from,
        end=filters.date_to,
        kind=filters.kind,
        username=filters.user,
        product=filters.product,
    )[filters.offset : filters.offset + filters.limit]
    return [entry_out(e, place.code) for e in entries]


@router.get("/stock/products", response=list[dict], summary="The clinic's controlled-drug products")
def products(request: HttpRequest, clinic: str):
    place = clinic_for_action(request.user, clinic_by_code(clinic), Action.STOCK_VIEW)
    return [
        {
            "code": p.code,
            "name": p.name,
            "medication": p.medication,
            "form": p.form,
            "concentration_mg_per_ml": None
            if p.concentration_mg_per_ml is None
            else float(p.concentration_mg_per_ml),
        }
        for p in Product.objects.filter(clinic=place).order_by("name")
    ]


@router.get(
    "/stock/discrepancies", response=list[DiscrepancyOut], summary="Open stock discrepancies"
)
def discrepancies(request: HttpRequest, clinic: str):
    place = clinic_for_action(request.user, clinic_by_code(clinic), Action.STOCK_VIEW)
    return [discrepancy_out(d) for d in open_discrepancies(place.pk)]


@router.post(
    "/stock/discrepancies/{discrepancy_id}/resolution",
    response={201: DiscrepancyOut},
    summary="Resolve a discrepancy (clinic lead)",
)
def resolve(request: HttpRequest, discrepancy_id: int, payload: ResolveIn):
    resolution = services.discrepancy_resolve(
        actor=request_actor(request),
        discrepancy_id=discrepancy_id,
        explanation=payload.explanation,
        adjust=payload.adjust,
    )
    d = (
        Discrepancy.objects.select_related("count__batch__product", "count__counted_by")
        .filter(pk=resolution.discrepancy_id)
        .get()
    )
    return Status(201, discrepancy_out(d))


@router.get("/stock/verify", response=VerifyOut, summary="Recompute the ledger's hash chain")
def verify(request: HttpRequest, clinic: str):
    place = clinic_for_action(request.user, clinic_by_code(clinic), Action.STOCK_MANAGE)
    result = services.verify(place)
    return {
        "clinic": place.code,
        "entries": result.entries,
        "ok": result.ok,
        "first_broken_seq": result.broken.seq if result.broken else None,
        "problem": result.broken.problem if result.broken else None,
    }
