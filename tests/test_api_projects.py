"""Projects in the JSON API: the same casework, rules and locking as the pages, by token."""

from __future__ import annotations

import pytest
from django.test import Client

from placewise.accounts.models import ApiToken, AuditEntry
from placewise.places.models import Area, AreaKind
from placewise.projects.models import Escalation, Project, ProjectMember, Review

pytestmark = pytest.mark.django_db
LSOA = "E01013600"


@pytest.fixture
def tokens(personas):
    return {name: ApiToken.issue(user, "test")[1] for name, user in personas.items()}


def call(method: str, url: str, token: str | None = None, body=None, client=None):
    """One request to the API with a bearer token (or none), JSON in and out."""
    client = client or Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if body is None:
        return getattr(client, method)(url, **headers)
    return getattr(client, method)(url, body, content_type="application/json", **headers)


def open_project(token: str, **extra):
    body = {
        "area_code": LSOA,
        "title": "Clock Tower IE",
        "purpose": "Reduce ASB and fear",
        "template": "lisp-8-step",
        "plan_weeks": 40,
        **extra,
    }
    response = call("post", "/api/projects", token, body)
    assert response.status_code == 201, response.content.decode()
    return response.json()


def step_body(version: int, **fields):
    return {
        "version": version,
        "status": "in_progress",
        "answers": {},
        "notes": "",
        "self_score": None,
        **fields,
    }


def project_urls(project_id: int) -> list[tuple[str, str, dict | None]]:
    """Every project URL with a request that would succeed for someone allowed to make it."""
    base = f"/api/projects/{project_id}"
    project = Project.objects.get(pk=project_id)
    stakeholders = list(project.stakeholders.values_list("pk", flat=True)[:2])
    action = project.actions.first()
    escalation = project.escalations.first()
    return [
        ("get", base, None),
        ("get", f"{base}/steps", None),
        ("get", f"{base}/steps/1", None),
        ("put", f"{base}/steps/1", step_body(1, notes="x")),
        ("get", f"{base}/assets", None),
        ("post", f"{base}/assets", {"name": "Hall", "category": "physical"}),
        ("get", f"{base}/stakeholders", None),
        ("post", f"{base}/stakeholders", {"name": "Dee"}),
        ("get", f"{base}/relationships", None),
        (
            "post",
            f"{base}/relationships",
            {"source_id": stakeholders[0], "target_id": stakeholders[1]},
        ),
        ("get", f"{base}/network", None),
        ("get", f"{base}/actions", None),
        ("post", f"{base}/actions", {"title": "Door-knock"}),
        ("patch", f"{base}/actions/{action.pk}", {"status": "done"}),
        ("get", f"{base}/escalations", None),
        ("post", f"{base}/escalations", {"risk": "Landlord will not engage"}),
        ("post", f"{base}/escalations/{escalation.pk}/resolve", {"outcome": "Met"}),
        ("get", f"{base}/reviews", None),
        ("post", f"{base}/reviews", {"decision": "signed_off"}),
    ]


@pytest.fixture
def full_project(tokens):
    """A project opened by the officer with two stakeholders, an action and an escalation."""
    project = open_project(tokens["officer"])
    base = f"/api/projects/{project['id']}"
    for name in ("Ann", "Bob"):
        assert (
            call("post", f"{base}/stakeholders", tokens["officer"], {"name": name}).status_code
            == 201
        )
    assert (
        call("post", f"{base}/actions", tokens["officer"], {"title": "Lighting"}).status_code == 201
    )
    assert (
        call("post", f"{base}/escalations", tokens["officer"], {"risk": "Cuts"}).status_code == 201
    )
    return project


