from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from hab.core.models import Clinic
from hab.patients.models import Patient


class ReferralSource(models.TextChoices):
    LAR = "lar", _("LAR (opioid substitution)")
    LOW_THRESHOLD = "low_threshold", _("Low-threshold service")
    USER_ORGANISATION = "user_organisation", _("User organisation")
    GP = "gp", _("GP")
    SPECIALIST = "specialist", _("Specialist health service")
    PRISON_HEALTH = "prison_health", _("Prison health service")
    SELF = "self", _("Self-referral")
    OTHER = "other", _("Other")


class ReferralStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    ASSESSING = "assessing", _("Being assessed")
    ELIGIBLE = "eligible", _("Eligible")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible")
    WAITLISTED = "waitlisted", _("On the waitlist")
    ADMITTED = "admitted", _("Admitted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Referral(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="referrals")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="referrals")
    source = models.CharField(_("source"), max_length=20, choices=ReferralSource.choices)
    referring_organisation = models.CharField(_("referring organisation"), max_length=200)
    referring_contact = models.CharField(_("contact person"), max_length=200, blank=True)
    received_on = models.DateField(_("received"))
    documents = models.TextField(_("documents received"), blank=True)
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=15, choices=ReferralStatus.choices, default="received"
    )
    # Waitlist: the day found eligible, priority, and an offered place.
    eligible_on = models.DateField(_("found eligible"), null=True, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    urgent_reason = models.CharField(_("reason for urgency"), max_length=500, blank=True)
    offered_on = models.DateField(_("place offered"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [models.Index(fields=["clinic", "status"], name="referral_clinic_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(urgent=False) | ~Q(urgent_reason=""),
                name="referral_urgent_has_reason",
            ),
            # One referral in progress per person: a second would split the history.
            models.UniqueConstraint(
                fields=["patient"],
                condition=~Q(status__in=["admitted", "withdrawn", "not_eligible"]),
                name="referral_one_open_per_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.patient} ({self.status})"


class ReferralEvent(models.Model):
    """Every change of a referral, timed and attributed. Append-only."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("event"), max_length=20)
    from_status = models.CharField(max_length=15, blank=True)
    to_status = models.CharField(max_length=15, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("referral event")
        verbose_name_plural = _("referral events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.kind} {self.from_status}→{self.to_status}"


class CriteriaSet(models.Model):
    """A version of the intake criteria. Never changed: a change is a new version."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    note = models.CharField(_("what changed"), max_length=500, blank=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("criteria set")
        verbose_name_plural = _("criteria sets")

    def __str__(self) -> str:
        return f"v{self.version}"


class Criterion(models.Model):
    criteria_set = models.ForeignKey(CriteriaSet, on_delete=models.PROTECT, related_name="criteria")
    code = models.SlugField(_("code"), max_length=40)
    text_nb = models.CharField(_("text (bokmål)"), max_length=300)
    text_en = models.CharField(_("text (English)"), max_length=300)
    source = models.CharField(_("source"), max_length=300, blank=True)
    # For the age criterion: the system checks the answer against the birth date.
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["criteria_set", "position", "id"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        constraints = [
            models.UniqueConstraint(fields=["criteria_set", "code"], name="criterion_code_unique"),
        ]

    def __str__(self) -> str:
        return self.code

    def text(self, language: str) -> str:
        return self.text_nb if language.startswith("nb") else self.text_en


class EligibilityAssessment(models.Model):
    """A doctor's assessment of a referral against one version of the criteria."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="assessments")
    criteria_set = models.ForeignKey(CriteriaSet, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(_("answers"))  # {code: true/false/null}
    criterion_notes = models.JSONField(_("notes per criterion"), default=dict, blank=True)
    eligible = models.BooleanField(_("eligible"))
    notes = models.TextField(_("notes and justification"), blank=True)
    assessed_on = models.DateField(_("assessed"))
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-assessed_on", "-id"]
        verbose_name = _("eligibility assessment")
        verbose_name_plural = _("eligibility assessments")

    def __str__(self) -> str:
        return f"{self.referral_id} {self.assessed_on} {'eligible' if self.eligible else 'not'}"


class Phase(models.TextChoices):
    INDUCTION = "induction", _("Induction")
    MAINTENANCE = "maintenance", _("Maintenance")
    TAPERING = "tapering", _("Tapering")


class EndReason(models.TextChoices):
    TRANSFER_LAR = "transfer_lar", _("Transferred to LAR")
    OTHER_TREATMENT = "other_treatment", _("Other treatment")
    DROPOUT = "dropout", _("Dropped out")
    DISCHARGED = "discharged", _("Discharged")
    MOVED = "moved", _("Moved")
    PRISON = "prison", _("Prison")
    DEATH = "death", _("Death")
    OTHER = "other", _("Other")
    # Added to the design's list: a move between HAB clinics continues the treatment.
    TRANSFER_HAB = "transfer_hab", _("Transferred to another HAB clinic")


class Episode(models.Model):
    """A stay in treatment at one clinic, from admission to discharge or transfer."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="episodes")
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="episodes", null=True, blank=True
    )
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, related_name="next", null=True, blank=True
    )
    admitted_on = models.DateField(_("admitted"))
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices)
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="coordinated_episodes",
        null=True,
        blank=True,
        verbose_name=_("coordinator"),
    )
    ended_on = models.DateField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(
        _("reason for ending"), max_length=20, choices=EndReason.choices, blank=True
    )
    end_note = models.TextField(_("note on ending"), blank=True)
    death_on = models.DateField(_("date of death"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-admitted_on", "-id"]
        verbose_name = _("episode")
        verbose_name_plural = _("episodes")
        indexes = [models.Index(fields=["clinic", "ended_on"], name="episode_clinic_open")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(ended_on__isnull=True),
                name="episode_one_open_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("admitted_on")),
                name="episode_ends_after_admission",
            ),
            models.CheckConstraint(
                condition=(Q(ended_on__isnull=True) & Q(end_reason=""))
                | (Q(ended_on__isnull=False) & ~Q(end_reason="")),
                name="episode_end_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(end_reason="death") | Q(death_on__isnull=False),
                name="episode_death_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} @ {self.clinic.code} from {self.admitted_on}"

    @property
    def is_open(self) -> bool:
        return self.ended_on is None


class EpisodeEvent(models.Model):
    """Admission, phase and coordinator changes, transfer and discharge. Append-only."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("time"))
    on = models.DateField(_("date"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("event"), max_length=20)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["on", "at", "id"]
        verbose_name = _("episode event")
        verbose_name_plural = _("episode events")

    def __str__(self) -> str:
        return f"{self.on} {self.kind}"
