"""Changing projects. Each action writes, records the audit entry, and is all-or-nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from placewise.accounts.audit import record, snapshot
from placewise.accounts.models import Team, User
from placewise.lib.policeuk import POLICE_UK_CATEGORIES
from placewise.lib.process_templates import DEFAULT_TEMPLATE, load_bundled
from placewise.places.models import Area

from .models import (
    Action,
    Asset,
    Escalation,
    ProcessTemplate,
    Project,
    ProjectMember,
    ProjectStep,
    Relationship,
    Review,
    Stakeholder,
)


class ProjectError(ValueError):
    """A change that cannot be made as asked, with what to change."""


class ConflictError(ProjectError):
    """Someone else saved the same step first; nothing was overwritten."""


def do_seed_process_templates() -> None:
    """Load the bundled templates (LISP 8-step is the default); existing ones are kept."""
    for slug, template in load_bundled().items():
        ProcessTemplate.objects.get_or_create(
            slug=slug,
            defaults={
                "name": template.name,
                "definition": template.as_dict(),
                "is_default": slug == DEFAULT_TEMPLATE,
            },
        )


def do_open_project(
    actor: User,
    *,
    area: Area,
    title: str,
    purpose: str,
    template: ProcessTemplate,
    team: Team | None = None,
    start_date: dt.date | None = None,
    plan_weeks: int = 40,
    screening_run=None,
    evidence: dict | None = None,
    is_demo: bool = False,
) -> Project:
    if not title.strip() or not purpose.strip():
        raise ProjectError("a project needs a title and a purpose")
    if not 1 <= plan_weeks <= 156:
        raise ProjectError(f"plan length {plan_weeks} weeks: give 1 to 156 weeks")
    with transaction.atomic():
        project = Project.objects.create(
            title=title.strip(),
            area=area,
            purpose=purpose.strip(),
            template=template,
            team=team or actor.team,
            start_date=start_date or timezone.localdate(),
            plan_weeks=plan_weeks,
            screening_run=screening_run,
            evidence=evidence or {},
            created_by=actor if actor.pk else None,
            is_demo=is_demo,
        )
        ProjectStep.objects.bulk_create(
            ProjectStep(project=project, number=s.number, key=s.key, title=s.title)
            for s in template.parsed.steps
        )
        if actor.pk:
            ProjectMember.objects.create(project=project, user=actor, role="lead")
        record(actor, "open_project", project, after=snapshot(project))
    return project


def do_add_member(actor: User, project: Project, user: User, role: str) -> ProjectMember:
    if role not in ProjectMember.Role.values:
        raise ProjectError(f"role {role!r} is not one of {', '.join(ProjectMember.Role.values)}")
    with transaction.atomic():
        member, _ = ProjectMember.objects.update_or_create(
            project=project, user=user, defaults={"role": role}
        )
        _touch(project)
        record(actor, "add_project_member", project, after={"user": user.username, "role": role})
    return member


def do_update_step(
    actor: User,
    step: ProjectStep,
    *,
    version: int,
    status: str,
    answers: dict[str, str],
    notes: str,
    self_score: int | None,
) -> ProjectStep:
    """Save a step if nobody saved it since ``version`` was read; otherwise refuse."""
    if status not in ProjectStep.Status.values:
        raise ProjectError(
            f"status {status!r} is not one of {', '.join(ProjectStep.Status.values)}"
        )
    if self_score is not None and (type(self_score) is not int or self_score not in range(1, 6)):
        raise ProjectError("the self-evaluation score is 1 to 5, or blank")
    before = snapshot(step)
    with transaction.atomic():
        changed = ProjectStep.objects.filter(pk=step.pk, version=version).update(
            status=status,
            answers=answers,
            notes=notes,
            self_score=self_score,
            version=F("version") + 1,
            updated_by=actor,
            updated_at=timezone.now(),
        )
        if not changed:
            latest = ProjectStep.objects.select_related("updated_by").get(pk=step.pk)
            who = latest.updated_by.get_username() if latest.updated_by else "someone"
            raise ConflictError(
                f"{who} saved step {step.number} at "
                f"{timezone.localtime(latest.updated_at):%H:%M on %d %b %Y} "
                "while you were editing it. Your changes were not saved: copy them, reload the "
                "step and apply them again."
            )
        step.refresh_from_db()
        _touch(step.project)
        record(actor, "update_step", step, before=before, after=snapshot(step))
    return step


def do_submit_for_review(actor: User, project: Project) -> None:
    with transaction.atomic():
        project.review_status = Project.Review.SUBMITTED
        project.save(update_fields=["review_status"])
        _touch(project)
        record(actor, "submit_for_review", project, after={"dose": project.dose().mean})


def do_review_project(
    actor: User, project: Project, *, decision: str, comment: str, step_feedback: dict
) -> Review:
    """A supervisor scores the proforma against the rubric, comments per step, and signs off
    or returns it. Every review is kept."""
    if decision not in Review.Decision.values:
        raise ProjectError(
            f"decision {decision!r} is not one of {', '.join(Review.Decision.values)}"
        )
    if decision == Review.Decision.RETURNED and not comment.strip():
        raise ProjectError("say what needs doing when returning a proforma")
    if not all(isinstance(f, dict) for f in step_feedback.values()):
        raise ProjectError("step feedback is a score and a comment for each step")
    scores = [f.get("score") for f in step_feedback.values() if f.get("score") is not None]
    if any(type(s) is not int or s not in range(1, 6) for s in scores):
        raise ProjectError("review scores are 1 to 5, or blank")
    with transaction.atomic():
        review = Review.objects.create(
            project=project,
            reviewer=actor,
            decision=decision,
            comment=comment.strip(),
            step_feedback=json.loads(json.dumps(step_feedback)),
            team_dose=project.dose().mean,
            reviewer_dose=sum(scores) / len(scores) if scores else None,
        )
        project.review_status = decision
        project.save(update_fields=["review_status"])
        _touch(project)
        record(
            actor,
            "review_project",
            project,
            after={
                "decision": decision,
                "comment": review.comment,
                "reviewer_dose": review.reviewer_dose,
            },
        )
    return review


def _touch(project: Project) -> None:
    Project.objects.filter(pk=project.pk).update(last_activity=timezone.now())


def _check_owner(project: Project, owner: User | None) -> None:
    """Owners are project members (partners included): someone outside cannot be given work."""
    if owner is None:
        return
    if not project.members.filter(user=owner).exists():
        raise ProjectError(f"{owner.get_username()} is not a member of this project")


def check_action(project: Project, fields: dict) -> None:
    if not str(fields.get("title", "")).strip():
        raise ProjectError("an action needs a title")
    if fields.get("status", Action.Status.PLANNED) not in Action.Status.values:
        raise ProjectError(f"status must be one of {', '.join(Action.Status.values)}")
    category = fields.get("measure_category") or ""
    if category and category not in POLICE_UK_CATEGORIES:
        raise ProjectError(f"data measure {category!r} is not a police.uk category")
    _check_owner(project, fields.get("owner"))


def do_add_action(actor: User, project: Project, **fields) -> Action:
    check_action(project, fields)
    with transaction.atomic():
        action = Action.objects.create(project=project, **fields)
        _touch(project)
        record(actor, "add_action", action, after=snapshot(action))
    return action


def check_escalation(project: Project, fields: dict) -> None:
    if not str(fields.get("risk", "")).strip():
        raise ProjectError("say what the risk or blocker is")
    if fields.get("level") not in Escalation.Level.values:
        raise ProjectError(f"level must be one of {', '.join(Escalation.Level.values)}")
    if fields.get("status", Escalation.Status.OPEN) not in Escalation.Status.values:
        raise ProjectError(f"status must be one of {', '.join(Escalation.Status.values)}")
    if (
        fields.get("status") == Escalation.Status.RESOLVED
        and not str(fields.get("outcome", "")).strip()
    ):
        raise ProjectError("record the outcome of a resolved escalation")
    _check_owner(project, fields.get("owner"))


def do_add_escalation(actor: User, project: Project, **fields) -> Escalation:
    check_escalation(project, fields)
    with transaction.atomic():
        escalation = Escalation.objects.create(project=project, **fields)
        _touch(project)
        record(actor, "add_escalation", escalation, after=snapshot(escalation))
    return escalation


def do_resolve_escalation(actor: User, escalation: Escalation, outcome: str) -> Escalation:
    if not outcome.strip():
        raise ProjectError("record the outcome when resolving an escalation")
    if escalation.status == Escalation.Status.RESOLVED:
        raise ProjectError("this escalation is already resolved; its outcome is kept")
    before = snapshot(escalation)
    with transaction.atomic():
        escalation.status, escalation.outcome = Escalation.Status.RESOLVED, outcome.strip()
        escalation.save()
        _touch(escalation.project)
        record(actor, "resolve_escalation", escalation, before=before, after=snapshot(escalation))
    return escalation


UK_BOUNDS = (-11.0, 49.0, 3.0, 61.5)


def _check_point(longitude, latitude) -> None:
    if longitude is None and latitude is None:
        return
    if longitude is None or latitude is None:
        raise ProjectError("give both longitude and latitude, or neither")
    west, south, east, north = UK_BOUNDS
    if not (west <= longitude <= east and south <= latitude <= north):
        raise ProjectError(f"{longitude}, {latitude} is not a point in the United Kingdom")


def _check_consent(fields: dict) -> None:
    if fields.get("contact") and not fields.get("consent_recorded"):
        raise ProjectError("record how consent was given before keeping contact details")


def check_asset(project: Project, fields: dict) -> None:
    if not str(fields.get("name", "")).strip():
        raise ProjectError("an asset needs a name")
    if fields.get("category") not in Asset.Category.values:
        raise ProjectError(f"category must be one of {', '.join(Asset.Category.values)}")
    _check_point(fields.get("longitude"), fields.get("latitude"))
    _check_consent(fields)


def do_add_asset(actor: User, project: Project, **fields) -> Asset:
    check_asset(project, fields)
    with transaction.atomic():
        asset = Asset.objects.create(project=project, **fields)
        _touch(project)
        # Contact details stay out of the audit copy: the trail is not a second store of them.
        record(actor, "add_asset", asset, after=snapshot(asset, exclude=("contact",)))
    return asset


def check_stakeholder(project: Project, fields: dict) -> None:
    if not str(fields.get("name", "")).strip():
        raise ProjectError("a stakeholder needs a name")
    if fields.get("kind", Stakeholder.Kind.PERSON) not in Stakeholder.Kind.values:
        raise ProjectError(f"kind must be one of {', '.join(Stakeholder.Kind.values)}")
    if fields.get("influence") not in (1, 2, 3, 4, 5):
        raise ProjectError("influence is 1 (little) to 5 (a lot)")
    _check_consent(fields)


def do_add_stakeholder(actor: User, project: Project, **fields) -> Stakeholder:
    check_stakeholder(project, fields)
    with transaction.atomic():
        person = Stakeholder.objects.create(project=project, **fields)
        _touch(project)
        record(actor, "add_stakeholder", person, after=snapshot(person, exclude=("contact",)))
    return person


def do_relate(actor: User, project: Project, source: Stakeholder, target: Stakeholder, kind: str):
    if source.pk == target.pk:
        raise ProjectError("a relationship joins two different stakeholders")
    if source.project_id != project.pk or target.project_id != project.pk:
        raise ProjectError("both stakeholders must belong to this project")
    reverse = Relationship.objects.filter(source=target, target=source).first()
    if reverse is not None:
        return reverse  # ties are two-way: B-A is the same relationship as A-B
    with transaction.atomic():
        link, _ = Relationship.objects.get_or_create(
            project=project, source=source, target=target, defaults={"kind": kind.strip()}
        )
        _touch(project)
        record(
            actor,
            "relate_stakeholders",
            project,
            after={"source": source.name, "target": target.name, "kind": kind},
        )
    return link


def check_relationship(project: Project, fields: dict) -> None:
    if len(str(fields.get("kind", ""))) > 100:
        raise ProjectError("say how they are connected in 100 characters or fewer")


# Fields that hold personal data: kept out of the audit trail's copies of a record.
PERSONAL = ("contact",)
CHECKS: dict[type, Any] = {
    Action: check_action,
    Escalation: check_escalation,
    Asset: check_asset,
    Stakeholder: check_stakeholder,
    Relationship: check_relationship,
}


def register_check(model: type, check) -> None:
    """Records defined elsewhere (rich pictures, meetings) bring their own rules."""
    CHECKS[model] = check


def do_edit_record(actor: User, item, **changes):
    """Change a record of a project (an action, asset, stakeholder, ...) under the same rules
    as adding one; the audit trail keeps what it was and what it became."""
    project = item.project
    current = {f.name: getattr(item, f.name) for f in item._meta.concrete_fields}
    unknown = set(changes) - set(current) - {"attendees"}
    if unknown or {"id", "project"} & set(changes):
        raise ProjectError(f"these cannot be changed: {', '.join(sorted(unknown or changes))}")
    check = CHECKS.get(type(item))
    if check is not None:
        check(project, {**current, **changes})
    before = snapshot(item, exclude=PERSONAL)
    with transaction.atomic():
        attendees = changes.pop("attendees", None)
        for key, value in changes.items():
            setattr(item, key, value)
        item.save()
        if attendees is not None:
            item.attendees.set(attendees)
        _touch(project)
        record(
            actor,
            f"edit_{item._meta.model_name}",
            item,
            before=before,
            after=snapshot(item, exclude=PERSONAL),
        )
    return item


def do_remove_record(actor: User, item) -> None:
    """Remove a record of a project. The audit trail keeps a copy (personal data left out);
    removing a stakeholder removes their relationships too."""
    project = item.project
    before = snapshot(item, exclude=PERSONAL)
    with transaction.atomic():
        record(actor, f"remove_{item._meta.model_name}", item, before=before)
        if isinstance(item, Stakeholder):
            links = Relationship.objects.filter(source=item) | Relationship.objects.filter(
                target=item
            )
            for link in links:
                record(actor, "remove_relationship", link, before=snapshot(link))
        stored = getattr(item, "file", None)
        item.delete()
        _touch(project)
        if stored:
            # The file goes only once the removal is committed.
            transaction.on_commit(lambda: stored.storage.delete(stored.name))
