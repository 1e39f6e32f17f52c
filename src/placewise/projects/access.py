"""Who may see and change a project. The same 404 for missing and forbidden."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from placewise.accounts.models import Role, User

from .models import Project

# Police roles read every project in the force; partners only those they are members of;
# residents none (casework is not public).
POLICE_READERS = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ANALYST, Role.ADMIN})


def visible_projects(user: User) -> QuerySet[Project]:
    projects = Project.objects.all()
    if not user.is_active:
        return projects.none()
    if user.has_role(*POLICE_READERS):
        return projects
    if user.has_role(Role.PARTNER):
        return projects.filter(members__user=user).distinct()
    return projects.none()


def can_edit(user: User, project: Project) -> bool:
    """Members (partners included), the team's supervisors, and administrators."""
    if user.has_role(Role.ADMIN):
        return True
    if project.members.filter(user=user).exists():
        return True
    return (
        user.has_role(Role.SUPERVISOR)
        and user.team_id is not None
        and (user.team_id == project.team_id)
    )


def can_review(user: User, project: Project) -> bool:
    return (
        user.has_role(Role.SUPERVISOR, Role.ADMIN)
        and not project.members.filter(user=user)
        .exclude(role="partner")
        .filter(role="lead")
        .exists()
    )


def access_project(user: User, project_id, write: bool = False) -> Project:
    try:
        project = (
            visible_projects(user)
            .select_related("area", "template", "team")
            .get(pk=int(project_id))
        )
    except (Project.DoesNotExist, ValueError, TypeError):
        raise Http404("No such project") from None
    if write and not can_edit(user, project):
        raise Http404("No such project")
    return project


def member_filter(user: User) -> Q:
    return Q(members__user=user)
