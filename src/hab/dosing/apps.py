from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DosingConfig(AppConfig):
    name = "hab.dosing"
    label = "dosing"
    verbose_name = _("Dosing room")
