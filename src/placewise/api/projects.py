"""Projects in the JSON API, under ``/api/projects``: the same casework as the project pages.

The rules are the pages' rules, through the same functions:

- residents may not use casework at all (403);
- a project the user may not see is a 404, exactly as for one that does not exist
  (``access_project``), and so is a change to a project the user may read but not change;
- only police roles open projects; only supervisors and administrators review;
- contact details of assets and stakeholders are shown to project members only.

Every change goes through ``placewise.projects.actions``, so it is checked, audited and
all-or-nothing as on the pages. A ``ProjectError`` becomes a 400 with its message in
``detail``; a stale step save (``ConflictError``) becomes a 409.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import ninja
from django.db.models import Prefetch
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.security import APIKeyCookie
from pydantic import StrictInt

from placewise.accounts.models import Role, User
from placewise.analysis.networks import network_measures
from placewise.lib.policeuk import CATEGORIES
from placewise.places.models import Area, AreaKind
from placewise.projects import actions
from placewise.projects.access import (
    POLICE_READERS,
    access_project,
    can_edit,
    can_review,
    visible_projects,
)
from placewise.projects.models import (
    Action,
    Asset,
    Escalation,
    ProcessTemplate,
    Project,
    ProjectStep,
    Review,
    Stakeholder,
)
from placewise.projects.views import CASEWORK_ROLES

REVIEW_ROLES = (Role.SUPERVISOR, Role.ADMIN)


class ProjectSessionAuth(APIKeyCookie):
    """The browser session. For a signed-in user, unsafe methods need the CSRF token (the
    ``X-CSRFToken`` header with the ``csrftoken`` cookie), as with ``api.SessionAuth``; a
    request without a session is simply not authenticated (401), not refused for CSRF."""

    param_name = "sessionid"

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user if request.user.is_authenticated else None


# Authentication is given where the router is mounted (api.py): a token, or the session.
router = Router(tags=["projects"])


# --- schemas ---------------------------------------------------------------------------


class DoseOut(Schema):
    mean: float | None = Field(description="Mean self-evaluation score of the scored steps")
    scored: int = Field(description="Steps with a self-evaluation score")
    total: int = Field(description="Steps in the process")
    complete: bool


class ProjectSummary(Schema):
    id: int
    title: str
    area_id: int
    area_kind: str
    area_code: str
    area_name: str
    template: str = Field(description="The process template's slug")
    status: str = Field(description="active or closed")
    review_status: str = Field(description="not_submitted, submitted, signed_off or returned")
    dose: DoseOut
    last_activity: dt.datetime


class StepSummary(Schema):
    number: int
    key: str
    title: str
    status: str = Field(description="not_started, in_progress or done")
    self_score: int | None
    version: int = Field(description="Send it back when saving the step")
    updated_by: str | None
    updated_at: dt.datetime


class MemberOut(Schema):
    user_id: int
    username: str
    name: str
    role: str = Field(description="lead, member or partner")


class ProjectDetail(ProjectSummary):
    purpose: str
    template_name: str
    team: str | None
    start_date: dt.date
    plan_weeks: int
    end_date: dt.date
    week: int = Field(description="Which week of the plan today falls in (0 before the start)")
    evidence: dict[str, Any] = Field(description="The screening evidence the project began from")
    created_at: dt.datetime
    members: list[MemberOut]
    steps: list[StepSummary]
    can_edit: bool = Field(description="Whether you may change the project")
    can_review: bool = Field(description="Whether you may review the project")


class StepDetail(StepSummary):
    purpose: str
    guidance: str
    prompts: list[str] = Field(description="The step's questions; answers are keyed 0, 1, ...")
    answers: dict[str, str]
    notes: str
    rubric: list[str] = Field(description="What self-evaluation levels 1 to 5 mean")
    can_edit: bool


class ProjectIn(Schema):
    area_id: int | None = Field(None, description="The area, by id; or give area_code")
    area_code: str | None = Field(None, description="The area, by code (e.g. an LSOA code)")
    area_kind: str | None = Field(None, description="Only needed if the code is of two kinds")
    title: str = Field(max_length=200)
    purpose: str
    template: str | None = Field(None, description="A process template's slug; else the default")
    plan_weeks: int = Field(40, description="1 to 156")
    start_date: dt.date | None = Field(None, description="Today if not given")


class StepIn(Schema):
    version: int = Field(description="The version you read; a stale one is refused with 409")
    status: str = Field(description="not_started, in_progress or done")
    answers: dict[str, str] = Field(description="Prompt number (0, 1, ...) -> answer")
    notes: str
    self_score: StrictInt | None = Field(description="1 to 5, or null")


class ConflictOut(Schema):
    detail: str
    current: StepDetail = Field(description="The step as it is saved now")


class Error(Schema):
    detail: str


# Described in the schema; 401: no or an unknown token, 403: a resident's (or, for opening
# and reviewing, another role's), 404: no such project or one you may not see or change.
AUTH_ERRORS = {401: Error, 403: Error}
READ_ERRORS = {**AUTH_ERRORS, 404: Error}
WRITE_ERRORS = {400: Error, **READ_ERRORS}


class AssetOut(Schema):
    id: int
    name: str
    category: str
    description: str
    longitude: float | None
    latitude: float | None
    highly_capable: bool
    highly_connected: bool
    consent_to_share: bool
    contact: str | None = Field(description="Project members only; null for others")
    consent_recorded: str | None = Field(description="Project members only; null for others")
    created_at: dt.datetime


class AssetIn(Schema):
    name: str = Field(max_length=200)
    category: str = Field(description=", ".join(Asset.Category.values))
    description: str = ""
    longitude: float | None = None
    latitude: float | None = None
    highly_capable: bool = False
    highly_connected: bool = False
    contact: str = Field("", max_length=300, description="Needs consent_recorded")
    consent_to_share: bool = False
    consent_recorded: str = Field("", max_length=200, description="How and when")


class StakeholderOut(Schema):
    id: int
    name: str
    kind: str
    organisation: str
    interests: str
    influence: int
    key_individual_network: bool
    advisory_group: bool
    contact: str | None = Field(description="Project members only; null for others")
    consent_recorded: str | None = Field(description="Project members only; null for others")
    created_at: dt.datetime


class StakeholderIn(Schema):
    name: str = Field(max_length=200)
    kind: Literal["person", "organisation"] = "person"
    organisation: str = Field("", max_length=200)
    interests: str = ""
    influence: StrictInt = Field(3, description="1 (little) to 5 (a lot)")
    key_individual_network: bool = False
    advisory_group: bool = False
    contact: str = Field("", max_length=300, description="Needs consent_recorded")
    consent_recorded: str = Field("", max_length=200)


class RelationshipOut(Schema):
    id: int
    source_id: int
    source_name: str
    target_id: int
    target_name: str
    kind: str


class RelationshipIn(Schema):
    source_id: int
    target_id: int
    kind: str = Field("", max_length=100, description="e.g. neighbours, works with")


class NetworkRow(Schema):
    stakeholder_id: int
    name: str
    degree: int = Field(description="Direct ties")
    betweenness: float = Field(description="Share of shortest paths through them, 0 to 1")
    reach: int = Field(description="Others within two steps")
    rank: int = Field(description="1 = the most connected")


class ActionOut(Schema):
    id: int
    title: str
    owner_id: int | None
    owner: str | None
    due: dt.date | None
    status: str
    overdue: bool
    success_measure: str
    how_measured: str
    measure_category: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ActionIn(Schema):
    title: str = Field(max_length=200)
    owner_id: int | None = Field(None, description="A member of the project")
    due: dt.date | None = None
    success_measure: str = Field("", max_length=300)
    how_measured: str = Field("", max_length=300)
    measure_category: str = Field("", description="A police.uk category, to measure progress")


class ActionPatch(Schema):
    """Only the fields given are changed."""

    title: str | None = Field(None, max_length=200)
    owner_id: int | None = Field(None, description="A member of the project; null for none")
    due: dt.date | None = None
    status: str | None = Field(None, description=", ".join(Action.Status.values))
    success_measure: str | None = Field(None, max_length=300)
    how_measured: str | None = Field(None, max_length=300)
    measure_category: str | None = Field(None, description="A police.uk category, or empty")


class AssetPatch(Schema):
    """Only the fields given are changed."""

    name: str | None = Field(None, max_length=200)
    category: str | None = Field(None, description=", ".join(Asset.Category.values))
    description: str | None = None
    longitude: float | None = None
    latitude: float | None = None
    highly_capable: bool | None = None
    highly_connected: bool | None = None
    contact: str | None = Field(None, max_length=300, description="Needs consent_recorded")
    consent_to_share: bool | None = None
    consent_recorded: str | None = Field(None, max_length=200)


class StakeholderPatch(Schema):
    """Only the fields given are changed."""

    name: str | None = Field(None, max_length=200)
    kind: Literal["person", "organisation"] | None = None
    organisation: str | None = Field(None, max_length=200)
    interests: str | None = None
    influence: StrictInt | None = Field(None, description="1 (little) to 5 (a lot)")
    key_individual_network: bool | None = None
    advisory_group: bool | None = None
    contact: str | None = Field(None, max_length=300, description="Needs consent_recorded")
    consent_recorded: str | None = Field(None, max_length=200)


class RelationshipPatch(Schema):
    kind: str = Field(max_length=100)


class EscalationPatch(Schema):
    """Only the fields given are changed. Resolving needs an ``outcome``."""

    risk: str | None = Field(None, max_length=300)
    approach: str | None = Field(None, max_length=300)
    level: str | None = Field(None, description=", ".join(Escalation.Level.values))
    owner_id: int | None = Field(None, description="A member of the project; null for none")
    due: dt.date | None = None
    status: str | None = Field(None, description="open, resolved")
    outcome: str | None = None


class EscalationOut(Schema):
    id: int
    risk: str
    approach: str
    level: str
    owner_id: int | None
    owner: str | None
    due: dt.date | None
    status: str
    outcome: str
    created_at: dt.datetime


class EscalationIn(Schema):
    risk: str = Field(max_length=300)
    approach: str = Field("", max_length=300)
    level: str = Field("sergeant", description=", ".join(Escalation.Level.values))
    owner_id: int | None = Field(None, description="A member of the project")
    due: dt.date | None = None


class ResolveIn(Schema):
    outcome: str


class FeedbackIn(Schema):
    score: StrictInt | None = Field(None, description="1 to 5, or null")
    comment: str = ""


class FeedbackOut(Schema):
    score: int | None = None
    comment: str = ""


class ReviewOut(Schema):
    id: int
    reviewer: str | None
    created_at: dt.datetime
    decision: str
    comment: str
    step_feedback: dict[str, FeedbackOut] = Field(description="Step number -> score, comment")
    team_dose: float | None
    reviewer_dose: float | None


class ReviewIn(Schema):
    decision: str = Field(description=", ".join(Review.Decision.values))
    comment: str = Field("", description="Required when returning the proforma")
    step_feedback: dict[int, FeedbackIn] = Field(
        default_factory=dict, description="Step number -> score, comment"
    )


# --- helpers -----------------------------------------------------------------------------


def casework_user(request: HttpRequest) -> User:
    """The signed-in user, if their role may use casework; 403 otherwise (residents)."""
    user = request.user
    if not isinstance(user, User) or not user.has_role(*CASEWORK_ROLES):
        raise HttpError(403, "Your role does not give access to projects.")
    return user


def project_for(request: HttpRequest, project_id: int, write: bool = False) -> Project:
    return access_project(casework_user(request), project_id, write=write)


def is_member(user: User, project: Project) -> bool:
    return project.members.filter(user=user).exists()


def with_status(code: int, body: Any) -> Any:
    """A response with its status: ``ninja.Status`` (django-ninja 1.7+, where returning a
    tuple is deprecated), or the ``(status, body)`` tuple older versions take."""
    status = getattr(ninja, "Status", None)
    return status(code, body) if status is not None else (code, body)


def refused(exc: actions.ProjectError) -> HttpError:
    return HttpError(400, str(exc))


def _dose(project: Project, steps=None) -> dict:
    d = project.dose(steps)
    return {"mean": d.mean, "scored": d.scored, "total": d.total, "complete": d.complete}


def _summary(project: Project, steps=None) -> dict:
    return {
        "id": project.pk,
        "title": project.title,
        "area_id": project.area_id,
        "area_kind": project.area.kind,
        "area_code": project.area.code,
        "area_name": project.area.name,
        "template": project.template.slug,
        "status": project.status,
        "review_status": project.review_status,
        "dose": _dose(project, steps),
        "last_activity": project.last_activity,
    }


def _step_summary(step: ProjectStep) -> dict:
    return {
        "number": step.number,
        "key": step.key,
        "title": step.title,
        "status": step.status,
        "self_score": step.self_score,
        "version": step.version,
        "updated_by": step.updated_by.get_username() if step.updated_by else None,
        "updated_at": step.updated_at,
    }


def _step_detail(user: User, project: Project, step: ProjectStep) -> dict:
    tstep = project.template.parsed.step(step.number)
    return {
        **_step_summary(step),
        "purpose": tstep.purpose,
        "guidance": tstep.guidance,
        "prompts": list(tstep.prompts),
        "answers": {str(k): str(v) for k, v in (step.answers or {}).items()},
        "notes": step.notes,
        "rubric": list(tstep.rubric),
        "can_edit": can_edit(user, project),
    }


def _detail(user: User, project: Project) -> dict:
    steps = list(project.steps.select_related("updated_by"))
    members = project.members.select_related("user").order_by("id")
    return {
        **_summary(project, steps),
        "purpose": project.purpose,
        "template_name": project.template.name,
        "team": project.team.name if project.team else None,
        "start_date": project.start_date,
        "plan_weeks": project.plan_weeks,
        "end_date": project.end_date,
        "week": project.week(),
        "evidence": project.evidence or {},
        "created_at": project.created_at,
        "members": [
            {
                "user_id": m.user_id,
                "username": m.user.get_username(),
                "name": m.user.get_full_name(),
                "role": m.role,
            }
            for m in members
        ],
        "steps": [_step_summary(s) for s in steps],
        "can_edit": can_edit(user, project),
        "can_review": can_review(user, project),
    }


def _step(project: Project, number: int) -> ProjectStep:
    step = project.steps.select_related("updated_by").filter(number=number).first()
    if step is None:
        raise Http404("No such step")
    return step


def _asset(asset: Asset, member: bool) -> dict:
    return {
        "id": asset.pk,
        "name": asset.name,
        "category": asset.category,
        "description": asset.description,
        "longitude": asset.longitude,
        "latitude": asset.latitude,
        "highly_capable": asset.highly_capable,
        "highly_connected": asset.highly_connected,
        "consent_to_share": asset.consent_to_share,
        "contact": asset.contact if member else None,
        "consent_recorded": asset.consent_recorded if member else None,
        "created_at": asset.created_at,
    }


def _stakeholder(person: Stakeholder, member: bool) -> dict:
    return {
        "id": person.pk,
        "name": person.name,
        "kind": person.kind,
        "organisation": person.organisation,
        "interests": person.interests,
        "influence": person.influence,
        "key_individual_network": person.key_individual_network,
        "advisory_group": person.advisory_group,
        "contact": person.contact if member else None,
        "consent_recorded": person.consent_recorded if member else None,
        "created_at": person.created_at,
    }


def _relationship(link) -> dict:
    return {
        "id": link.pk,
        "source_id": link.source_id,
        "source_name": link.source.name,
        "target_id": link.target_id,
        "target_name": link.target.name,
        "kind": link.kind,
    }


def _owner(project: Project, user_id: int | None) -> User | None:
    """Owners are chosen from the project's members, as on the pages."""
    if user_id is None:
        return None
    member = project.members.select_related("user").filter(user_id=user_id).first()
    if member is None:
        raise HttpError(400, f"user {user_id} is not a member of this project")
    return member.user


