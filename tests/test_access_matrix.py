"""Every URL against every persona: a new page cannot ship open by accident.

A URL missing from EXPECTED fails the test, so each new page must state who may see it.
"""

from __future__ import annotations

import re

import pytest
from django.urls import get_resolver

from placewise.incidents.models import ImportRun
from placewise.places.models import Area
from placewise.screening.models import ScreeningRun

pytestmark = pytest.mark.django_db
ALL = ("officer", "supervisor", "analyst", "partner", "resident", "admin", None)
STAFF = {"officer", "supervisor", "analyst", "partner", "admin"}
DATA = {"analyst", "admin"}
AUDIT = {"supervisor", "analyst", "admin"}
SCREEN = {"supervisor", "analyst", "admin"}
POLICE = {"officer", "supervisor", "analyst", "admin"}
PUBLIC = set(ALL)

# name -> (who gets 200, what everyone else logged in gets, what an anonymous visitor gets)
EXPECTED = {
    "home": (STAFF, 403, 302),
    "login": (PUBLIC, None, 200),
    "logout": (set(), 405, 405),  # sign-out is POST only
    "health": (PUBLIC, None, 200),
    "audit_log": (AUDIT, 403, 302),
    "places:area_list": (STAFF, 403, 302),
    "places:define_area": (DATA, 403, 302),
    "places:map_geojson": (STAFF, 403, 302),
    "places:area_detail": (STAFF, 403, 302),
    "incidents:status": (STAFF, 403, 302),
    "incidents:import_upload": (DATA, 403, 302),
    "incidents:import_detail": (DATA, 403, 302),
    "incidents:import_rejections": (DATA, 403, 302),
    "incidents:harm_weights": (STAFF, 403, 302),
    "api-1:openapi-json": (PUBLIC, None, 200),  # the schema describes, it holds no data
    "api-1:openapi-view": (PUBLIC, None, 200),
    "api-1:list_areas": (STAFF, 403, 401),
    "api-1:areas_geojson": (STAFF, 403, 401),
    "api-1:get_area": (STAFF, 403, 401),
    "api-1:area_geojson": (STAFF, 403, 401),
    "api-1:incidents_aggregate": (STAFF, 403, 401),
    "api-1:get_data_status": (STAFF, 403, 401),
    "api-1:api-root": (set(), 404, 404),
    # The projects API: the matrix GETs each URL, so a name for a POST, PUT or PATCH on a
    # path that also has a GET is checked through that GET; PATCH/POST-only paths are 405.
    "api-1:list_projects": (STAFF, 403, 401),
    "api-1:open_project": (STAFF, 403, 401),
    "api-1:get_project": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:list_steps": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:get_step": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:update_step": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:list_assets": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:add_asset": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:list_stakeholders": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:add_stakeholder": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:list_relationships": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:add_relationship": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:get_network": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:list_actions": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:add_action": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:list_escalations": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:add_escalation": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:list_reviews": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:add_review": (POLICE, {"partner": 404, "resident": 403}, 401),
    "api-1:update_action": (set(), 405, 405),  # PATCH only
    "api-1:remove_action": (set(), 405, 405),  # the same path: PATCH and DELETE only
    "api-1:update_escalation": (set(), 405, 405),
    "api-1:remove_escalation": (set(), 405, 405),
    "api-1:update_asset": (set(), 405, 405),
    "api-1:remove_asset": (set(), 405, 405),
    "api-1:update_stakeholder": (set(), 405, 405),
    "api-1:remove_stakeholder": (set(), 405, 405),
    "api-1:update_relationship": (set(), 405, 405),
    "api-1:remove_relationship": (set(), 405, 405),
    "api-1:resolve_escalation": (set(), 405, 405),  # POST only
    "screening:screen": (SCREEN, 403, 302),
    "screening:backtest": (SCREEN, 403, 302),
    "screening:run_list": (STAFF, 403, 302),
    "screening:run_detail": (STAFF, 403, 302),
    "screening:run_csv": (STAFF, 403, 302),
    "screening:run_geojson": (STAFF, 403, 302),
    "screening:brief": (STAFF, 403, 302),
    "projects:list": (STAFF, 403, 302),
    "projects:new": (POLICE, 403, 302),
    "projects:area_assets": (STAFF, 403, 302),
    # A partner who is not a member gets the same 404 as for a project that does not exist.
    "projects:detail": (POLICE, {"partner": 404, "resident": 403}, 302),
    "projects:step": (POLICE, {"partner": 404, "resident": 403}, 302),
    "projects:history": (POLICE, {"partner": 404, "resident": 403}, 302),
    "projects:submit": (set(), {"resident": 403, "default": 405}, 302),  # POST only
    "projects:review": ({"supervisor", "admin"}, 403, 302),
    "projects:network": (POLICE, {"partner": 404, "resident": 403}, 302),
    "projects:report": (POLICE, {"partner": 404, "resident": 403}, 302),
    "projects:report_pdf": (POLICE, {"partner": 404, "resident": 403}, 302),
    "projects:pictures": (POLICE, {"partner": 404, "resident": 403}, 302),
    "projects:meetings": (POLICE, {"partner": 404, "resident": 403}, 302),
    "projects:attach": (set(), {"resident": 403, "default": 405}, 302),
    "projects:attachment": (set(), {"resident": 403, "default": 404}, 302),  # none exists
    "projects:assets_csv": (POLICE, {"partner": 404, "resident": 403}, 302),
    "projects:assets_geojson": (POLICE, {"partner": 404, "resident": 403}, 302),
    "projects:asset_add": (set(), {"resident": 403, "default": 405}, 302),
    "projects:stakeholder_add": (set(), {"resident": 403, "default": 405}, 302),
    "projects:relationship_add": (set(), {"resident": 403, "default": 405}, 302),
    "projects:action_add": (set(), {"resident": 403, "default": 405}, 302),
    "projects:action_update": (set(), {"resident": 403, "default": 405}, 302),
    "projects:escalation_add": (set(), {"resident": 403, "default": 405}, 302),
    "projects:escalation_resolve": (set(), {"resident": 403, "default": 405}, 302),
    # Changing a record: its project's members, the team's supervisors and administrators
    # (nobody in the cast is a member of the matrix project, nor on its team).
    "projects:record_edit": ({"admin"}, {"resident": 403, "default": 404}, 302),
    "projects:record_remove": ({"admin"}, {"resident": 403, "default": 404}, 302),
}


