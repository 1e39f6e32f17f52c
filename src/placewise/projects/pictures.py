"""Rich pictures (steps 4 and 6) and the working group's meetings (step 5)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from placewise.accounts.access import AuthedRequest
from placewise.accounts.audit import record, snapshot
from placewise.accounts.models import User

from . import actions
from .access import access_project, can_edit
from .models import Attachment, Meeting, Observation, Project
from .records import _number
from .views import casework_required

GROUP_SUGGESTIONS = (
    "Residents",
    "Businesses",
    "Young people",
    "Police",
    "Council",
    "Housing",
    "Health",
    "Schools",
    "Faith and community groups",
)


def check_observation(project: Project, fields: dict) -> None:
    if fields.get("kind") not in Observation.Kind.values:
        raise actions.ProjectError(f"kind must be one of {', '.join(Observation.Kind.values)}")
    if not str(fields.get("text", "")).strip() or not str(fields.get("group", "")).strip():
        raise actions.ProjectError("say what was said, and whose view it is")
    actions._check_point(fields.get("longitude"), fields.get("latitude"))
    stakeholder = fields.get("stakeholder")
    if stakeholder is not None and stakeholder.project_id != project.pk:
        raise actions.ProjectError("the stakeholder must belong to this project")


def check_meeting(project: Project, fields: dict) -> None:
    if not str(fields.get("title", "")).strip():
        raise actions.ProjectError("a meeting needs a title")
    if fields.get("held_on") is None:
        raise actions.ProjectError("give the meeting's date")
    attendees = fields.get("attendees")
    if attendees is not None:
        members = set(project.members.values_list("user_id", flat=True))
        outside = [u.get_username() for u in attendees if u.pk not in members]
        if outside:
            raise actions.ProjectError(f"not members of this project: {', '.join(outside)}")


actions.register_check(Observation, check_observation)
actions.register_check(Meeting, check_meeting)


def do_add_observation(actor: User, project: Project, **fields) -> Observation:
    check_observation(project, fields)
    with transaction.atomic():
        item = Observation.objects.create(project=project, **fields)
        actions._touch(project)
        record(actor, "add_observation", item, after=snapshot(item))
    return item


def do_add_meeting(actor: User, project: Project, attendees: list[User], **fields) -> Meeting:
    check_meeting(project, {**fields, "attendees": attendees})
    with transaction.atomic():
        meeting = Meeting.objects.create(project=project, **fields)
        meeting.attendees.set(attendees)
        actions._touch(project)
        record(
            actor,
            "add_meeting",
            meeting,
            after={**snapshot(meeting), "attendees": [u.username for u in attendees]},
        )
    return meeting


@casework_required
@require_http_methods(["GET", "POST"])
def rich_pictures(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = access_project(request.user, project_id, write=request.method == "POST")
    if request.method == "POST":
        p = request.POST
        people = {str(s.pk): s for s in project.stakeholders.all()}
        try:
            do_add_observation(
                request.user,
                project,
                kind=p.get("kind"),
                text=p.get("text", "").strip(),
                group=p.get("group", "").strip(),
                theme=p.get("theme", "").strip(),
                stakeholder=people.get(p.get("stakeholder", "")),
                longitude=_number(p.get("longitude")),
                latitude=_number(p.get("latitude")),
            )
        except actions.ProjectError as exc:
            messages.error(request, f"Not added: {exc}")
        return redirect(f"{project.get_absolute_url()}pictures/")
    items = list(project.observations.select_related("stakeholder"))
    groups = sorted({o.group for o in items})
    side_by_side = [
        (kind, label, [[o for o in items if o.group == g and o.kind == kind] for g in groups])
        for kind, label in Observation.Kind.choices
    ]
    return render(
        request,
        "projects/pictures.html",
        {
            "project": project,
            "groups": groups,
            "side_by_side": side_by_side,
            "themes": sorted({o.theme for o in items if o.theme}),
            "kinds": Observation.Kind.choices,
            "suggestions": GROUP_SUGGESTIONS,
            "stakeholders": project.stakeholders.all(),
            "can_edit": can_edit(request.user, project),
            "pins": [
                {
                    "name": f"{o.get_kind_display()}: {o.text[:80]} ({o.group})",
                    "geometry": {"type": "Point", "coordinates": [o.longitude, o.latitude]},
                }
                for o in items
                if o.longitude is not None
            ],
        },
    )


@casework_required
@require_http_methods(["GET", "POST"])
def meetings(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = access_project(request.user, project_id, write=request.method == "POST")
    members = {str(m.user_id): m.user for m in project.members.select_related("user")}
    if request.method == "POST":
        p = request.POST
        try:
            held_on = dt.date.fromisoformat(p.get("held_on", "")) if p.get("held_on") else None
            do_add_meeting(
                request.user,
                project,
                [members[i] for i in p.getlist("attendees") if i in members],
                held_on=held_on,
                title=p.get("title", "").strip(),
                other_attendees=p.get("other_attendees", "").strip(),
                notes=p.get("notes", "").strip(),
                decisions=p.get("decisions", "").strip(),
            )
        except (actions.ProjectError, ValueError) as exc:
            messages.error(request, f"Meeting not saved: {exc}")
        return redirect(f"{project.get_absolute_url()}meetings/")
    return render(
        request,
        "projects/meetings.html",
        {
            "project": project,
            "meetings": project.meetings.prefetch_related("attendees"),
            "members": members.values(),
            "can_edit": can_edit(request.user, project),
        },
    )


def do_attach(actor: User, step, upload) -> Attachment:
    """Keep an uploaded file with a step; only common document and image types, 20 MB."""
    name = Path(upload.name or "file").name
    if not name.lower().endswith(Attachment.ALLOWED):
        raise actions.ProjectError(f"{name}: attach {', '.join(Attachment.ALLOWED)} files only")
    if (upload.size or 0) > Attachment.MAX_MB * 1024 * 1024:
        raise actions.ProjectError(f"{name}: larger than {Attachment.MAX_MB} MB")
    with transaction.atomic():
        item = Attachment.objects.create(
            step=step, file=upload, name=name[:200], size=upload.size or 0, uploaded_by=actor
        )
        actions._touch(step.project)
        record(
            actor,
            "attach_file",
            item,
            after={"step": step.number, "name": item.name, "size": item.size},
        )
    return item


@casework_required
@require_http_methods(["POST"])
def attach(request: AuthedRequest, project_id: int, number: int) -> HttpResponse:
    project = access_project(request.user, project_id, write=True)
    step = project.steps.filter(number=number).first()
    upload = request.FILES.get("file")
    if step is None:
        raise Http404("No such step")
    try:
        if upload is None:
            raise actions.ProjectError("choose a file to attach")
        do_attach(request.user, step, upload)
    except actions.ProjectError as exc:
        messages.error(request, f"Not attached: {exc}")
    return redirect(f"{project.get_absolute_url()}steps/{number}/")


@casework_required
def attachment_download(request: AuthedRequest, project_id: int, attachment_id: int):
    """Files are served through Placewise, never straight from the media folder, so the
    project's access rules apply to them too."""
    project = access_project(request.user, project_id)
    item = Attachment.objects.filter(pk=attachment_id, step__project=project).first()
    if item is None:
        raise Http404("No such attachment")
    return FileResponse(item.file.open("rb"), as_attachment=True, filename=item.name)
