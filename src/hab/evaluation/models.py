"""What the programme costs and who pays for it: yearly cost inputs per clinic and the
grants per funder. Both are append-only: a change is a new row, and the newest row for a
clinic, year and category (or funder, year and clinic) is the figure in use."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hab.core.models import Clinic


class Category(models.TextChoices):
    STAFF = "staff", _("Staff")
    MEDICATION = "medication", _("Medication")
    PREMISES = "premises", _("Premises")
    OTHER = "other", _("Other")


class CostInput(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    amount_nok = models.DecimalField(_("amount (NOK)"), max_digits=14, decimal_places=2)
    # Staff cost may be entered as FTEs × cost per FTE; the amount is then their product.
    fte = models.DecimalField(_("FTEs"), max_digits=7, decimal_places=2, null=True, blank=True)
    cost_per_fte = models.DecimalField(
        _("cost per FTE (NOK)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_at = models.DateTimeField(_("recorded"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["clinic", "year", "category", "-recorded_at", "-id"]
        verbose_name = _("cost input")
        verbose_name_plural = _("cost inputs")
        indexes = [models.Index(fields=["clinic", "year"], name="cost_clinic_year")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_nok__gte=0), name="cost_not_negative"),
            models.CheckConstraint(
                condition=Q(fte__isnull=True, cost_per_fte__isnull=True)
                | Q(fte__isnull=False, cost_per_fte__isnull=False, category="staff"),
                name="cost_fte_for_staff_with_rate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clinic_id} {self.year} {self.category} {self.amount_nok}"


class Grant(models.Model):
    funder = models.CharField(_("funder"), max_length=120)
    year = models.PositiveSmallIntegerField(_("year"))
    amount_nok = models.DecimalField(_("amount (NOK)"), max_digits=14, decimal_places=2)
    # The clinic the grant pays for; none for a programme-wide grant (the evaluation).
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("clinic"),
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_at = models.DateTimeField(_("recorded"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["year", "funder", "-recorded_at", "-id"]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        constraints = [
            models.CheckConstraint(condition=Q(amount_nok__gte=0), name="grant_not_negative"),
            models.CheckConstraint(condition=~Q(funder=""), name="grant_has_funder"),
        ]

    def __str__(self) -> str:
        return f"{self.funder} {self.year} {self.amount_nok}"