def _action(action: Action) -> dict:
    return {
        "id": action.pk,
        "title": action.title,
        "owner_id": action.owner_id,
        "owner": action.owner.get_username() if action.owner else None,
        "due": action.due,
        "status": action.status,
        "overdue": action.is_overdue(),
        "success_measure": action.success_measure,
        "how_measured": action.how_measured,
        "measure_category": action.measure_category,
        "created_at": action.created_at,
        "updated_at": action.updated_at,
    }


def _escalation(escalation: Escalation) -> dict:
    return {
        "id": escalation.pk,
        "risk": escalation.risk,
        "approach": escalation.approach,
        "level": escalation.level,
        "owner_id": escalation.owner_id,
        "owner": escalation.owner.get_username() if escalation.owner else None,
        "due": escalation.due,
        "status": escalation.status,
        "outcome": escalation.outcome,
        "created_at": escalation.created_at,
    }


def _review(review: Review) -> dict:
    feedback = review.step_feedback if isinstance(review.step_feedback, dict) else {}
    return {
        "id": review.pk,
        "reviewer": review.reviewer.get_username() if review.reviewer else None,
        "created_at": review.created_at,
        "decision": review.decision,
        "comment": review.comment,
        "step_feedback": {str(k): v if isinstance(v, dict) else {} for k, v in feedback.items()},
        "team_dose": review.team_dose,
        "reviewer_dose": review.reviewer_dose,
    }


