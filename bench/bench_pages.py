"""Page speed: the home page, the map GeoJSON and area pages with 24 months loaded.

Loads a fresh bench database like ``load_demo`` does (harm scheme, the bundled Leicestershire
LSOA boundaries, centroids, population and deprivation files, the demo groups CSV), plus the
24 Leicestershire police.uk months (2019-12..2021-11) with ``do_import_files``; creates a
user with role "analyst"; then, with the Django test client logged in as that user (no
network, no web server: the view, middleware and template cost), requests each page 5 times
to warm up and 50 times timed, and prints median and p95 (nearest rank) in ms and the body
size in bytes.

Aim: p95 under 300 ms for the home page and the area pages.

    .venv/bin/python bench/bench_pages.py [--database sqlite|postgres|both]   (default sqlite)
"""

from __future__ import annotations

import json
import math
import re
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import _common as common

WARMUP = 5
TIMED = 50
AIM_MS = 300.0


def load_data() -> dict:
    """What load_demo loads (areas, groups, harm scheme) plus the 24 months; timed per step."""
    from placewise.incidents.actions import do_import_files

    steps = common.load_demo_places()
    t0 = time.perf_counter()
    run = do_import_files(None, common.street_files(), source="bench")
    steps["24 police.uk months"] = time.perf_counter() - t0
    print(
        f"  incidents: {run.status}, {run.rows_imported:,} imported, "
        f"{run.rows_rejected:,} rejected",
        flush=True,
    )
    return steps


def pick_areas() -> dict:
    """One area of each kind: the busiest LSOA and the largest unit and neighbourhood."""
    from django.db.models import Count, Sum

    from placewise.incidents.models import MonthlyCount
    from placewise.places.models import Area, AreaKind
    from placewise.places.stats import default_period

    period = default_period()
    busiest = (
        MonthlyCount.objects.filter(month__gte=period.start, month__lte=period.end)
        .exclude(lsoa_code="")
        .values_list("lsoa_code")
        .annotate(t=Sum("n"))
        .order_by("-t", "lsoa_code")
        .first()
    )

    def largest(kind):
        return (
            Area.objects.filter(kind=kind)
            .annotate(m=Count("memberships"))
            .order_by("-m", "code")
            .first()
        )

    return {
        "lsoa": Area.objects.get(kind=AreaKind.LSOA, code=busiest[0]),
        "unit": largest(AreaKind.UNIT),
        "force": Area.objects.filter(kind=AreaKind.FORCE).order_by("code").first(),
        "neighbourhood": largest(AreaKind.NEIGHBOURHOOD),
    }


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def time_page(client, url: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        body(response)
    times = []
    size = 0
    for _ in range(TIMED):
        t0 = time.perf_counter()
        response = client.get(url)
        size = len(body(response))
        times.append((time.perf_counter() - t0) * 1000)
    with CaptureQueriesContext(connection) as queries:
        content = body(client.get(url))
    shapes = Counter(re.sub(r"\b\d+\b", "N", q["sql"]) for q in queries.captured_queries)
    repeated = [(n, sql) for sql, n in shapes.most_common(3) if n >= 5]
    ordered = sorted(times)
    return {
        "url": url,
        "median": statistics.median(times),
        "p95": ordered[math.ceil(0.95 * len(ordered)) - 1],
        "min": ordered[0],
        "max": ordered[-1],
        "bytes": size,
        "queries": len(queries.captured_queries),
        "repeated": repeated,
        "content": content,
    }


def bench_one(database: str) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"placewise-bench-pages-{database}-"))
    common.configure(database, tmp)
    version = common.server_versions()
    print(f"{version}; temp folder {tmp}; {common.load()}")
    print("Loading areas, groups, harm scheme and 24 months:")
    steps = load_data()
    for name, seconds in steps.items():
        print(f"  {seconds:6.2f} s  {name}")

    from django.test import Client

    from placewise.accounts.models import Role, User

    user = User.objects.create_user(
        username="bench_analyst", password="bench-only-password-1", role=Role.ANALYST
    )
    client = Client()
    client.force_login(user)
    areas = pick_areas()
    pages = [
        ("home", "/", True),
        ("home, harm", "/?measure=harm", True),
        ("map GeoJSON (12 months)", "/areas/map.geojson", False),
        ("map GeoJSON, harm (extra)", "/areas/map.geojson?measure=harm", False),
    ]
    for kind in ("lsoa", "unit", "force", "neighbourhood"):
        area = areas[kind]
        pages.append((f"area: {kind} ({area.name})", f"/areas/{area.pk}/", True))
    print(f"Timing: {WARMUP} warm-up requests then {TIMED} timed requests per page.")
    results = []
    for label, url, aimed in pages:
        r = time_page(client, url)
        r.update(label=label, aimed=aimed)
        results.append(r)
        print(
            f"  {label}: median {r['median']:.1f} ms, p95 {r['p95']:.1f} ms, "
            f"{r['bytes']:,} bytes, {r['queries']} queries",
            flush=True,
        )
    observations = observe(results, areas) + probe_month_range()
    for r in results:
        del r["content"]
    common.cleanup(database, tmp)
    result = {
        "database": database,
        "version": version,
        "load_steps": steps,
        "pages": results,
        "observations": observations,
        "load_after": common.load(),
    }
    report({database: result})
    return result


