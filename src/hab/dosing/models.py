from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hab.core.models import Clinic
from hab.intake.models import Episode
from hab.patients.models import Patient
from hab.prescribing.models import DosingProtocol, Medication, Prescription, Route


class Status(models.TextChoices):
    GIVEN = "given", _("Given")
    PARTIAL = "partial", _("Partly given")
    WITHHELD = "withheld", _("Withheld")
    REFUSED = "refused", _("Refused")
    MISSED = "missed", _("Missed")


class Intoxication(models.TextChoices):
    NONE = "none", _("None")
    SUSPECTED = "suspected", _("Suspected")
    OBVIOUS = "obvious", _("Obvious")


class Administration(models.Model):
    """The record of one supervised dose (or of why none was given). Append-only: a
    correction is a new row pointing at the one it corrects; the original stays."""

    # Indexes: see Meta. Patient and clinic lead composite ones; the links that are empty
    # on nearly every row get partial ones. Each index is written on every dose and
    # rebuilt after a bulk load, so none is kept that another already serves.
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="administrations", db_index=False
    )
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="+")
    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    protocol = models.ForeignKey(
        DosingProtocol, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="administrations", db_index=False
    )
    day = models.DateField(_("dosing day"))
    slot = models.CharField(_("session"), max_length=32)
    medication = models.CharField(_("medication"), max_length=30, choices=Medication.choices)
    group = models.CharField(max_length=15)  # doses of one group count against one maximum
    route = models.CharField(_("route"), max_length=5, choices=Route.choices, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    dose_mg = models.DecimalField(_("dose given (mg)"), max_digits=6, decimal_places=1)
    prescribed_mg = models.DecimalField(max_digits=6, decimal_places=1, default=0)
    max_allowed_mg = models.DecimalField(max_digits=6, decimal_places=1, default=0)
    reasons = models.JSONField(default=list, blank=True)  # the decision's reasons, as shown
    withheld_reason = models.CharField(_("reason"), max_length=500, blank=True)
    sedation = models.PositiveSmallIntegerField(_("sedation (POSS 1–4)"), null=True, blank=True)
    breath_alcohol_permille = models.DecimalField(
        _("breath alcohol (‰)"), max_digits=4, decimal_places=2, null=True, blank=True
    )
    respiratory_rate = models.PositiveSmallIntegerField(
        _("respiratory rate (/min)"), null=True, blank=True
    )
    # Signs of intoxication with other substances: obvious stops the dose, suspected
    # reduces it (the protocol's share).
    intoxication = models.CharField(
        _("intoxication with other substances"),
        max_length=10,
        choices=Intoxication.choices,
        blank=True,
    )
    # The first day's immediate top-up after the first injection: a second record in the
    # session, allowed once.
    top_up = models.BooleanField(_("top-up"), default=False)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    given_at = models.DateTimeField(_("time"))
    nurse = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    observe_until = models.DateTimeField(null=True, blank=True)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        db_index=False,
    )
    # The first record of the chain a correction belongs to; the newest row of a chain is
    # the record as it stands.
    original = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    correction_reason = models.CharField(_("reason for correction"), max_length=500, blank=True)
    # A dose given from the paper contingency list while HAB was unavailable, typed in
    # afterwards: who typed it in, and when. ``nurse`` and ``given_at`` are the paper's.
    back_entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("back-entered by"),
        db_index=False,
    )
    back_entered_at = models.DateTimeField(_("back-entered"), null=True, blank=True)
    # A correction or paper dose that breaks a limit of the day is recorded (it happened)
    # once the nurse confirms the breaches with a reason: the breaches as shown to them,
    # the reason, and when it was confirmed. The group's next dose then waits for a
    # doctor's review made after that time.
    breaches = models.JSONField(_("breaches confirmed"), default=list, blank=True)
    breach_reason = models.CharField(_("reason for the breach"), max_length=500, blank=True)
    breach_confirmed_at = models.DateTimeField(_("breach confirmed"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-given_at", "-id"]
        verbose_name = _("administration")
        verbose_name_plural = _("administrations")
        indexes = [
            # Covering on PostgreSQL (the research export sums a patient's days from the
            # index alone, in order); a plain (patient, day) index on SQLite.
            models.Index(
                fields=["patient", "day"],
                include=["status", "group", "dose_mg", "id"],
                name="admin_patient_day",
            ),
            models.Index(fields=["clinic", "day", "slot"], name="admin_clinic_day_slot"),
            models.Index(
                fields=["corrects"], condition=Q(corrects__isnull=False), name="admin_corrects"
            ),
            models.Index(
                fields=["original"], condition=Q(original__isnull=False), name="admin_original"
            ),
            models.Index(
                fields=["back_entered_by"],
                condition=Q(back_entered_by__isnull=False),
                name="admin_back_entered_by",
            ),
            # The board reads each patient's newest confirmed breach: a few rows in all.
            models.Index(
                fields=["patient", "group"],
                condition=Q(breach_confirmed_at__isnull=False),
                name="admin_breach",
            ),
        ]
        constraints = [
            # The database's own guard against a double dose: one record per patient,
            # day, session and medication group; anything more is a correction.
            models.UniqueConstraint(
                fields=["patient", "day", "slot", "group"],
                condition=Q(corrects__isnull=True, top_up=False),
                name="admin_one_per_slot",
            ),
            # The first day's top-up: at most one a session.
            models.UniqueConstraint(
                fields=["patient", "day", "slot", "group"],
                condition=Q(corrects__isnull=True, top_up=True),
                name="admin_one_top_up_per_slot",
            ),
            models.CheckConstraint(condition=Q(dose_mg__gte=0), name="admin_dose_not_negative"),
            # The statuses are ``rules.TAKEN``, spelled out here as the migration has them.
            models.CheckConstraint(
                condition=Q(status__in=["given", "partial"]) | Q(dose_mg=0),
                name="admin_no_dose_unless_given",
            ),
            models.CheckConstraint(
                condition=Q(sedation__isnull=True) | Q(sedation__gte=1, sedation__lte=4),
                name="admin_sedation_poss_range",
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="admin_correction_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(back_entered_by__isnull=True, back_entered_at__isnull=True)
                | Q(back_entered_by__isnull=False, back_entered_at__isnull=False),
                name="admin_back_entry_who_and_when",
            ),
            models.CheckConstraint(
                condition=Q(breach_confirmed_at__isnull=True) | ~Q(breach_reason=""),
                name="admin_breach_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.slot} {self.patient_id} {self.status} {self.dose_mg} mg"


class Outcome(models.TextChoices):
    NO_CONCERN = "no_concern", _("No concern")
    SEDATED = "sedated", _("Sedated")
    OVERDOSE = "overdose", _("Overdose")


class Observation(models.Model):
    """The end of post-dose observation and what was seen."""

    administration = models.OneToOneField(
        Administration, on_delete=models.PROTECT, related_name="observation"
    )
    ended_at = models.DateTimeField(_("ended"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    naloxone_mg = models.DecimalField(
        _("naloxone (mg)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("observation")
        verbose_name_plural = _("observations")
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome="overdose") | ~Q(note=""), name="observation_overdose_note"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.administration_id} {self.outcome}"


class SessionClose(models.Model):
    """A dosing session closed; ``missed`` was written for everyone expected and not seen."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    slot = models.CharField(max_length=32)
    closed_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    missed = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("closed session")
        verbose_name_plural = _("closed sessions")
        constraints = [
            models.UniqueConstraint(fields=["clinic", "day", "slot"], name="session_closed_once"),
        ]

    def __str__(self) -> str:
        return f"{self.clinic_id} {self.day} {self.slot}"


class GuestAuthorisation(models.Model):
    """The home clinic's doctor lets another clinic dose the patient on these days."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="guest_dosing")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="guests")
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("to"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("guest dosing")
        verbose_name_plural = _("guest dosing")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gte=models.F("valid_from")), name="guest_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} @ {self.clinic_id} {self.valid_from}–{self.valid_to}"


class DoseReview(models.Model):
    """A doctor's review of a patient's doses of one medication group: after missed days
    or a confirmed breach, the group stays blocked until a review made after the block
    began (a new prescription counts as one too). Append-only."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="dose_reviews")
    group = models.CharField(_("medication group"), max_length=15)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed"))
    doctor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("assessment and plan"), max_length=500)

    class Meta:
        verbose_name = _("dose review")
        verbose_name_plural = _("dose reviews")
        indexes = [
            models.Index(fields=["patient", "group", "reviewed_at"], name="dose_review_patient"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(note=""), name="dose_review_has_note"),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.group} {self.reviewed_at:%Y-%m-%d %H:%M}"


class DoctorAlert(models.Model):
    """A nurse's "Varsle lege" on a blocked row: the patient is put on the doctor's start
    page. Append-only; it is never closed by changing it. It stays open until the doctor
    acts on the patient after it was raised: a dose review of its medication group, a new
    prescription or the lifting of a stop-dose hold (see ``selectors.open_alerts``)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="doctor_alerts")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    # The medication group of the blocked row ("" when the alert is about the patient).
    group = models.CharField(_("medication group"), max_length=15, blank=True)
    reason = models.CharField(_("reason"), max_length=1000)
    note = models.CharField(_("note"), max_length=300, blank=True)
    raised_at = models.DateTimeField(_("alerted"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("doctor alert")
        verbose_name_plural = _("doctor alerts")
        indexes = [
            models.Index(fields=["clinic", "raised_at"], name="doctor_alert_clinic"),
            models.Index(fields=["patient", "raised_at"], name="doctor_alert_patient"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="doctor_alert_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.group} {self.raised_at:%Y-%m-%d %H:%M}"


class DoseHold(models.Model):
    """A stop on all of a patient's dosing ("Stopp dosering"), placed by a doctor or a
    nurse with a reason. Append-only: it ends with a ``DoseHoldLift`` by a doctor."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="dose_holds")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=500)
    placed_at = models.DateTimeField(_("stopped"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-placed_at", "-id"]
        verbose_name = _("stop-dose hold")
        verbose_name_plural = _("stop-dose holds")
        indexes = [models.Index(fields=["patient", "placed_at"], name="dose_hold_patient")]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="dose_hold_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.placed_at:%Y-%m-%d %H:%M}"


class DoseHoldLift(models.Model):
    """A doctor's lifting of a stop-dose hold, with a note. One per hold."""

    hold = models.OneToOneField(DoseHold, on_delete=models.PROTECT, related_name="lift")
    note = models.CharField(_("note"), max_length=500)
    lifted_at = models.DateTimeField(_("lifted"))
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("lifted stop-dose hold")
        verbose_name_plural = _("lifted stop-dose holds")
        constraints = [
            models.CheckConstraint(condition=~Q(note=""), name="dose_hold_lift_has_note"),
        ]

    def __str__(self) -> str:
        return f"{self.hold_id} {self.lifted_at:%Y-%m-%d %H:%M}"


# --- Derived day summaries ----------------------------------------------------------------
#
# Not records: what the dose records of a day add up to, as they stand after corrections,
# kept beside them so that the indicators need not add up tens of millions of records
# every time. Every dose write updates them in its own transaction
# (``dosing.summaries``); ``hab rebuild-summaries`` recomputes them from the records and
# ``hab verify-summaries`` compares. They may be deleted and rebuilt at any time.


class PatientDay(models.Model):
    """A patient's current dose records of one day at one clinic, in one episode and one
    medication group, added up."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+", db_index=False)
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="+", db_index=False)
    group = models.CharField(max_length=15)
    # Records by status; ``taken`` (``rules.TAKEN``) is given and partly given together.
    taken = models.PositiveIntegerField(default=0)
    given = models.PositiveIntegerField(default=0)
    partial = models.PositiveIntegerField(default=0)
    withheld = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    missed = models.PositiveIntegerField(default=0)
    # The milligrams taken, and of them those injected (the day's injected line).
    taken_mg = models.DecimalField(max_digits=8, decimal_places=1, default=0)
    injected_mg = models.DecimalField(max_digits=8, decimal_places=1, default=0)
    # When the first and the last dose taken were given (none taken: empty).
    first_at = models.DateTimeField(null=True)
    last_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["clinic", "day"], name="patientday_clinic_day")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "day", "clinic", "episode", "group"], name="patientday_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.patient_id} {self.group} {self.taken_mg} mg"


class ClinicDay(models.Model):
    """A clinic's current dose records of one day with one medication group, route, status
    and reason for withholding: how many, and their milligrams."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    group = models.CharField(max_length=15)
    route = models.CharField(max_length=5, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    withheld_reason = models.CharField(max_length=500, blank=True)
    records = models.PositiveIntegerField(default=0)
    mg = models.DecimalField(max_digits=10, decimal_places=1, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "day", "group", "route", "status", "withheld_reason"],
                name="clinicday_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.clinic_id} {self.group} {self.status} {self.records}"