def _area(data: ProjectIn) -> Area:
    if (data.area_id is None) == (not data.area_code):
        raise HttpError(400, "give the area as area_id or area_code (one of them)")
    if data.area_id is not None:
        area = Area.objects.filter(pk=data.area_id).first()
        if area is None:
            raise HttpError(400, f"there is no area with id {data.area_id}")
        return area
    areas = Area.objects.filter(code=data.area_code)
    if data.area_kind:
        if data.area_kind not in AreaKind.values:
            raise HttpError(400, f"area_kind must be one of: {', '.join(AreaKind.values)}")
        areas = areas.filter(kind=data.area_kind)
    found = list(areas[:2])
    if not found:
        raise HttpError(400, f"there is no area with code {data.area_code!r}")
    if len(found) > 1:
        kinds = ", ".join(sorted(areas.values_list("kind", flat=True)))
        raise HttpError(400, f"code {data.area_code!r} is used by several kinds ({kinds}): "
                        "give area_kind")  # fmt: skip
    return found[0]


def _template(slug: str | None) -> ProcessTemplate:
    templates = ProcessTemplate.objects.order_by("-is_default", "name")
    found = templates.filter(slug=slug).first() if slug else templates.first()
    if found is None:
        slugs = ", ".join(templates.values_list("slug", flat=True)) or "none are loaded"
        raise HttpError(400, f"template must be one of: {slugs}")
    return found


