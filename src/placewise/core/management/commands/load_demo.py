import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from placewise.accounts.audit import record
from placewise.accounts.models import Role, Team, User
from placewise.incidents.actions import do_import_files, do_seed_harm_scheme
from placewise.incidents.models import MonthlyCount
from placewise.places.actions import do_import_area_file, do_import_groups
from placewise.places.models import Area, AreaKind

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
        if not MonthlyCount.objects.filter(force="Leicestershire Police").exists():
            self.stdout.write("importing 12 months of Leicestershire police.uk data ...")
            run = do_import_files(None, [demo / STREET_ZIP], source="demo")
            self.stdout.write(
                f"incidents: {run.rows_imported:,} imported, {run.rows_rejected:,} rejected"
            )
        else:
            self.stdout.write("demo data already loaded")
        self._personas()

    def _personas(self):
        if not settings.DEMO_MODE:
            self.stdout.write("Demo logins are only created in demo mode (PLACEWISE_DEMO=true).")
            return
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
