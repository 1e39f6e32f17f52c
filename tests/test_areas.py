"""Areas: imports of ONS/MHCLG files, groupings, custom polygons, and the figures shown."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
from conftest import DEMO, LOADED_MONTHS

from placewise.incidents.models import Incident
from placewise.lib.areafiles import AreaFileError
from placewise.places import actions, stats
from placewise.places.models import Area, AreaKind, AreaMembership

pytestmark = pytest.mark.django_db
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[-1.15, 52.62], [-1.12, 52.62], [-1.12, 52.64], [-1.15, 52.64], [-1.15, 52.62]]
    ],
}


def area_snapshot():
    return (
        Area.objects.count(),
        AreaMembership.objects.count(),
        sorted(Area.objects.filter(kind="lsoa").values_list("code", "population")),
    )


def test_demo_areas_loaded_with_population_and_deprivation():
    lsoa = Area.objects.get(kind=AreaKind.LSOA, code="E01013600")
    assert lsoa.population and lsoa.imd_decile and lsoa.crime_decile
    assert lsoa.vintage == "2011" and lsoa.geometry_dict["type"] in {"Polygon", "MultiPolygon"}
    with gzip.open(
        DEMO / "File_2_-_IoD2019_Domains_of_Deprivation_leicestershire.csv.gz",
        "rt",
        encoding="utf-8-sig",
    ) as f:
        row = next(line for line in f if line.startswith("E01013600"))
    assert int(row.split(",")[5]) == lsoa.imd_decile
    assert Area.objects.filter(kind=AreaKind.UNIT).count() == 9
    force = Area.objects.get(kind=AreaKind.FORCE)
    assert force.force_name == "Leicestershire Police"
    assert force.population == sum(
        Area.objects.filter(group_memberships__group=force).values_list("population", flat=True)
    )


def test_reimporting_boundaries_is_idempotent():
    before = area_snapshot()
    summary = actions.do_import_area_file(DEMO / "lsoa11_boundaries_leicestershire.geojson.gz")
    assert summary["created"] == 0 and summary["updated"] == 740
    assert area_snapshot() == before


@pytest.mark.parametrize(
    "geometry,message",
    [
        ({"type": "Point", "coordinates": [-1.1, 52.6]}, "Point, not a Polygon"),
        ({"type": "LineString", "coordinates": [[-1.1, 52.6], [-1.2, 52.7]]}, "LineString"),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[450000, 300000], [451000, 300000], [451000, 301000], [450000, 300000]]
                ],
            },
            "WGS84",
        ),
    ],
)
def test_boundary_file_that_is_not_polygons_is_refused_whole(tmp_path, geometry, message):
    good = {
        "type": "Feature",
        "properties": {"LSOA11CD": "E01099998", "LSOA11NM": "New 1"},
        "geometry": SQUARE,
    }
    bad = {
        "type": "Feature",
        "properties": {"LSOA11CD": "E01099999", "LSOA11NM": "New 2"},
        "geometry": geometry,
    }
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [good, bad]}))
    before = area_snapshot()
    with pytest.raises(AreaFileError) as err:
        actions.do_import_area_file(path)
    assert "bad.geojson: feature 2 (E01099999)" in str(err.value)
    assert message in str(err.value)
    assert area_snapshot() == before


def test_population_file_with_a_bad_number_changes_nothing(tmp_path):
    path = tmp_path / "pop.csv"
    path.write_text(
        "LSOA code (2011),LSOA name (2011),Local Authority District code (2019),"
        "Local Authority District name (2019),Total population: mid 2015 (excluding prisoners)\n"
        'E01013600,Leicester 001A,E06000016,Leicester,"1,500"\n'
        "E01013601,Leicester 001B,E06000016,Leicester,lots\n"
    )
    before = area_snapshot()
    with pytest.raises(AreaFileError, match=r"pop.csv: line 3: .*'lots' is not a number"):
        actions.do_import_area_file(path)
    assert area_snapshot() == before


def test_unrecognised_area_file_is_refused(tmp_path):
    path = tmp_path / "what.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(AreaFileError, match="what.csv: line 1: not a recognised area file"):
        actions.do_import_area_file(path)


def test_custom_polygon_counts_by_point_in_polygon(personas):
    area = actions.do_create_custom_area(personas["analyst"], "Test square", SQUARE)
    period = stats.Period(
        dt.date.fromisoformat(f"{LOADED_MONTHS[0]}-01"),
        dt.date.fromisoformat(f"{LOADED_MONTHS[1]}-01"),
    )
    fig = stats.figures(area, period, stats.default_scheme())
    # Independently: a plain loop over every incident in the two months.
    (x0, y0), (x1, y1) = SQUARE["coordinates"][0][0], SQUARE["coordinates"][0][2]
    expected = sum(
        1
        for lon, lat in Incident.objects.exclude(longitude=None).values_list(
            "longitude", "latitude"
        )
        if x0 < lon < x1 and y0 < lat < y1
    )
    assert expected > 100
    assert fig.incidents == expected


def test_custom_polygon_upload_that_is_a_point_is_refused(personas):
    with pytest.raises(AreaFileError, match="not a Polygon"):
        actions.do_create_custom_area(
            personas["analyst"], "Pt", {"type": "Point", "coordinates": [0, 0]}
        )
    assert not Area.objects.filter(kind=AreaKind.CUSTOM).exists()


def test_define_group_from_lsoas_sums_population(personas):
    codes = ["E01013600", "E01013601", "E01013602"]
    area = actions.do_define_group(personas["analyst"], AreaKind.IMPACT_AREA, "Test IA", codes)
    pops = Area.objects.filter(kind="lsoa", code__in=codes).values_list("population", flat=True)
    assert area.population == sum(pops)
    assert area.geometry_dict["type"] in {"Polygon", "MultiPolygon"}
    with pytest.raises(AreaFileError, match="unknown LSOA codes: E01999999"):
        actions.do_define_group(personas["analyst"], AreaKind.IMPACT_AREA, "X", ["E01999999"])


def test_group_incidents_equal_sum_of_member_lsoas():
    unit = Area.objects.filter(kind=AreaKind.UNIT).first()
    period = stats.default_period()
    members = Area.objects.filter(group_memberships__group=unit).values_list("code", flat=True)
    expected = Incident.objects.filter(lsoa_code__in=list(members)).count()
    assert stats.figures(unit, period, None).incidents == expected


def test_lsoa_figures_rate_and_harm_computed_from_rows():
    lsoa = Area.objects.get(kind=AreaKind.LSOA, code="E01013600")
    period = stats.default_period()
    scheme = stats.default_scheme()
    weights = scheme.weights()
    rows = list(Incident.objects.filter(lsoa_code=lsoa.code).values_list("category", flat=True))
    fig = stats.figures(lsoa, period, scheme)
    assert fig.incidents == len(rows)
    assert fig.harm == pytest.approx(sum(weights[c] for c in rows))
    assert fig.rate_per_1000 == pytest.approx(1000 * len(rows) / lsoa.population)
    force = stats.force_for(lsoa)
    assert force.kind == AreaKind.FORCE
    assert stats.figures(force, period, scheme).incidents == Incident.objects.count()


def test_default_period_is_clipped_to_the_data():
    period = stats.default_period("1990-01", "2099-12")
    assert (f"{period.start:%Y-%m}", f"{period.end:%Y-%m}") == LOADED_MONTHS
    assert stats.default_period("garbage", None).end == period.end


def test_group_population_follows_a_new_population_file(tmp_path):
    force = Area.objects.get(kind=AreaKind.FORCE)
    lsoa = Area.objects.get(kind=AreaKind.LSOA, code="E01013600")
    path = tmp_path / "pop.csv"
    path.write_text(
        "LSOA code (2011),LSOA name (2011),Local Authority District code (2019),"
        "Local Authority District name (2019),Total population: mid 2015 (excluding prisoners)\n"
        f"E01013600,Leicester 001A,E06000016,Leicester,{lsoa.population + 1000}\n"
    )
    before = force.population
    actions.do_import_area_file(path)
    force.refresh_from_db()
    assert force.population == before + 1000
