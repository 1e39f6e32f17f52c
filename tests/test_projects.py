"""IE projects: starting one, working through steps, dose, locking, review and access."""

from __future__ import annotations

import pytest

from placewise.accounts.models import AuditEntry
from placewise.incidents.models import Incident
from placewise.places.models import Area, AreaKind
from placewise.projects.models import Project, ProjectMember, Review
from placewise.screening.models import ScreeningRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def lsoa(db):
    return Area.objects.get(kind=AreaKind.LSOA, code="E01013600")


def start(client, area, **extra):
    data = {
        "area": area.pk,
        "title": "Clock Tower IE",
        "purpose": "Reduce ASB and fear",
        "template": "lisp-8-step",
        "plan_weeks": "40",
        **extra,
    }
    response = client.post("/projects/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return Project.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def save_step(client, project, number, version, **fields):
    data = {"version": version, "status": "in_progress", "notes": "", "self_score": "", **fields}
    return client.post(f"/projects/{project.pk}/steps/{number}/", data)


def test_start_a_project_from_an_area(client_for, personas, lsoa):
    project = start(client_for("officer"), lsoa)
    assert project.steps.count() == 8 and project.template.slug == "lisp-8-step"
    assert list(project.steps.values_list("title", flat=True))[2] == "Stakeholders and networks"
    assert project.members.get().user == personas["officer"]
    assert project.plan_weeks == 40 and project.team == personas["officer"].team
    assert AuditEntry.objects.filter(action="open_project", object_id=str(project.pk)).exists()


def test_start_from_a_screening_row_attaches_the_evidence(client_for, lsoa):
    row = {
        "code": lsoa.code,
        "name": lsoa.name,
        "rank": 3,
        "score": 0.9,
        "incidents": 120,
        "harm": 9000.0,
        "trend": 1.4,
        "trend_direction": "up",
        "hotspot": True,
    }
    run = ScreeningRun.objects.create(
        level="lsoa",
        start="2021-10-01",
        end="2021-11-01",
        scope="force",
        harm_scheme="x",
        neighbours="queen",
        rows=[row],
        place_count=1,
    )
    c = client_for("supervisor")
    page = c.get(f"/projects/new/?screening_run={run.pk}&code={lsoa.code}").content.decode()
    assert "It becomes step 1" in page
    project = start(c, lsoa, screening_run=run.pk, code=lsoa.code)
    assert project.screening_run == run and project.evidence["rank"] == 3
    detail = c.get(f"/projects/{project.pk}/").content.decode()
    assert "Step 1 evidence, screening run" in detail and "Gi* hotspot" in detail


def test_other_templates_and_bad_input(client_for, lsoa):
    c = client_for("officer")
    assert start(c, lsoa, template="sara").steps.count() == 4
    assert start(c, lsoa, template="west-mercia-ie-8-step").steps.count() == 8
    page = c.post("/projects/new/", {"area": lsoa.pk, "title": "", "purpose": "x"}, follow=True)
    assert "The project was not started: a project needs a title" in page.content.decode()
    page = c.post(
        "/projects/new/",
        {"area": lsoa.pk, "title": "T", "purpose": "x", "plan_weeks": "500"},
        follow=True,
    )
    assert "give 1 to 156 weeks" in page.content.decode()


def test_steps_scores_and_dose(client_for, lsoa):
    c = client_for("officer")
    project = start(c, lsoa)
    for number, score in [(1, 3), (2, 2), (3, 3)]:
        response = save_step(
            c, project, number, 1, self_score=str(score), answer_0=f"Answer for step {number}"
        )
        assert response.status_code == 302
    project.refresh_from_db()
    dose = project.dose()
    assert dose.mean == pytest.approx(8 / 3) and dose.scored == 3 and dose.total == 8
    detail = c.get(f"/projects/{project.pk}/").content.decode()
    assert 'id="dose">2.7<' in detail and "3 of 8 steps scored" in detail
    step = c.get(f"/projects/{project.pk}/steps/3/").content.decode()
    assert "Highly connected, highly capable people are engaged" in step  # rubric wording
    listing = c.get("/projects/?scope=mine").content.decode()
    assert "Clock Tower IE" in listing and "2.7 out of 5" in listing


def test_second_save_of_the_same_step_is_refused(client_for, personas, lsoa):
    first, second = client_for("officer"), client_for("supervisor")
    project = start(first, lsoa)
    ProjectMember.objects.create(project=project, user=personas["supervisor"])
    assert save_step(first, project, 1, 1, notes="mine").status_code == 302
    clash = save_step(second, project, 1, 1, notes="theirs")
    assert clash.status_code == 409
    assert "while you were editing it. Your changes were not saved" in clash.content.decode()
    assert "theirs" in clash.content.decode()  # what they typed is still on the page
    assert project.steps.get(number=1).notes == "mine"


def test_partner_sees_only_their_projects_and_resident_none(client_for, personas, lsoa):
    project = start(client_for("officer"), lsoa)
    assert client_for("partner").get(f"/projects/{project.pk}/").status_code == 404
    assert (
        "Clock Tower IE" not in client_for("partner").get("/projects/?scope=all").content.decode()
    )
    ProjectMember.objects.create(project=project, user=personas["partner"], role="partner")
    partner = client_for("partner")
    assert partner.get(f"/projects/{project.pk}/").status_code == 200
    assert save_step(partner, project, 2, 1, notes="Council view").status_code == 302
    assert client_for("resident").get(f"/projects/{project.pk}/").status_code == 403
    # A police officer outside the project may read it but not change it.
    assert client_for("analyst").get(f"/projects/{project.pk}/").status_code == 200
    assert save_step(client_for("analyst"), project, 3, 1).status_code == 404


def test_supervisor_review_feedback_reaches_the_officer(client_for, lsoa):
    officer = client_for("officer")
    project = start(officer, lsoa)
    save_step(officer, project, 1, 1, self_score="4")
    officer.post(f"/projects/{project.pk}/submit/")
    project.refresh_from_db()
    assert project.review_status == "submitted"
    supervisor = client_for("supervisor")
    refused = supervisor.post(
        f"/projects/{project.pk}/review/", {"decision": "returned"}, follow=True
    )
    assert "say what needs doing" in refused.content.decode()
    supervisor.post(
        f"/projects/{project.pk}/review/",
        {
            "decision": "returned",
            "comment": "Step 1 needs long-term data, not last month's.",
            "score_1": "2",
            "comment_1": "Use the screening run",
        },
    )
    review = Review.objects.get()
    assert review.reviewer_dose == 2 and review.team_dose == 4
    assert review.step_feedback["1"] == {"score": 2, "comment": "Use the screening run"}
    project.refresh_from_db()
    assert project.review_status == "returned"
    home = officer.get("/").content.decode()
    assert 'id="review-feedback"' in home and "Step 1 needs long-term data" in home
    supervisor.post(f"/projects/{project.pk}/review/", {"decision": "signed_off", "comment": ""})
    assert Review.objects.count() == 2  # every review is kept


def test_history_lists_every_change(client_for, lsoa):
    c = client_for("officer")
    project = start(c, lsoa)
    save_step(c, project, 1, 1, notes="First look at the data")
    text = c.get(f"/projects/{project.pk}/history/").content.decode()
    assert "open_project" in text and "update_step" in text and "First look at the data" in text


def test_actions_escalations_and_the_home_page(client_for, personas, lsoa):
    import datetime as dt

    from placewise.projects.models import Action, Escalation

    officer, supervisor = client_for("officer"), client_for("supervisor")
    project = start(officer, lsoa, start_date="2021-11-01")  # the data holds Oct and Nov 2021
    me = personas["officer"].pk
    officer.post(
        f"/projects/{project.pk}/actions/",
        {
            "title": "Door-knock Hobill Close",
            "owner": me,
            "due": "2021-01-15",
            "success_measure": "Fewer ASB reports",
            "measure_category": "Anti-social behaviour",
        },
    )
    officer.post(f"/projects/{project.pk}/actions/", {"title": "", "owner": me})
    action = Action.objects.get()
    assert action.is_overdue(dt.date(2026, 1, 1)) and action.owner == personas["officer"]
    officer.post(
        f"/projects/{project.pk}/escalations/",
        {
            "risk": "Landlord will not engage",
            "approach": "Council housing team",
            "level": "partnership",
            "owner": me,
        },
    )
    escalation = Escalation.objects.get()
    for client in (officer, supervisor):  # the owner and the team's supervisor
        home = client.get("/").content.decode()
        assert "Door-knock Hobill Close" in home and "Landlord will not engage" in home
    detail = officer.get(f"/projects/{project.pk}/").content.decode()
    asb = Incident.objects.filter(lsoa_code=lsoa.code, category="Anti-social behaviour")
    during, before = asb.filter(month="2021-11-01").count(), asb.filter(month="2021-10-01").count()
    assert "overdue" in detail
    assert (
        f"Anti-social behaviour: {during} in the 1 months since the start, {before} in the 1 before"
    ) in detail
    officer.post(f"/projects/{project.pk}/actions/{action.pk}/", {"status": "done"})
    officer.post(
        f"/projects/{project.pk}/escalations/{escalation.pk}/resolve/",
        {"outcome": "Met the landlord; CCTV agreed"},
    )
    home = officer.get("/").content.decode()
    assert "Door-knock Hobill Close" not in home and "Landlord will not engage" not in home
    assert AuditEntry.objects.filter(action="resolve_escalation").exists()
    outsider = client_for("analyst")  # may read, may not change
    assert outsider.post(f"/projects/{project.pk}/actions/", {"title": "x"}).status_code == 404


def test_assets_stakeholders_and_network(client_for, personas, lsoa):
    import csv
    import io
    import json

    officer = client_for("officer")
    project = start(officer, lsoa)
    base = f"/projects/{project.pk}"
    officer.post(
        f"{base}/assets/",
        {
            "name": "St Martin's Hall",
            "category": "physical",
            "longitude": "-1.135",
            "latitude": "52.634",
            "contact": "warden 0116 000",
            "consent_recorded": "verbal, 1 Nov",
            "highly_connected": "on",
        },
    )
    officer.post(
        f"{base}/assets/",
        {
            "name": "Residents' group",
            "category": "associations",
            "contact": "chair@example.org",
            "consent_recorded": "email",
            "consent_to_share": "on",
        },
    )
    refused = officer.post(
        f"{base}/assets/", {"name": "X", "category": "physical", "contact": "07000"}, follow=True
    )
    assert "record how consent was given" in refused.content.decode()
    rows = list(csv.DictReader(io.StringIO(officer.get(f"{base}/assets.csv").content.decode())))
    contacts = {r["name"]: r["contact"] for r in rows}
    assert contacts == {"St Martin's Hall": "", "Residents' group": "chair@example.org"}
    outsider_csv = client_for("analyst").get(f"{base}/assets.csv").content.decode()
    assert "chair@example.org" not in outsider_csv  # members only, even with consent
    geo = json.loads(officer.get(f"{base}/assets.geojson").content)
    points = {f["properties"]["name"]: f["geometry"] for f in geo["features"]}
    assert points["St Martin's Hall"]["coordinates"] == [-1.135, 52.634]
    assert points["Residents' group"] is None  # no location given
    for name in ("Hub", "Ann", "Bob", "Cat"):
        officer.post(
            f"{base}/stakeholders/",
            {
                "name": name,
                "influence": "3",
                "contact": f"{name}@example.org",
                "consent_recorded": "form",
            },
        )
    ids = dict(project.stakeholders.values_list("name", "pk"))
    for other in ("Ann", "Bob", "Cat"):
        officer.post(f"{base}/relationships/", {"source": ids["Hub"], "target": ids[other]})
    page = officer.get(f"{base}/network/").content.decode()
    table = page[page.index("<th>Interests</th>") :]
    assert table.index("Hub") < table.index("Ann")  # the most connected first
    assert "Hub@example.org" in page and "<svg" in page
    # A police reader who is not a member sees the network but not personal details.
    outsider = client_for("analyst").get(f"{base}/network/").content.decode()
    assert "Hub" in outsider and "Hub@example.org" not in outsider
    audit = AuditEntry.objects.filter(action="add_stakeholder").first()
    assert "contact" not in audit.after


def test_progress_in_the_place_and_the_report(client_for, lsoa):
    officer = client_for("officer")
    project = start(officer, lsoa, start_date="2021-11-01", purpose="Night-time economy")
    save_step(officer, project, 1, 1, answer_0="Long-term data shows a rise", self_score="3")
    detail = officer.get(f"/projects/{project.pk}/").content.decode()
    assert 'id="progress"' in detail and "rest of Leicestershire Police" in detail
    # Rates computed independently: October (before) and November (during), per 1,000.
    oct_n = Incident.objects.filter(lsoa_code=lsoa.code, month="2021-10-01").count()
    assert f"{1000 * oct_n / lsoa.population:,.2f}" in detail
    # Against the rest of the unit too (the demo's units are local authority districts).
    unit = Area.objects.get(kind=AreaKind.UNIT, memberships__lsoa=lsoa)
    codes = unit.memberships.values("lsoa__code")
    unit_oct = Incident.objects.filter(lsoa_code__in=codes, month="2021-10-01").count()
    rest = 1000 * (unit_oct - oct_n) / (unit.population - lsoa.population)
    assert f"rest of {unit.name}" in detail and f"{rest:,.2f}" in detail
    report = officer.get(f"/projects/{project.pk}/report/").content.decode()
    for text in (
        "Night-time economy",
        "Long-term data shows a rise",
        "Stakeholders and networks",
        "Progress in the place",
        "3 of 5",
    ):
        assert text in report


def test_rich_pictures_side_by_side_and_meetings(client_for, personas, lsoa):
    officer = client_for("officer")
    project = start(officer, lsoa)
    base = f"/projects/{project.pk}"
    for kind, group, text in [
        ("issue", "Residents", "Noise from the car park at night"),
        ("issue", "Businesses", "Shoplifting by the same few people"),
        ("idea", "Residents", "Lighting and a gate on the car park"),
        ("works_well", "Residents", "The community garden"),
    ]:
        officer.post(
            f"{base}/pictures/",
            {
                "kind": kind,
                "group": group,
                "text": text,
                "theme": "night-time",
                "longitude": "-1.135",
                "latitude": "52.634",
            },
        )
    bad = officer.post(
        f"{base}/pictures/", {"kind": "rumour", "group": "x", "text": "y"}, follow=True
    )
    assert "kind must be one of" in bad.content.decode()
    page = officer.get(f"{base}/pictures/").content.decode()
    table = page[page.index('id="side-by-side"') :]
    assert table.index("Businesses") < table.index("Residents")  # one column per group
    assert "Lighting and a gate" in table and "The community garden" in table
    officer.post(
        f"{base}/meetings/",
        {
            "held_on": "2026-11-20",
            "title": "First working group",
            "attendees": [personas["officer"].pk],
            "other_attendees": "Two residents",
            "decisions": "Ask the council about lighting",
        },
    )
    page = officer.get(f"{base}/meetings/").content.decode()
    assert "First working group" in page and "Ask the council about lighting" in page
    assert AuditEntry.objects.filter(action="add_meeting").exists()


def test_admin_refuses_a_broken_process_template(client, personas):
    import json

    from placewise.projects.models import ProcessTemplate

    admin = personas["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    response = client.post(
        "/admin/projects/processtemplate/add/",
        {
            "slug": "ours",
            "name": "Our process",
            "definition": json.dumps({"slug": "ours", "name": "Our process", "steps": []}),
        },
    )
    assert response.status_code == 200 and "errornote" in response.content.decode()
    assert not ProcessTemplate.objects.filter(slug="ours").exists()


def test_attachments_are_checked_and_served_with_access_rules(client_for, lsoa, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    officer = client_for("officer")
    project = start(officer, lsoa)
    url = f"/projects/{project.pk}/steps/4/attach/"
    officer.post(url, {"file": SimpleUploadedFile("rich picture.pdf", b"%PDF-1.4 test")})
    refused = officer.post(url, {"file": SimpleUploadedFile("run.exe", b"MZ")}, follow=True)
    assert "attach .pdf" in refused.content.decode()
    attachment = project.steps.get(number=4).attachments.get()
    assert attachment.size == 13 and (tmp_path / attachment.file.name).exists()
    link = f"/projects/{project.pk}/attachments/{attachment.pk}/"
    assert b"".join(officer.get(link).streaming_content) == b"%PDF-1.4 test"
    assert client_for("analyst").get(link).status_code == 200  # police readers may read
    assert client_for("partner").get(link).status_code == 404  # not a member
    assert "rich picture.pdf" in officer.get(f"/projects/{project.pk}/steps/4/").content.decode()