# --- projects ----------------------------------------------------------------------------


@router.get(
    "",
    response={200: list[ProjectSummary], **AUTH_ERRORS},
    summary="List projects",
    url_name="list_projects",
)
def list_projects(
    request: HttpRequest,
    scope: Literal["mine", "all"] = "all",
    status: Literal["active", "closed"] | None = None,
    limit: Annotated[int, Field(ge=1, le=500)] = 100,
    offset: Annotated[int, Field(ge=0)] = 0,
):
    """The projects you may see, most recently active first: ``scope=mine`` only those you
    are a member of, ``scope=all`` (the default) every one you may see (police roles: all
    projects; partners: the projects they are members of). ``status`` keeps active or
    closed ones; ``limit`` (up to 500) and ``offset`` page through them."""
    user = casework_user(request)
    projects = visible_projects(user)
    if scope == "mine":
        projects = projects.filter(members__user=user)
    if status:
        projects = projects.filter(status=status)
    projects = (
        projects.distinct()
        .select_related("area", "template")
        .prefetch_related(
            Prefetch("steps", ProjectStep.objects.only("id", "project_id", "number", "self_score"))
        )
        .order_by("-last_activity", "-id")
    )
    return [_summary(p, p.steps.all()) for p in projects[offset : offset + limit]]


