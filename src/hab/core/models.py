from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hab.core import rules
from hab.core.roles import HealthRegion, Role, RoleOrGrant

hpr_validator = RegexValidator(
    r"^\d{4,9}$",
    _("The HPR number must be 4 to 9 digits."),
)


class User(AbstractUser):
    """A member of staff. What they may do comes from their memberships."""

    # Helsepersonellregisteret number. No check digit is published, so only the form
    # (digits) is checked; nothing is invented.
    hpr_number = models.CharField(
        _("HPR number"), max_length=9, blank=True, validators=[hpr_validator]
    )
    # The short PIN that unlocks a shared tablet's lock screen, hashed like a password
    # (empty: none set; the password unlocks as well).
    lock_pin = models.CharField(_("lock-screen PIN"), max_length=128, blank=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        constraints = [
            # HAB has no superuser: every right comes from a role (hab.core.policy), and
            # roles change only with a second person's approval (RoleChangeDecision).
            models.CheckConstraint(condition=Q(is_superuser=False), name="user_no_superuser"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Clinic(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    health_region = models.CharField(
        _("health region"), max_length=32, choices=HealthRegion.choices
    )
    capacity = models.PositiveIntegerField(_("capacity (patients)"))
    # The organisation number (enhetsregisteret) of the unit that runs the clinic: its
    # identifier in FHIR documents and in reports to Legemiddelregisteret.
    org_number = models.CharField(_("organisation number"), max_length=9, blank=True, default="")
    # Minutes without activity before a shared tablet hides patient data behind the lock
    # screen (hab.core.lock). Set by the clinic lead on the clinic settings page.
    idle_lock_minutes = models.PositiveSmallIntegerField(
        _("lock shared tablets after (minutes)"),
        default=rules.IDLE_LOCK_DEFAULT_MINUTES,
        validators=[
            MinValueValidator(rules.IDLE_LOCK_MIN_MINUTES),
            MaxValueValidator(rules.IDLE_LOCK_MAX_MINUTES),
        ],
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gt=0), name="clinic_capacity_positive"),
            models.CheckConstraint(
                condition=Q(org_number="") | Q(org_number__regex=r"^[89][0-9]{8}$"),
                name="clinic_org_number_nine_digits",
            ),
            models.CheckConstraint(
                condition=Q(
                    idle_lock_minutes__gte=rules.IDLE_LOCK_MIN_MINUTES,
                    idle_lock_minutes__lte=rules.IDLE_LOCK_MAX_MINUTES,
                ),
                name="clinic_idle_lock_minutes_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SessionSlot(models.Model):
    """A dosing session of the day, e.g. ``morning`` 08:00-11:00."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="slots")
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=60)
    starts_at = models.TimeField(_("starts"))
    ends_at = models.TimeField(_("ends"))

    class Meta:
        ordering = ["clinic", "starts_at"]
        verbose_name = _("session slot")
        verbose_name_plural = _("session slots")
        constraints = [
            models.UniqueConstraint(fields=["clinic", "code"], name="slot_code_unique_per_clinic"),
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="slot_starts_before_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class Membership(models.Model):
    """A staff member works at a clinic in a role. A person may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        ordering = ["clinic__name", "role"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "clinic", "role"], name="membership_unique_role_per_clinic"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.clinic}"


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    # Set by token_create from HAB's clock, like the expiry (the demo's clock runs back).
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class AccessBasis(models.TextChoices):
    CARE = "care", _("Care relationship at the patient's clinic")
    REASON = "reason", _("Reason given")
    GUEST = "guest", _("Guest dosing authorised by the home clinic")


class AccessAction(models.TextChoices):
    VIEW = "view", _("Viewed")
    LIST = "list", _("Listed")
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    DISCLOSE = "disclose", _("Disclosed")


class Channel(models.TextChoices):
    UI = "ui", _("Web")
    API = "api", _("API")
    SYSTEM = "system", _("System")


# What a row of the access log concerns; the codes are stored, the labels shown.
ACCESS_WHAT_LABELS = {
    "record": _("record"),
    "patient": _("patient details"),
    "patient list": _("patient list"),
    "consent": _("consent"),
    "relative": _("relative"),
    "access log": _("access log"),
    "access report": _("everything held about the patient (right of access)"),
    "fhir document": _("the record as a FHIR document (handover)"),
    "register report": _("doses reported to Legemiddelregisteret"),
    "referral": _("referral"),
    "episode": _("treatment episode"),
    "timeline": _("timeline"),
    "prescription": _("prescription"),
    "prescriptions": _("prescriptions"),
    "administration": _("dose"),
    "dose panel": _("dose panel (identity check and dose)"),
    "dose history": _("dose history (last four weeks)"),
    "observation": _("observation after a dose"),
    "guest dosing": _("guest dosing"),
    "dose review": _("dose review"),
    "doctor alert": _("alert to the doctor"),
    "dose hold": _("hold on dosing"),
    "dose hold lifted": _("hold on dosing lifted"),
    "incident": _("incident"),
    "care plan": _("individual plan"),
    "follow-ups": _("follow-ups"),
    "follow-up interview": _("follow-up interview"),
    "follow-up response": _("follow-up answers"),
    "follow-up responses": _("follow-up answers"),
}


class AccessLog(models.Model):
    """Who read or changed which patient's data, when and on what basis (Normen).

    Append-only: the application never updates or deletes a row, and database
    triggers refuse it (see the migration).
    """

    at = models.DateTimeField(_("time"), db_index=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    username = models.CharField(_("user"), max_length=150)
    roles = models.CharField(_("roles"), max_length=200)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="access_log"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=10, choices=AccessAction.choices)
    what = models.CharField(_("what"), max_length=60)
    details = models.JSONField(_("details"), default=dict, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    basis = models.CharField(_("basis"), max_length=10, choices=AccessBasis.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [
            models.Index(fields=["patient", "-at"], name="accesslog_patient_at"),
            models.Index(fields=["user", "-at"], name="accesslog_user_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(basis="reason") | ~Q(reason=""), name="accesslog_reason_given"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.what}"

    @property
    def what_label(self) -> str:
        return str(ACCESS_WHAT_LABELS.get(self.what, self.what))

    @property
    def roles_label(self) -> str:
        labels = [Role(code).label for code in self.roles.split(",") if code in Role.values]
        return ", ".join(str(label) for label in labels)


class SecurityEventKind(models.TextChoices):
    LOCKED = "locked", _("Screen locked")
    UNLOCKED = "unlocked", _("Screen unlocked")
    UNLOCK_FAILED = "unlock_failed", _("Wrong PIN or password at the lock screen")
    UNLOCK_LOGOUT = "unlock_logout", _("Logged out after too many wrong tries")
    PIN_SET = "pin_set", _("Lock-screen PIN set")
    PIN_REMOVED = "pin_removed", _("Lock-screen PIN removed")
    SETTINGS_CHANGED = "settings_changed", _("Clinic settings changed")
    REGISTRATION_MATCH = "registration_match", _("Registration matched a person elsewhere")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    ROLE_BOOTSTRAP = "role_bootstrap", _("First role given on the command line")


class SecurityEvent(models.Model):
    """The security log of sessions: the lock screen of shared tablets, PINs and the
    clinic's security settings. Logins and failed logins are django-axes' (AccessLog,
    AccessAttempt). Append-only: database triggers refuse UPDATE and DELETE."""

    at = models.DateTimeField(_("time"), db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    username = models.CharField(_("user"), max_length=150)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    kind = models.CharField(_("event"), max_length=20, choices=SecurityEventKind.choices)
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("security event")
        verbose_name_plural = _("security log")
        indexes = [models.Index(fields=["user", "-at"], name="securityevent_user_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.kind}"


class RoleChangeKind(models.TextChoices):
    GRANT = "grant", _("Grant")
    REMOVE = "remove", _("Remove")


class RoleChangeProposal(models.Model):
    """Someone (an administrator or the clinic lead) proposes granting or removing a role
    of a person at a clinic. Nothing changes until a second person approves it
    (RoleChangeDecision). Append-only: database triggers refuse UPDATE and DELETE."""

    at = models.DateTimeField(_("proposed"), db_index=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="role_proposals"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("change"), max_length=10, choices=RoleChangeKind.choices)
    role = models.CharField(_("role"), max_length=40, choices=RoleOrGrant.choices)
    reason = models.CharField(_("reason"), max_length=300)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("role change proposal")
        verbose_name_plural = _("role change proposals")
        indexes = [models.Index(fields=["clinic", "-at"], name="roleproposal_clinic_at")]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="roleproposal_has_reason"),
            models.CheckConstraint(
                condition=~Q(proposed_by=F("user")), name="roleproposal_not_own_roles"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.role} {self.user_id}@{self.clinic_id}"


class RoleChangeDecision(models.Model):
    """A second person's approval or refusal of a proposal; one per proposal. An approval
    changes the Membership in the same transaction. Append-only."""

    proposal = models.OneToOneField(
        RoleChangeProposal, on_delete=models.PROTECT, related_name="decision"
    )
    at = models.DateTimeField(_("decided"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved = models.BooleanField(_("approved"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("role change decision")
        verbose_name_plural = _("role change decisions")

    def __str__(self) -> str:
        return f"{self.proposal_id} {'approved' if self.approved else 'refused'}"
