"""Writes of the controlled-drug ledger. Every entry is appended in one transaction with
the clinic's chain head locked, so entries of a clinic are written one at a time, each
balance is exact and no batch ever goes below zero."""

from __future__ import annotations

import datetime
import re
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hab.core import clock, policy
from hab.core.access import Actor
from hab.core.errors import Conflict, FieldError, Invalid, NotFound, mg_entered
from hab.core.formats import mg_text, plain
from hab.core.models import Clinic, User
from hab.core.numbers import MG_STEP, parse_mg
from hab.core.policy import Action, clinic_for_action
from hab.stock import chain, checkpoint, seams
from hab.stock.models import (
    Batch,
    Discrepancy,
    DiscrepancyResolution,
    Kind,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHead,
    Product,
    StockCount,
)
from hab.stock.selectors import batch_balance, debit_candidates

# More than any entry moves, and within the ledger's columns (12 digits, one decimal).
LEDGER_LIMIT = Decimal("10") ** 10


def quantity(errors: list[FieldError], field: str, value, *, signed: bool = False) -> Decimal:
    """An amount in mg to one decimal; positive unless ``signed`` (then not zero)."""
    amount = mg_entered(errors, field, value)
    if amount is None:
        return Decimal(0)
    if abs(amount) >= LEDGER_LIMIT:
        errors.append(FieldError(field, _("Enter the amount in mg, e.g. 150 or 7.5.")))
        return Decimal(0)
    if signed and amount == 0:
        errors.append(FieldError(field, _("The amount cannot be zero.")))
    if not signed and amount <= 0:
        errors.append(FieldError(field, _("The amount must be more than 0 mg.")))
    return amount


