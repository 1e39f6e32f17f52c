from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from placewise.accounts.access import AuthedRequest, role_required, staff_required
from placewise.accounts.models import AuditEntry, Role
from placewise.incidents.models import POLICE_UK_CATEGORIES
from placewise.places.models import Area, AreaKind
from placewise.places.stats import (
    default_period,
    default_scheme,
    force_name_of,
    freshness,
    home_force,
    map_lsoas,
)
from placewise.projects.access import visible_projects
from placewise.projects.models import Action, Escalation, Project, Review


@staff_required
def home(request: AuthedRequest) -> HttpResponse:
    force = home_force()
    period = default_period(request.GET.get("from"), request.GET.get("to"), force_name_of(force))
    measure = "harm" if request.GET.get("measure") == "harm" else "incidents"
    category = request.GET.get("category", "")
    if category not in POLICE_UK_CATEGORIES:
        category = ""
    geojson_url = ""
    if period:
        geojson_url = reverse("places:map_geojson") + (
            f"?from={period.start:%Y-%m}&to={period.end:%Y-%m}&measure={measure}&category={category}"
        )
    forces = Area.objects.filter(kind=AreaKind.FORCE)
    units = Area.objects.filter(kind=AreaKind.UNIT).prefetch_related(
        Prefetch(
            "children",
            Area.objects.filter(kind=AreaKind.NEIGHBOURHOOD).only("id", "name", "parent_id"),
        )
    )
    others = Area.objects.filter(kind__in=[AreaKind.IMPACT_AREA, AreaKind.CUSTOM])
    scheme = default_scheme()
    mine = Project.objects.filter(members__user=request.user).select_related("area")
    overdue, escalations = _attention(request.user)
    feedback = Review.objects.filter(project__members__user=request.user).select_related(
        "project", "reviewer"
    )[:5]
    return render(
        request,
        "core/home.html",
        {
            "period": period,
            "measure": measure,
            "category": category,
            "categories": POLICE_UK_CATEGORIES,
            "geojson_url": geojson_url,
            "fresh": freshness(),
            "forces": forces,
            "units": units,
            "others": others,
            "scheme": scheme,
            "force": force,
            "my_projects": mine.order_by("-last_activity")[:8],
            "feedback": feedback,
            "overdue": overdue,
            "open_escalations": escalations,
            "lsoa_count": map_lsoas(force).count(),
        },
    )


def _attention(user):
    """Overdue actions and open escalations a user owns, or, for a supervisor, their team's."""
    today = timezone.localdate()
    projects = visible_projects(user)
    mine = Q(owner=user)
    if user.has_role(Role.SUPERVISOR) and user.team_id:
        mine |= Q(project__team_id=user.team_id)
    overdue = Action.objects.filter(
        mine, project__in=projects, status__in=Action.OPEN, due__lt=today
    ).select_related("project", "owner")[:20]
    escalations = Escalation.objects.filter(
        mine, project__in=projects, status=Escalation.Status.OPEN
    ).select_related("project", "owner")[:20]
    return overdue, escalations


class ThrottledLoginView(auth_views.LoginView):
    """Refuses further attempts for a while after repeated failures for a name or address."""

    def _limits(self) -> dict[str, int]:
        # Per account, and per address with more room: behind a proxy or a force's network
        # address translation many officers share one address.
        ip = self.request.META.get("REMOTE_ADDR", "")
        name = self.request.POST.get("username", "").lower()[:150]
        limit = settings.LOGIN_FAILURE_LIMIT
        return {f"login-fail:user:{name}": limit, f"login-fail:ip:{ip}": limit * 10}

    def _keys(self) -> list[str]:
        return list(self._limits())

    def post(self, request, *args, **kwargs):
        if any(cache.get(k, 0) >= limit for k, limit in self._limits().items()):
            minutes = max(1, round(settings.LOGIN_LOCKOUT_SECONDS / 60))
            wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
            messages.error(request, f"Too many failed sign-ins. Wait {wait} and try again.")
            return self.get(request, *args, **kwargs)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        for key in self._keys():
            cache.set(key, cache.get(key, 0) + 1, settings.LOGIN_LOCKOUT_SECONDS)
        return super().form_invalid(form)

    def form_valid(self, form):
        cache.delete_many(self._keys())
        return super().form_valid(form)


@role_required(Role.ADMIN, Role.SUPERVISOR, Role.ANALYST)
def audit_log(request: AuthedRequest) -> HttpResponse:
    entries = AuditEntry.objects.select_related("actor")
    if request.GET.get("type"):
        entries = entries.filter(object_type=request.GET["type"])
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit.html", {"page": page})


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
