from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "hab.core"
    label = "core"
    verbose_name = _("Clinics and staff")

    def ready(self) -> None:
        from hab.core import checks  # noqa: F401  (registers HAB's deployment checks)
