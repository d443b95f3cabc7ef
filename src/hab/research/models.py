"""Follow-up research: the schedule per course of treatment, instruments defined as data,
responses (append-only, corrected by new responses), and the log of every export."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from hab.research.rules import TIMEPOINTS


class Instrument(models.Model):
    """A questionnaire, versioned: a change is a new version; answers keep theirs."""

    code = models.SlugField(_("code"), max_length=40)
    version = models.PositiveIntegerField(_("version"))
    name_nb = models.CharField(_("name (bokmål)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="instrument_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class ItemType(models.TextChoices):
    INTEGER = "integer", _("Whole number")
    YES_NO = "yes_no", _("Yes/no")
    CHOICE = "choice", _("One of coded options")
    DATE = "date", _("Date")
    TEXT = "text", _("Free text")


class Item(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="items")
    code = models.SlugField(_("code"), max_length=60)
    order = models.PositiveSmallIntegerField(_("order"))
    text_nb = models.CharField(_("question (bokmål)"), max_length=500)
    text_en = models.CharField(_("question (English)"), max_length=500)
    type = models.CharField(_("type"), max_length=10, choices=ItemType.choices)
    min_value = models.IntegerField(_("lowest"), null=True, blank=True)
    max_value = models.IntegerField(_("highest"), null=True, blank=True)
    required = models.BooleanField(_("required"), default=True)
    domain = models.CharField(_("domain"), max_length=40, blank=True)

    class Meta:
        ordering = ["instrument", "order"]
        verbose_name = _("item")
        verbose_name_plural = _("items")
        constraints = [
            models.UniqueConstraint(fields=["instrument", "code"], name="item_code_unique"),
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lte=F("max_value")),
                name="item_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Option(models.Model):
    """A coded answer of a single-choice item."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="options")
    code = models.IntegerField(_("code"))
    label_nb = models.CharField(_("label (bokmål)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200)

    class Meta:
        ordering = ["item", "code"]
        verbose_name = _("option")
        verbose_name_plural = _("options")
        constraints = [models.UniqueConstraint(fields=["item", "code"], name="option_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.label_en}"


class FollowUp(models.Model):
    """A time point of a course of treatment (the first episode; a transfer between HAB
    clinics continues the same course)."""

    episode = models.ForeignKey(
        "intake.Episode", on_delete=models.PROTECT, related_name="follow_ups"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="follow_ups"
    )
    timepoint = models.CharField(
        _("time point"), max_length=10, choices=[(code, code) for code, _m in TIMEPOINTS]
    )
    due_on = models.DateField(_("due"))
    window_from = models.DateField(_("window opens"))
    window_to = models.DateField(_("window closes"))

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [models.Index(fields=["window_to"], name="followup_window_to")]
        constraints = [
            models.UniqueConstraint(fields=["episode", "timepoint"], name="followup_unique"),
            models.CheckConstraint(
                condition=Q(window_from__lte=F("due_on")) & Q(due_on__lte=F("window_to")),
                name="followup_window_around_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.timepoint} {self.due_on}"


class Missed(models.Model):
    """A follow-up whose window closed without an interview: recorded, never dropped."""

    follow_up = models.OneToOneField(FollowUp, on_delete=models.PROTECT, related_name="missed")
    recorded_at = models.DateTimeField(_("recorded"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("missed follow-up")
        verbose_name_plural = _("missed follow-ups")

    def __str__(self) -> str:
        return f"missed {self.follow_up}"


class Response(models.Model):
    """One interview's answers to one instrument version. Append-only: a correction is a
    new response pointing at the one it replaces."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="responses")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    answered_on = models.DateField(_("interview date"))
    recorded_at = models.DateTimeField(_("recorded"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    corrects = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrected_by"
    )
    correction_reason = models.CharField(_("reason for correction"), max_length=500, blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        constraints = [
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="response_correction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.follow_up} {self.instrument}"


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    value_int = models.IntegerField(null=True, blank=True)  # integer, yes/no (1/0), choice
    value_date = models.DateField(null=True, blank=True)
    value_text = models.TextField(blank=True, max_length=2000)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["response", "item"], name="answer_once_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}={self.value_int or self.value_date or self.value_text}"


class ExportLog(models.Model):
    """Every research export: who, when, with what filters, and the file's SHA-256."""

    at = models.DateTimeField(_("time"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    format = models.CharField(_("format"), max_length=10)
    filters = models.JSONField(_("filters"), default=dict)
    with_dates = models.BooleanField(_("calendar dates"), default=False)
    # Free-text answers were asked for explicitly (they may identify the patient).
    free_text = models.BooleanField(_("free-text answers"), default=False)
    rows = models.JSONField(_("rows per table"), default=dict)
    left_out = models.PositiveIntegerField(_("left out without research consent"), default=0)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("research export")
        verbose_name_plural = _("research exports")
        permissions = [("export_dates", "May export calendar dates instead of study days")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.format} {self.sha256[:12]}"
