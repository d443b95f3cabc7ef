"""The individual plan (individuell plan): the patient's goals in their own words, the
actions agreed, reviews, status records (housing, activity), notes with restricted
visibility and relatives' involvement.

Every table is append-only (database triggers, see the migration). A change is a new row
whose ``replaces`` points at the row it supersedes; a row is current while nothing
replaces it. ``replaces`` is one-to-one, so two people changing the same row at once
cannot fork its history: the second gets a conflict.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hab.care import rules
from hab.intake.models import Episode
from hab.patients.models import Patient, Relative


def _choices(catalogue) -> list[tuple[str, str]]:
    # The database and the admin keep the English label; pages show the user's language.
    return [(item.code, item.en) for item in catalogue]


class GoalStatus(models.TextChoices):
    ACTIVE = "active", _("Working on it")
    ACHIEVED = "achieved", _("Achieved")
    DROPPED = "dropped", _("Dropped")


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class OwnerKind(models.TextChoices):
    STAFF = "staff", _("Staff member")
    PATIENT = "patient", _("The patient")
    RELATIVE = "relative", _("Relative")


class Visibility(models.TextChoices):
    TEAM = rules.Visibility.TEAM.value, _("Care team")
    CLINICAL = rules.Visibility.CLINICAL.value, _("Doctor and psychologist")
    PSYCHOLOGY = rules.Visibility.PSYCHOLOGY.value, _("Psychologist only")


class PlanRecord(models.Model):
    """What every row of the plan has: whose plan, in which episode, who wrote it, when."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(
        Episode, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    at = models.DateTimeField(_("recorded"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True
        ordering = ["at", "id"]


class Goal(PlanRecord):
    """A goal of the patient's, in their own words, in one domain of life."""

    domain = models.CharField(_("domain"), max_length=20, choices=_choices(rules.DOMAINS))
    text = models.CharField(_("goal"), max_length=500)
    status = models.CharField(_("status"), max_length=10, choices=GoalStatus.choices)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, related_name="replaced_by", null=True, blank=True
    )

    class Meta(PlanRecord.Meta):
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        indexes = [models.Index(fields=["patient", "at"], name="care_goal_patient")]

    def __str__(self) -> str:
        return f"{self.domain}: {self.text[:40]}"


class PlanAction(PlanRecord):
    """An action agreed to reach the goals (tiltak): who does it, by when."""

    domain = models.CharField(_("domain"), max_length=20, choices=_choices(rules.DOMAINS))
    text = models.CharField(_("action"), max_length=500)
    owner_kind = models.CharField(_("responsible"), max_length=10, choices=OwnerKind.choices)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    due_on = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ActionStatus.choices)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, related_name="replaced_by", null=True, blank=True
    )

    class Meta(PlanRecord.Meta):
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        indexes = [models.Index(fields=["patient", "at"], name="care_action_patient")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(owner_kind="staff", owner_user__isnull=False)
                | (~models.Q(owner_kind="staff") & models.Q(owner_user__isnull=True)),
                name="care_action_staff_owner_named",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.domain}: {self.text[:40]} ({self.status})"

    @property
    def owner(self) -> str:
        """As the API writes it: a username, ``patient`` or ``relative``."""
        return self.owner_user.username if self.owner_user_id else self.owner_kind


class Review(PlanRecord):
    """A review of the plan (evaluering) with who took part, and the next one agreed."""

    held_on = models.DateField(_("held"))
    patient_attended = models.BooleanField(_("the patient took part"), default=True)
    staff_attended = models.JSONField(_("staff who took part"), default=list, blank=True)
    others_attended = models.CharField(_("others who took part"), max_length=300, blank=True)
    # Ids of the patient's relatives who took part; shown only with the patient's consent.
    relatives_attended = models.JSONField(_("relatives who took part"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    next_on = models.DateField(_("next review"))
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, related_name="replaced_by", null=True, blank=True
    )

    class Meta(PlanRecord.Meta):
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        indexes = [models.Index(fields=["patient", "held_on"], name="care_review_patient")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(next_on__gt=models.F("held_on")),
                name="care_review_next_after_held",
            ),
        ]

    def __str__(self) -> str:
        return f"review {self.held_on} (next {self.next_on})"


class StatusRecord(PlanRecord):
    """Where the patient lives and what fills their day, on a date."""

    on = models.DateField(_("date"))
    housing = models.CharField(_("housing"), max_length=20, choices=_choices(rules.HOUSING))
    activity = models.CharField(_("activity"), max_length=20, choices=_choices(rules.ACTIVITY))
    note = models.CharField(_("note"), max_length=500, blank=True)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, related_name="replaced_by", null=True, blank=True
    )

    class Meta(PlanRecord.Meta):
        verbose_name = _("status record")
        verbose_name_plural = _("status records")
        indexes = [models.Index(fields=["patient", "on"], name="care_status_patient")]

    def __str__(self) -> str:
        return f"{self.on} {self.housing} / {self.activity}"


class CareNote(PlanRecord):
    """A note on the patient's plan, readable at its visibility level only."""

    visibility = models.CharField(_("who may read"), max_length=12, choices=Visibility.choices)
    text = models.TextField(_("note"))
    # The author's roles at the clinic when writing, as the access log keeps them.
    roles = models.CharField(_("roles"), max_length=200)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, related_name="replaced_by", null=True, blank=True
    )

    class Meta(PlanRecord.Meta):
        verbose_name = _("care note")
        verbose_name_plural = _("care notes")
        indexes = [models.Index(fields=["patient", "visibility"], name="care_note_patient")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.visibility} note"


class Involvement(PlanRecord):
    """How a relative takes part in the plan. Recorded and shown only while the patient
    consents to sharing with relatives; ``active`` false on a new row ends it."""

    relative = models.ForeignKey(Relative, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("involvement"), max_length=24, choices=_choices(rules.INVOLVEMENT))
    note = models.CharField(_("note"), max_length=500, blank=True)
    active = models.BooleanField(_("active"), default=True)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, related_name="replaced_by", null=True, blank=True
    )

    class Meta(PlanRecord.Meta):
        verbose_name = _("relative's involvement")
        verbose_name_plural = _("relatives' involvement")
        indexes = [models.Index(fields=["patient", "at"], name="care_involvement_patient")]

    def __str__(self) -> str:
        return f"{self.relative_id} {self.kind}"
