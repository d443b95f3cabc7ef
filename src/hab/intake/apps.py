from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "hab.intake"
    label = "intake"
    verbose_name = _("Intake and episodes")

    def ready(self) -> None:
        # The right-of-access report (patients) names the criteria in an assessment's
        # answers by their text, and the kinds of referral and episode events in words.
        from django.utils.translation import get_language, gettext

        from hab.intake.models import Criterion
        from hab.intake.selectors import patient_timeline
        from hab.patients.access_report import register_words
        from hab.patients.record import add_part

        def words() -> dict[str, str]:
            language = get_language() or "nb"
            events = {
                "assessment": gettext("assessed"),
                "offered": gettext("place offered"),
                "urgent": gettext("marked urgent"),
                "not_urgent": gettext("no longer urgent"),
                "transfer_out": gettext("transferred to another clinic"),
                "transfer_in": gettext("transferred from another clinic"),
            }
            return events | {c.code: c.text(language) for c in Criterion.objects.order_by("pk")}

        register_words(words)
        # The patient's record shows the course of treatment.
        add_part(lambda patient, today: {"timeline": patient_timeline(patient)})
