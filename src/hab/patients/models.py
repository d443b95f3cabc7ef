from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hab.core.models import Clinic


class IdKind(models.TextChoices):
    FNR = "fnr", _("Fødselsnummer")
    DNR = "dnr", _("D-number")


class Patient(models.Model):
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="patients", verbose_name=_("clinic")
    )
    national_id = models.CharField(_("national id"), max_length=11, unique=True)
    id_kind = models.CharField(_("kind of id"), max_length=3, choices=IdKind.choices)
    synthetic_id = models.BooleanField(_("synthetic test id"), default=False)
    birth_date = models.DateField(_("birth date"))
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    photo = models.ImageField(_("photo"), upload_to="photos/%Y/", blank=True)
    # Keyed HMAC of the national id: stable across exports, not reversible without the key.
    research_id = models.CharField(_("research id"), max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [
            models.Index(
                fields=["clinic", "family_name", "given_name"], name="patient_clinic_name"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(national_id__regex=r"^[0-9]{11}$"), name="patient_national_id_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", _("Treatment")
    RESEARCH = "research", _("Research")
    RELATIVES = "relatives", _("Sharing with relatives")


class Consent(models.Model):
    """A consent given or withdrawn. Append-only: the latest row per kind is in force."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    kind = models.CharField(_("consent"), max_length=12, choices=ConsentKind.choices)
    given = models.BooleanField(_("given"))
    at = models.DateTimeField(_("time"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        state = "given" if self.given else "withdrawn"
        return f"{self.kind} {state} {self.at:%Y-%m-%d}"


class Relative(models.Model):
    """A relative (pårørende). Removing one keeps the row, marked removed."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="relatives")
    name = models.CharField(_("name"), max_length=150)
    relation = models.CharField(_("relation"), max_length=60)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    is_next_of_kin = models.BooleanField(_("next of kin"), default=False)
    note = models.CharField(_("note"), max_length=500, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_next_of_kin", "name", "id"]
        verbose_name = _("relative")
        verbose_name_plural = _("relatives")

    def __str__(self) -> str:
        return f"{self.name} ({self.relation})"