def _lock_head(clinic_id: int) -> LedgerHead:
    """The clinic's chain head, locked until the transaction ends (every dose passes here:
    one plain query; SQLite's IMMEDIATE transaction already holds the write lock)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT seq, hash FROM stock_ledgerhead WHERE clinic_id = %s{lock}", [clinic_id]
        )
        row = cursor.fetchone()
    if row is None:
        head, _created = LedgerHead.objects.select_for_update().get_or_create(clinic_id=clinic_id)
        return head
    head = LedgerHead(clinic_id=clinic_id, seq=row[0], hash=row[1])
    head._state.adding, head._state.db = False, "default"
    return head


def _append(
    head: LedgerHead,
    *,
    batch: Batch,
    kind: str,
    quantity_mg: Decimal,
    by: User,
    field: str = "quantity_mg",
    balance_before: Decimal | None = None,
    **links,
) -> LedgerEntry:
    """Appends one entry to the locked chain. Refuses (422) an entry that would take the
    batch below zero. ``balance_before`` is the batch's book balance when the caller has
    just read it under the same lock."""
    if balance_before is None:
        balance_before = batch_balance(batch.pk)
    balance = balance_before + quantity_mg
    if balance < 0:
        raise Invalid.one(
            field,
            _(
                "The book has only %(balance)s mg of %(product)s, batch %(lot)s; "
                "%(amount)s mg cannot be taken from it. Record the receipt or count first."
            )
            % {
                "balance": mg_text(balance - quantity_mg),
                "product": getattr(batch, "product_name", None) or batch.product.name,
                "lot": batch.lot,
                "amount": mg_text(-quantity_mg),
            },
        )
    entry = _next_entry(
        head, batch=batch, kind=kind, quantity_mg=quantity_mg, balance=balance, by=by, **links
    )
    entry.save(force_insert=True)
    head.seq, head.hash = entry.seq, entry.hash
    _save_head(head)
    return entry


# The rows an entry may point at, besides its batch and product.
LINKS = ("witness", "administration", "transfer_from", "count")


def _next_entry(
    head: LedgerHead,
    *,
    batch: Batch,
    kind: str,
    quantity_mg: Decimal,
    balance: Decimal,
    by: User | int,
    **links,
) -> LedgerEntry:
    """The entry after the head, hashed into the chain, at the clock's time (not saved;
    the head is not moved). ``by`` and the links (witness, administration, transfer_from,
    count) are rows or their ids."""
    entry = LedgerEntry(
        clinic_id=head.clinic_id,
        seq=head.seq + 1,
        product_id=batch.product_id,
        batch=batch,
        kind=kind,
        quantity_mg=quantity_mg,
        balance_mg=balance,
        at=clock.now(),
        reason=links.get("reason", ""),
        reference=links.get("reference", ""),
        prev_hash=head.hash,
    )
    for name, value in (("recorded_by", by), *((n, links.get(n)) for n in LINKS)):
        if isinstance(value, int):
            setattr(entry, f"{name}_id", value)
        else:
            setattr(entry, name, value)
    entry.hash = chain.entry_hash(content_of(entry), head.hash)
    return entry


def _save_head(head: LedgerHead) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE stock_ledgerhead SET seq = %s, hash = %s WHERE clinic_id = %s",
            [head.seq, head.hash, head.clinic_id],
        )


class LedgerImport:
    """A clinic's paper ledger typed in at once when it starts with HAB: each line chained
    by the ledger's own entry function, at its own time, the balances kept by the caller,
    then the lines written in bulk and the head moved once (``save``)."""

    def __init__(self, clinic: Clinic) -> None:
        self.head = _lock_head(clinic.pk)
        self.entries: list[LedgerEntry] = []

    def add(
        self,
        *,
        at: datetime.datetime,
        batch: Batch,
        kind: str,
        quantity_mg: Decimal,
        balance: Decimal,
        by: User | int,
        **links,
    ) -> LedgerEntry:
        with clock.at(at):
            entry = _next_entry(
                self.head,
                batch=batch,
                kind=kind,
                quantity_mg=quantity_mg,
                balance=balance,
                by=by,
                **links,
            )
        self.head.seq, self.head.hash = entry.seq, entry.hash
        self.entries.append(entry)
        return entry

    def save(self) -> list[LedgerEntry]:
        LedgerEntry.objects.bulk_create(self.entries, batch_size=2000)
        _save_head(self.head)
        return self.entries


def content_of(entry: LedgerEntry) -> dict:
    """The hashed content of an entry (``chain.FIELDS``), from the model."""
    return {
        "seq": entry.seq,
        "clinic": entry.clinic_id,
        "product": entry.product_id,
        "batch": entry.batch_id,
        "kind": entry.kind,
        "quantity_mg": entry.quantity_mg,
        "balance_mg": entry.balance_mg,
        "at": entry.at,
        "recorded_by": entry.recorded_by_id,
        "witness": entry.witness_id,
        "reason": entry.reason,
        "reference": entry.reference,
        "administration": entry.administration_id,
        "transfer_from": entry.transfer_from_id,
        "count": entry.count_id,
    }


# --- products and batches -----------------------------------------------------------------


# The forms of FEST's identifiers (the database checks the same).
FEST_FORMS = {
    "fest_dose_id": (
        re.compile(r"ID_[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"),
        gettext_lazy("A FEST id looks like ID_921B9637-16FE-48E6-BF54-8303007885F3."),
    ),
    "fest_lmr_number": (re.compile(r"[0-9]{7}"), gettext_lazy("Seven digits.")),
    "fest_item_number": (re.compile(r"[0-9]{6}"), gettext_lazy("Six digits.")),
}


def product_for(clinic: Clinic, code: str, field: str = "product") -> Product:
    product = Product.objects.filter(clinic=clinic, code=code).first()
    if product is None:
        raise Invalid.one(field, _("No such product at the clinic."))
    return product


def batch_for(product: Product, lot: str, field: str = "batch") -> Batch:
    batch = Batch.objects.select_related("product").filter(product=product, lot=lot).first()
    if batch is None:
        raise Invalid.one(field, _("No such batch of this product. A new batch comes by receipt."))
    return batch


def product_create(
    *,
    actor: Actor,
    clinic: Clinic,
    code: str,
    name: str,
    medication: str,
    form: str,
    concentration_mg_per_ml=None,
    fest_dose_id: str = "",
    fest_lmr_number: str = "",
    fest_item_number: str = "",
) -> Product:
    from hab.prescribing.models import Medication
    from hab.stock.models import Form

    clinic_for_action(actor.user, clinic, Action.STOCK_MANAGE)
    errors: list[FieldError] = []
    if not code or not code.replace("-", "").replace("_", "").isalnum():
        errors.append(FieldError("code", _("Use letters, digits and hyphens, e.g. dam-inj-10g.")))
    if not name.strip():
        errors.append(FieldError("name", _("Name the product.")))
    if medication not in Medication.values:
        errors.append(FieldError("medication", _("Choose the medication.")))
    if form not in Form.values:
        errors.append(FieldError("form", _("Choose the form.")))
    concentration = None
    if concentration_mg_per_ml not in (None, ""):
        concentration = quantity(errors, "concentration_mg_per_ml", concentration_mg_per_ml)
    fest = {
        "fest_dose_id": (fest_dose_id or "").strip().upper(),
        "fest_lmr_number": (fest_lmr_number or "").strip(),
        "fest_item_number": (fest_item_number or "").strip(),
    }
    for field, value in fest.items():
        if value and not FEST_FORMS[field][0].fullmatch(value):
            errors.append(FieldError(field, FEST_FORMS[field][1]))
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        if Product.objects.filter(clinic=clinic, code=code).exists():
            raise Conflict(_("The clinic already has a product with this code."))
        LedgerHead.objects.get_or_create(clinic=clinic)
        return Product.objects.create(
            clinic=clinic,
            code=code,
            name=name.strip(),
            medication=medication,
            form=form,
            concentration_mg_per_ml=concentration,
            **fest,
        )


# --- entries ------------------------------------------------------------------------------


def receipt_record(
    *,
    actor: Actor,
    clinic: Clinic,
    product: str,
    batch: str,
    quantity_mg,
    expires_on: datetime.date | None = None,
    reference: str = "",
) -> LedgerEntry:
    """Stock in from the supplier. A batch not seen before is registered with its expiry."""
    clinic_for_action(actor.user, clinic, Action.STOCK_RECEIVE)
    errors: list[FieldError] = []
    amount = quantity(errors, "quantity_mg", quantity_mg)
    lot = (batch or "").strip()
    if not lot:
        errors.append(FieldError("batch", _("Write the batch number.")))
    if errors:
        raise Invalid(errors)
    item = product_for(clinic, product)
    with transaction.atomic():
        head = _lock_head(clinic.pk)
        found = Batch.objects.select_related("product").filter(product=item, lot=lot).first()
        if found is None:
            if expires_on is None:
                raise Invalid.one("expires_on", _("A new batch needs its expiry date."))
            found = Batch.objects.create(
                product=item, lot=lot, expires_on=expires_on, created_at=clock.now()
            )
        elif expires_on is not None and expires_on != found.expires_on:
            raise Invalid.one(
                "expires_on",
                _("Batch %(lot)s is registered with expiry %(date)s.")
                % {"lot": lot, "date": found.expires_on.isoformat()},
            )
        return _append(
            head,
            batch=found,
            kind=Kind.RECEIPT,
            quantity_mg=amount,
            by=actor.user,
            reference=reference.strip()[:100],
        )


def witness_for(
    clinic: Clinic,
    username: str,
    recorder: User,
    action: Action,
    *,
    password: str | None = None,
    field: str = "witness",
) -> User:
    """The second person: someone else who handles controlled drugs at the clinic. With
    ``password`` (the pages) they confirm with their own password."""
    username = (username or "").strip()
    if not username:
        raise Invalid.one(field, _("A second member of staff must witness this."))
    witness = User.objects.filter(username=username, is_active=True).first()
    if witness is None or not policy.can(witness, action, clinic):
        raise Invalid.one(
            field, _("The witness must be a nurse, doctor or clinic lead at this clinic.")
        )
    if witness.pk == recorder.pk:
        raise Invalid.one(field, _("The witness must be someone other than you."))
    if password is not None and authenticate(username=username, password=password) is None:
        raise Invalid.one(f"{field}_password", _("The witness's password is not right."))
    return witness


def waste_record(
    *,
    actor: Actor,
    clinic: Clinic,
    product: str,
    batch: str,
    quantity_mg,
    witness: str,
    reason: str,
    witness_password: str | None = None,
) -> LedgerEntry:
    """Kassasjon: a partial dose's rest, a spill, expired stock; always witnessed."""
    clinic_for_action(actor.user, clinic, Action.STOCK_WASTE)
    errors: list[FieldError] = []
    amount = quantity(errors, "quantity_mg", quantity_mg)
    if not (reason or "").strip():
        errors.append(FieldError("reason", _("Write what was wasted and why.")))
    try:
        second = witness_for(
            clinic, witness, actor.user, Action.STOCK_WASTE, password=witness_password
        )
    except Invalid as error:
        errors += error.errors
    if errors:
        raise Invalid(errors)
    found = batch_for(product_for(clinic, product), batch)
    with transaction.atomic():
        head = _lock_head(clinic.pk)
        return _append(
            head,
            batch=found,
            kind=Kind.WASTE,
            quantity_mg=-amount,
            by=actor.user,
            witness=second,
            reason=reason.strip()[:300],
        )


