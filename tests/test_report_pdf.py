"""The project report as a PDF: real A4 pages carrying the same content as the report page."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zlib

import pytest

from placewise.places.models import Area, AreaKind
from placewise.projects import actions
from placewise.projects.models import ProcessTemplate, Project
from placewise.projects.pdf import _latin1, report_pdf
from placewise.projects.views import report_context

pytestmark = pytest.mark.django_db

TITLE = "Clock Tower IE — “Safer Nights”"
CURLY_ANSWER = "Residents say it’s “the worst it’s been” — mostly after 10pm…"


def pdf_streams(data: bytes) -> list[bytes]:
    """Every stream in the file, inflated where it is compressed."""
    streams = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            streams.append(zlib.decompress(raw))
        except zlib.error:
            streams.append(raw)
    return streams


def pdf_text(data: bytes) -> str:
    """The text shown on the pages: every string drawn with Tj, in order, space-joined."""
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"(": b"(", b")": b")", b"\\": b"\\"}
    shown = []
    for stream in pdf_streams(data):
        for raw in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", stream, re.S):
            text = re.sub(rb"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), raw)
            shown.append(text.decode("latin-1"))
    return " ".join(" ".join(shown).split())


def page_count(data: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", data))


@pytest.fixture
def project(personas):
    """A LISP project in a real Leicestershire LSOA, started in the last month held, with
    every kind of record the report shows."""
    officer, supervisor, partner = personas["officer"], personas["supervisor"], personas["partner"]
    officer.first_name, officer.last_name = "Zoë", "Ōtsuka"
    officer.save()
    area = Area.objects.get(kind=AreaKind.LSOA, code="E01013600")
    template = ProcessTemplate.objects.get(slug="lisp-8-step")
    project = actions.do_open_project(
        officer,
        area=area,
        title=TITLE,
        purpose="Reduce ASB and fear around the clock tower",
        template=template,
        start_date=dt.date(2021, 11, 1),
    )
    actions.do_add_member(officer, project, partner, "partner")
    answers = {
        1: {"0": "Long-term data shows a rise", "1": CURLY_ANSWER},
        3: {"0": "Łukasz’s café and the residents’ group"},
        7: {"0": "Door-knocking by the NPT"},
    }
    for step in project.steps.all():
        actions.do_update_step(
            officer,
            step,
            version=step.version,
            status="done" if step.number in answers else "not_started",
            answers=answers.get(step.number, {}),
            notes="Checked with the council’s data team" if step.number == 1 else "",
            self_score={1: 3, 3: 5}.get(step.number),
        )
    actions.do_add_asset(
        officer,
        project,
        name="St Martin’s Hall",
        category="physical",
        description="A hall with a warden " + "and a long description " * 10,
        contact="warden@example.org",
        consent_recorded="verbal, 1 Nov",
        consent_to_share=True,
    )
    actions.do_add_asset(
        officer,
        project,
        name="Corner shop",
        category="economic",
        contact="0116 496 0000",
        consent_recorded="verbal",
        consent_to_share=False,
    )
    people = {
        name: actions.do_add_stakeholder(
            officer,
            project,
            name=name,
            influence=3,
            interests=f"{name} wants quieter nights",
            contact=f"{name.split()[0].lower()}@example.org",
            consent_recorded="form",
        )
        for name in ("Łukasz Nowak", "Ann Hub", "Bob Reed", "Cat Lane")
    }
    for other in ("Ann Hub", "Bob Reed", "Cat Lane"):
        actions.do_relate(officer, project, people["Łukasz Nowak"], people[other], "neighbours")
    actions.do_add_action(
        officer,
        project,
        title="Door-knock Hobill Close",
        owner=officer,
        due=dt.date(2022, 1, 15),
        success_measure="Fewer ASB reports",
        measure_category="Anti-social behaviour",
    )
    actions.do_add_escalation(
        officer,
        project,
        risk="Landlord will not engage",
        approach="Council housing team",
        level="partnership",
        owner=officer,
    )
    actions.do_submit_for_review(officer, project)
    actions.do_review_project(
        supervisor,
        project,
        decision="returned",
        comment="Step 1 needs long-term data, not last month’s.",
        step_feedback={},
    )
    return Project.objects.get(pk=project.pk)


def test_the_report_is_a_multi_page_pdf_with_the_whole_project(project, personas):
    context = report_context(personas["officer"], project)
    assert context["show_contact"] and context["progress"] is not None
    data = report_pdf(context)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    pages = page_count(data)
    assert pages >= 3
    text = pdf_text(data)
    for expected in (
        # The title block, with typography made plain for the core font.
        'Clock Tower IE - "Safer Nights"',
        "LISP",
        project.area.name,
        "1 Nov 2021",
        "40 weeks",
        "out of 5 (2 of 8 steps scored)",
        "Returned with feedback",
        "Reduce ASB and fear around the clock tower",
        "Zoë Otsuka (Lead)",
        "p_partner (Partner)",
        # The place and its progress.
        "The place",
        "boundary, north up",
        "Progress in the place",
        "rest of Leicestershire Police",
        "Nov 21",  # an axis label drawn from the chart's SVG
        # Steps, prompts and answers, an em dash for a prompt left empty.
        "1. Clarify the justification for commencing Intensive Engagement",
        "Status: Done",
        "What does crime and other data tell us? Long-term data shows a rise",
        "What are the issues identified? "
        + "Residents say it's \"the worst it's been\" - mostly after 10pm...",
        "What is the evidence for this? -",
        "Checked with the council's data team",
        "Self-evaluation: 3 of 5",
        "Self-evaluation: not scored",
        "Highly connected, highly capable people are engaged",  # step 3's level 5 wording
        "Lukasz's café and the residents' group",
        "8. Establish escalation processes",
        # Records: assets, the network, actions, escalations, reviews.
        "St Martin's Hall",
        "Physical spaces",
        "warden@example.org",
        "Corner shop",
        "Lukasz Nowak",
        "Lukasz Nowak wants quieter nights",
        "Door-knock Hobill Close",
        "15 Jan 2022",
        "Fewer ASB reports (Anti-social behaviour: ",
        "Landlord will not engage",
        "Council housing team",
        "Supervisor reviews",
        "Returned with feedback",
        "Step 1 needs long-term data, not last month's.",
        f'Placewise · Clock Tower IE - "Safer Nights" · page {pages} of {pages}',
    ):
        assert expected in text, expected
    # Contact details: only with consent, and never a stakeholder's.
    assert "0116 496 0000" not in text
    assert "lukasz@example.org" not in text
    # The description is shortened as on the page.
    assert "and a long description " * 10 not in text and "…" not in text
    # The stakeholder with three ties comes first, with its ties counted.
    assert text.index("Lukasz Nowak wants") < text.index("Ann Hub wants")
    assert "Lukasz Nowak Lukasz Nowak wants quieter nights 3" in text
    # The computed measure: incidents in November against October.
    before, during = context["actions"][0][1]["before"], context["actions"][0][1]["during"]
    assert f"(Anti-social behaviour: {before} -> {during})" in text


def test_metadata_and_uncompressed_output(project, personas):
    data = report_pdf(report_context(personas["officer"], project), compress=False)
    assert b"/FlateDecode" not in data
    assert b"(St Martin's Hall) Tj" in data  # readable straight from the file
    assert b"/Author (Placewise)" in data and b"/CreationDate (D:" in data
    # The title keeps its Unicode in the metadata (a UTF-16 string).
    hex_title = re.search(rb"/Title <([0-9A-Fa-f]+)>", data)
    assert hex_title and bytes.fromhex(hex_title.group(1).decode()).decode("utf-16") == TITLE
    # The area is drawn as a closed, filled polygon.
    assert re.search(rb" l\n h\n B\n", data)


def test_a_reader_outside_the_project_sees_no_contact_details(project, personas):
    context = report_context(personas["analyst"], project)
    assert context["show_contact"] is False
    text = pdf_text(report_pdf(context))
    assert "St Martin's Hall" in text and "warden@example.org" not in text
    assert "Lukasz Nowak" in text


def test_a_chart_that_cannot_be_drawn_leaves_the_figures(project, personas):
    context = report_context(personas["officer"], project)
    context["progress"] = dataclasses.replace(
        context["progress"], chart_incidents="<svg viewBox='0 0 10 10'><path d=", chart_harm=""
    )
    context["drawing"] = "<svg><unclosed"
    text = pdf_text(report_pdf(context))
    assert "The chart could not be drawn here; the table below gives the figures." in text
    assert "The network drawing could not be drawn here." in text
    assert "Place Before Months before During Months during" in text
    assert "rest of Leicestershire Police" in text and "Lukasz Nowak" in text


def test_an_empty_project_still_makes_a_report(personas):
    officer = personas["officer"]
    project = actions.do_open_project(
        officer,
        area=Area.objects.get(kind=AreaKind.LSOA, code="E01013600"),
        title="東京 test",
        purpose="Nothing yet",
        template=ProcessTemplate.objects.get(slug="sara"),
    )
    context = report_context(officer, project)
    context["shapes"], context["progress"] = [], None
    data = report_pdf(context)
    text = pdf_text(data)
    assert data.startswith(b"%PDF-") and "?? test" in text and "Nothing yet" in text
    assert "Supervisor reviews" not in text and "The place" not in text


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("plain text", "plain text"),
        ("‘quoted’ “twice” – and — so on…", "'quoted' \"twice\" - and - so on..."),
        ("Zoë Ōtsuka, Łukasz, Dvořák, Søren", "Zoë Otsuka, Lukasz, Dvorák, Søren"),
        ("東京\u200b€5\r\nnext", "??EUR5\nnext"),
    ],
)
def test_text_is_made_latin1_for_the_core_font(given, shown):
    assert _latin1(given) == shown
    shown.encode("latin-1")


def test_the_report_page_offers_the_pdf_with_the_project_access_rules(client_for, personas):
    from placewise.places.models import Area, AreaKind
    from placewise.projects.models import ProcessTemplate

    project = actions.do_open_project(
        personas["officer"],
        area=Area.objects.get(kind=AreaKind.LSOA, code="E01013600"),
        title="Clock Tower IE",
        purpose="Reduce ASB",
        template=ProcessTemplate.objects.get(slug="lisp-8-step"),
    )
    page = client_for("officer").get(f"/projects/{project.pk}/report/").content.decode()
    assert f"/projects/{project.pk}/report.pdf" in page
    response = client_for("officer").get(f"/projects/{project.pk}/report.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert 'filename="placewise-project-' in response["Content-Disposition"]
    assert client_for("partner").get(f"/projects/{project.pk}/report.pdf").status_code == 404
    assert client_for("resident").get(f"/projects/{project.pk}/report.pdf").status_code == 403
