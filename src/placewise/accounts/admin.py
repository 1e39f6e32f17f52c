from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .audit import record, snapshot
from .models import ApiToken, AuditEntry, Team, User


class AuditedAdmin(admin.ModelAdmin):
    """Admin edits go into the audit trail like every other change."""

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        record(
            request.user,
            "admin.change" if change else "admin.add",
            obj,
            before=before,
            after=snapshot(obj),
        )

    def delete_model(self, request, obj):
        before = snapshot(obj)
        record(request.user, "admin.delete", obj, before=before)
        super().delete_model(request, obj)


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Placewise", {"fields": ("role", "team", "organisation")}),
    )
    list_display = ("username", "email", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active")


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("name", "unit")


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    list_display = ("prefix", "user", "label", "created_at", "last_used_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "object_repr", "object_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