def transfer_record(
    *,
    actor: Actor,
    clinic: Clinic,
    to_clinic: str,
    product: str,
    batch: str,
    quantity_mg,
    reason: str,
) -> tuple[LedgerEntry, LedgerEntry]:
    """Stock sent to another clinic: out of this book and into theirs, in one transaction.
    The receiving clinic must keep a product with the same code."""
    clinic_for_action(actor.user, clinic, Action.STOCK_TRANSFER)
    errors: list[FieldError] = []
    amount = quantity(errors, "quantity_mg", quantity_mg)
    if not (reason or "").strip():
        errors.append(FieldError("reason", _("Write why the stock is moved.")))
    target = Clinic.objects.filter(code=to_clinic).exclude(pk=clinic.pk).first()
    if target is None:
        errors.append(FieldError("to_clinic", _("Choose another clinic.")))
    if errors:
        raise Invalid(errors)
    source = batch_for(product_for(clinic, product), batch)
    their_product = product_for(target, product, field="product")
    with transaction.atomic():
        # Heads are locked in clinic-id order, so two transfers the opposite way cannot
        # deadlock.
        heads = {pk: _lock_head(pk) for pk in sorted((clinic.pk, target.pk))}
        out = _append(
            heads[clinic.pk],
            batch=source,
            kind=Kind.TRANSFER,
            quantity_mg=-amount,
            by=actor.user,
            reason=reason.strip()[:300],
            reference=f"→ {target.code}",
        )
        their_batch, _created = Batch.objects.get_or_create(
            product=their_product,
            lot=source.lot,
            defaults={"expires_on": source.expires_on, "created_at": clock.now()},
        )
        into = _append(
            heads[target.pk],
            batch=their_batch,
            kind=Kind.TRANSFER,
            quantity_mg=amount,
            by=actor.user,
            reason=reason.strip()[:300],
            reference=f"← {clinic.code}",
            transfer_from=out,
        )
    return out, into


