"""The controlled-drug ledger (narkotikaregnskap): products, batches, signed entries in mg,
stock counts and discrepancies.

Entries are never changed: a mistake is put right by a new entry. Each entry carries the
batch's balance after it (never negative, a database constraint) and a SHA-256 hash over
its content and the previous entry of the clinic's chain, so a row changed, inserted or
deleted outside HAB is found by ``hab verify-ledger``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hab.core.models import Clinic
from hab.prescribing.models import Medication

MG = {"max_digits": 12, "decimal_places": 1}


class Form(models.TextChoices):
    POWDER = "powder", _("Powder for injection")
    TABLET = "tablet", _("Tablets")
    SOLUTION = "solution", _("Oral solution")


class Product(models.Model):
    """A controlled drug the clinic keeps, e.g. diacetylmorphine 10 g powder for injection.
    Doses of ``medication`` are debited from its batches."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="products")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    medication = models.CharField(_("medication"), max_length=30, choices=Medication.choices)
    form = models.CharField(_("form"), max_length=10, choices=Form.choices)
    # Reconstituted powder or an oral solution: nurses may draw doses in ml, the ledger
    # stays in mg.
    concentration_mg_per_ml = models.DecimalField(
        _("concentration (mg/ml)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    # The product's identifiers in FEST, the national medicines catalogue, for reports to
    # Legemiddelregisteret. Empty for a product FEST does not list (diacetylmorphine is
    # imported for the trial): it is then reported from the clinic's local catalogue.
    fest_dose_id = models.CharField(
        _("FEST medication dose id"), max_length=40, blank=True, default=""
    )
    fest_lmr_number = models.CharField(_("LMR number"), max_length=7, blank=True, default="")
    fest_item_number = models.CharField(
        _("item number (varenummer)"), max_length=6, blank=True, default=""
    )

    class Meta:
        ordering = ["clinic", "name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(fields=["clinic", "code"], name="product_code_per_clinic"),
            models.CheckConstraint(
                condition=Q(fest_dose_id="")
                | Q(
                    fest_dose_id__regex=r"^ID_[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$"
                ),
                name="product_fest_dose_id_form",
            ),
            models.CheckConstraint(
                condition=Q(fest_lmr_number="") | Q(fest_lmr_number__regex=r"^[0-9]{7}$"),
                name="product_lmr_number_seven_digits",
            ),
            models.CheckConstraint(
                condition=Q(fest_item_number="") | Q(fest_item_number__regex=r"^[0-9]{6}$"),
                name="product_item_number_six_digits",
            ),
            models.CheckConstraint(
                condition=Q(concentration_mg_per_ml__isnull=True)
                | Q(concentration_mg_per_ml__gt=0),
                name="product_concentration_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Batch(models.Model):
    """A batch (lot) of a product, as delivered."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="batches")
    lot = models.CharField(_("batch number"), max_length=40)
    expires_on = models.DateField(_("expiry date"))
    created_at = models.DateTimeField(_("registered"))

    class Meta:
        ordering = ["product", "expires_on", "lot"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        constraints = [
            models.UniqueConstraint(fields=["product", "lot"], name="batch_lot_per_product"),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.lot}"


class Kind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    ADMINISTRATION = "administration", _("Administration")
    WASTE = "waste", _("Waste")
    TRANSFER = "transfer", pgettext_lazy("ledger entry", "Transfer")
    COUNT_ADJUSTMENT = "count_adjustment", _("Count adjustment")


class LedgerEntry(models.Model):
    """One movement of a batch in mg: positive in, negative out. Append-only."""

    # Indexes: see Meta (clinic and batch lead composite ones; the links that are empty on
    # nearly every entry get partial ones).
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="ledger", db_index=False
    )
    seq = models.PositiveBigIntegerField(_("no."))  # place in the clinic's chain, from 1
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    quantity_mg = models.DecimalField(_("quantity (mg)"), **MG)
    balance_mg = models.DecimalField(_("batch balance after (mg)"), **MG)
    at = models.DateTimeField(_("time"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("witness"),
        db_index=False,
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    administration = models.ForeignKey(
        "dosing.Administration",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    # The other half of a transfer: the receiving entry points at the sending one.
    transfer_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="transfer_to"
    )
    count = models.ForeignKey(
        "StockCount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)  # unique: see Meta

    class Meta:
        ordering = ["clinic", "-seq"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        indexes = [
            models.Index(fields=["batch", "-seq"], name="ledger_batch_seq"),
            models.Index(fields=["clinic", "at"], name="ledger_clinic_at"),
            models.Index(
                fields=["witness"], condition=Q(witness__isnull=False), name="ledger_witness"
            ),
            models.Index(fields=["count"], condition=Q(count__isnull=False), name="ledger_count"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "seq"], name="ledger_seq_per_clinic"),
            # A constraint, not ``unique=True``: that also builds a second index of the
            # hashes for LIKE searches on PostgreSQL, which nothing makes.
            models.UniqueConstraint(fields=["hash"], name="ledger_hash_unique"),
            models.CheckConstraint(condition=Q(balance_mg__gte=0), name="ledger_never_negative"),
            models.CheckConstraint(condition=~Q(quantity_mg=0), name="ledger_quantity_not_zero"),
            models.CheckConstraint(
                condition=~Q(kind="receipt") | Q(quantity_mg__gt=0), name="ledger_receipt_in"
            ),
            models.CheckConstraint(
                condition=~Q(kind="waste")
                | (
                    Q(quantity_mg__lt=0)
                    & Q(witness__isnull=False)
                    & ~Q(witness=F("recorded_by"))
                    & ~Q(reason="")
                ),
                name="ledger_waste_witnessed",
            ),
            models.CheckConstraint(
                condition=~Q(kind="administration") | Q(administration__isnull=False),
                name="ledger_administration_linked",
            ),
            models.CheckConstraint(
                condition=~Q(kind="count_adjustment") | ~Q(reason=""),
                name="ledger_adjustment_reason",
            ),
            models.CheckConstraint(
                condition=~Q(kind="transfer")
                | Q(quantity_mg__lt=0, transfer_from__isnull=True)
                | Q(quantity_mg__gt=0, transfer_from__isnull=False),
                name="ledger_transfer_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clinic_id}#{self.seq} {self.kind} {self.quantity_mg} mg"


class LedgerHead(models.Model):
    """The last entry of a clinic's chain. Writers lock this row, so entries of one clinic
    are appended one at a time; ``verify`` also checks that no entry after it is missing."""

    clinic = models.OneToOneField(
        Clinic, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"{self.clinic_id}#{self.seq}"


class LedgerCheckpoint(models.Model):
    """A clinic's chain head as it stood on a day, signed (HMAC-SHA256) with HAB_LEDGER_KEY,
    a key the database does not hold. Append-only. ``hab verify-ledger`` checks that the
    chain still passes through every signed head, so entries rewritten and re-hashed, or
    the newest entries deleted and the head wound back, are found (stock/checkpoint.py)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    day = models.DateField(_("day"))
    # The head's number, which is also the number of entries the chain had then.
    seq = models.PositiveBigIntegerField(_("no."))
    head_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)  # which key signed it (checkpoint.key_id)
    signature = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("signed"))

    class Meta:
        ordering = ["clinic", "-day"]
        verbose_name = _("ledger checkpoint")
        verbose_name_plural = _("ledger checkpoints")
        constraints = [
            models.UniqueConstraint(fields=["clinic", "day"], name="checkpoint_day_per_clinic"),
        ]

    def __str__(self) -> str:
        return f"{self.clinic_id} {self.day} #{self.seq}"


class StockCount(models.Model):
    """Two people counted a batch: counted against the book balance at that moment."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="counts")
    counted_mg = models.DecimalField(_("counted (mg)"), **MG)
    book_mg = models.DecimalField(_("book balance (mg)"), **MG)
    difference_mg = models.DecimalField(_("difference (mg)"), max_digits=13, decimal_places=1)
    counted_at = models.DateTimeField(_("counted"))
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("second counter"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-counted_at", "-id"]
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        indexes = [models.Index(fields=["batch", "-counted_at"], name="count_batch_at")]
        constraints = [
            models.CheckConstraint(condition=Q(counted_mg__gte=0), name="count_not_negative"),
            # Within half a tenth: SQLite does this arithmetic in floating point.
            models.CheckConstraint(
                condition=Q(difference_mg__gt=F("counted_mg") - F("book_mg") - Decimal("0.05"))
                & Q(difference_mg__lt=F("counted_mg") - F("book_mg") + Decimal("0.05")),
                name="count_difference_is_counted_minus_book",
            ),
            models.CheckConstraint(
                condition=Q(witness__isnull=True) | ~Q(witness=F("counted_by")),
                name="count_two_people",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch} {self.counted_mg} mg ({self.counted_at:%Y-%m-%d %H:%M})"


class Discrepancy(models.Model):
    """Saldoavvik: a count that did not match the book. Open until a clinic lead explains
    it (``DiscrepancyResolution``)."""

    count = models.OneToOneField(StockCount, on_delete=models.PROTECT, related_name="discrepancy")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("opened"))

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("stock discrepancy")
        verbose_name_plural = _("stock discrepancies")

    def __str__(self) -> str:
        return f"{self.count}"


class DiscrepancyResolution(models.Model):
    discrepancy = models.OneToOneField(
        Discrepancy, on_delete=models.PROTECT, related_name="resolution"
    )
    resolved_at = models.DateTimeField(_("resolved"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    explanation = models.CharField(_("explanation"), max_length=1000)
    # The adjustment that brought the book to the count, when the lead booked one.
    adjustment = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")
        constraints = [
            models.CheckConstraint(
                condition=~Q(explanation=""), name="discrepancy_resolution_explained"
            ),
        ]

    def __str__(self) -> str:
        return self.explanation[:60]
