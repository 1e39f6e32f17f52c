"""Changing and removing a project's records after they were added: actions, escalations,
assets, stakeholders, relationships, rich-picture entries, meetings and attachments.

Project members (partners included), the team's supervisors and administrators may do it,
under the same rules as adding; every change and removal is in the project's history."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.db import models
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from placewise.accounts.access import AuthedRequest
from placewise.lib.policeuk import POLICE_UK_CATEGORIES

from . import actions
from .access import access_project
from .models import (
    Action,
    Asset,
    Attachment,
    Escalation,
    Meeting,
    Observation,
    Project,
    Relationship,
    Stakeholder,
)
from .views import casework_required


@dataclass(frozen=True)
class Editable:
    model: type[models.Model]
    label: str
    fields: tuple[str, ...]
    back: str  # where the record is listed, relative to the project's page

    def records(self, project: Project) -> models.QuerySet:
        if self.model is Attachment:
            return Attachment.objects.filter(step__project=project)
        return self.model._default_manager.filter(project=project)


RECORDS: dict[str, Editable] = {
    "action": Editable(
        Action,
        "action",
        ("title", "owner", "due", "status", "success_measure", "how_measured", "measure_category"),
        "#actions",
    ),
    "escalation": Editable(
        Escalation,
        "escalation",
        ("risk", "approach", "level", "owner", "due", "status", "outcome"),
        "#escalations",
    ),
    "asset": Editable(
        Asset,
        "asset",
        (
            "name",
            "category",
            "description",
            "longitude",
            "latitude",
            "highly_capable",
            "highly_connected",
            "contact",
            "consent_to_share",
            "consent_recorded",
        ),
        "network/#assets",
    ),
    "stakeholder": Editable(
        Stakeholder,
        "stakeholder",
        (
            "name",
            "kind",
            "organisation",
            "interests",
            "influence",
            "key_individual_network",
            "advisory_group",
            "contact",
            "consent_recorded",
        ),
        "network/",
    ),
    "relationship": Editable(Relationship, "relationship", ("kind",), "network/#relationships"),
    "observation": Editable(
        Observation,
        "rich-picture entry",
        ("kind", "text", "group", "stakeholder", "theme", "longitude", "latitude"),
        "pictures/",
    ),
    "meeting": Editable(
        Meeting,
        "meeting",
        ("held_on", "title", "attendees", "other_attendees", "notes", "decisions"),
        "meetings/",
    ),
    "attachment": Editable(Attachment, "attachment", (), "steps/{step}/"),
}


def _record(request: AuthedRequest, project_id: int, kind: str, record_id: int):
    spec = RECORDS.get(kind)
    if spec is None:
        raise Http404("No such kind of record")
    project = access_project(request.user, project_id, write=True)
    item = spec.records(project).filter(pk=record_id).first()
    if item is None:
        raise Http404(f"No such {spec.label}")
    return spec, project, item


def _back(spec: Editable, project: Project, item) -> str:
    where = spec.back.format(step=item.step.number) if spec.model is Attachment else spec.back
    return f"{project.get_absolute_url()}{where}"


def _fields(spec: Editable, project: Project, user) -> tuple[str, ...]:
    """Contact details are shown to project members only, so a supervisor or administrator
    who is not a member edits the rest of the record and leaves them as they are."""
    if project.members.filter(user=user).exists():
        return spec.fields
    return tuple(f for f in spec.fields if f != "contact")


def _form_class(spec: Editable, project: Project, fields: tuple[str, ...]) -> type[forms.ModelForm]:
    """A form for the record's fields, with choices limited to this project's people."""
    members = project.members.values("user")
    fields_shown = fields

    class RecordForm(forms.ModelForm):
        class Meta:
            model = spec.model
            fields = fields_shown
            widgets = {
                "due": forms.DateInput(attrs={"type": "date"}),
                "held_on": forms.DateInput(attrs={"type": "date"}),
                "description": forms.Textarea(attrs={"rows": 3}),
                "interests": forms.Textarea(attrs={"rows": 3}),
                "text": forms.Textarea(attrs={"rows": 3}),
                "notes": forms.Textarea(attrs={"rows": 4}),
                "decisions": forms.Textarea(attrs={"rows": 3}),
                "outcome": forms.Textarea(attrs={"rows": 2}),
                "other_attendees": forms.Textarea(attrs={"rows": 2}),
            }

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for name in ("owner", "attendees"):
                if name in self.fields:
                    field = self.fields[name]
                    field.queryset = field.queryset.filter(pk__in=members)  # type: ignore[attr-defined]
                    field.label_from_instance = lambda u: u.get_full_name() or u.get_username()  # type: ignore[attr-defined]
            if "stakeholder" in self.fields:
                self.fields["stakeholder"].queryset = project.stakeholders.all()  # type: ignore[attr-defined]
            if "measure_category" in self.fields:
                self.fields["measure_category"] = forms.ChoiceField(
                    label="Data measure (incidents of this category in the place)",
                    choices=[("", "none"), *((c, c) for c in POLICE_UK_CATEGORIES)],
                    required=False,
                )

    return RecordForm


@casework_required
@require_http_methods(["GET", "POST"])
def record_edit(request: AuthedRequest, project_id: int, kind: str, record_id: int):
    spec, project, item = _record(request, project_id, kind, record_id)
    if not spec.fields:
        raise Http404(f"An {spec.label} can be removed, not changed")
    fields = _fields(spec, project, request.user)
    form_class = _form_class(spec, project, fields)
    if request.method == "POST":
        # The form works on its own copy, so the audit's "before" is the record as stored.
        form = form_class(request.POST, instance=spec.records(project).get(pk=item.pk))
        if form.is_valid():
            changes = {name: form.cleaned_data[name] for name in fields}
            if "attendees" in changes:
                changes["attendees"] = list(changes["attendees"])
            try:
                actions.do_edit_record(request.user, item, **changes)
            except actions.ProjectError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{spec.label.capitalize()} saved.")
                return redirect(_back(spec, project, item))
        status = 400
    else:
        form, status = form_class(instance=item), 200
    return render(
        request,
        "projects/record_edit.html",
        {
            "project": project,
            "spec": spec,
            "kind": kind,
            "item": item,
            "form": form,
            "back": _back(spec, project, item),
        },
        status=status,
    )


@casework_required
@require_http_methods(["GET", "POST"])
def record_remove(request: AuthedRequest, project_id: int, kind: str, record_id: int):
    """Removal asks once more before it happens; the audit trail keeps a copy."""
    spec, project, item = _record(request, project_id, kind, record_id)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        back = _back(spec, project, item)
        actions.do_remove_record(request.user, item)
        messages.success(request, f"{spec.label.capitalize()} “{item}” removed.")
        return redirect(back)
    if request.method == "POST":
        messages.error(request, "Tick the box to confirm the removal.")
    ties = (
        Relationship.objects.filter(source=item).count()
        + Relationship.objects.filter(target=item).count()
        if isinstance(item, Stakeholder)
        else 0
    )
    return render(
        request,
        "projects/record_remove.html",
        {
            "project": project,
            "spec": spec,
            "kind": kind,
            "item": item,
            "ties": ties,
            "back": _back(spec, project, item),
        },
        status=400 if request.method == "POST" else 200,
    )