def adjustment_record(
    *,
    actor: Actor,
    clinic: Clinic,
    product: str,
    batch: str,
    quantity_mg,
    reason: str,
) -> LedgerEntry:
    """The clinic lead corrects the book (signed mg), always with a reason."""
    clinic_for_action(actor.user, clinic, Action.STOCK_ADJUST)
    errors: list[FieldError] = []
    amount = quantity(errors, "quantity_mg", quantity_mg, signed=True)
    if not (reason or "").strip():
        errors.append(FieldError("reason", _("Write why the book is adjusted.")))
    if errors:
        raise Invalid(errors)
    found = batch_for(product_for(clinic, product), batch)
    with transaction.atomic():
        head = _lock_head(clinic.pk)
        return _append(
            head,
            batch=found,
            kind=Kind.COUNT_ADJUSTMENT,
            quantity_mg=amount,
            by=actor.user,
            reason=reason.strip()[:300],
        )


@dataclass(frozen=True)
class Counted:
    count: StockCount
    discrepancy: Discrepancy | None


def count_record(
    *,
    actor: Actor,
    clinic: Clinic,
    product: str,
    batch: str,
    counted_mg,
    witness: str = "",
    witness_password: str | None = None,
    note: str = "",
) -> Counted:
    """A stock count against the book balance at this moment. Any difference opens a
    discrepancy for the clinic lead; the book is not changed by the count itself."""
    clinic_for_action(actor.user, clinic, Action.STOCK_COUNT)
    errors: list[FieldError] = []
    try:
        counted = parse_mg(counted_mg)
        if counted < 0 or counted >= LEDGER_LIMIT:
            raise ValueError
    except ValueError:  # NumberError too
        errors.append(FieldError("counted_mg", _("Enter what you counted in mg (0 or more).")))
        counted = Decimal(0)
    second = None
    if witness or witness_password is not None:
        try:
            second = witness_for(
                clinic, witness, actor.user, Action.STOCK_COUNT, password=witness_password
            )
        except Invalid as error:
            errors += error.errors
    if errors:
        raise Invalid(errors)
    found = batch_for(product_for(clinic, product), batch)
    with transaction.atomic():
        _lock_head(clinic.pk)  # no dose or waste slips in between reading and recording
        book = batch_balance(found.pk)
        now = clock.now()
        count = StockCount.objects.create(
            clinic=clinic,
            product=found.product,
            batch=found,
            counted_mg=counted,
            book_mg=book,
            difference_mg=counted - book,
            counted_at=now,
            counted_by=actor.user,
            witness=second,
            note=(note or "").strip()[:300],
        )
        discrepancy = None
        if counted != book:
            discrepancy = Discrepancy.objects.create(count=count, clinic=clinic, opened_at=now)
            # Saldoavvik is an incident (avvik) for the clinic lead to follow up.
            seams.discrepancy_opened(actor=actor, discrepancy=discrepancy)
    return Counted(count, discrepancy)


