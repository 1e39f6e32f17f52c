"""The JSON API: typed with django-ninja, schema at /api/openapi.json.

Authentication: a personal token (``Authorization: Bearer pw_...``, from
``placewise create_api_token``) or the browser session. The same role rules as the pages.
"""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer

from placewise.accounts.models import STAFF_ROLES, ApiToken, User
from placewise.incidents.status import data_status
from placewise.lib.geojson import CONTENT_TYPE, feature_collection_text
from placewise.places import stats
from placewise.places.models import Area, AreaKind
from placewise.places.views import access_area


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        found = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_key(token))
        api_token = found.first()
        if api_token is None or not api_token.user.is_active:
            return None
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=timezone.now())
        request.user = api_token.user
        return api_token.user


class SessionAuth(APIKeyCookie):
    """The browser session; CSRF is checked for unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key):
        return request.user if request.user.is_authenticated else None


api = NinjaAPI(
    title="Placewise API",
    version="1",
    description="Areas, incident aggregates and data status. Token: `placewise create_api_token`.",
    auth=[TokenAuth(), SessionAuth()],
    openapi_url="/openapi.json",
    docs_url="/docs",
)


def require_staff(request: HttpRequest) -> None:
    user = request.user
    if not isinstance(user, User) or not user.has_role(*STAFF_ROLES):
        raise HttpError(403, "Your role does not give access to this data.")


class AreaOut(Schema):
    id: int
    kind: str
    code: str
    name: str
    vintage: str
    parent_id: int | None
    population: int | None
    imd_decile: int | None
    crime_decile: int | None


class CategoryCount(Schema):
    category: str
    incidents: int


class MonthCount(Schema):
    month: str
    incidents: int


class AggregateOut(Schema):
    area: AreaOut
    start: str
    end: str
    incidents: int
    asb: int
    harm: float
    harm_scheme: str
    population: int | None
    rate_per_1000: float | None
    by_category: list[CategoryCount]
    by_month: list[MonthCount]


class ForceMonth(Schema):
    force: str
    month: str
    count: int


class StatusOut(Schema):
    incidents: int
    by_force_month: list[ForceMonth]
    rejected_rows: int
    areas: dict[str, int]
    last_import: dict | None
    imports: int


@api.get("/areas", response=list[AreaOut], tags=["areas"])
def list_areas(
    request: HttpRequest,
    kind: str | None = None,
    limit: Annotated[int, Field(ge=1, le=5000)] = 1000,
    offset: Annotated[int, Field(ge=0)] = 0,
):
    """Areas, optionally of one kind (force, unit, neighbourhood, impact_area, lsoa, custom),
    a page at a time (``limit`` up to 5,000, from ``offset``)."""
    require_staff(request)
    qs = Area.objects.order_by("kind", "name")
    if kind:
        if kind not in AreaKind.values:
            raise HttpError(400, f"kind must be one of: {', '.join(AreaKind.values)}")
        qs = qs.filter(kind=kind)
    return list(qs[offset : offset + limit])


@api.get("/areas.geojson", tags=["areas"], response={200: dict})
def areas_geojson(request: HttpRequest, kind: str = "lsoa"):
    """Boundaries of every area of a kind as a GeoJSON FeatureCollection (WGS84)."""
    require_staff(request)
    if kind not in AreaKind.values:
        raise HttpError(400, f"kind must be one of: {', '.join(AreaKind.values)}")
    rows = (
        Area.objects.filter(kind=kind)
        .exclude(geometry="")
        .values_list("geometry", "id", "code", "name", "population", "imd_decile")
    )
    features = (
        (g, {"id": i, "code": c, "name": n, "population": p, "imd_decile": d})
        for g, i, c, n, p, d in rows
    )
    return HttpResponse(feature_collection_text(features), content_type=CONTENT_TYPE)


@api.get("/areas/{area_id}", response=AreaOut, tags=["areas"])
def get_area(request: HttpRequest, area_id: int):
    require_staff(request)
    return access_area(request.user, area_id)


@api.get("/areas/{area_id}/geojson", tags=["areas"], response={200: dict})
def area_geojson(request: HttpRequest, area_id: int):
    """One area's boundary as a GeoJSON FeatureCollection holding one Feature."""
    require_staff(request)
    area = access_area(request.user, area_id)
    props = {"id": area.pk, "kind": area.kind, "code": area.code, "name": area.name}
    text = feature_collection_text([(area.geometry, props)])
    return HttpResponse(text, content_type=CONTENT_TYPE)


@api.get("/incidents/aggregate", response=AggregateOut, tags=["incidents"])
def incidents_aggregate(
    request: HttpRequest, area_id: int, start: str | None = None, end: str | None = None
):
    """Incidents and harm in an area over months ``start``..``end`` (YYYY-MM, inclusive)."""
    require_staff(request)
    area = access_area(request.user, area_id)
    for label, value in (("start", start), ("end", end)):
        if value and stats.parse_month(value) is None:
            raise HttpError(400, f"{label} must be a month as YYYY-MM, not {value!r}")
    period = stats.default_period(start, end, stats.force_name_of(area))
    if period is None:
        raise HttpError(404, "No incident data has been imported yet.")
    fig = stats.figures(area, period, stats.default_scheme())
    return {
        "area": area,
        "start": f"{period.start:%Y-%m}",
        "end": f"{period.end:%Y-%m}",
        "incidents": fig.incidents,
        "asb": fig.asb,
        "harm": round(fig.harm, 3),
        "harm_scheme": fig.scheme_label,
        "population": fig.population,
        "rate_per_1000": fig.rate_per_1000,
        "by_category": [{"category": c, "incidents": n} for c, n in fig.by_category],
        "by_month": [
            {"month": f"{m:%Y-%m}", "incidents": sum(fig.by_month.get(m, {}).values())}
            for m in period.month_list()
        ],
    }


@api.get("/data-status", response=StatusOut, tags=["data"])
def get_data_status(request: HttpRequest):
    """What is loaded: incidents per force and month, rejected rows, areas by kind."""
    require_staff(request)
    return data_status()


# Projects (casework) under /api/projects; see placewise.api.projects.
from placewise.api import projects  # noqa: E402

api.add_router("/projects", projects.router, auth=[TokenAuth(), projects.ProjectSessionAuth()])
