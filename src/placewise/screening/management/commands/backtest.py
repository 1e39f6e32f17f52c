import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from placewise.analysis.targeting import METHODS
from placewise.places.stats import parse_month
from placewise.screening.backtesting import BacktestRequest, run_backtest
from placewise.screening.management.commands.screen import _area
from placewise.screening.service import ScreeningError


class Command(BaseCommand):
    help = (
        "Back-test targeting methods: for each test month, train on the months before it and "
        "measure hit rate and PAI at the given shares of area. Prints a table or JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--level", choices=["lsoa", "grid"], default="lsoa")
        parser.add_argument("--cell-m", type=int, default=250)
        parser.add_argument("--test-from", required=True, help="first test month YYYY-MM")
        parser.add_argument("--test-to", required=True, help="last test month YYYY-MM")
        parser.add_argument("--train-months", type=int, default=12)
        parser.add_argument("--method", default="all", help=f"one of {', '.join(METHODS)} or all")
        parser.add_argument("--coverage", default="0.01,0.05,0.1", help="shares of area")
        parser.add_argument("--within", help="area code or id (default: the force)")
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, **o):
        months = [parse_month(o["test_from"]), parse_month(o["test_to"])]
        if None in months:
            raise CommandError("--test-from and --test-to must be months as YYYY-MM")
        try:
            coverages = tuple(float(c) for c in o["coverage"].split(",") if c.strip())
        except ValueError:
            raise CommandError(
                f"--coverage {o['coverage']!r}: give numbers like 0.01,0.05"
            ) from None
        methods = METHODS if o["method"] == "all" else (o["method"],)
        request = BacktestRequest(
            level=o["level"],
            test_from=months[0],
            test_to=months[1],
            train_months=o["train_months"],
            methods=methods,
            coverages=coverages,
            cell_m=o["cell_m"],
            within=_area(o["within"]),
        )
        started = time.perf_counter()
        try:
            result = run_backtest(request)
        except ScreeningError as exc:
            raise CommandError(str(exc)) from exc
        seconds = time.perf_counter() - started
        records = result.as_records()
        if o["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "methods": records,
                        "suggested": result.suggested,
                        "seconds": round(seconds, 2),
                    }
                )
            )
        else:
            self.stdout.write(
                f"{'method':<18} {'coverage':>8} {'hit rate':>9} {'PAI':>6}  95% interval"
            )
            for r in records:
                self.stdout.write(
                    f"{r['method']:<18} {r['coverage']:>8.2f} {_f(r['hit_rate']):>9} "
                    f"{_f(r['pai']):>6}  {_f(r['pai_low'])}–{_f(r['pai_high'])}"
                )
            self.stdout.write(f"suggested: {result.suggested}")
        print(f"back-test took {seconds:.1f} s", file=sys.stderr)


def _f(value) -> str:
    return "—" if value is None else f"{value:.2f}"
