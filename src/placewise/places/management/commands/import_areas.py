import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from placewise.lib.areafiles import AreaFileError, is_boundary_file
from placewise.places.actions import do_import_area_file


class Command(BaseCommand):
    help = (
        "Import area data as ONS and MHCLG publish it. Each FILE's kind is recognised from its "
        "header: LSOA boundaries (GeoJSON), LSOA population-weighted centroids, IoD2019 File 1 "
        "(IMD), File 2 (domains, incl. Crime), File 6 (population), Census 2011 population. "
        "Boundaries create LSOAs; the other files update LSOAs already in Placewise. Files may "
        "be gzipped. Each file is all-or-nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument(
            "--create-missing",
            action="store_true",
            help="create LSOAs (without boundaries) from a centroids file",
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print a JSON list of summaries"
        )

    def handle(self, *args, files, create_missing=False, as_json=False, **options):
        missing = [str(p) for p in files if not p.is_file()]
        if missing:
            raise CommandError(f"no such file: {', '.join(missing)}; nothing was imported")
        summaries = []
        for path in sorted(files, key=lambda p: not is_boundary_file(p.name)):
            try:
                summary = do_import_area_file(path, create_missing=create_missing)
            except AreaFileError as exc:
                raise CommandError(str(exc)) from exc
            summaries.append(summary)
            if not as_json:
                self.stdout.write(", ".join(f"{k}: {v}" for k, v in summary.items()))
        if as_json:
            self.stdout.write(json.dumps(summaries))
