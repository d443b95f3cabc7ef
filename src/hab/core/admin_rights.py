"""What the administrator role may do in the Django admin (/admin/).

HAB has no superusers (a database constraint refuses them): the admin's rights there come
from the role, like every other right, and are listed here. Patient data, the access log
and roles are not among them: roles change only through the two-person flow on HAB's role
page (hab.core.role_views).
"""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend

from hab.core import policy

# app label -> model -> the admin actions allowed on it.
ADMIN_RIGHTS: dict[str, dict[str, tuple[str, ...]]] = {
    "core": {
        "clinic": ("view", "add", "change"),
        "sessionslot": ("view", "add", "change", "delete"),
        # Users without roles: names, HPR numbers, passwords, active or not.
        "user": ("view", "add", "change"),
        "apitoken": ("view", "change"),
        "securityevent": ("view",),
    },
    # A lost phone: the user's authenticator is removed and set up again.
    "otp_totp": {"totpdevice": ("view", "delete")},
    # Lock-outs after wrong passwords are lifted early by deleting the attempts.
    "axes": {"accessattempt": ("view", "delete"), "accesslog": ("view",)},
}
PERMISSIONS = frozenset(
    f"{app}.{action}_{model}"
    for app, models in ADMIN_RIGHTS.items()
    for model, actions in models.items()
    for action in actions
)


class AdminRoleBackend(BaseBackend):
    """Authenticates nobody; gives staff with the administrator role the rights above."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not (user_obj.is_active and user_obj.is_staff) or obj is not None:
            return set()
        if not policy.clinic_ids_where(user_obj, policy.Action.SYSTEM_ADMIN):
            return set()
        return set(PERMISSIONS)