def discrepancy_resolve(
    *, actor: Actor, discrepancy_id: int, explanation: str, adjust: bool
) -> DiscrepancyResolution:
    """The clinic lead explains a discrepancy and, when the count was right, books the
    difference as a count adjustment so the book matches what is in the safe."""
    discrepancy = (
        Discrepancy.objects.select_related("count__batch__product", "clinic")
        .filter(pk=discrepancy_id)
        .first()
    )
    if discrepancy is None or not policy.is_member(actor.user, discrepancy.clinic_id):
        raise NotFound(_("No such discrepancy."))
    clinic_for_action(actor.user, discrepancy.clinic, Action.STOCK_MANAGE)
    if not (explanation or "").strip():
        raise Invalid.one("explanation", _("Explain what caused the difference."))
    count = discrepancy.count
    with transaction.atomic():
        head = _lock_head(discrepancy.clinic_id)
        if DiscrepancyResolution.objects.filter(discrepancy=discrepancy).exists():
            raise Conflict(_("This discrepancy is already resolved."))
        adjustment = None
        if adjust:
            # The book may have moved since the count (doses); the count's difference is
            # what is booked, not a new comparison.
            adjustment = _append(
                head,
                batch=count.batch,
                kind=Kind.COUNT_ADJUSTMENT,
                quantity_mg=count.difference_mg,
                by=actor.user,
                reason=explanation.strip()[:300],
                count=count,
                field="adjust",
            )
        resolution = DiscrepancyResolution.objects.create(
            discrepancy=discrepancy,
            resolved_at=clock.now(),
            resolved_by=actor.user,
            explanation=explanation.strip()[:1000],
            adjustment=adjustment,
        )
        seams.discrepancy_resolved(
            actor=actor, discrepancy=discrepancy, explanation=resolution.explanation
        )
        return resolution


# --- doses --------------------------------------------------------------------------------


def administration_debit(
    administration,
    *,
    given_mg: Decimal,
    replaced_mg: Decimal = Decimal(0),
    chain_ids: Collection[int] = (),
) -> LedgerEntry | None:
    """Debits a dose from the batch in use, in the dose's own transaction. Called by the
    dosing room for every record, which says what the patient took by it (``given_mg``;
    the ledger does not read dose statuses). A correction passes what the record it
    replaces took (``replaced_mg``: only the difference is booked) and, when it gives
    back, the ids of the dose's chain of records (``chain_ids``), whose batch takes it.

    The batch in use is the unexpired batch of the medication's products that expires
    first and holds enough (first expiry, first out). A clinic that keeps no product of
    the medication in HAB's ledger is not debited. When the book cannot cover the dose,
    the dose is refused (422): the ledger never goes negative."""
    change = Decimal(given_mg) - Decimal(replaced_mg)
    if change == 0:
        return None
    clinic_id = administration.clinic_id
    head = _lock_head(clinic_id)
    candidates = debit_candidates(clinic_id, administration.medication, clock.today())
    if candidates is None:  # the clinic keeps this medication outside HAB's ledger
        return None
    batch, balance = None, None
    if change < 0:  # give back to the batch the dose came from
        last = (
            LedgerEntry.objects.filter(
                administration_id__in=list(chain_ids), kind=Kind.ADMINISTRATION
            )
            .select_related("batch__product")
            .order_by("-seq")
            .first()
        )
        batch = last.batch if last else None
    if batch is None:
        batch, balance = _batch_in_use(candidates, change)
    return _append(
        head,
        batch=batch,
        kind=Kind.ADMINISTRATION,
        quantity_mg=-change,
        by=administration.nurse,
        administration=administration,
        field="dose_mg",
        balance_before=balance,
    )


