import json

from django.core.management.base import BaseCommand

from placewise.incidents.status import data_status


class Command(BaseCommand):
    help = "What is loaded: incidents per force and month, rejected rows, areas by kind."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object"
        )

    def handle(self, *args, as_json=False, **options):
        status = data_status()
        if as_json:
            self.stdout.write(json.dumps(status))
            return
        self.stdout.write(f"Incidents: {status['incidents']:,}")
        for row in status["by_force_month"]:
            self.stdout.write(f"  {row['force']:<30} {row['month']}  {row['count']:>8,}")
        self.stdout.write(f"Rejected rows (current data): {status['rejected_rows']:,}")
        areas = ", ".join(f"{k} {v:,}" for k, v in status["areas"].items()) or "none"
        self.stdout.write(f"Areas: {areas}")
        last = status["last_import"]
        self.stdout.write(f"Last import: {last['finished_at'] if last else 'never'}")
