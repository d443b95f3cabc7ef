from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteropConfig(AppConfig):
    name = "hab.interop"
    label = "interop"
    verbose_name = _("FHIR and register reporting")
