from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrescribingConfig(AppConfig):
    name = "hab.prescribing"
    label = "prescribing"
    verbose_name = _("Prescribing")