def all_routes():
    routes = []

    def walk(patterns, prefix="", ns=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                if (p.namespace or "") == "admin":
                    continue  # Django admin has its own is_staff check, tested below
                inner = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
                walk(p.url_patterns, prefix + str(p.pattern), inner)
            else:
                routes.append((f"{ns}:{p.name}" if ns else p.name, prefix + str(p.pattern)))

    walk(get_resolver().url_patterns)
    return routes


def test_every_route_has_an_expectation():
    missing = [name for name, _ in all_routes() if name not in EXPECTED]
    assert not missing, f"add these URLs to the access matrix: {missing}"


def fill(route: str, ids: dict[str, int]) -> str:
    path = "/" + route.lstrip("^").rstrip("$")
    path = re.sub(r"<(?:int:|str:|slug:)?(\w+)>", lambda m: str(ids[m.group(1)]), path)
    extra = {
        "/api/incidents/aggregate": f"?area_id={ids['area_id']}",
        "/projects/new/": f"?area={ids['area_id']}",
    }
    return path + extra.get(path, "")


def open_test_project(area):
    from placewise.accounts.models import User
    from placewise.projects.actions import do_open_project
    from placewise.projects.models import ProcessTemplate

    lead = User.objects.create_user("matrix_lead", role="officer")
    return do_open_project(
        lead,
        area=area,
        title="Matrix",
        purpose="Access checks",
        template=ProcessTemplate.objects.get(is_default=True),
    )


def test_access_matrix(client_for):
    lsoa = Area.objects.filter(kind="lsoa").first()
    row = {"code": lsoa.code, "name": lsoa.name, "rank": 1, "score": 1.0, "hotspot": False}
    saved = ScreeningRun.objects.create(
        level="lsoa",
        start="2021-10-01",
        end="2021-11-01",
        scope="test",
        harm_scheme="x",
        neighbours="queen",
        rows=[row],
        place_count=1,
    )
    project = open_test_project(lsoa)
    from placewise.projects.actions import do_add_action

    action = do_add_action(project.members.get().user, project, title="Matrix action")
    ids = {
        "area_id": lsoa.pk,
        "run_id": ImportRun.objects.first().pk,
        "screening_id": saved.pk,
        "code": lsoa.code,
        "project_id": project.pk,
        "number": 1,
        "action_id": 1,
        "escalation_id": 1,
        "attachment_id": 1,
        "kind": "action",
        "record_id": action.pk,
        "asset_id": 1,
        "stakeholder_id": 1,
        "relationship_id": 1,
    }
    failures = []
    for name, route in all_routes():
        allowed, other, anonymous = EXPECTED[name]
        url = fill(route, ids)
        for persona in ALL:
            if persona in allowed:
                expected = 200
            elif persona is None:
                expected = anonymous
            elif isinstance(other, dict):
                expected = other.get(persona, other.get("default", 403))
            else:
                expected = other
            response = client_for(persona).get(url)
            if response.status_code != expected:
                failures.append(f"{url} as {persona}: {response.status_code}, expected {expected}")
            if expected == 302 and "/login/" not in response.get("Location", ""):
                failures.append(f"{url} as {persona}: redirected to {response.get('Location')}")
    assert not failures, "\n".join(failures)


def test_admin_site_only_for_django_staff(client_for, personas):
    for persona in ALL:
        response = client_for(persona).get("/admin/")
        assert response.status_code == 302, persona
    personas["admin"].is_staff = True
    personas["admin"].save()
    assert client_for("admin").get("/admin/").status_code == 200


def test_inactive_user_is_refused(client_for, personas):
    personas["analyst"].is_active = False
    personas["analyst"].save()
    assert client_for("analyst").get("/").status_code in (302, 403)
