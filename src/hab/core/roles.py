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
