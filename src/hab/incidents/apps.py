from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "hab.incidents"
    label = "incidents"
    verbose_name = _("Incidents")

    def ready(self) -> None:
        # Doses and the controlled-drug book open and close incidents through their seams.
        from hab.dosing import seams as dosing
        from hab.incidents import services
        from hab.stock import seams as stock

        dosing.breach_confirmed.connect(services.open_for_breach)
        dosing.overdose_recorded.connect(services.open_for_overdose)
        stock.discrepancy_opened.connect(services.open_for_discrepancy)
        stock.discrepancy_resolved.connect(services.close_for_discrepancy)