@router.post(
    "",
    response={201: ProjectDetail, 400: Error, **AUTH_ERRORS},
    summary="Open a project",
    url_name="open_project",
)
def open_project(request: HttpRequest, data: ProjectIn):
    """Start a project in an area (``area_id``, or ``area_code`` with ``area_kind`` if the
    code is of more than one kind) with a process template (its slug; the default template
    if not given). You become its lead; the project belongs to your team. Police roles
    only: partners cannot open projects (403). Invalid input is a 400 with ``detail``."""
    user = casework_user(request)
    if not user.has_role(*POLICE_READERS):
        raise HttpError(403, "Only police roles open projects.")
    try:
        project = actions.do_open_project(
            user,
            area=_area(data),
            title=data.title,
            purpose=data.purpose,
            template=_template(data.template),
            start_date=data.start_date,
            plan_weeks=data.plan_weeks,
        )
    except actions.ProjectError as exc:
        raise refused(exc) from None
    return with_status(201, _detail(user, access_project(user, project.pk)))


@router.get(
    "/{project_id}",
    response={200: ProjectDetail, **READ_ERRORS},
    summary="One project",
    url_name="get_project",
)
def get_project(request: HttpRequest, project_id: int):
    """A project with its members, a summary of each step and its dose (the mean of the
    steps' self-evaluation scores). 404 if there is no such project or you may not see it."""
    user = casework_user(request)
    return _detail(user, access_project(user, project_id))


# --- steps -------------------------------------------------------------------------------


@router.get(
    "/{project_id}/steps",
    response={200: list[StepSummary], **READ_ERRORS},
    summary="A project's steps",
    url_name="list_steps",
)
def list_steps(request: HttpRequest, project_id: int):
    """Each step's status, self-evaluation score and version."""
    project = project_for(request, project_id)
    return [_step_summary(s) for s in project.steps.select_related("updated_by")]


@router.get(
    "/{project_id}/steps/{number}",
    response={200: StepDetail, **READ_ERRORS},
    summary="One step",
    url_name="get_step",
)
def get_step(request: HttpRequest, project_id: int, number: int):
    """A step with the template's prompts, purpose and rubric, and the team's answers,
    notes and score. Keep ``version`` to save the step."""
    user = casework_user(request)
    project = access_project(user, project_id)
    return _step_detail(user, project, _step(project, number))


@router.put(
    "/{project_id}/steps/{number}",
    response={200: StepDetail, 409: ConflictOut, **WRITE_ERRORS},
    summary="Save a step",
    url_name="update_step",
)
def update_step(request: HttpRequest, project_id: int, number: int, data: StepIn):
    """Replace a step's status, answers, notes and self-evaluation score (every field is
    required; send what you read for what you do not change). ``version`` is the version you
    read: if someone saved the step since, nothing is saved and the answer is a 409 whose
    ``detail`` says who saved it and when, with the step as it is now in ``current``.
    Project members (partners included), the team's supervisors and administrators only
    (404 for others)."""
    user = casework_user(request)
    project = access_project(user, project_id, write=True)
    step = _step(project, number)
    prompts = project.template.parsed.step(step.number).prompts
    allowed = {str(i) for i in range(len(prompts))}
    unknown = sorted(set(data.answers) - allowed)
    if unknown:
        raise HttpError(
            400,
            f"answers: step {step.number} has no prompt {', '.join(unknown)} "
            f"(prompts are numbered 0 to {len(prompts) - 1})",
        )
    try:
        actions.do_update_step(
            user,
            step,
            version=data.version,
            status=data.status,
            answers={k: v.strip() for k, v in data.answers.items()},
            notes=data.notes,
            self_score=data.self_score,
        )
    except actions.ConflictError as exc:
        current = _step_detail(user, project, _step(project, number))
        return with_status(409, {"detail": str(exc), "current": current})
    except actions.ProjectError as exc:
        raise refused(exc) from None
    return _step_detail(user, project, _step(project, number))


# --- assets, stakeholders, relationships, network ----------------------------------------


@router.get(
    "/{project_id}/assets",
    response={200: list[AssetOut], **READ_ERRORS},
    summary="Community assets",
    url_name="list_assets",
)
def list_assets(request: HttpRequest, project_id: int):
    """The project's community assets (step 2). ``contact`` and ``consent_recorded`` are
    given to project members only; for anyone else they are null."""
    user = casework_user(request)
    project = access_project(user, project_id)
    member = is_member(user, project)
    return [_asset(a, member) for a in project.assets.all()]


@router.post(
    "/{project_id}/assets",
    response={201: AssetOut, **WRITE_ERRORS},
    summary="Add a community asset",
    url_name="add_asset",
)
def add_asset(request: HttpRequest, project_id: int, data: AssetIn):
    """Record a community asset. Contact details need ``consent_recorded`` (how and when
    consent was given). A point needs both ``longitude`` and ``latitude``, in the UK."""
    user = casework_user(request)
    project = access_project(user, project_id, write=True)
    try:
        asset = actions.do_add_asset(
            user,
            project,
            name=data.name.strip(),
            category=data.category,
            description=data.description.strip(),
            longitude=data.longitude,
            latitude=data.latitude,
            highly_capable=data.highly_capable,
            highly_connected=data.highly_connected,
            contact=data.contact.strip(),
            consent_to_share=data.consent_to_share,
            consent_recorded=data.consent_recorded.strip(),
        )
    except actions.ProjectError as exc:
        raise refused(exc) from None
    return with_status(201, _asset(asset, is_member(user, project)))


