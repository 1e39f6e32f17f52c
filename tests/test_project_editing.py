"""Changing and removing a project's records after adding them, on the pages and the API:
the same rules as adding, audited, and shown in the project's history."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from placewise.accounts.models import ApiToken, AuditEntry
from placewise.places.models import Area, AreaKind
from placewise.projects import actions
from placewise.projects.models import (
    Action,
    Asset,
    Escalation,
    Meeting,
    Observation,
    Project,
    Relationship,
    Stakeholder,
)
from placewise.projects.pictures import do_add_meeting, do_add_observation

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(personas):
    from placewise.projects.models import ProcessTemplate

    project = actions.do_open_project(
        personas["officer"],
        area=Area.objects.get(kind=AreaKind.LSOA, code="E01013600"),
        title="Clock Tower IE",
        purpose="Reduce ASB",
        template=ProcessTemplate.objects.get(slug="lisp-8-step"),
    )
    actions.do_add_member(personas["officer"], project, personas["partner"], "partner")
    return project


def _history(client: Client, project: Project) -> str:
    return client.get(f"/projects/{project.pk}/history/").content.decode()


def test_change_an_action_on_its_page_is_audited_and_in_the_history(client_for, personas, project):
    officer = personas["officer"]
    action = actions.do_add_action(officer, project, title="Door knock", owner=officer)
    c = client_for("partner")  # a partner member may change the project's records
    url = f"/projects/{project.pk}/records/action/{action.pk}/"
    form = c.get(url).content.decode()
    assert "Door knock" in form and "p_partner" in form and "p_supervisor" not in form
    response = c.post(
        url,
        {
            "title": "Door knock, Clock Tower flats",
            "owner": personas["partner"].pk,
            "due": "2026-12-01",
            "status": "in_progress",
            "success_measure": "Fewer ASB reports",
            "how_measured": "police.uk ASB",
            "measure_category": "Anti-social behaviour",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert response["Location"].endswith("#actions")
    action.refresh_from_db()
    assert action.title == "Door knock, Clock Tower flats" and action.owner == personas["partner"]
    assert action.due == dt.date(2026, 12, 1) and action.status == "in_progress"
    entry = AuditEntry.objects.get(action="edit_action")
    assert entry.before["title"] == "Door knock" and entry.after["owner"] == personas["partner"].pk
    assert entry.parent == f"projects.project:{project.pk}"
    history = _history(client_for("analyst"), project)
    assert "edit_action" in history and "add_action" in history


def test_a_bad_change_says_why_and_changes_nothing(client_for, personas, project):
    asset = actions.do_add_asset(personas["officer"], project, name="Library", category="physical")
    c = client_for("officer")
    url = f"/projects/{project.pk}/records/asset/{asset.pk}/"
    base = {"name": "Library", "category": "physical", "description": ""}
    no_consent = c.post(url, {**base, "contact": "07700 900123"})
    assert no_consent.status_code == 400
    assert "record how consent was given" in no_consent.content.decode()
    outside_uk = c.post(url, {**base, "longitude": "40", "latitude": "10"})
    assert "is not a point in the United Kingdom" in outside_uk.content.decode()
    not_a_number = c.post(url, {**base, "longitude": "east"})
    assert not_a_number.status_code == 400 and "Enter a number" in not_a_number.content.decode()
    asset.refresh_from_db()
    assert asset.contact == "" and asset.longitude is None
    assert not AuditEntry.objects.filter(action="edit_asset").exists()
    # An owner from outside the project cannot be chosen.
    action = actions.do_add_action(personas["officer"], project, title="Patrol")
    outsider = c.post(
        f"/projects/{project.pk}/records/action/{action.pk}/",
        {"title": "Patrol", "owner": personas["supervisor"].pk, "status": "planned"},
    )
    assert outsider.status_code == 400 and "Select a valid choice" in outsider.content.decode()


def test_remove_a_stakeholder_takes_their_ties_and_keeps_no_contact(client_for, personas, project):
    officer = personas["officer"]
    ann = actions.do_add_stakeholder(
        officer,
        project,
        name="Ann",
        influence=4,
        contact="ann@example.org",
        consent_recorded="verbal, 3 Nov",
    )
    bob = actions.do_add_stakeholder(officer, project, name="Bob", influence=2)
    cat = actions.do_add_stakeholder(officer, project, name="Cat", influence=2)
    actions.do_relate(officer, project, ann, bob, "neighbours")
    actions.do_relate(officer, project, bob, cat, "works with")
    c = client_for("officer")
    url = f"/projects/{project.pk}/records/stakeholder/{ann.pk}/remove/"
    assert "with its 1 relationship" in c.get(url).content.decode()
    unconfirmed = c.post(url, {})
    assert unconfirmed.status_code == 400 and Stakeholder.objects.filter(pk=ann.pk).exists()
    assert c.post(url, {"confirm": "yes"}).status_code == 302
    assert not Stakeholder.objects.filter(pk=ann.pk).exists()
    assert list(Relationship.objects.filter(project=project).values_list("kind", flat=True)) == [
        "works with"
    ]
    removed = AuditEntry.objects.get(action="remove_stakeholder")
    assert removed.before["name"] == "Ann" and "contact" not in removed.before
    assert AuditEntry.objects.filter(action="remove_relationship").count() == 1
    history = _history(c, project)
    assert "remove_stakeholder" in history and "ann@example.org" not in history
    network = c.get(f"/projects/{project.pk}/network/").content.decode()
    assert "Bob and Cat" in network and "works with" in network


def test_change_a_relationship_observation_and_meeting(client_for, personas, project):
    officer, partner = personas["officer"], personas["partner"]
    ann = actions.do_add_stakeholder(officer, project, name="Ann", influence=3)
    bob = actions.do_add_stakeholder(officer, project, name="Bob", influence=3)
    link = actions.do_relate(officer, project, ann, bob, "")
    item = do_add_observation(
        officer, project, kind="issue", text="Dark alley", group="Residents", theme=""
    )
    meeting = do_add_meeting(
        officer, project, [officer], held_on=dt.date(2026, 11, 2), title="First meeting"
    )
    c = client_for("officer")
    base = f"/projects/{project.pk}/records"
    assert c.post(f"{base}/relationship/{link.pk}/", {"kind": "cousins"}).status_code == 302
    assert Relationship.objects.get(pk=link.pk).kind == "cousins"
    c.post(
        f"{base}/observation/{item.pk}/",
        {
            "kind": "issue",
            "text": "Dark alley by the shops",
            "group": "Residents",
            "theme": "light",
        },
    )
    assert Observation.objects.get(pk=item.pk).theme == "light"
    assert "light" in c.get(f"/projects/{project.pk}/pictures/").content.decode()
    response = c.post(
        f"{base}/meeting/{meeting.pk}/",
        {"held_on": "2026-11-03", "title": "First meeting", "attendees": [officer.pk, partner.pk]},
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get(pk=meeting.pk)
    assert meeting.held_on == dt.date(2026, 11, 3)
    assert set(meeting.attendees.all()) == {officer, partner}
    outsider = c.post(
        f"{base}/meeting/{meeting.pk}/",
        {"held_on": "2026-11-03", "title": "First", "attendees": [personas["analyst"].pk]},
    )
    assert outsider.status_code == 400


def test_remove_an_attachment_deletes_its_file(
    client_for, project, settings, tmp_path, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    c = client_for("officer")
    c.post(
        f"/projects/{project.pk}/steps/4/attach/",
        {"file": SimpleUploadedFile("picture.pdf", b"%PDF-1.4 test")},
    )
    attachment = project.steps.get(number=4).attachments.get()
    path = tmp_path / attachment.file.name
    assert path.exists()
    step_page = c.get(f"/projects/{project.pk}/steps/4/").content.decode()
    assert f"/records/attachment/{attachment.pk}/remove/" in step_page
    with_changes = c.get(f"/projects/{project.pk}/records/attachment/{attachment.pk}/")
    assert with_changes.status_code == 404  # a file is removed, not edited
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(
            f"/projects/{project.pk}/records/attachment/{attachment.pk}/remove/",
            {"confirm": "yes"},
        )
    assert response.status_code == 302 and response["Location"].endswith("/steps/4/")
    assert not project.steps.get(number=4).attachments.exists() and not path.exists()
    assert AuditEntry.objects.get(action="remove_attachment").parent == project.audit_key


def test_only_editors_may_change_or_remove(client_for, personas, project):
    action = actions.do_add_action(personas["officer"], project, title="Patrol")
    edit = f"/projects/{project.pk}/records/action/{action.pk}/"
    remove = f"{edit}remove/"
    # An analyst reads every project but is not a member: the same 404 as a missing record.
    assert client_for("analyst").get(edit).status_code == 404
    assert client_for("analyst").post(remove, {"confirm": "yes"}).status_code == 404
    assert client_for("resident").get(edit).status_code == 403
    assert client_for("supervisor").get(edit).status_code == 200  # the team's supervisor
    other = actions.do_open_project(
        personas["supervisor"],
        area=project.area,
        title="Elsewhere",
        purpose="x",
        template=project.template,
    )
    wrong_project = f"/projects/{other.pk}/records/action/{action.pk}/"
    assert client_for("officer").get(wrong_project).status_code == 404
    wrong_kind = f"/projects/{project.pk}/records/nothing/1/"
    assert client_for("officer").get(wrong_kind).status_code == 404
    assert Action.objects.filter(pk=action.pk).exists()


def test_history_lists_every_record_of_the_project(client_for, personas, project):
    officer = personas["officer"]
    actions.do_add_asset(officer, project, name="Community hall", category="physical")
    actions.do_add_escalation(officer, project, risk="No youth provision", level="partnership")
    history = _history(client_for("officer"), project)
    for what in ("open_project", "add_project_member", "add_asset", "add_escalation"):
        assert what in history


def test_entries_from_before_parents_were_recorded_get_their_project(personas, project):
    """The data migration names the project on older entries of its records."""
    officer = personas["officer"]
    action = actions.do_add_action(officer, project, title="Patrol")
    step = project.steps.get(number=1)
    old = [
        AuditEntry.objects.create(
            actor_name="x",
            action="add_action",
            object_type="projects.action",
            object_id=str(action.pk),
            after={"project": project.pk, "title": "Patrol"},
        ),
        AuditEntry.objects.create(
            actor_name="x",
            action="update_step",
            object_type="projects.projectstep",
            object_id=str(step.pk),
        ),
    ]
    migration = importlib.import_module("placewise.projects.migrations.0006_audit_parent")
    state = MigrationExecutor(connection).loader.project_state(("projects", "0006_audit_parent"))
    migration.backfill(state.apps, None)
    for entry in old:
        assert AuditEntry.objects.get(pk=entry.pk).parent == project.audit_key


# --- the API ---------------------------------------------------------------------------


def call(method: str, url: str, token: str, body=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is None:
        return getattr(Client(), method)(url, **headers)
    return getattr(Client(), method)(url, body, content_type="application/json", **headers)


def test_api_changes_and_removes_records_under_the_same_rules(personas, project):
    officer = personas["officer"]
    token = ApiToken.issue(officer, "test")[1]
    analyst = ApiToken.issue(personas["analyst"], "test")[1]
    base = f"/api/projects/{project.pk}"
    asset = actions.do_add_asset(officer, project, name="Library", category="physical")
    changed = call("patch", f"{base}/assets/{asset.pk}", token, {"description": "Open late"})
    assert changed.status_code == 200 and changed.json()["description"] == "Open late"
    assert Asset.objects.get(pk=asset.pk).name == "Library"  # fields not given are kept
    refused = call("patch", f"{base}/assets/{asset.pk}", token, {"contact": "07700 900123"})
    assert refused.status_code == 400 and "consent" in refused.json()["detail"]
    assert call("patch", f"{base}/assets/{asset.pk}", token, {"name": None}).status_code == 400
    assert call("patch", f"{base}/assets/{asset.pk}", analyst, {"name": "X"}).status_code == 404

    action = actions.do_add_action(officer, project, title="Patrol")
    moved = call(
        "patch",
        f"{base}/actions/{action.pk}",
        token,
        {"due": "2026-12-24", "owner_id": personas["partner"].pk, "status": "in_progress"},
    )
    assert moved.status_code == 200
    assert (
        moved.json()["owner_id"] == personas["partner"].pk and moved.json()["due"] == "2026-12-24"
    )
    outsider = call(
        "patch", f"{base}/actions/{action.pk}", token, {"owner_id": personas["analyst"].pk}
    )
    assert outsider.status_code == 400
    bad_category = call("patch", f"{base}/actions/{action.pk}", token, {"measure_category": "x"})
    assert bad_category.status_code == 400 and "police.uk" in bad_category.json()["detail"]

    escalation = actions.do_add_escalation(officer, project, risk="Funding", level="inspector")
    no_outcome = call("patch", f"{base}/escalations/{escalation.pk}", token, {"status": "resolved"})
    assert no_outcome.status_code == 400 and "outcome" in no_outcome.json()["detail"]
    resolved = call(
        "patch",
        f"{base}/escalations/{escalation.pk}",
        token,
        {"status": "resolved", "outcome": "Council funded it"},
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"

    ann = actions.do_add_stakeholder(officer, project, name="Ann", influence=3)
    bob = actions.do_add_stakeholder(officer, project, name="Bob", influence=3)
    link = actions.do_relate(officer, project, ann, bob, "")
    renamed = call("patch", f"{base}/relationships/{link.pk}", token, {"kind": "neighbours"})
    assert renamed.json()["kind"] == "neighbours"
    too_much = call("patch", f"{base}/stakeholders/{bob.pk}", token, {"influence": 9})
    assert too_much.status_code == 400
    assert call("delete", f"{base}/stakeholders/{ann.pk}", analyst).status_code == 404
    assert call("delete", f"{base}/stakeholders/{ann.pk}", token).status_code == 204
    assert not Relationship.objects.filter(pk=link.pk).exists()
    assert call("delete", f"{base}/actions/{action.pk}", token).status_code == 204
    assert call("delete", f"{base}/escalations/{escalation.pk}", token).status_code == 204
    assert call("delete", f"{base}/assets/{asset.pk}", token).status_code == 204
    assert call("delete", f"{base}/assets/{asset.pk}", token).status_code == 404
    assert not Escalation.objects.filter(project=project).exists()
    removed = set(
        AuditEntry.objects.filter(
            parent=project.audit_key, action__startswith="remove_"
        ).values_list("action", flat=True)
    )
    assert removed == {
        "remove_stakeholder",
        "remove_relationship",
        "remove_action",
        "remove_escalation",
        "remove_asset",
    }
    schema = Client().get("/api/openapi.json").json()["paths"]
    assert {"patch", "delete"} <= set(schema["/api/projects/{project_id}/assets/{asset_id}"])


# --- the list ----------------------------------------------------------------------------


def test_sorting_by_dose_orders_every_page_and_the_csv_has_them_all(client_for, personas):
    """55 projects over two pages of 50: the dose order runs across pages, unscored last."""
    from placewise.projects.models import ProcessTemplate, ProjectStep

    officer = personas["officer"]
    area = Area.objects.get(kind=AreaKind.LSOA, code="E01013600")
    template = ProcessTemplate.objects.get(slug="lisp-8-step")
    expected = {}
    for i in range(55):
        project = actions.do_open_project(
            officer, area=area, title=f"P{i:02d}", purpose="x", template=template
        )
        # Scores spread so the highest doses are among the earliest (least recent) projects:
        # a page-only sort would miss them.
        score = None if i % 11 == 10 else 1 + (i * 7) % 5
        ProjectStep.objects.filter(project=project, number__in=[1, 2]).update(self_score=score)
        expected[project.title] = score
    c = client_for("officer")
    response = c.get("/projects/?scope=mine&sort=dose")
    assert response.status_code == 200, response.content.decode()[-2000:]
    first = response.content.decode()
    second = c.get("/projects/?scope=mine&sort=dose&page=2").content.decode()

    def titles(page: str) -> list[str]:
        import re

        return re.findall(r'">(P\d\d)</a>', page)

    order = titles(first) + titles(second)
    assert len(order) == 55 and len(titles(first)) == 50
    scores = [expected[t] for t in order]
    scored = [s for s in scores if s is not None]
    assert scored == sorted(scored, reverse=True) and scores[-5:] == [None] * 5
    assert "sort=dose" in first and "page=2" in first  # the next link keeps the sort
    csv_text = c.get("/projects/?scope=mine&sort=dose&format=csv").content.decode()
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("id,title,place") and len(lines) == 56
    assert lines[1].split(",")[9] == "5.00"


# --- assets per area ---------------------------------------------------------------------


def test_asset_map_per_area_with_consent_aware_exports(client_for, personas, project):
    import json

    from shapely.geometry import shape

    officer = personas["officer"]
    here = project.area
    inside = shape(here.geometry_dict).representative_point()
    other = Area.objects.filter(kind=AreaKind.LSOA).exclude(pk=here.pk).exclude(geometry="")
    far = next(a for a in other if not shape(a.geometry_dict).intersects(shape(here.geometry_dict)))
    outside = shape(far.geometry_dict).representative_point()
    actions.do_add_asset(
        officer,
        project,
        name="Tenants' association",
        category="associations",
        longitude=inside.x,
        latitude=inside.y,
        contact="chair@example.org",
        consent_recorded="email, 2 Nov",
        consent_to_share=True,
    )
    actions.do_add_asset(
        officer, project, name="Far library", category="physical",
        longitude=outside.x, latitude=outside.y,
    )  # fmt: skip
    actions.do_add_asset(officer, project, name="Retired youth worker", category="people")
    c = client_for("officer")
    page = c.get(f"/projects/areas/{here.pk}/assets/").content.decode()
    assert "Tenants&#x27; association" in page and "Retired youth worker" in page
    assert "Far library" not in page and "chair@example.org" in page
    assert f"/projects/areas/{here.pk}/assets/" in c.get(f"/areas/{here.pk}/").content.decode()
    far_page = c.get(f"/projects/areas/{far.pk}/assets/").content.decode()
    assert "Far library" in far_page and "Tenants" not in far_page
    # The unit holding the LSOA holds its assets too.
    unit = Area.objects.get(kind=AreaKind.UNIT, memberships__lsoa=here)
    unit_csv = c.get(f"/projects/areas/{unit.pk}/assets/?format=csv").content.decode()
    assert "Tenants' association" in unit_csv and "chair@example.org" in unit_csv
    # Not a member: no contact details in the page or the exports.
    analyst = client_for("analyst")
    geo = json.loads(analyst.get(f"/projects/areas/{here.pk}/assets/?format=geojson").content)
    names = {f["properties"]["name"]: f for f in geo["features"]}
    assert set(names) == {"Tenants' association", "Retired youth worker"}
    assert names["Tenants' association"]["properties"]["contact"] == ""
    assert names["Retired youth worker"]["geometry"] is None
    # A partner sees only the projects they are members of.
    partner_url = f"/projects/areas/{here.pk}/assets/"
    assert "Tenants" in client_for("partner").get(partner_url).content.decode()
    project.members.filter(user=personas["partner"]).delete()
    assert "Tenants" not in client_for("partner").get(partner_url).content.decode()


def test_a_supervisor_who_is_not_a_member_never_sees_contact_details(client_for, personas, project):
    ann = actions.do_add_stakeholder(
        personas["officer"],
        project,
        name="Ann",
        influence=3,
        contact="ann@example.org",
        consent_recorded="verbal, 3 Nov",
    )
    url = f"/projects/{project.pk}/records/stakeholder/{ann.pk}/"
    supervisor = client_for("supervisor")  # supervises the project's team, not a member
    form = supervisor.get(url).content.decode()
    assert "Interests" in form and "ann@example.org" not in form and 'name="contact"' not in form
    response = supervisor.post(
        url, {"name": "Ann B", "kind": "person", "influence": 4, "consent_recorded": "verbal"}
    )
    assert response.status_code == 302
    ann.refresh_from_db()
    assert ann.name == "Ann B" and ann.contact == "ann@example.org"
    assert 'name="contact"' in client_for("officer").get(url).content.decode()
