from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResearchConfig(AppConfig):
    name = "hab.research"
    label = "research"
    verbose_name = _("Follow-up research")

    def ready(self) -> None:
        from hab.intake import seams
        from hab.patients.access_report import register_words
        from hab.research.services import follow_ups_schedule
        from hab.research.views import MISSED_LABELS

        # A new episode starts its follow-up schedule, baseline first.
        seams.episode_admitted.connect(follow_ups_schedule)
        # The right-of-access report (patients) names why a follow-up was missed in words.
        register_words(lambda: {code: str(words) for code, words in MISSED_LABELS.items()})