def _batch_in_use(batches: list[tuple[Batch, Decimal]], need: Decimal) -> tuple[Batch, Decimal]:
    """The first-expiring batch that holds ``need`` (first expiry, first out), with its
    balance; refuses (422) when none does."""
    for batch, balance in batches:
        if balance >= need:
            return batch, balance
    if batches:
        held = max(balance for _b, balance in batches)
        raise Invalid.one(
            "dose_mg",
            _(
                "The controlled-drug book has no unexpired batch with %(need)s mg "
                "(largest: %(held)s mg). Record the receipt or a count before dosing."
            )
            % {"need": mg_text(need), "held": mg_text(held)},
        )
    raise Invalid.one(
        "dose_mg",
        _(
            "The controlled-drug book has no unexpired stock of this medication. "
            "Record the receipt before dosing."
        ),
    )


# --- the chain ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    clinic: Clinic
    entries: int
    broken: chain.Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify(clinic: Clinic) -> Verified:
    """Recomputes the clinic's chain from the stored rows."""
    head = LedgerHead.objects.filter(clinic=clinic).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, chain.GENESIS)
    rows = (
        LedgerEntry.objects.filter(clinic=clinic)
        .order_by("seq")
        .values(
            *[
                f"{name}_id" if name in _FOREIGN else name
                for name in chain.FIELDS
                if name != "clinic"
            ],
            "clinic_id",
            "prev_hash",
            "hash",
        )
        .iterator(chunk_size=2000)
    )
    entries = ({_unprefixed(k): v for k, v in row.items()} for row in rows)
    checked, broken = chain.first_break(entries, head_seq, head_hash)
    return Verified(clinic, checked, broken)


_FOREIGN = {
    "product",
    "batch",
    "recorded_by",
    "witness",
    "administration",
    "transfer_from",
    "count",
}


def _unprefixed(key: str) -> str:
    return key[:-3] if key.endswith("_id") else key


# The hashed fields as ``values()`` names them (foreign keys by their ``_id``).
_HASHED = tuple(f"{name}_id" if name in _FOREIGN else name for name in chain.FIELDS)


# What each break means, for the page and the command.
PROBLEMS = {
    "changed": gettext_lazy("the entry's content was changed after it was written"),
    "missing": gettext_lazy("entries before this one are missing"),
    "inserted": gettext_lazy("an entry was added outside HAB"),
    "link": gettext_lazy("the entry does not follow the one before it (deleted or reordered rows)"),
    "head": gettext_lazy("the chain does not end where HAB last wrote"),
}


# --- signed checkpoints -------------------------------------------------------------------


class CheckpointRefused(Conflict):
    """The chain does not verify since the last good checkpoint: its head is not signed."""


def checkpoint_record(clinic: Clinic, *, key: str | None = None) -> tuple[LedgerCheckpoint, bool]:
    """Signs the clinic's chain head as it stands now, as today's checkpoint (run daily by
    ``hab ledger-checkpoint``). Returns the checkpoint and whether it is new: a second run
    on the same day keeps the first.

    The head is signed only if the entries since the last checkpoint still follow from it
    (from the first entry when there is none), with the head locked, so a chain that has
    been tampered with is never endorsed: CheckpointRefused names the entry."""
    key = key or settings.LEDGER_KEY
    with transaction.atomic():
        head = _lock_head(clinic.pk)
        today = clock.today()
        done = LedgerCheckpoint.objects.filter(clinic=clinic, day=today).first()
        if done is not None:
            return done, False
        start_seq, start_hash = 0, chain.GENESIS
        last = LedgerCheckpoint.objects.filter(clinic=clinic).order_by("-day").first()
        if last is not None:
            problem = checkpoint.check(
                key, _signed(last), _stored_hashes(clinic, [last.seq]).get(last.seq)
            )
            if problem is None:
                start_seq, start_hash = last.seq, last.head_hash
            elif problem != "key":
                raise CheckpointRefused(
                    f"{clinic.code}: the checkpoint of {last.day} does not hold "
                    f"({CHECKPOINT_PROBLEMS[problem]}); run hab verify-ledger."
                )
            # Signed with another key (a replaced key): the whole chain is walked instead.
        rows = (
            LedgerEntry.objects.filter(clinic=clinic, seq__gt=start_seq)
            .order_by("seq")
            .values(*_HASHED, "prev_hash", "hash")
            .iterator(chunk_size=2000)
        )
        entries = ({_unprefixed(k): v for k, v in row.items()} for row in rows)
        broken = checkpoint.segment_break(entries, start_seq, start_hash, head.seq, head.hash)
        # A walk that stopped early leaves PostgreSQL's server-side cursor open: closed
        # now, while the transaction can still close it.
        rows.close()
        if broken is not None:
            raise CheckpointRefused(
                f"{clinic.code}: the chain breaks at entry no. {broken}; the head is not "
                "signed. Run hab verify-ledger."
            )
        now = clock.now()
        fields = {"clinic": clinic.pk, "day": today, "seq": head.seq, "head_hash": head.hash}
        made = LedgerCheckpoint.objects.create(
            clinic=clinic,
            day=today,
            seq=head.seq,
            head_hash=head.hash,
            key_id=checkpoint.key_id(key),
            signature=checkpoint.sign(key, created_at=now, **fields),
            created_at=now,
        )
    return made, True


