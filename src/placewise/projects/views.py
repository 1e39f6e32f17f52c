"""Project pages: lists, start a project, work through steps, supervisor review, history."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator

import pandas as pd
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Avg, Count, F, FloatField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from placewise.accounts.access import AuthedRequest, role_required
from placewise.accounts.models import AuditEntry, Role, Team
from placewise.lib.policeuk import POLICE_UK_CATEGORIES
from placewise.places import stats
from placewise.places.models import Area
from placewise.places.views import access_area
from placewise.screening.views import access_screening_run

from . import actions
from .access import access_project, can_edit, can_review, visible_projects
from .models import (
    Action,
    Escalation,
    ProcessTemplate,
    Project,
    ProjectMember,
    ProjectStep,
    Review,
)
from .progress import project_progress

CASEWORK_ROLES = (Role.OFFICER, Role.SUPERVISOR, Role.ANALYST, Role.PARTNER, Role.ADMIN)
casework_required = role_required(*CASEWORK_ROLES)
SORTS = {
    "activity": F("last_activity").desc(),
    "dose": F("dose_mean").desc(nulls_last=True),
    "overdue": F("overdue").desc(),
    "title": F("title").asc(),
    "start": F("start_date").desc(),
}
SORT_LABELS = {
    "activity": "last activity",
    "dose": "dose (highest first)",
    "overdue": "overdue actions",
    "title": "title",
    "start": "start date (newest first)",
}


@casework_required
def project_list(request: AuthedRequest) -> HttpResponse:
    scope = request.GET.get("scope", "mine")
    # Filters by id subqueries and the overdue count as a subquery: no joins to de-duplicate
    # and no GROUP BY over the area's geometry (SQLite groups by every selected column).
    projects = Project.objects.filter(pk__in=visible_projects(request.user).values("pk"))
    if scope == "mine":
        projects = projects.filter(
            pk__in=ProjectMember.objects.filter(user=request.user).values("project")
        )
    elif scope == "team":
        projects = projects.filter(team=request.user.team) if request.user.team else projects.none()
    if request.GET.get("status") in Project.Status.values:
        projects = projects.filter(status=request.GET["status"])
    if request.GET.get("unit", "").isdigit():
        projects = projects.filter(area__in=_areas_in_unit(int(request.GET["unit"])))
    sort = request.GET.get("sort", "activity")
    sort = sort if sort in SORTS else "activity"
    overdue = (
        Action.objects.filter(
            project=OuterRef("pk"), status__in=Action.OPEN, due__lt=dt.date.today()
        )
        .values("project")
        .annotate(n=Count("id"))
        .values("n")
    )
    # The dose (mean self-evaluation of the scored steps) in the database, so sorting by it
    # orders every page, not just the one shown.
    dose_mean = (
        ProjectStep.objects.filter(project=OuterRef("pk"), self_score__isnull=False)
        .values("project")
        .annotate(m=Avg("self_score"))
        .values("m")
    )
    projects = projects.annotate(overdue=Coalesce(Subquery(overdue), 0))
    if sort == "dose":
        projects = projects.annotate(dose_mean=Subquery(dose_mean, output_field=FloatField()))
    projects = (
        projects.select_related("area", "template", "team")
        .defer("area__geometry")
        .prefetch_related(
            Prefetch("steps", ProjectStep.objects.only("id", "project_id", "number", "self_score"))
        )
    )
    projects = projects.order_by(SORTS[sort], "-id")
    if request.GET.get("format") == "csv":
        return _list_csv(projects)
    page = Paginator(projects, 50).get_page(request.GET.get("page"))
    rows = [(p, p.dose(p.steps.all())) for p in _one_template_each(page)]
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "projects/list.html",
        {
            "page": page,
            "rows": rows,
            "scope": scope,
            "sort": sort,
            "sorts": SORT_LABELS,
            "sort_label": SORT_LABELS[sort],
            "statuses": Project.Status.choices,
            "query": query.urlencode(),
            "units": Area.objects.filter(kind="unit").only("id", "name"),
        },
    )


LIST_COLUMNS = (
    "id",
    "title",
    "place",
    "place_code",
    "template",
    "team",
    "status",
    "review_status",
    "start_date",
    "dose",
    "steps_scored",
    "steps",
    "overdue_actions",
    "last_activity",
    "demo",
)


def _one_template_each(projects: Iterable[Project]) -> Iterator[Project]:
    """Projects sharing one ProcessTemplate instance per template, so each template's steps
    are read from its definition once for the whole list, not once per project."""
    seen: dict[int, ProcessTemplate] = {}
    for p in projects:
        p.template = seen.setdefault(p.template_id, p.template)
        yield p


def _list_csv(projects) -> HttpResponse:
    """The whole filtered list (every page) as CSV, for a performance meeting."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LIST_COLUMNS)
    for p in _one_template_each(projects.iterator(chunk_size=500)):
        dose = p.dose(p.steps.all())
        writer.writerow(
            [
                p.pk,
                p.title,
                p.area.name,
                p.area.code,
                p.template.name,
                p.team.name if p.team else "",
                p.status,
                p.review_status,
                p.start_date.isoformat(),
                f"{dose.mean:.2f}" if dose.mean is not None else "",
                dose.scored,
                dose.total,
                p.overdue,  # type: ignore[attr-defined]  # annotated by the list query
                p.last_activity.isoformat(timespec="seconds"),
                "yes" if p.is_demo else "",
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="projects.csv"'
    return response


def _areas_in_unit(unit_id: int):
    unit = Area.objects.filter(pk=unit_id).first()
    if unit is None:
        return Area.objects.none()
    lsoas = Area.objects.filter(group_memberships__group=unit)
    return Area.objects.filter(pk__in=[unit.pk]) | lsoas | unit.children.all()


@role_required(Role.OFFICER, Role.SUPERVISOR, Role.ANALYST, Role.ADMIN)
@require_http_methods(["GET", "POST"])
def project_new(request: AuthedRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    area, run, evidence = _starting_point(request, data)
    if request.method == "POST":
        try:
            project = actions.do_open_project(
                request.user,
                area=area,
                title=data.get("title", ""),
                purpose=data.get("purpose", ""),
                template=_template(data.get("template")),
                team=Team.objects.filter(pk=data.get("team") or 0).first(),
                start_date=_date(data.get("start_date")),
                plan_weeks=int(data.get("plan_weeks") or 40),
                screening_run=run,
                evidence=evidence,
            )
        except (actions.ProjectError, ValueError) as exc:
            messages.error(request, f"The project was not started: {exc}")
        else:
            messages.success(request, f"{project.title} started.")
            return redirect("projects:detail", project.pk)
    return render(
        request,
        "projects/new.html",
        {
            "area": area,
            "run": run,
            "evidence": evidence,
            "data": data,
            "templates": ProcessTemplate.objects.all(),
            "teams": Team.objects.all(),
            "today": dt.date.today(),
        },
    )


def _starting_point(request, data):
    """An area, or a row of a saved screening run whose evidence becomes step 1's."""
    run, evidence = None, {}
    if data.get("screening_run"):
        run = access_screening_run(request.user, data["screening_run"])
        row = run.row(data.get("code", ""))
        if row is None:
            raise Http404("That place is not in the screening run")
        evidence = {
            "screening_run": run.pk,
            "window": f"{run.start:%Y-%m} to {run.end:%Y-%m}",
            **row,
        }
        kind = {"lsoa": "lsoa", "neighbourhood": "neighbourhood"}.get(run.level)
        area = Area.objects.filter(kind=kind, code=row["code"]).first() if kind else None
        if area is None:
            raise Http404("Projects start from LSOA or neighbourhood screening rows")
        return area, run, evidence
    if not data.get("area"):
        raise Http404("Start a project from an area page or a screening run")
    return access_area(request.user, data["area"]), None, evidence


def _template(slug: str | None) -> ProcessTemplate:
    found = ProcessTemplate.objects.filter(slug=slug).first() if slug else None
    found = found or ProcessTemplate.objects.order_by("-is_default", "name").first()
    if found is None:
        raise actions.ProjectError("no process templates are loaded (run placewise migrate)")
    return found


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise actions.ProjectError(f"start date {text!r} is not a date (YYYY-MM-DD)") from None


@casework_required
def project_detail(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = access_project(request.user, project_id)
    steps = list(project.steps.select_related("updated_by"))
    template = project.template.parsed
    rows = [(s, template.step(s.number)) for s in steps]
    return render(
        request,
        "projects/detail.html",
        {
            "project": project,
            "rows": rows,
            "dose": project.dose(steps),
            "members": project.members.select_related("user"),
            "reviews": project.reviews.select_related("reviewer")[:10],
            "can_edit": can_edit(request.user, project),
            "can_review": can_review(request.user, project),
            "week": project.week(),
            "actions": _with_status_choices(_actions_with_progress(project)),
            "escalations": project.escalations.select_related("owner"),
            "levels": Escalation.Level.choices,
            "categories": POLICE_UK_CATEGORIES,
            "progress": project_progress(project),
        },
    )


@casework_required
@require_http_methods(["GET", "POST"])
def step_edit(request: AuthedRequest, project_id: int, number: int) -> HttpResponse:
    project = access_project(request.user, project_id, write=request.method == "POST")
    step = project.steps.filter(number=number).first()
    if step is None:
        raise Http404("No such step")
    template_step = project.template.parsed.step(step.number)
    if request.method == "POST":
        answers = {
            str(i): request.POST.get(f"answer_{i}", "").strip()
            for i in range(len(template_step.prompts))
        }
        score = request.POST.get("self_score", "")
        try:
            actions.do_update_step(
                request.user,
                step,
                version=int(request.POST.get("version", 0)),
                status=request.POST.get("status", step.status),
                answers=answers,
                notes=request.POST.get("notes", ""),
                self_score=int(score) if score else None,
            )
        except actions.ConflictError as exc:
            messages.error(request, str(exc))
            return render(
                request,
                "projects/step.html",
                _step_context(request, project, step, template_step, submitted=request.POST),
                status=409,
            )
        except (actions.ProjectError, ValueError) as exc:
            messages.error(request, f"Not saved: {exc}")
        else:
            messages.success(request, f"Step {step.number} saved.")
            return redirect("projects:detail", project.pk)
    return render(
        request, "projects/step.html", _step_context(request, project, step, template_step)
    )


def _step_context(request, project, step, template_step, submitted=None) -> dict:
    answers = step.answers or {}
    prompts = [
        (i, text, (submitted or {}).get(f"answer_{i}", answers.get(str(i), "")))
        for i, text in enumerate(template_step.prompts)
    ]
    return {
        "project": project,
        "step": step,
        "tstep": template_step,
        "prompts": prompts,
        "levels": list(template_step.rubric_levels().items()),
        "can_edit": can_edit(request.user, project),
        "submitted": submitted,
        "statuses": ProjectStep.Status.choices,
    }


@casework_required
@require_http_methods(["POST"])
def submit_for_review(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = access_project(request.user, project_id, write=True)
    actions.do_submit_for_review(request.user, project)
    messages.success(request, "Submitted to your supervisor for review.")
    return redirect("projects:detail", project.pk)


@role_required(Role.SUPERVISOR, Role.ADMIN)
@require_http_methods(["GET", "POST"])
def review(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = access_project(request.user, project_id)
    if not can_review(request.user, project):
        raise Http404("No such project")
    steps = list(project.steps.all())
    template = project.template.parsed
    if request.method == "POST":
        feedback = {}
        for s in steps:
            score = request.POST.get(f"score_{s.number}", "")
            feedback[str(s.number)] = {
                "score": int(score) if score.isdigit() else None,
                "comment": request.POST.get(f"comment_{s.number}", ""),
            }
        try:
            actions.do_review_project(
                request.user,
                project,
                decision=request.POST.get("decision", ""),
                comment=request.POST.get("comment", ""),
                step_feedback=feedback,
            )
        except actions.ProjectError as exc:
            messages.error(request, f"Review not saved: {exc}")
        else:
            messages.success(request, "Review saved; the team sees it on their home page.")
            return redirect("projects:detail", project.pk)
    rows = [(s, template.step(s.number)) for s in steps]
    return render(
        request,
        "projects/review.html",
        {
            "project": project,
            "rows": rows,
            "dose": project.dose(steps),
            "decisions": Review.Decision.choices,
        },
    )


@casework_required
def history(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = access_project(request.user, project_id)
    entries = AuditEntry.objects.filter(
        object_type="projects.project", object_id=str(project.pk)
    ) | AuditEntry.objects.filter(parent=project.audit_key)
    page = Paginator(entries.order_by("-at", "-id"), 50).get_page(request.GET.get("page"))
    return render(request, "projects/history.html", {"project": project, "page": page})


def _owner(project: Project, user_id: str | None):
    if not user_id:
        return None
    member = project.members.select_related("user").filter(user_id=user_id).first()
    if member is None:
        raise actions.ProjectError("choose the owner from the project's members")
    return member.user


def _due(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise actions.ProjectError(f"due date {text!r} is not a date (YYYY-MM-DD)") from None


@casework_required
@require_http_methods(["POST"])
def action_add(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = access_project(request.user, project_id, write=True)
    p = request.POST
    try:
        actions.do_add_action(
            request.user,
            project,
            title=p.get("title", "").strip(),
            owner=_owner(project, p.get("owner")),
            due=_due(p.get("due")),
            success_measure=p.get("success_measure", "").strip(),
            how_measured=p.get("how_measured", "").strip(),
            measure_category=p.get("measure_category", ""),
        )
    except actions.ProjectError as exc:
        messages.error(request, f"Action not added: {exc}")
    return redirect(f"{project.get_absolute_url()}#actions")


@casework_required
@require_http_methods(["POST"])
def action_update(request: AuthedRequest, project_id: int, action_id: int) -> HttpResponse:
    project = access_project(request.user, project_id, write=True)
    action = project.actions.filter(pk=action_id).first()
    if action is None:
        raise Http404("No such action")
    try:
        actions.do_edit_record(request.user, action, status=request.POST.get("status", ""))
    except actions.ProjectError as exc:
        messages.error(request, f"Not saved: {exc}")
    return redirect(f"{project.get_absolute_url()}#actions")


@casework_required
@require_http_methods(["POST"])
def escalation_add(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = access_project(request.user, project_id, write=True)
    p = request.POST
    try:
        actions.do_add_escalation(
            request.user,
            project,
            risk=p.get("risk", "").strip(),
            approach=p.get("approach", "").strip(),
            level=p.get("level", ""),
            owner=_owner(project, p.get("owner")),
            due=_due(p.get("due")),
        )
    except actions.ProjectError as exc:
        messages.error(request, f"Escalation not added: {exc}")
    return redirect(f"{project.get_absolute_url()}#escalations")


@casework_required
@require_http_methods(["POST"])
def escalation_resolve(request: AuthedRequest, project_id: int, escalation_id: int) -> HttpResponse:
    project = access_project(request.user, project_id, write=True)
    escalation = project.escalations.filter(pk=escalation_id).first()
    if escalation is None:
        raise Http404("No such escalation")
    try:
        actions.do_resolve_escalation(request.user, escalation, request.POST.get("outcome", ""))
    except actions.ProjectError as exc:
        messages.error(request, f"Not resolved: {exc}")
    return redirect(f"{project.get_absolute_url()}#escalations")


def _with_status_choices(rows: list[tuple[Action, dict | None]]):
    """Each action's overdue flag and its status options, made here rather than in the
    template: a project with hundreds of actions renders a select for each."""
    today = dt.date.today()
    base = reverse("projects:detail", args=[rows[0][0].project_id]) if rows else ""
    for action, _progress_row in rows:
        action.update_url = f"{base}actions/{action.pk}/"  # type: ignore[attr-defined]
        action.edit_url = f"{base}records/action/{action.pk}/"  # type: ignore[attr-defined]
        action.overdue = action.is_overdue(today)  # type: ignore[attr-defined]
        action.status_options = format_html_join(  # type: ignore[attr-defined]
            "",
            '<option value="{}"{}>{}</option>',
            (
                (v, " selected" if v == action.status else "", label)
                for v, label in Action.Status.choices
            ),
        )
    return rows


def _actions_with_progress(project: Project) -> list[tuple[Action, dict | None]]:
    """Each action, with its data measure computed in the place: the category's incidents
    since the project started against the same number of months before it. The place's
    counts are read twice per project (before and since), whatever the number of actions."""
    actions_list = list(project.actions.select_related("owner"))
    if not any(a.measure_category for a in actions_list):
        return [(a, None) for a in actions_list]
    windows = _progress_windows(project)
    return [(a, _progress(windows, a.measure_category)) for a in actions_list]


def _progress_windows(project: Project) -> dict:
    span = stats.data_range(stats.force_name_of(project.area))
    if span is None:
        return {"note": "no incident data held"}
    start = project.start_date.replace(day=1)
    if span[1] < start:
        return {"note": "no data yet for months since the project started"}
    after = stats.Period(start, span[1])
    before_start = (pd.Timestamp(start) - pd.DateOffset(months=after.months)).date()
    if before_start < span[0]:
        return {"note": "not enough data before the project started to compare"}
    before = stats.Period(before_start, (pd.Timestamp(start) - pd.DateOffset(months=1)).date())

    def by_category(period) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (_month, category), n in stats.counts(project.area, period).items():
            totals[category] = totals.get(category, 0) + n
        return totals

    return {"before": by_category(before), "during": by_category(after), "months": after.months}


def _progress(windows: dict, category: str) -> dict | None:
    if not category:
        return None
    if "note" in windows:
        return {"note": windows["note"]}
    return {
        "before": windows["before"].get(category, 0),
        "during": windows["during"].get(category, 0),
        "months": windows["months"],
    }


@casework_required
def report(request: AuthedRequest, project_id: int) -> HttpResponse:
    """The whole project on printable pages, for a partnership meeting."""
    project = access_project(request.user, project_id)
    return render(request, "projects/report.html", report_context(request.user, project))


@casework_required
def report_pdf(request: AuthedRequest, project_id: int) -> HttpResponse:
    """The same report as a PDF file, to email to partners or keep with the case."""
    from .pdf import report_pdf as render_pdf

    project = access_project(request.user, project_id)
    body = render_pdf(report_context(request.user, project))
    response = HttpResponse(body, content_type="application/pdf")
    name = f"placewise-project-{project.pk}-{dt.date.today():%Y-%m-%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def report_context(user, project: Project) -> dict:
    """Everything the report shows, for the HTML page and the PDF alike."""
    from .records import network_picture

    steps = list(project.steps.all())
    template = project.template.parsed
    people = list(project.stakeholders.all())
    edges = list(project.relationships.values_list("source_id", "target_id"))
    measures, drawing = network_picture(project, people, edges)
    member = project.members.filter(user=user).exists()
    return {
        "project": project,
        "dose": project.dose(steps),
        "week": project.week(),
        "rows": [
            (
                s,
                template.step(s.number),
                [
                    (text, (s.answers or {}).get(str(i), ""))
                    for i, text in enumerate(template.step(s.number).prompts)
                ],
            )
            for s in steps
        ],
        "actions": _actions_with_progress(project),
        "escalations": project.escalations.all(),
        "assets": project.assets.all(),
        "people": sorted(people, key=lambda s: measures[s.pk]["rank"]),
        "measures": measures,
        "drawing": mark_safe(drawing),  # noqa: S308 - built from numbers and escaped names
        "reviews": project.reviews.select_related("reviewer"),
        "show_contact": member,
        "members": project.members.select_related("user"),
        "progress": project_progress(project),
        "shapes": [{"name": project.area.name, "geometry": project.area.geometry_dict}]
        if project.area.geometry
        else [],
    }