def test_open_a_project_and_list_it(tokens, personas):
    project = open_project(tokens["officer"])
    lsoa = Area.objects.get(kind=AreaKind.LSOA, code=LSOA)
    assert project["area_id"] == lsoa.pk and project["area_name"] == lsoa.name
    assert project["template"] == "lisp-8-step" and project["status"] == "active"
    assert [s["number"] for s in project["steps"]] == list(range(1, 9))
    assert project["steps"][2]["title"] == "Stakeholders and networks"
    assert project["dose"] == {"mean": None, "scored": 0, "total": 8, "complete": False}
    assert project["members"] == [
        {"user_id": personas["officer"].pk, "username": "p_officer", "name": "", "role": "lead"}
    ]
    assert project["can_edit"] and not project["can_review"]
    assert project["team"] == "Test NPT" and project["plan_weeks"] == 40
    assert AuditEntry.objects.filter(action="open_project", object_id=str(project["id"])).exists()
    by_id = open_project(tokens["analyst"], area_code=None, area_id=lsoa.pk, template=None)
    assert by_id["template"] == "lisp-8-step"  # the default template

    mine = call("get", "/api/projects?scope=mine", tokens["officer"]).json()
    assert [p["id"] for p in mine] == [project["id"]]
    everything = call("get", "/api/projects", tokens["officer"]).json()
    assert {p["id"] for p in everything} == {project["id"], by_id["id"]}
    row = next(p for p in everything if p["id"] == project["id"])
    assert row["area_code"] == LSOA and row["review_status"] == "not_submitted"
    assert row["dose"]["total"] == 8 and row["last_activity"]
    assert call("get", "/api/projects?status=closed", tokens["officer"]).json() == []
    assert call("get", "/api/projects?status=open", tokens["officer"]).status_code == 422
    assert len(call("get", "/api/projects?limit=1", tokens["officer"]).json()) == 1
    got = call("get", f"/api/projects/{project['id']}", tokens["analyst"]).json()
    assert got["title"] == "Clock Tower IE" and not got["can_edit"]


def test_opening_is_for_police_roles_and_checks_input(tokens):
    refused = call("post", "/api/projects", tokens["partner"], {"title": "x", "purpose": "y"})
    assert refused.status_code == 403 and "police roles" in refused.json()["detail"]
    officer = tokens["officer"]
    base = {"area_code": LSOA, "title": "T", "purpose": "P"}
    for change, message in [
        ({"title": " "}, "a project needs a title and a purpose"),
        ({"plan_weeks": 500}, "give 1 to 156 weeks"),
        ({"template": "nope"}, "template must be one of: "),
        ({"area_code": "E99999999"}, "there is no area with code 'E99999999'"),
        ({"area_id": 1}, "give the area as area_id or area_code"),
        ({"area_code": None}, "give the area as area_id or area_code"),
        ({"area_kind": "planet"}, "area_kind must be one of"),
    ]:
        response = call("post", "/api/projects", officer, {**base, **change})
        assert response.status_code == 400, change
        assert message in response.json()["detail"], response.json()
    assert call("post", "/api/projects", officer, {"area_code": LSOA}).status_code == 422
    assert not Project.objects.exists()