def _signed(made: LedgerCheckpoint) -> dict:
    return {
        "clinic": made.clinic_id,
        "day": made.day,
        "seq": made.seq,
        "head_hash": made.head_hash,
        "created_at": made.created_at,
        "key_id": made.key_id,
        "signature": made.signature,
    }


def _stored_hashes(clinic: Clinic, seqs: list[int]) -> dict[int, str]:
    """The stored chain's hash at each of ``seqs`` (GENESIS at 0, before the first entry)."""
    found = {0: chain.GENESIS}
    wanted = sorted({seq for seq in seqs if seq > 0})
    for start in range(0, len(wanted), 500):
        found.update(
            LedgerEntry.objects.filter(
                clinic=clinic, seq__in=wanted[start : start + 500]
            ).values_list("seq", "hash")
        )
    return found


def newest_checkpoint(clinic: Clinic) -> LedgerCheckpoint | None:
    return LedgerCheckpoint.objects.filter(clinic=clinic).order_by("-day").first()


@dataclass(frozen=True)
class CheckpointFinding:
    day: datetime.date
    seq: int
    problem: str  # a key of CHECKPOINT_PROBLEMS
    key_id: str


def verify_checkpoints(
    clinic: Clinic, *, key: str | None = None
) -> tuple[int, list[CheckpointFinding]]:
    """Checks every signed checkpoint of the clinic against the key and the stored chain.
    Returns how many there are and what is wrong with them, oldest first."""
    key = key or settings.LEDGER_KEY
    made = [_signed(c) for c in LedgerCheckpoint.objects.filter(clinic=clinic).order_by("day")]
    stored = _stored_hashes(clinic, [c["seq"] for c in made])
    findings = []
    for signed in made:
        problem = checkpoint.check(key, signed, stored.get(signed["seq"]))
        if problem is not None:
            findings.append(
                CheckpointFinding(signed["day"], signed["seq"], problem, signed["key_id"])
            )
    return len(made), findings


# What each checkpoint problem means, for the command's report (operators' English, like
# the rest of it).
CHECKPOINT_PROBLEMS = {
    "key": (
        "signed with another key than this server's HAB_LEDGER_KEY: give the server the key "
        "that signed it"
    ),
    "signature": "its signature does not match: the checkpoint was forged or altered",
    "missing": "the chain no longer reaches the signed entry: the newest entries were deleted",
    "changed": "the signed entry is no longer the same: entries were rewritten and re-hashed",
}


# --- doses against their debits -----------------------------------------------------------


@dataclass(frozen=True)
class DoseMismatch:
    """A dose record whose ledger debits do not add up to what it says was given."""

    administration: int  # the record as it stands (the newest of its chain)
    patient: int
    research_id: str
    day: datetime.date
    slot: str
    medication: str
    given_mg: Decimal
    debited_mg: Decimal
    problem: str = ""  # when the total agrees but a batch does not


