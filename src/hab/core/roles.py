from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DOCTOR = "doctor", _("Doctor")
    NURSE = "nurse", _("Nurse")
    PSYCHOLOGIST = "psychologist", _("Psychologist")
    COORDINATOR = "coordinator", _("Coordinator")
    CLINIC_LEAD = "clinic_lead", _("Clinic lead")
    RESEARCHER = "researcher", _("Researcher")
    PROGRAMME = "programme", _("Programme owner")
    ADMIN = "admin", _("Administrator")


class HealthRegion(models.TextChoices):
    SOUTH_EAST = "helse_sor_ost", "Helse Sør-Øst"
    WEST = "helse_vest", "Helse Vest"
    CENTRAL = "helse_midt", "Helse Midt-Norge"
    NORTH = "helse_nord", "Helse Nord"


class Grant(models.TextChoices):
    """Rights given to one person rather than a role, through the same two-person flow
    as roles (hab.core.services.role_change_propose). Stored as Django permissions."""

    RESEARCH_EXPORT_DATES = "research.export_dates", _("Calendar dates in research exports")


# What a role change proposal may concern: a role at a clinic, or a personal grant.
RoleOrGrant = models.TextChoices(
    "RoleOrGrant",
    [(m.name, (m.value, m.label)) for m in Role] + [(m.name, (m.value, m.label)) for m in Grant],
)
