"""Screening and back-testing through the service, the command line and the pages."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from conftest import DEMO_ZIP
from django.core.management import CommandError, call_command

from placewise.accounts.models import AuditEntry
from placewise.incidents.actions import do_import_files
from placewise.incidents.models import Incident
from placewise.places.models import Area, AreaKind
from placewise.screening.models import ScreeningRun
from placewise.screening.service import (
    ScreeningError,
    ScreenParams,
    parse_weights,
    screen,
)

pytestmark = pytest.mark.django_db
REQUIRED = (
    "code",
    "name",
    "rank",
    "score",
    "incidents",
    "harm",
    "rate_per_1000",
    "trend",
    "imd_decile",
    "gi_z",
    "gi_p_adj",
    "hotspot",
)


@pytest.fixture
def year(db):
    """Twelve real months (2020-12 to 2021-11) of Leicestershire data."""
    run = do_import_files(None, [DEMO_ZIP], source="test")
    assert run.status == "succeeded" and len(run.months) == 12
    return run


def test_lsoa_screen_counts_rank_and_hotspots(year):
    result = screen(ScreenParams(level="lsoa", months=12))
    table = result.table
    force = Area.objects.get(kind=AreaKind.FORCE)
    codes = set(Area.objects.filter(group_memberships__group=force).values_list("code", flat=True))
    assert set(table.index) == codes and len(codes) == 611
    assert list(table["rank"]) == list(range(1, 612))
    assert table["score"].is_monotonic_decreasing
    # Incidents per LSOA, counted independently from the stored rows.
    sample = list(table.index[:5]) + list(table.index[-5:])
    for code in sample:
        assert table.loc[code, "incidents"] == Incident.objects.filter(lsoa_code=code).count()
    expected_hot = (table["gi_p_adj"] < 0.05) & (table["gi_z"] > 0)
    assert (table["hotspot"] == expected_hot).all() and expected_hot.sum() > 0
    parts = table[[c for c in table.columns if c.startswith("part_")]].sum(axis=1)
    assert np.allclose(parts, table["score"])
    assert result.start.isoformat() == "2020-12-01" and result.end.isoformat() == "2021-11-01"


def test_harm_weight_alone_ranks_by_harm(year):
    table = screen(ScreenParams(level="lsoa", months=12, weights=parse_weights("harm=1"))).table
    assert table["harm"].is_monotonic_decreasing


def test_category_filter(year):
    table = screen(
        ScreenParams(level="lsoa", months=12, categories=("Anti-social behaviour",))
    ).table
    assert (table["incidents"] == table["asb"]).all()
    force = Area.objects.get(kind=AreaKind.FORCE)
    codes = list(Area.objects.filter(group_memberships__group=force).values_list("code", flat=True))
    asb = Incident.objects.filter(category="Anti-social behaviour", lsoa_code__in=codes).count()
    assert table["incidents"].sum() == asb


def test_neighbourhood_and_grid_levels(year):
    hoods = screen(ScreenParams(level="neighbourhood", months=12)).table
    assert len(hoods) == 125
    one = Area.objects.get(kind=AreaKind.NEIGHBOURHOOD, code=hoods.index[0])
    members = list(one.memberships.values_list("lsoa__code", flat=True))
    assert hoods.iloc[0]["incidents"] == Incident.objects.filter(lsoa_code__in=members).count()
    cells = screen(ScreenParams(level="grid", cell_m=500, months=12)).table
    located = Incident.objects.filter(force="Leicestershire Police").exclude(easting=None).count()
    assert cells["incidents"].sum() == located
    ix, iy = cells.index[0].split(":")
    assert int(ix) > 0 and int(iy) > 0


@pytest.mark.parametrize(
    "params,message",
    [
        (ScreenParams(level="lsoa", months=6), "at least 12 months"),
        (
            ScreenParams(level="lsoa", months=12, end=__import__("datetime").date(2019, 1, 1)),
            "outside the data",
        ),
        (ScreenParams(level="grid", cell_m=10, months=12), "10"),
        (ScreenParams(level="grid", cell_m=100000, months=12), "100000"),
        (ScreenParams(level="county", months=12), "not one of: lsoa, neighbourhood, grid"),
        (ScreenParams(level="lsoa", months=12, categories=("Jaywalking",)), "unknown category"),
        (ScreenParams(level="lsoa", months=12, weights={"volume": -1.0}), "zero or more"),
        (ScreenParams(level="lsoa", months=12, weights={"volume": 0.0}), "above zero"),
    ],
)
def test_bad_screens_explain_themselves(year, params, message):
    before = ScreeningRun.objects.count()
    with pytest.raises(ScreeningError, match=message):
        screen(params)
    assert ScreeningRun.objects.count() == before


def test_too_few_months_of_data(db):
    with pytest.raises(ScreeningError, match="only 2 months of data"):
        screen(ScreenParams(level="lsoa", months=12))


def test_level_with_no_areas(year):
    Area.objects.filter(kind=AreaKind.NEIGHBOURHOOD).delete()
    with pytest.raises(ScreeningError, match="no neighbourhood places"):
        screen(ScreenParams(level="neighbourhood", months=12))


def test_bad_weights_text():
    for text, message in [
        ("volume=x", "not a number"),
        ("speed=1", "NAME one of"),
        ("harm=0", "above zero"),
    ]:
        with pytest.raises(ScreeningError, match=message):
            parse_weights(text)


def test_screen_command_json_and_csv(year, capsys):
    call_command(
        "screen", "--level", "lsoa", "--months", "12", "--format", "json", "--weights", "harm=1"
    )
    data = json.loads(capsys.readouterr().out)
    assert len(data["rows"]) == 611 and set(REQUIRED) <= set(data["rows"][0])
    assert data["rows"][0]["rank"] == 1 and data["start"] == "2020-12"
    call_command("screen", "--months", "12", "--category", "Burglary")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 611 and set(REQUIRED) <= set(rows[0])
    with pytest.raises(CommandError, match="at least 12"):
        call_command("screen", "--months", "3")


def test_backtest_command_json(year, capsys):
    call_command(
        "backtest",
        "--level",
        "grid",
        "--test-from",
        "2021-07",
        "--test-to",
        "2021-11",
        "--train-months",
        "6",
        "--format",
        "json",
    )
    data = json.loads(capsys.readouterr().out)
    keys = {"method", "coverage", "hit_rate", "pai", "pai_low", "pai_high"}
    assert data["methods"] and all(set(r) >= keys for r in data["methods"])
    five = {r["method"]: r["pai"] for r in data["methods"] if r["coverage"] == 0.05}
    assert data["suggested"] == max(five, key=five.get)
    with pytest.raises(CommandError, match="training"):
        call_command(
            "backtest", "--test-from", "2021-01", "--test-to", "2021-02", "--train-months", "12"
        )


def test_screening_page_save_export_and_brief(year, client_for):
    c = client_for("supervisor")
    query = {
        "level": "lsoa",
        "months": "12",
        "w_volume": "1",
        "w_harm": "1",
        "w_trend": "0.5",
        "w_deprivation": "0.5",
    }
    page = c.get("/screening/", query).content.decode()
    assert 'id="place-count">611<' in page and "hotspot" in page
    response = c.post("/screening/", {**query, "title": "Q1 tasking"})
    run = ScreeningRun.objects.get(title="Q1 tasking")
    assert response["Location"] == f"/screening/runs/{run.pk}/"
    assert run.place_count == 611 and run.rows[0]["rank"] == 1
    assert AuditEntry.objects.filter(action="save_screening_run", object_id=str(run.pk)).exists()
    exported = list(
        csv.DictReader(io.StringIO(c.get(f"/screening/runs/{run.pk}.csv").content.decode()))
    )
    assert [r["code"] for r in exported] == [r["code"] for r in run.rows]
    geo = json.loads(c.get(f"/screening/runs/{run.pk}.geojson").content)
    assert len(geo["features"]) == 611 and geo["features"][0]["properties"]["rank"] == 1
    top = run.rows[0]["code"]
    brief = client_for("officer").get(f"/screening/runs/{run.pk}/brief/{top}/").content.decode()
    assert (
        "Justification brief" in brief and "Top categories" in brief and "Ranked <strong>1" in brief
    )


def test_screening_page_shows_errors(year, client_for):
    page = client_for("analyst").get("/screening/", {"level": "grid", "cell_m": "5"})
    assert "The screen could not run" in page.content.decode()


def test_backtest_page_names_the_suggested_method(year, client_for):
    page = client_for("analyst").get(
        "/screening/backtest/",
        {"level": "lsoa", "test_from": "2021-07", "test_to": "2021-11", "train_months": "6"},
    )
    text = page.content.decode()
    assert 'id="suggested"' in text and "Suggested method on this data" in text


def test_area_page_shows_seasonal_demand(year, client_for):
    force = Area.objects.get(kind=AreaKind.FORCE)
    text = client_for("officer").get(f"/areas/{force.pk}/").content.decode()
    assert 'id="seasonal-demand"' in text and "Next six months" in text


def test_backtest_is_kept_and_its_suggestion_shown_when_screening(year, client_for):
    from placewise.screening.models import BacktestRun

    c = client_for("analyst")
    c.get(
        "/screening/backtest/",
        {"level": "grid", "test_from": "2021-08", "test_to": "2021-11", "train_months": "6"},
    )
    saved = BacktestRun.objects.get()
    five = {r["method"]: r["pai"] for r in saved.records if r["coverage"] == 0.05}
    assert (
        saved.suggested == max(five, key=five.get)
        and saved.suggested_pai() == five[saved.suggested]
    )
    page = c.get("/screening/").content.decode()
    assert 'id="suggested-method"' in page and saved.suggested in page
    assert AuditEntry.objects.filter(action="save_backtest").exists()


def test_concentration_chart_on_the_screening_page(year, client_for):
    page = client_for("analyst").get("/screening/", {"level": "lsoa", "months": "12"})
    text = page.content.decode()
    assert 'id="concentration"' in text and "<polyline" in text


def test_the_grid_ring_is_every_cell_and_its_eight_neighbours_once():
    """The vectorised ring equals the plain set of (x + dx, y + dy), in (x, y) order."""
    import numpy as np
    import pandas as pd
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from placewise.screening.service import grid_ring

    @settings(max_examples=60, deadline=None)
    @given(
        st.sets(st.tuples(st.integers(-3, 3000), st.integers(-3, 5000)), min_size=1, max_size=60)
    )
    def check(cells):
        ids = pd.Index([f"{x}:{y}" for x, y in cells])
        x, y, rx, ry, position = grid_ring(ids)
        expected = sorted(
            {(a + dx, b + dy) for a, b in cells for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
        )
        assert list(zip(rx.tolist(), ry.tolist(), strict=True)) == expected
        assert [(rx[p], ry[p]) for p in position] == [tuple(map(int, i.split(":"))) for i in ids]
        assert np.array_equal(x, rx[position]) and np.array_equal(y, ry[position])

    check()