def reconcile_doses(clinic: Clinic) -> list[DoseMismatch]:
    """Every dose as it now stands (after its corrections) against its ledger debits: the
    mg given must equal the mg debited for the dose's chain of records, and per batch no
    chain may have been credited more than it took, from a batch of another medication or
    another clinic. Doses the ledger never saw are left out: those of a medication the
    clinic does not keep in HAB's ledger, and those recorded (given, or back-entered)
    before its first entry for that medication: a dose after it is debited or refused,
    never neither. A limit: a dose recorded before the ledger began and corrected after
    it is debited only the correction's difference, and is reported.

    Set-based (two queries a clinic), as the national database holds tens of millions of
    doses; only mismatches come back."""
    with connection.cursor() as cursor:
        cursor.execute(_RECONCILE_TOTALS, [clinic.pk, clinic.pk, clinic.pk])
        totals = cursor.fetchall()
        cursor.execute(_RECONCILE_BATCHES, [clinic.pk, clinic.pk, clinic.pk])
        batches = cursor.fetchall()
    found = [
        DoseMismatch(
            administration=pk,
            patient=patient,
            research_id=research_id,
            day=_date(day),
            slot=slot,
            medication=medication,
            given_mg=_mg(given),
            debited_mg=_mg(debited),
        )
        for pk, patient, research_id, day, slot, medication, given, debited in totals
    ]
    for pk, patient, research_id, day, slot, medication, lot, net, other in batches:
        found.append(
            DoseMismatch(
                administration=pk,
                patient=patient,
                research_id=research_id,
                day=_date(day),
                slot=slot,
                medication=medication,
                given_mg=Decimal(0),
                debited_mg=-_mg(net),
                problem=(
                    f"batch {lot} is of another medication or clinic"
                    if other
                    else f"batch {lot} was credited {plain(_mg(net))} mg more than it gave"
                ),
            )
        )
    return sorted(found, key=lambda m: (m.day, m.administration, m.problem))


# The newest record of each chain of this clinic, and the debits of each chain (by the
# chain's first record). 0.05 mg: SQLite adds decimals as floats. A record's dose is what
# the patient took: the database holds every record not taken at 0 mg (the dose table's
# check ``admin_no_dose_unless_given``), so the ledger need not know the statuses.
_RECONCILE_TOTALS = """
WITH cur AS (
    SELECT COALESCE(a.original_id, a.id) AS root, a.id, a.patient_id, a.day, a.slot,
           a.medication, COALESCE(a.back_entered_at, a.given_at) AS recorded_at,
           a.dose_mg AS given
      FROM dosing_administration a
     WHERE a.clinic_id = %s
       AND NOT EXISTS (SELECT 1 FROM dosing_administration c
                        WHERE c.corrects_id = a.id AND c.corrects_id IS NOT NULL)
),
debit AS (
    SELECT COALESCE(a.original_id, a.id) AS root, -SUM(e.quantity_mg) AS mg
      FROM stock_ledgerentry e
      JOIN dosing_administration a ON a.id = e.administration_id
     WHERE e.clinic_id = %s AND e.kind = 'administration'
     GROUP BY COALESCE(a.original_id, a.id)
),
kept AS (
    SELECT p.medication, MIN(e.at) AS since
      FROM stock_product p
      JOIN stock_ledgerentry e ON e.product_id = p.id
     WHERE p.clinic_id = %s
     GROUP BY p.medication
)
SELECT cur.id, cur.patient_id, pt.research_id, cur.day, cur.slot, cur.medication,
       cur.given, COALESCE(debit.mg, 0)
  FROM cur
  JOIN patients_patient pt ON pt.id = cur.patient_id
  LEFT JOIN debit ON debit.root = cur.root
  LEFT JOIN kept ON kept.medication = cur.medication
 WHERE (debit.root IS NOT NULL OR cur.recorded_at >= kept.since)
   AND ABS(cur.given - COALESCE(debit.mg, 0)) > 0.05
 ORDER BY cur.day, cur.id
"""

# Per chain and batch: a batch credited back more than the chain took from it, or a batch
# of another medication, or a debit of this clinic's ledger for another clinic's dose.
_RECONCILE_BATCHES = """
SELECT MAX(a.id), a.patient_id, pt.research_id, MIN(a.day), MIN(a.slot), a.medication,
       b.lot, SUM(e.quantity_mg),
       CASE WHEN p.medication <> a.medication OR a.clinic_id <> %s THEN 1 ELSE 0 END
  FROM stock_ledgerentry e
  JOIN dosing_administration a ON a.id = e.administration_id
  JOIN patients_patient pt ON pt.id = a.patient_id
  JOIN stock_batch b ON b.id = e.batch_id
  JOIN stock_product p ON p.id = b.product_id
 WHERE e.clinic_id = %s AND e.kind = 'administration'
 GROUP BY COALESCE(a.original_id, a.id), e.batch_id, b.lot, a.patient_id, pt.research_id,
          a.medication, p.medication, a.clinic_id
HAVING SUM(e.quantity_mg) > 0.05 OR p.medication <> a.medication OR a.clinic_id <> %s
"""


def _mg(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(MG_STEP)


def _date(value) -> datetime.date:
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value
