from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "hab.core"
    label = "core"
    verbose_name = _("Clinics and staff")

    def ready(self) -> None:
        from django.db.models.signals import post_save, pre_save

        # HAB's deployment checks and the login signal receivers register on import.
        from hab.core import checks, checks_database, lock, security  # noqa: F401
        from hab.core.models import User
        from hab.core.services import user_saved
        from hab.core.storable import refuse_unstorable

        pre_save.connect(refuse_unstorable, dispatch_uid="hab-refuse-unstorable")
        # A password change or a deactivation revokes the user's API tokens, whichever
        # path made it (see user_saved).
        post_save.connect(user_saved, sender=User, dispatch_uid="hab-user-saved")
