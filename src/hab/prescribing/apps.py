from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrescribingConfig(AppConfig):
    name = "hab.prescribing"
    label = "prescribing"
    verbose_name = _("Prescribing")

    def ready(self) -> None:
        from hab.patients.record import add_part
        from hab.prescribing.selectors import record_prescriptions

        add_part(record_prescriptions)
