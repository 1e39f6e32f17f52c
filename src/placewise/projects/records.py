"""Step records: community assets (step 2), stakeholders and their network (step 3)."""

from __future__ import annotations

import csv
import io
import json

from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from placewise.accounts.access import AuthedRequest
from placewise.analysis.networks import layout, network_measures
from placewise.lib.geojson import CONTENT_TYPE, feature_collection_text

from . import actions
from .access import access_project, can_edit
from .models import Asset, Stakeholder
from .views import casework_required

ASSET_COLUMNS = (
    "id",
    "name",
    "category",
    "description",
    "longitude",
    "latitude",
    "highly_capable",
    "highly_connected",
    "contact",
)


def _number(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise actions.ProjectError(f"{text!r} is not a number") from None


@casework_required
@require_http_methods(["POST"])
def asset_add(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = access_project(request.user, project_id, write=True)
    p = request.POST
    try:
        actions.do_add_asset(
            request.user,
            project,
            name=p.get("name", "").strip(),
            category=p.get("category"),
            description=p.get("description", "").strip(),
            longitude=_number(p.get("longitude")),
            latitude=_number(p.get("latitude")),
            highly_capable=bool(p.get("highly_capable")),
            highly_connected=bool(p.get("highly_connected")),
            contact=p.get("contact", "").strip(),
            consent_to_share=bool(p.get("consent_to_share")),
            consent_recorded=p.get("consent_recorded", "").strip(),
        )
    except actions.ProjectError as exc:
        messages.error(request, f"Asset not added: {exc}")
    return redirect(f"{project.get_absolute_url()}network/#assets")


def _asset_rows(project, member: bool) -> list[dict]:
    """Assets for export: contact details only for project members, and only where the
    person agreed to them being shared."""
    rows = []
    for a in project.assets.all():
        row = {c: getattr(a, c) for c in ASSET_COLUMNS}
        row["contact"] = a.contact if member and a.consent_to_share else ""
        rows.append(row)
    return rows


def _is_member(user, project) -> bool:
    return project.members.filter(user=user).exists()


def assets_csv_response(rows: list[dict], columns: tuple[str, ...], filename: str) -> HttpResponse:
    """Asset rows (contacts already left out where they may not go) as a CSV download."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def assets_geojson_response(rows: list[dict], filename: str) -> HttpResponse:
    """Asset rows as GeoJSON points; an asset with no location has a null geometry."""
    features = (
        (
            json.dumps({"type": "Point", "coordinates": [r["longitude"], r["latitude"]]})
            if r["longitude"] is not None
            else "",
            r,
        )
        for r in rows
    )
    response = HttpResponse(feature_collection_text(features), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@casework_required
def assets_csv(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = access_project(request.user, project_id)
    rows = _asset_rows(project, _is_member(request.user, project))
    return assets_csv_response(rows, ASSET_COLUMNS, f"project-{project.pk}-assets.csv")


@casework_required
def assets_geojson(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = access_project(request.user, project_id)
    rows = _asset_rows(project, _is_member(request.user, project))
    return assets_geojson_response(rows, f"project-{project.pk}-assets.geojson")


@casework_required
@require_http_methods(["POST"])
def stakeholder_add(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = access_project(request.user, project_id, write=True)
    p = request.POST
    try:
        actions.do_add_stakeholder(
            request.user,
            project,
            name=p.get("name", "").strip(),
            kind=p.get("kind", "person"),
            organisation=p.get("organisation", "").strip(),
            interests=p.get("interests", "").strip(),
            influence=int(p.get("influence") or 3),
            key_individual_network=bool(p.get("key_individual_network")),
            advisory_group=bool(p.get("advisory_group")),
            contact=p.get("contact", "").strip(),
            consent_recorded=p.get("consent_recorded", "").strip(),
        )
    except (actions.ProjectError, ValueError) as exc:
        messages.error(request, f"Stakeholder not added: {exc}")
    return redirect(f"{project.get_absolute_url()}network/")


@casework_required
@require_http_methods(["POST"])
def relationship_add(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = access_project(request.user, project_id, write=True)
    people = {str(s.pk): s for s in project.stakeholders.all()}
    source, target = (
        people.get(request.POST.get("source", "")),
        people.get(request.POST.get("target", "")),
    )
    if source is None or target is None:
        raise Http404("No such stakeholder")
    try:
        actions.do_relate(request.user, project, source, target, request.POST.get("kind", ""))
    except actions.ProjectError as exc:
        messages.error(request, f"Relationship not added: {exc}")
    return redirect(f"{project.get_absolute_url()}network/")


@casework_required
def network(request: AuthedRequest, project_id: int) -> HttpResponse:
    """Stakeholders, their network measures, a drawing of the network, and the assets."""
    project = access_project(request.user, project_id)
    people = list(project.stakeholders.all())
    links = list(project.relationships.select_related("source", "target"))
    edges = [(r.source_id, r.target_id) for r in links]
    measures, drawing = network_picture(project, people, edges)
    member = project.members.filter(user=request.user).exists()
    rows = sorted(((s, measures[s.pk]) for s in people), key=lambda pair: pair[1]["rank"])
    return render(
        request,
        "projects/network.html",
        {
            "project": project,
            "rows": rows,
            "links": links,
            "people": people,
            "drawing": mark_safe(drawing),  # noqa: S308 - numbers and escaped names only
            "show_contact": member,
            "can_edit": can_edit(request.user, project),
            "assets": project.assets.all(),
            "asset_categories": Asset.Category.choices,
            "kinds": Stakeholder.Kind.choices,
            "asset_shapes": [
                {
                    "name": f"{a.name} ({a.get_category_display()})",
                    "geometry": {"type": "Point", "coordinates": [a.longitude, a.latitude]},
                }
                for a in project.assets.all()
                if a.longitude is not None
            ],
        },
    )


def network_picture(project, people, edges) -> tuple[dict[int, dict], str]:
    """Each stakeholder's measures (degree, betweenness, reach, rank) and the drawing.

    Betweenness and the spring layout take a tenth of a second or more for a hundred
    people, so both are kept in the cache under the project's last activity: any change to
    the project (a new tie, a renamed person) makes a new key."""
    key = f"network:{project.pk}:{project.last_activity.timestamp()}:{len(people)}:{len(edges)}"
    found = cache.get(key)
    if found is not None:
        return found
    table = network_measures([s.pk for s in people], edges)
    measures = {
        int(pk): {
            "degree": int(row["degree"]),
            "betweenness": float(row["betweenness"]),
            "reach": int(row["reach"]),
            "rank": int(row["rank"]),
        }
        for pk, row in table.to_dict("index").items()
    }
    picture = (measures, str(_drawing(people, edges, table)))
    cache.set(key, picture, 24 * 3600)
    return picture


def _drawing(people, edges, measures, size: int = 520):
    """The network as SVG: circle size by degree, the most connected five labelled in bold."""
    if not people:
        return ""
    positions = layout([s.pk for s in people], edges, seed=0)
    scale = (size - 80) / 2

    def xy(pk):
        x, y = positions[pk]
        return size / 2 + x * scale, size / 2 + y * scale

    parts = [f'<svg viewBox="0 0 {size} {size}" role="img" aria-label="Stakeholder network">']
    for a, b in edges:
        (x1, y1), (x2, y2) = xy(a), xy(b)
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#9aa5b1"/>'
        )
    for s in people:
        x, y = xy(s.pk)
        degree, rank = int(measures.loc[s.pk, "degree"]), int(measures.loc[s.pk, "rank"])
        weight = "bold" if rank <= 5 else "normal"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{5 + 2 * degree}" fill="#1f5fa8" '
            f'opacity="0.8"><title>{escape(s.name)}: {degree} ties</title></circle>'
            f'<text x="{x + 8:.1f}" y="{y - 8:.1f}" font-size="11" '
            f'font-weight="{weight}">{escape(s.name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped names only