def test_read_and_save_a_step_with_locking(tokens):
    project = open_project(tokens["officer"])
    url = f"/api/projects/{project['id']}/steps/1"
    step = call("get", url, tokens["officer"]).json()
    assert step["version"] == 1 and step["status"] == "not_started" and step["can_edit"]
    assert step["prompts"] and len(step["rubric"]) == 5 and step["answers"] == {}
    saved = call(
        "put",
        url,
        tokens["officer"],
        step_body(1, answers={"0": " Long-term data shows a rise "}, notes="mine", self_score=3),
    )
    assert saved.status_code == 200, saved.content
    saved = saved.json()
    assert saved["version"] == 2 and saved["answers"] == {"0": "Long-term data shows a rise"}
    assert saved["self_score"] == 3 and saved["updated_by"] == "p_officer"
    detail = call("get", f"/api/projects/{project['id']}", tokens["officer"]).json()
    assert detail["dose"]["mean"] == 3 and detail["dose"]["scored"] == 1
    steps = call("get", f"/api/projects/{project['id']}/steps", tokens["officer"]).json()
    assert steps[0]["version"] == 2 and steps[0]["status"] == "in_progress"

    # The team's supervisor saves from the version they read before the officer's save.
    clash = call("put", url, tokens["supervisor"], step_body(1, notes="theirs"))
    assert clash.status_code == 409
    body = clash.json()
    assert "p_officer saved step 1" in body["detail"]
    assert "Your changes were not saved" in body["detail"]
    assert body["current"]["version"] == 2 and body["current"]["notes"] == "mine"
    stored = Project.objects.get(pk=project["id"]).steps.get(number=1)
    assert (stored.notes, stored.version, stored.self_score) == ("mine", 2, 3)

    for bad, message in [
        ({"answers": {"99": "x"}}, "step 1 has no prompt 99"),
        ({"self_score": 7}, "score is 1 to 5"),
        ({"status": "finished"}, "status 'finished' is not one of"),
    ]:
        response = call("put", url, tokens["officer"], step_body(2, **bad))
        assert response.status_code == 400 and message in response.json()["detail"]
    incomplete = {"version": 2, "status": "done"}
    assert call("put", url, tokens["officer"], incomplete).status_code == 422
    assert call("put", url, tokens["officer"], step_body(2, self_score=True)).status_code == 422
    assert call("get", f"{url}9", tokens["officer"]).status_code == 404
    # A police reader outside the project may read the step but not change it.
    assert call("get", url, tokens["analyst"]).json()["can_edit"] is False
    assert call("put", url, tokens["analyst"], step_body(2)).status_code == 404
    assert Project.objects.get(pk=project["id"]).steps.get(number=1).version == 2


def test_assets_stakeholders_relationships_and_network(tokens):
    project = open_project(tokens["officer"])
    base, officer = f"/api/projects/{project['id']}", tokens["officer"]
    hall = call(
        "post",
        f"{base}/assets",
        officer,
        {
            "name": "St Martin's Hall",
            "category": "physical",
            "longitude": -1.135,
            "latitude": 52.634,
            "contact": "warden 0116 000",
            "consent_recorded": "verbal, 1 Nov",
            "highly_connected": True,
        },
    )
    assert hall.status_code == 201 and hall.json()["contact"] == "warden 0116 000"
    for bad, message in [
        ({"contact": "07000"}, "record how consent was given"),
        ({"category": "moon"}, "category must be one of"),
        ({"longitude": 10.0, "latitude": 10.0}, "not a point in the United Kingdom"),
    ]:
        response = call(
            "post", f"{base}/assets", officer, {"name": "X", "category": "physical", **bad}
        )
        assert response.status_code == 400 and message in response.json()["detail"]
    assets = call("get", f"{base}/assets", officer).json()
    assert [(a["name"], a["contact"], a["longitude"]) for a in assets] == [
        ("St Martin's Hall", "warden 0116 000", -1.135)
    ]
    outsider = call("get", f"{base}/assets", tokens["analyst"]).json()
    assert outsider[0]["contact"] is None and outsider[0]["consent_recorded"] is None

    ids = {}
    for name in ("Hub", "Ann", "Bob", "Cat"):
        body = {"name": name, "contact": f"{name}@example.org", "consent_recorded": "form"}
        response = call("post", f"{base}/stakeholders", officer, body)
        assert response.status_code == 201
        ids[name] = response.json()["id"]
    bad = call("post", f"{base}/stakeholders", officer, {"name": "Z", "influence": 9})
    assert bad.status_code == 400 and "influence is 1" in bad.json()["detail"]
    people = call("get", f"{base}/stakeholders", officer).json()
    assert {p["name"]: p["contact"] for p in people}["Hub"] == "Hub@example.org"
    hidden = call("get", f"{base}/stakeholders", tokens["analyst"]).json()
    assert {p["contact"] for p in hidden} == {None}
    assert "contact" not in AuditEntry.objects.filter(action="add_stakeholder").first().after

    for other in ("Ann", "Bob", "Cat"):
        body = {"source_id": ids["Hub"], "target_id": ids[other], "kind": "neighbours"}
        link = call("post", f"{base}/relationships", officer, body)
        assert link.status_code == 201 and link.json()["source_name"] == "Hub"
    same = call("post", f"{base}/relationships", officer, {"source_id": 1, "target_id": 1})
    assert same.status_code == 400
    self_link = {"source_id": ids["Ann"], "target_id": ids["Ann"]}
    refused = call("post", f"{base}/relationships", officer, self_link)
    assert "two different stakeholders" in refused.json()["detail"]
    links = call("get", f"{base}/relationships", tokens["analyst"]).json()
    assert {(r["source_name"], r["target_name"]) for r in links} == {
        ("Hub", "Ann"),
        ("Hub", "Bob"),
        ("Hub", "Cat"),
    }

    network = call("get", f"{base}/network", tokens["analyst"]).json()
    assert network[0] == {
        "stakeholder_id": ids["Hub"],
        "name": "Hub",
        "degree": 3,
        "betweenness": 1.0,
        "reach": 3,
        "rank": 1,
    }
    assert {r["name"]: (r["degree"], r["reach"]) for r in network[1:]} == {
        "Ann": (1, 3),
        "Bob": (1, 3),
        "Cat": (1, 3),
    }
    assert [r["rank"] for r in network] == [1, 2, 3, 4]


