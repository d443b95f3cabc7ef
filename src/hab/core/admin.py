from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone

from hab.core.models import (
    AccessLog,
    ApiToken,
    Clinic,
    Membership,
    SecurityEvent,
    SessionSlot,
    User,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


@admin.register(User)
class StaffAdmin(UserAdmin):
    inlines = [MembershipInline]
    list_display = ("username", "first_name", "last_name", "hpr_number", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("HAB", {"fields": ("hpr_number",)}))


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
    readonly_fields = ("user", "key_hash", "prefix", "created_at", "expires_at", "last_used_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only: the access log is append-only."""

    list_display = ("at", "username", "roles", "patient_ref", "action", "what", "basis", "channel")
    # The patient is shown by number only: the admin role reads no record without a reason.
    fields = (
        "at",
        "username",
        "roles",
        "patient_ref",
        "clinic",
        "action",
        "what",
        "details",
        "channel",
        "ip",
        "basis",
        "reason",
    )
    readonly_fields = fields
    list_filter = ("action", "basis", "channel", "clinic")
    search_fields = ("username",)

    @admin.display(description="patient")
    def patient_ref(self, obj):
        return obj.patient_id

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
