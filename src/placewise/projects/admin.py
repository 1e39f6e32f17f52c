from django import forms
from django.contrib import admin

from placewise.accounts.admin import AuditedAdmin
from placewise.lib.process_templates import TemplateError, parse_template

from .models import (
    Action,
    Asset,
    Escalation,
    Meeting,
    Observation,
    ProcessTemplate,
    Project,
    ProjectMember,
    ProjectStep,
    Relationship,
    Review,
    Stakeholder,
)


class ProcessTemplateForm(forms.ModelForm):
    class Meta:
        model = ProcessTemplate
        fields = ["slug", "name", "definition", "is_default"]

    def clean_definition(self):
        """A force's own template is checked like the bundled ones before it is saved."""
        data = self.cleaned_data["definition"]
        try:
            parse_template(data, "this template")
        except TemplateError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data


@admin.register(ProcessTemplate)
class ProcessTemplateAdmin(AuditedAdmin):
    form = ProcessTemplateForm
    list_display = ("name", "slug", "is_default")


@admin.register(Project)
class ProjectAdmin(AuditedAdmin):
    list_display = ("title", "area", "template", "team", "status", "review_status", "is_demo")
    list_filter = ("status", "review_status", "template", "is_demo")
    search_fields = ("title",)
    raw_id_fields = ("area", "screening_run")


for model in (
    ProjectMember,
    ProjectStep,
    Review,
    Action,
    Escalation,
    Asset,
    Stakeholder,
    Relationship,
    Observation,
    Meeting,
):
    admin.site.register(
        model, type(f"{model.__name__}Admin", (AuditedAdmin,), {"raw_id_fields": ("project",)})
    )