def test_actions_and_escalations(tokens, personas):
    project = open_project(tokens["officer"])
    base, officer = f"/api/projects/{project['id']}", tokens["officer"]
    me = personas["officer"].pk
    body = {
        "title": "Door-knock Hobill Close",
        "owner_id": me,
        "due": "2021-01-15",
        "success_measure": "Fewer ASB reports",
        "measure_category": "Anti-social behaviour",
    }
    action = call("post", f"{base}/actions", officer, body)
    assert action.status_code == 201
    action = action.json()
    assert action["owner"] == "p_officer" and action["overdue"] and action["status"] == "planned"
    for bad, message in [
        ({"title": ""}, "an action needs a title"),
        ({"owner_id": personas["analyst"].pk}, "is not a member of this project"),
        ({"measure_category": "Littering"}, "is not a police.uk category"),
    ]:
        response = call("post", f"{base}/actions", officer, {**body, **bad})
        assert response.status_code == 400 and message in response.json()["detail"]
    url = f"{base}/actions/{action['id']}"
    assert call("patch", url, officer, {"status": "never"}).status_code == 400
    done = call("patch", url, officer, {"status": "done"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert not done.json()["overdue"]
    assert [a["status"] for a in call("get", f"{base}/actions", officer).json()] == ["done"]
    assert call("patch", f"{base}/actions/999999", officer, {"status": "done"}).status_code == 404

    body = {"risk": "Landlord will not engage", "approach": "Council", "level": "partnership"}
    escalation = call("post", f"{base}/escalations", officer, body)
    assert escalation.status_code == 201 and escalation.json()["status"] == "open"
    level = call("post", f"{base}/escalations", officer, {**body, "level": "mayor"})
    assert level.status_code == 400 and "level must be one of" in level.json()["detail"]
    resolve = f"{base}/escalations/{escalation.json()['id']}/resolve"
    blank = call("post", resolve, officer, {"outcome": " "})
    assert blank.status_code == 400 and "record the outcome" in blank.json()["detail"]
    resolved = call("post", resolve, officer, {"outcome": "Met the landlord; CCTV agreed"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    listed = call("get", f"{base}/escalations", tokens["analyst"]).json()
    assert [(e["status"], e["outcome"]) for e in listed] == [
        ("resolved", "Met the landlord; CCTV agreed")
    ]
    assert Escalation.objects.get().outcome == "Met the landlord; CCTV agreed"
    assert AuditEntry.objects.filter(action="resolve_escalation").exists()
    # A police reader outside the project may read but not change.
    assert call("post", f"{base}/actions", tokens["analyst"], {"title": "x"}).status_code == 404
    # An action of another project is not found through this one.
    other = open_project(officer)
    assert call("patch", f"/api/projects/{other['id']}/actions/{action['id']}", officer,
                {"status": "planned"}).status_code == 404  # fmt: skip


def test_review_by_a_supervisor_and_refused_for_others(tokens):
    project = open_project(tokens["officer"])
    base = f"/api/projects/{project['id']}"
    call("put", f"{base}/steps/1", tokens["officer"], step_body(1, self_score=4))
    body = {
        "decision": "returned",
        "comment": "Step 1 needs long-term data.",
        "step_feedback": {"1": {"score": 2, "comment": "Use the screening run"}},
    }
    officer = call("post", f"{base}/reviews", tokens["officer"], body)
    assert officer.status_code == 403 and "supervisors" in officer.json()["detail"]
    assert call("post", f"{base}/reviews", tokens["partner"], body).status_code == 404
    no_comment = call("post", f"{base}/reviews", tokens["supervisor"], {"decision": "returned"})
    assert no_comment.status_code == 400 and "say what needs doing" in no_comment.json()["detail"]
    bad_step = {**body, "step_feedback": {"99": {"score": 2}}}
    assert call("post", f"{base}/reviews", tokens["supervisor"], bad_step).status_code == 400
    bad_score = {**body, "step_feedback": {"1": {"score": 9}}}
    assert call("post", f"{base}/reviews", tokens["supervisor"], bad_score).status_code == 400
    assert not Review.objects.exists()

    review = call("post", f"{base}/reviews", tokens["supervisor"], body)
    assert review.status_code == 201, review.content
    review = review.json()
    assert review["reviewer"] == "p_supervisor" and review["decision"] == "returned"
    assert review["reviewer_dose"] == 2 and review["team_dose"] == 4
    assert review["step_feedback"]["1"] == {"score": 2, "comment": "Use the screening run"}
    assert review["step_feedback"]["2"] == {"score": None, "comment": ""}
    assert Project.objects.get(pk=project["id"]).review_status == "returned"
    signed = call("post", f"{base}/reviews", tokens["admin"], {"decision": "signed_off"})
    assert signed.status_code == 201
    listed = call("get", f"{base}/reviews", tokens["officer"]).json()
    assert [r["decision"] for r in listed] == ["signed_off", "returned"]  # every review kept
    # A supervisor does not review a project they lead.
    own = open_project(tokens["supervisor"])
    refused = call("post", f"/api/projects/{own['id']}/reviews", tokens["supervisor"], body)
    assert refused.status_code == 403 and "another supervisor" in refused.json()["detail"]


def test_partner_sees_only_projects_they_are_a_member_of(tokens, personas, full_project):
    pid = full_project["id"]
    for method, url, body in project_urls(pid):
        response = call(method, url, tokens["partner"], body)
        assert response.status_code == 404, (method, url, response.status_code)
    assert call("get", "/api/projects", tokens["partner"]).json() == []
    assert call("get", "/api/projects/999999", tokens["officer"]).status_code == 404

    project = Project.objects.get(pk=pid)
    ProjectMember.objects.create(project=project, user=personas["partner"], role="partner")
    listed = call("get", "/api/projects", tokens["partner"]).json()
    assert [p["id"] for p in listed] == [pid]
    assert call("get", f"/api/projects/{pid}", tokens["partner"]).json()["can_edit"]
    url = f"/api/projects/{pid}/steps/2"
    saved = call("put", url, tokens["partner"], step_body(1, notes="Council view"))
    assert saved.status_code == 200 and saved.json()["updated_by"] == "p_partner"
    assert project.steps.get(number=2).notes == "Council view"
    people = call("get", f"/api/projects/{pid}/stakeholders", tokens["partner"])
    assert people.status_code == 200 and len(people.json()) == 2


def test_resident_is_forbidden_and_no_token_is_unauthorised(tokens, full_project):
    opening = {"area_code": LSOA, "title": "x", "purpose": "y"}
    urls = [("get", "/api/projects", None), ("post", "/api/projects", opening)]
    urls += project_urls(full_project["id"])
    for method, url, body in urls:
        resident = call(method, url, tokens["resident"], body)
        assert resident.status_code == 403, (method, url, resident.status_code)
        assert call(method, url, None, body).status_code == 401, (method, url)
        assert call(method, url, "pw_not-a-real-token", body).status_code == 401, (method, url)
        # Without a session, an unsafe request is unauthorised rather than refused for CSRF.
        strict = Client(enforce_csrf_checks=True)
        assert call(method, url, None, body, client=strict).status_code == 401, (method, url)
    step = Project.objects.get(pk=full_project["id"]).steps.get(number=1)
    assert step.version == 1 and step.notes == ""


def test_session_auth_needs_the_csrf_token_for_changes(personas, full_project):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(personas["officer"])
    url = f"/api/projects/{full_project['id']}/actions"
    assert call("get", url, client=browser).status_code == 200
    forged = call("post", url, body={"title": "Forged"}, client=browser)
    assert forged.status_code == 403 and forged.json()["detail"] == "CSRF check Failed"
    secret = "a" * 32
    browser.cookies["csrftoken"] = secret
    made = browser.post(
        url, {"title": "From the page"}, content_type="application/json", HTTP_X_CSRFTOKEN=secret
    )
    assert made.status_code == 201 and made.json()["title"] == "From the page"
    # A token needs no CSRF token: it is not sent by browsers on their own.
    token = ApiToken.issue(personas["officer"])[1]
    strict = Client(enforce_csrf_checks=True)
    assert call("post", url, token, {"title": "Script"}, client=strict).status_code == 201


def test_schema_lists_and_describes_the_project_paths(client):
    schema = client.get("/api/openapi.json").json()
    expected = {
        "/api/projects": {"get", "post"},
        "/api/projects/{project_id}": {"get"},
        "/api/projects/{project_id}/steps": {"get"},
        "/api/projects/{project_id}/steps/{number}": {"get", "put"},
        "/api/projects/{project_id}/assets": {"get", "post"},
        "/api/projects/{project_id}/stakeholders": {"get", "post"},
        "/api/projects/{project_id}/relationships": {"get", "post"},
        "/api/projects/{project_id}/network": {"get"},
        "/api/projects/{project_id}/actions": {"get", "post"},
        "/api/projects/{project_id}/actions/{action_id}": {"patch", "delete"},
        "/api/projects/{project_id}/assets/{asset_id}": {"patch", "delete"},
        "/api/projects/{project_id}/stakeholders/{stakeholder_id}": {"patch", "delete"},
        "/api/projects/{project_id}/relationships/{relationship_id}": {"patch", "delete"},
        "/api/projects/{project_id}/escalations/{escalation_id}": {"patch", "delete"},
        "/api/projects/{project_id}/escalations": {"get", "post"},
        "/api/projects/{project_id}/escalations/{escalation_id}/resolve": {"post"},
        "/api/projects/{project_id}/reviews": {"get", "post"},
    }
    for path, methods in expected.items():
        assert set(schema["paths"][path]) == methods, path
        for method in methods:
            operation = schema["paths"][path][method]
            assert operation["summary"] and operation["description"], (path, method)
            assert operation["tags"] == ["projects"]
            schemes = {name for option in operation["security"] for name in option}
            assert schemes == {"TokenAuth", "ProjectSessionAuth"}
    put = schema["paths"]["/api/projects/{project_id}/steps/{number}"]["put"]
    assert {"200", "409", "400", "404"} <= set(put["responses"])
