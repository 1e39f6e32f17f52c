from django.contrib import admin

from placewise.accounts.admin import AuditedAdmin

from .models import Area


@admin.register(Area)
class AreaAdmin(AuditedAdmin):
    list_display = ("name", "kind", "code", "vintage", "population", "imd_decile")
    list_filter = ("kind", "vintage", "is_demo")
    search_fields = ("name", "code")
    exclude = ("geometry",)
