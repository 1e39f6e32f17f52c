import datetime as dt
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from placewise.accounts.audit import record
from placewise.accounts.models import Role, Team, User
from placewise.incidents.actions import do_import_files, do_seed_harm_scheme
from placewise.incidents.models import DataSlice
from placewise.places.actions import do_import_area_file, do_import_groups
from placewise.places.models import Area, AreaKind
from placewise.projects.actions import (
    do_add_action,
    do_add_member,
    do_add_stakeholder,
    do_open_project,
    do_relate,
    do_update_step,
)
from placewise.projects.models import ProcessTemplate, Project
from placewise.screening.actions import do_save_screening_run
from placewise.screening.service import ScreenParams, screen

DEMO_PERSONAS = [
    ("officer", Role.OFFICER, "Olu", "Officer (PCSO)"),
    ("supervisor", Role.SUPERVISOR, "Sam", "Sergeant"),
    ("analyst", Role.ANALYST, "Ana", "Analyst"),
    ("partner", Role.PARTNER, "Pat", "Partner (city council)"),
    ("resident", Role.RESIDENT, "Rae", "Resident"),
    ("admin", Role.ADMIN, "Ade", "Administrator"),
]
AREA_FILES = [
    "lsoa11_boundaries_leicestershire.geojson.gz",
    "lsoa11_centroids_leicestershire.csv.gz",
    "File_6_-_IoD2019_Population_Denominators_leicestershire.csv.gz",
    "File_2_-_IoD2019_Domains_of_Deprivation_leicestershire.csv.gz",
]
STREET_ZIP = "police_uk_leicestershire_2020-12_2021-11.zip"


class Command(BaseCommand):
    help = (
        "Load the bundled demo: real Leicestershire police.uk data (12 months), LSOA boundaries, "
        "population and deprivation, demo units and neighbourhoods, and demo logins (demo mode "
        "only). Safe to run again: nothing is duplicated."
    )

    def handle(self, *args, **options):
        demo = settings.PLACEWISE_DATA_DIR / "demo"
        do_seed_harm_scheme()
        if not Area.objects.filter(kind=AreaKind.LSOA).exists():
            for name in AREA_FILES:
                summary = do_import_area_file(demo / name)
                self.stdout.write(f"areas: {summary}")
        if not Area.objects.filter(kind=AreaKind.FORCE).exists():
            self.stdout.write(
                f"groups: {do_import_groups(demo / 'groups_leicestershire.csv', demo=True)}"
            )
        held = DataSlice.objects.filter(force="Leicestershire Police").count()
        if held < 12:  # re-importing a month replaces it, so a partial load is completed
            self.stdout.write("importing 12 months of Leicestershire police.uk data ...")
            run = do_import_files(None, [demo / STREET_ZIP], source="demo")
            self.stdout.write(
                f"incidents: {run.rows_imported:,} imported, {run.rows_rejected:,} rejected"
            )
        else:
            self.stdout.write("demo data already loaded")
        if self._personas():
            self._projects()

    def _personas(self):
        if not settings.DEMO_MODE:
            self.stdout.write("Demo logins are only created in demo mode (PLACEWISE_DEMO=true).")
            return False
        unit = Area.objects.filter(kind=AreaKind.UNIT, code="E06000016").first()
        with transaction.atomic():
            team, _ = Team.objects.get_or_create(name="Leicester City NPT", defaults={"unit": unit})
            lines = []
            for username, role, first, title in DEMO_PERSONAS:
                password = secrets.token_urlsafe(9)
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={
                        "role": role,
                        "first_name": first,
                        "last_name": f"({title})",
                        "team": team if role != Role.PARTNER else None,
                        "organisation": "Leicester City Council" if role == Role.PARTNER else "",
                        "is_staff": role == Role.ADMIN,
                        "is_superuser": role == Role.ADMIN,
                    },
                )
                user.set_password(password)
                user.save()
                if created:
                    record(
                        None, "create_demo_user", user, after={"username": username, "role": role}
                    )
                lines.append(f"  {username:<11} {password:<14} {title}")
        self.stdout.write("\nDemo logins (demo mode only; new passwords each time load_demo runs):")
        self.stdout.write("  username    password       role")
        self.stdout.write("\n".join(lines))
        return True

    def _projects(self):
        """Two demo projects in the most harmful LSOAs, as the screening ranks them."""
        if Project.objects.filter(is_demo=True).exists():
            return
        officer = User.objects.get(username="officer")
        partner = User.objects.get(username="partner")
        result = screen(ScreenParams(level="lsoa", months=12, weights={"harm": 1.0}))
        run = do_save_screening_run(officer, result, "Demo: most harmful LSOAs (harm only)")
        template = ProcessTemplate.objects.get(is_default=True)
        for row in run.rows[:2]:
            area = Area.objects.get(kind=AreaKind.LSOA, code=row["code"])
            project = do_open_project(
                officer,
                area=area,
                title=f"Demo: Intensive Engagement in {area.name}",
                purpose=(
                    f"Demo project. {area.name} carries the most harm in the force over "
                    f"{run.start:%b %Y} to {run.end:%b %Y} (rank {row['rank']} of "
                    f"{run.place_count} by harm): understand why with residents and "
                    "partners, and reduce it."
                ),
                template=template,
                start_date=run.end,
                screening_run=run,
                evidence={"screening_run": run.pk, **row},
                is_demo=True,
            )
            do_add_member(officer, project, partner, "partner")
            self._fill(officer, project, row)
            self.stdout.write(f"demo project: {project.title}")

    def _fill(self, officer, project, row):
        step = project.steps.get(number=1)
        do_update_step(
            officer,
            step,
            version=step.version,
            status="done",
            notes="",
            self_score=3,
            answers={
                "0": f"{row['incidents']:,} incidents and harm "
                f"{row['harm']:,.0f} in the window; trend "
                f"{row['trend']:.2f} ({row['trend_direction']})."
            },
        )
        for name, interests in [
            ("Town centre manager", "Footfall and traders' safety"),
            ("Licensing officer", "Late-night venues"),
            ("Residents' association chair", "Noise and ASB at night"),
            ("Youth worker", "Young people with nowhere to go"),
        ]:
            do_add_stakeholder(officer, project, name=name, interests=interests, influence=3)
        people = list(project.stakeholders.order_by("pk"))
        for other in people[1:]:
            do_relate(officer, project, people[0], other, "works with")
        do_add_action(
            officer,
            project,
            title="Joint patrols with the town centre team",
            owner=officer,
            due=project.start_date + dt.timedelta(weeks=6),
            success_measure="Fewer ASB reports",
            measure_category="Anti-social behaviour",
        )
