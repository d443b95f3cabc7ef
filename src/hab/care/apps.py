from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "hab.care"
    label = "care"
    verbose_name = _("Care plans")

    def ready(self) -> None:
        # The right-of-access report (patients) holds back the notes this reader may not
        # read on the care plan, by the care plan's own rule.
        from django.db.models import Q

        from hab.care.models import CareNote
        from hab.care.selectors import note_levels
        from hab.patients.access_report import register_readable

        def readable_notes(user, clinic) -> Q:
            return Q(visibility__in=[level.value for level in note_levels(user, clinic)])

        register_readable(CareNote, readable_notes)

        # ...and shows the plan's coded answers (housing, activity, domains) in the
        # reader's language, as the plan does.
        from django.utils.translation import get_language

        from hab.care import rules
        from hab.patients.access_report import register_words

        def plan_words() -> dict[str, str]:
            catalogues = (rules.DOMAINS, rules.HOUSING, rules.ACTIVITY, rules.INVOLVEMENT)
            return {c.code: c.label(get_language()) for codes in catalogues for c in codes}

        register_words(plan_words)
