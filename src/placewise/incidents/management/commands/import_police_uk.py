import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from placewise.incidents.actions import do_import_files


class Command(BaseCommand):
    help = (
        "Import police.uk street-level data: CSV files, folders of them (any depth) or zips as "
        "police.uk serves them. Re-importing a force's month replaces it."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, help="CSV files, folders or zips")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON summary object"
        )

    def handle(self, *args, paths, as_json=False, **options):
        bar = None
        if not as_json and options["verbosity"] > 0:
            bar = tqdm(total=0, unit="B", unit_scale=True, desc="importing", leave=False)

        def progress(run):
            if bar is not None:
                bar.total = run.bytes_total
                bar.n = run.bytes_done
                bar.set_postfix_str(run.current_file[-40:], refresh=True)

        run = do_import_files(None, paths, source="cli", on_progress=progress)
        if bar is not None:
            bar.close()
        summary = run.summary()
        if as_json:
            self.stdout.write(json.dumps(summary))
        else:
            self._print(run)
        if run.status != run.Status.SUCCEEDED:
            raise CommandError(f"import failed, nothing changed: {run.error}")

    def _print(self, run):
        if run.status != run.Status.SUCCEEDED:
            return
        self.stdout.write(
            f"Import {run.pk}: read {run.rows_read:,} rows, imported {run.rows_imported:,}, "
            f"rejected {run.rows_rejected:,}; {_months(run.months)}; "
            f"forces: {', '.join(run.forces)}"
        )
        for reason, n in run.rejections.items():
            self.stdout.write(f"  rejected {n:,}: {reason}")
        for note in run.notes:
            self.stdout.write(f"  note: {note}")


def _months(months: list[str]) -> str:
    if len(months) == 1:
        return f"1 month ({months[0]})"
    return f"{len(months)} months ({months[0]} to {months[-1]})"
