import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from placewise.lib.areafiles import AreaFileError
from placewise.places.actions import do_import_groups


class Command(BaseCommand):
    help = (
        "Define forces, units, neighbourhoods and impact areas from a CSV with columns "
        "kind,code,name,parent_code,lsoa_code (one row per group and LSOA). A group's LSOA list "
        "is replaced by the file's. A force's name must be its police.uk 'Falls within' name."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, file, as_json=False, **options):
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        try:
            summary = do_import_groups(file)
        except AreaFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            json.dumps(summary)
            if as_json
            else f"{summary['groups']} groups, {summary['memberships']} memberships"
        )