@router.get(
    "/{project_id}/stakeholders",
    response={200: list[StakeholderOut], **READ_ERRORS},
    summary="Stakeholders",
    url_name="list_stakeholders",
)
def list_stakeholders(request: HttpRequest, project_id: int):
    """The people and organisations who share the problem (step 3). ``contact`` and
    ``consent_recorded`` are given to project members only; for anyone else they are null."""
    user = casework_user(request)
    project = access_project(user, project_id)
    member = is_member(user, project)
    return [_stakeholder(s, member) for s in project.stakeholders.all()]


@router.post(
    "/{project_id}/stakeholders",
    response={201: StakeholderOut, **WRITE_ERRORS},
    summary="Add a stakeholder",
    url_name="add_stakeholder",
)
def add_stakeholder(request: HttpRequest, project_id: int, data: StakeholderIn):
    """Record a stakeholder. Contact details need ``consent_recorded``."""
    user = casework_user(request)
    project = access_project(user, project_id, write=True)
    try:
        person = actions.do_add_stakeholder(
            user,
            project,
            name=data.name.strip(),
            kind=data.kind,
            organisation=data.organisation.strip(),
            interests=data.interests.strip(),
            influence=data.influence,
            key_individual_network=data.key_individual_network,
            advisory_group=data.advisory_group,
            contact=data.contact.strip(),
            consent_recorded=data.consent_recorded.strip(),
        )
    except actions.ProjectError as exc:
        raise refused(exc) from None
    return with_status(201, _stakeholder(person, is_member(user, project)))


@router.get(
    "/{project_id}/relationships",
    response={200: list[RelationshipOut], **READ_ERRORS},
    summary="Relationships between stakeholders",
    url_name="list_relationships",
)
def list_relationships(request: HttpRequest, project_id: int):
    """Who knows whom among the stakeholders (direction is ignored in the measures)."""
    project = project_for(request, project_id)
    links = project.relationships.select_related("source", "target").order_by("id")
    return [_relationship(r) for r in links]


@router.post(
    "/{project_id}/relationships",
    response={201: RelationshipOut, **WRITE_ERRORS},
    summary="Relate two stakeholders",
    url_name="add_relationship",
)
def add_relationship(request: HttpRequest, project_id: int, data: RelationshipIn):
    """Join two of the project's stakeholders. Relating the same pair again keeps the first
    relationship and answers with it."""
    user = casework_user(request)
    project = access_project(user, project_id, write=True)
    people = {s.pk: s for s in project.stakeholders.filter(pk__in=[data.source_id, data.target_id])}
    for key in (data.source_id, data.target_id):
        if key not in people:
            raise HttpError(400, f"there is no stakeholder {key} in this project")
    try:
        link = actions.do_relate(
            user, project, people[data.source_id], people[data.target_id], data.kind
        )
    except actions.ProjectError as exc:
        raise refused(exc) from None
    return with_status(201, _relationship(link))


@router.get(
    "/{project_id}/network",
    response={200: list[NetworkRow], **READ_ERRORS},
    summary="Network measures",
    url_name="get_network",
)
def get_network(request: HttpRequest, project_id: int):
    """For each stakeholder: degree (direct ties), betweenness (normalised 0 to 1: how often
    they lie on the shortest path between two others), reach (others within two steps) and
    rank (1 = the most connected: by betweenness, then degree, then reach), most connected
    first."""
    project = project_for(request, project_id)
    people = list(project.stakeholders.all())
    edges = list(project.relationships.values_list("source_id", "target_id"))
    measures = network_measures([s.pk for s in people], edges)
    rows = [
        {
            "stakeholder_id": s.pk,
            "name": s.name,
            "degree": int(measures.loc[s.pk, "degree"]),
            "betweenness": float(measures.loc[s.pk, "betweenness"]),
            "reach": int(measures.loc[s.pk, "reach"]),
            "rank": int(measures.loc[s.pk, "rank"]),
        }
        for s in people
    ]
    return sorted(rows, key=lambda r: r["rank"])


# --- actions and escalations -------------------------------------------------------------


@router.get(
    "/{project_id}/actions",
    response={200: list[ActionOut], **READ_ERRORS},
    summary="Actions",
    url_name="list_actions",
)
def list_actions(request: HttpRequest, project_id: int):
    """The project's interventions (step 7), by due date."""
    project = project_for(request, project_id)
    return [_action(a) for a in project.actions.select_related("owner")]


@router.post(
    "/{project_id}/actions",
    response={201: ActionOut, **WRITE_ERRORS},
    summary="Add an action",
    url_name="add_action",
)
def add_action(request: HttpRequest, project_id: int, data: ActionIn):
    """Plan an intervention: who (``owner_id``, a project member), by when, and how success
    will be measured; ``measure_category`` (a police.uk category) lets the project page
    compute progress in the place."""
    user = casework_user(request)
    project = access_project(user, project_id, write=True)
    if data.measure_category and data.measure_category not in CATEGORIES:
        raise HttpError(400, f"measure_category {data.measure_category!r} is not a police.uk "
                        "category")  # fmt: skip
    try:
        action = actions.do_add_action(
            user,
            project,
            title=data.title.strip(),
            owner=_owner(project, data.owner_id),
            due=data.due,
            success_measure=data.success_measure.strip(),
            how_measured=data.how_measured.strip(),
            measure_category=data.measure_category,
        )
    except actions.ProjectError as exc:
        raise refused(exc) from None
    return with_status(201, _action(action))


