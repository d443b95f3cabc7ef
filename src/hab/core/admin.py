"""The Django admin: clinics, sessions, users without roles, API tokens and the security
log. No patient data and no access log (that is read per patient in HAB, with a reason);
roles change only on HAB's role page, with a second person's approval. The administrator's
rights here come from the role (hab.core.admin_rights); HAB has no superusers."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.utils.translation import gettext_lazy as _

from hab.core import services
from hab.core.models import ApiToken, Clinic, SecurityEvent, SessionSlot, User
from hab.core.name_fields import PersonNameField


class StaffChangeForm(UserChangeForm):
    """Staff names follow the rule for every person's name in HAB (hab.core.names)."""

    first_name = PersonNameField(label=_("first name"), max_length=150, required=False)
    last_name = PersonNameField(label=_("last name"), max_length=150, required=False)


@admin.register(User)
class StaffAdmin(UserAdmin):
    form = StaffChangeForm
    list_display = ("username", "first_name", "last_name", "hpr_number", "is_active")
    list_filter = ("is_active", "is_staff")
    # No superuser flag, groups or permissions: rights come from roles, and roles from the
    # role page. Staff status follows the administrator role.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "hpr_number")}),
        (_("Status"), {"fields": ("is_active", "is_staff")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("is_staff", "last_login", "date_joined")


class SlotInline(admin.TabularInline):
    model = SessionSlot
    extra = 0


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "health_region", "capacity", "idle_lock_minutes")
    inlines = [SlotInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = (
        "user",
        "key_hash",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        services.tokens_revoke_by_admin(tokens=queryset, by=request.user, request=request)


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """Read-only: the security log is append-only."""

    list_display = ("at", "username", "kind", "clinic", "ip")
    fields = ("at", "username", "kind", "clinic", "details", "ip")
    readonly_fields = fields
    list_filter = ("kind", "clinic")
    search_fields = ("username",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