def probe_month_range() -> list[str]:
    """The first/last-month lookup every page makes, as one MIN+MAX query and as two."""
    from django.db.models import Max, Min

    from placewise.incidents.models import MonthlyCount

    force = MonthlyCount.objects.values_list("force", flat=True).first()
    rows = MonthlyCount.objects.filter(force=force)

    def median_ms(fn, n=50):
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)

    both = median_ms(lambda: rows.aggregate(first=Min("month"), last=Max("month")))
    apart = median_ms(
        lambda: (rows.aggregate(first=Min("month")), rows.aggregate(last=Max("month")))
    )
    return [
        f"month range of {MonthlyCount.objects.count():,} MonthlyCount rows: one "
        f"aggregate(Min, Max) query {both:.2f} ms (median of 50); separate Min and Max "
        f"queries {apart:.2f} ms together"
    ]


def observe(results: list[dict], areas: dict) -> list[str]:
    """Facts about what the pages show, worth knowing next to their speed."""
    from placewise.places.models import Area, AreaKind

    notes = []
    home = next(r for r in results if r["url"] == "/")
    groups = Area.objects.exclude(kind=AreaKind.LSOA).count()
    if b"No forces, units or neighbourhoods defined yet" in home["content"]:
        notes.append(
            f"home page: the Areas card says 'No forces, units or neighbourhoods defined yet.' "
            f"although {groups} forces/units/neighbourhoods are loaded"
        )
    for r in results:
        for n, sql in r["repeated"]:
            notes.append(f"{r['label']}: the same query shape runs {n} times per request: {sql}")
    geo = next(r for r in results if r["url"] == "/areas/map.geojson")
    features = json.loads(geo["content"])["features"]
    shaded = sum(1 for f in features if f["properties"]["value"])
    notes.append(f"map GeoJSON: {len(features)} LSOA features, {shaded} with a non-zero value")
    return notes


def report(results: dict) -> None:
    print("\n" + "=" * 100)
    print(f"Page timings (Django test client, analyst user); {common.machine()}")
    print(
        f"{WARMUP} warm-up + {TIMED} timed requests per page; p95 = nearest rank; "
        f"aim: p95 under {AIM_MS:.0f} ms for the home and area pages"
    )
    headers = ["database", "page", "median ms", "p95 ms", "max ms", "bytes", "queries", "aim"]
    rows = []
    for r in results.values():
        for p in r["pages"]:
            aim = ""
            if p["aimed"]:
                aim = "p95 under aim" if p["p95"] < AIM_MS else "p95 OVER aim"
            rows.append(
                [
                    r["database"],
                    p["label"],
                    f"{p['median']:.1f}",
                    f"{p['p95']:.1f}",
                    f"{p['max']:.1f}",
                    f"{p['bytes']:,}",
                    p["queries"],
                    aim,
                ]
            )
    print(common.table(headers, rows, right={2, 3, 4, 5, 6}))
    for r in results.values():
        for note in r["observations"]:
            print(f"{r['database']}: {note}")


def main() -> None:
    args = common.parse_args(__doc__.splitlines()[0], default="sqlite")
    if args.database == "both":
        tmp = Path(tempfile.mkdtemp(prefix="placewise-bench-pages-"))
        report(common.run_children(__file__, list(common.DATABASES), [], tmp))
        return
    result = bench_one(args.database)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
