import json
import sys

from django.core.management.base import BaseCommand, CommandError

from placewise.places.models import Area
from placewise.places.stats import parse_month
from placewise.screening.export import records, to_csv
from placewise.screening.service import (
    DEFAULT_MONTHS,
    DEFAULT_WEIGHTS,
    ScreeningError,
    ScreenParams,
    parse_weights,
    screen,
)


class Command(BaseCommand):
    help = (
        "Rank places by incidents, harm, trend and deprivation, with a Getis-Ord Gi* hotspot "
        "test (Benjamini-Hochberg corrected). Prints the ranked rows as CSV or JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--level", choices=["lsoa", "neighbourhood", "grid"], default="lsoa")
        parser.add_argument("--cell-m", type=int, default=250, help="grid cell size in metres")
        parser.add_argument("--end", help="last month YYYY-MM (default: the latest)")
        parser.add_argument("--months", type=int, default=DEFAULT_MONTHS, help="window length")
        parser.add_argument("--category", action="append", default=[], help="police.uk category")
        parser.add_argument(
            "--weights",
            default=",".join(f"{k}={v:g}" for k, v in DEFAULT_WEIGHTS.items()),
            help="e.g. volume=1,harm=1,trend=0.5,deprivation=0.5 (missing names are 0)",
        )
        parser.add_argument("--within", help="area code or id to screen (default: the force)")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")

    def handle(self, *args, **o):
        end = parse_month(o["end"]) if o["end"] else None
        if o["end"] and end is None:
            raise CommandError(f"--end {o['end']!r} is not a month as YYYY-MM")
        try:
            params = ScreenParams(
                level=o["level"],
                cell_m=o["cell_m"],
                end=end,
                months=o["months"],
                categories=tuple(o["category"]),
                weights=parse_weights(o["weights"]),
                within=_area(o["within"]),
            )
            result = screen(params)
        except ScreeningError as exc:
            raise CommandError(str(exc)) from exc
        rows = records(result.table)
        if o["format"] == "json":
            meta = {
                "level": params.level,
                "start": f"{result.start:%Y-%m}",
                "end": f"{result.end:%Y-%m}",
                "scope": result.scope_label,
                "harm_scheme": result.scheme_label,
                "neighbours": result.neighbours,
                "timings": result.timings,
            }
            self.stdout.write(json.dumps({**meta, "rows": rows}))
        else:
            self.stdout.write(to_csv(rows), ending="")
        print(
            f"screened {len(rows)} places, {result.start:%Y-%m} to {result.end:%Y-%m}; "
            + ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items()),
            file=sys.stderr,
        )


def _area(text):
    if not text:
        return None
    found = Area.objects.filter(code=text).first()
    if found is None and text.isdigit():
        found = Area.objects.filter(pk=int(text)).first()
    if found is None:
        raise CommandError(f"--within {text!r}: no area with that code or id")
    return found