@router.patch(
    "/{project_id}/actions/{action_id}",
    response={200: ActionOut, **WRITE_ERRORS},
    summary="Change an action",
    url_name="update_action",
)
def update_action(request: HttpRequest, project_id: int, action_id: int, data: ActionPatch):
    """Change the fields given: e.g. ``{"status": "done"}`` (planned, in_progress, done or
    dropped), a new ``due`` date or ``owner_id``. The same rules as adding apply."""
    project, action = _editable(request, project_id, "actions", action_id)
    return _action(_apply(request, project, action, data))


@router.delete(
    "/{project_id}/actions/{action_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Remove an action",
    url_name="remove_action",
)
def remove_action(request: HttpRequest, project_id: int, action_id: int):
    """Remove an action; the project's history keeps a copy."""
    return _remove(request, project_id, "actions", action_id)


@router.get(
    "/{project_id}/escalations",
    response={200: list[EscalationOut], **READ_ERRORS},
    summary="Escalations",
    url_name="list_escalations",
)
def list_escalations(request: HttpRequest, project_id: int):
    """Risks and blockers (step 8), open ones first."""
    project = project_for(request, project_id)
    return [_escalation(e) for e in project.escalations.select_related("owner")]


@router.post(
    "/{project_id}/escalations",
    response={201: EscalationOut, **WRITE_ERRORS},
    summary="Add an escalation",
    url_name="add_escalation",
)
def add_escalation(request: HttpRequest, project_id: int, data: EscalationIn):
    """Record a risk or blocker, who must be approached about it (``approach``), at which
    ``level`` (sergeant, inspector, partnership, senior), its owner and when it is due."""
    user = casework_user(request)
    project = access_project(user, project_id, write=True)
    try:
        escalation = actions.do_add_escalation(
            user,
            project,
            risk=data.risk.strip(),
            approach=data.approach.strip(),
            level=data.level,
            owner=_owner(project, data.owner_id),
            due=data.due,
        )
    except actions.ProjectError as exc:
        raise refused(exc) from None
    return with_status(201, _escalation(escalation))


@router.post(
    "/{project_id}/escalations/{escalation_id}/resolve",
    response={200: EscalationOut, **WRITE_ERRORS},
    summary="Resolve an escalation",
    url_name="resolve_escalation",
)
def resolve_escalation(request: HttpRequest, project_id: int, escalation_id: int, data: ResolveIn):
    """Mark an escalation resolved, recording its ``outcome`` (required)."""
    user = casework_user(request)
    project = access_project(user, project_id, write=True)
    escalation = (
        project.escalations.select_related("owner", "project").filter(pk=escalation_id).first()
    )
    if escalation is None:
        raise Http404("No such escalation")
    try:
        actions.do_resolve_escalation(user, escalation, data.outcome)
    except actions.ProjectError as exc:
        raise refused(exc) from None
    return _escalation(escalation)


@router.patch(
    "/{project_id}/escalations/{escalation_id}",
    response={200: EscalationOut, **WRITE_ERRORS},
    summary="Change an escalation",
    url_name="update_escalation",
)
def update_escalation(
    request: HttpRequest, project_id: int, escalation_id: int, data: EscalationPatch
):
    """Change the fields given. Setting ``status`` to resolved needs an ``outcome``."""
    project, escalation = _editable(request, project_id, "escalations", escalation_id)
    return _escalation(_apply(request, project, escalation, data))


@router.delete(
    "/{project_id}/escalations/{escalation_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Remove an escalation",
    url_name="remove_escalation",
)
def remove_escalation(request: HttpRequest, project_id: int, escalation_id: int):
    """Remove an escalation; the project's history keeps a copy."""
    return _remove(request, project_id, "escalations", escalation_id)


@router.patch(
    "/{project_id}/assets/{asset_id}",
    response={200: AssetOut, **WRITE_ERRORS},
    summary="Change a community asset",
    url_name="update_asset",
)
def update_asset(request: HttpRequest, project_id: int, asset_id: int, data: AssetPatch):
    """Change the fields given, under the rules for adding (contact details need
    ``consent_recorded``; a point needs both coordinates, in the UK)."""
    user = casework_user(request)
    project, asset = _editable(request, project_id, "assets", asset_id)
    return _asset(_apply(request, project, asset, data), is_member(user, project))


@router.delete(
    "/{project_id}/assets/{asset_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Remove a community asset",
    url_name="remove_asset",
)
def remove_asset(request: HttpRequest, project_id: int, asset_id: int):
    """Remove an asset; the project's history keeps a copy without contact details."""
    return _remove(request, project_id, "assets", asset_id)


