"""The bundled demo: real data, demo logins, and two demo projects chosen by the screening."""

import pytest
from django.core.management import call_command

from placewise.accounts.models import User
from placewise.projects.models import Project
from placewise.screening.models import ScreeningRun

pytestmark = pytest.mark.django_db


def test_load_demo_twice_adds_projects_in_the_most_harmful_places_once(capsys):
    call_command("load_demo")
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "Demo logins" in out and User.objects.filter(username="officer").exists()
    projects = Project.objects.filter(is_demo=True)
    assert projects.count() == 2  # the second run added nothing
    run = ScreeningRun.objects.get(title__startswith="Demo")
    harm_order = sorted(run.rows, key=lambda r: -r["harm"])
    assert {p.area.code for p in projects} == {r["code"] for r in harm_order[:2]}
    for project in projects:
        assert project.title.startswith("Demo:") and project.evidence["screening_run"] == run.pk
        assert project.stakeholders.count() == 4 and project.actions.count() == 1
        assert project.members.filter(role="partner").exists()