@router.patch(
    "/{project_id}/stakeholders/{stakeholder_id}",
    response={200: StakeholderOut, **WRITE_ERRORS},
    summary="Change a stakeholder",
    url_name="update_stakeholder",
)
def update_stakeholder(
    request: HttpRequest, project_id: int, stakeholder_id: int, data: StakeholderPatch
):
    """Change the fields given, under the rules for adding."""
    user = casework_user(request)
    project, person = _editable(request, project_id, "stakeholders", stakeholder_id)
    return _stakeholder(_apply(request, project, person, data), is_member(user, project))


@router.delete(
    "/{project_id}/stakeholders/{stakeholder_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Remove a stakeholder",
    url_name="remove_stakeholder",
)
def remove_stakeholder(request: HttpRequest, project_id: int, stakeholder_id: int):
    """Remove a stakeholder and their relationships; the history keeps a copy without
    contact details."""
    return _remove(request, project_id, "stakeholders", stakeholder_id)


@router.patch(
    "/{project_id}/relationships/{relationship_id}",
    response={200: RelationshipOut, **WRITE_ERRORS},
    summary="Change how two stakeholders are connected",
    url_name="update_relationship",
)
def update_relationship(
    request: HttpRequest, project_id: int, relationship_id: int, data: RelationshipPatch
):
    """Say how the two stakeholders are connected (``kind``)."""
    project, link = _editable(request, project_id, "relationships", relationship_id)
    return _relationship(_apply(request, project, link, data))


@router.delete(
    "/{project_id}/relationships/{relationship_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Remove a relationship",
    url_name="remove_relationship",
)
def remove_relationship(request: HttpRequest, project_id: int, relationship_id: int):
    """Remove a tie between two stakeholders; the history keeps a copy."""
    return _remove(request, project_id, "relationships", relationship_id)


def _editable(request: HttpRequest, project_id: int, related: str, record_id: int):
    """The project (writable by this user, else 404) and one of its records (else 404)."""
    project = project_for(request, project_id, write=True)
    item = getattr(project, related).filter(pk=record_id).first()
    if item is None:
        raise Http404("No such record in this project")
    return project, item


def _apply(request: HttpRequest, project: Project, item, data: Schema):
    """Apply the fields a PATCH gave, through the same checks and audit as the pages."""
    changes = data.model_dump(exclude_unset=True)
    if "owner_id" in changes:
        changes["owner"] = _owner(project, changes.pop("owner_id"))
    none = sorted(k for k, v in changes.items() if v is None and k not in ("owner", "due"))
    if none and not all(k in ("longitude", "latitude") for k in none):
        raise HttpError(400, f"{', '.join(none)}: give a value, not null")
    changes = {k: v.strip() if isinstance(v, str) else v for k, v in changes.items()}
    try:
        actions.do_edit_record(casework_user(request), item, **changes)
    except actions.ProjectError as exc:
        raise refused(exc) from None
    return item


def _remove(request: HttpRequest, project_id: int, related: str, record_id: int):
    _project, item = _editable(request, project_id, related, record_id)
    actions.do_remove_record(casework_user(request), item)
    return with_status(204, None)


# --- reviews -----------------------------------------------------------------------------


@router.get(
    "/{project_id}/reviews",
    response={200: list[ReviewOut], **READ_ERRORS},
    summary="Supervisor reviews",
    url_name="list_reviews",
)
def list_reviews(request: HttpRequest, project_id: int):
    """Every review of the project, newest first (reviews are kept, never overwritten)."""
    project = project_for(request, project_id)
    return [_review(r) for r in project.reviews.select_related("reviewer")]


@router.post(
    "/{project_id}/reviews",
    response={201: ReviewOut, **WRITE_ERRORS},
    summary="Review a project",
    url_name="add_review",
)
def add_review(request: HttpRequest, project_id: int, data: ReviewIn):
    """Sign off (``decision=signed_off``) or return (``decision=returned``, with a
    ``comment`` saying what needs doing) the proforma, scoring steps against the rubric in
    ``step_feedback`` ({"1": {"score": 2, "comment": "..."}}; steps left out get no score).
    Supervisors and administrators only, and not the project's own lead (403)."""
    user = casework_user(request)
    project = access_project(user, project_id)
    if not user.has_role(*REVIEW_ROLES):
        raise HttpError(403, "Only supervisors and administrators review projects.")
    if not can_review(user, project):
        raise HttpError(403, "You lead this project: another supervisor must review it.")
    numbers = list(project.steps.order_by("number").values_list("number", flat=True))
    unknown = sorted(set(data.step_feedback) - set(numbers))
    if unknown:
        raise HttpError(
            400, f"step_feedback: the project has no step {', '.join(map(str, unknown))}"
        )
    feedback = {
        str(n): (
            {"score": data.step_feedback[n].score, "comment": data.step_feedback[n].comment}
            if n in data.step_feedback
            else {"score": None, "comment": ""}
        )
        for n in numbers
    }
    try:
        review = actions.do_review_project(
            user, project, decision=data.decision, comment=data.comment, step_feedback=feedback
        )
    except actions.ProjectError as exc:
        raise refused(exc) from None
    return with_status(201, _review(review))
