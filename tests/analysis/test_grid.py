"""Tests for British National Grid cells (no Django needed)."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from placewise.analysis.grid import (
    BRITISH_NATIONAL_GRID,
    MAX_CELL_M,
    MIN_CELL_M,
    WGS84,
    cell_area_km2,
    cell_centre,
    cell_id,
    cell_index,
    cell_polygon_lonlat,
    parse_cell_id,
    to_bng,
    validate_cell_size,
)

# Haymarket Memorial Clock Tower, Leicester: WGS84 position as published on Wikipedia, and
# the National Grid Reference of its Historic England listing (SK 58765 04626, to 1 m).
CLOCK_TOWER_LONLAT = (-1.1334417, 52.6362639)
CLOCK_TOWER_LISTED_EN = (458765.0, 304626.0)


def test_to_bng_matches_pyproj_directly():
    direct = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    lon = np.array([CLOCK_TOWER_LONLAT[0], -1.1339, -0.1276, -3.1883])
    lat = np.array([CLOCK_TOWER_LONLAT[1], 52.6363, 51.5072, 55.9533])
    easting, northing = to_bng(lon, lat)
    expected_e, expected_n = direct.transform(lon, lat)
    np.testing.assert_allclose(easting, expected_e, atol=1e-6)
    np.testing.assert_allclose(northing, expected_n, atol=1e-6)
    assert easting.dtype == np.float64


def test_clock_tower_against_published_values():
    easting, northing = to_bng(*CLOCK_TOWER_LONLAT)
    # What pyproj says for the Wikipedia position (Helmert datum shift, no OSTN15 grid).
    assert float(easting) == pytest.approx(458740.8, abs=0.5)
    assert float(northing) == pytest.approx(304631.7, abs=0.5)
    # The two published sources place the tower about 25 m apart (they pick different
    # points of the same junction), so this only checks agreement within 30 m.
    distance = np.hypot(easting - CLOCK_TOWER_LISTED_EN[0], northing - CLOCK_TOWER_LISTED_EN[1])
    assert distance < 30


def test_the_projection_is_the_ordnance_survey_national_grid():
    # The worked Transverse Mercator example in Ordnance Survey's "A guide to coordinate
    # systems in Great Britain": OSGB36 52°39'27.2531"N 1°43'4.5177"E is E 651409.903,
    # N 313177.270. This checks the projection half of to_bng's pipeline to the millimetre.
    osgb36 = Transformer.from_crs("EPSG:4277", BRITISH_NATIONAL_GRID, always_xy=True)
    lat = 52 + 39 / 60 + 27.2531 / 3600
    lon = 1 + 43 / 60 + 4.5177 / 3600
    easting, northing = osgb36.transform(lon, lat)
    assert easting == pytest.approx(651409.903, abs=0.001)
    assert northing == pytest.approx(313177.270, abs=0.001)


def test_missing_coordinates_give_nan_not_inf():
    easting, northing = to_bng([np.nan, -1.13, -1.13], [52.6, np.nan, 52.6])
    assert np.isnan(easting[:2]).all() and np.isnan(northing[:2]).all()
    assert np.isfinite([easting[2], northing[2]]).all()


def test_to_bng_scalars_and_empty():
    easting, northing = to_bng(-1.13, 52.6)
    assert easting.shape == () and np.isfinite(easting)
    assert to_bng([], [])[0].shape == (0,)


def test_cell_index_floors_including_negative_coordinates():
    ix, iy = cell_index([0.0, 249.999, 250.0, -0.5, 458741.0], [0, 0, 0, -250.0, 304632.0], 250)
    assert ix.dtype == np.int64 and iy.dtype == np.int64
    assert ix.tolist() == [0, 0, 1, -1, 1834]
    assert iy.tolist() == [0, 0, 0, -1, 1218]


def test_cell_index_refuses_missing_points():
    with pytest.raises(ValueError, match="1 point"):
        cell_index([1.0, np.nan], [1.0, 2.0], 250)


@pytest.mark.parametrize("cell_m", [50, 100, 250, 1000, 5000])
def test_cell_id_round_trip(cell_m):
    rng = np.random.default_rng(cell_m)
    easting = rng.uniform(0, 700_000, size=200)
    northing = rng.uniform(0, 1_300_000, size=200)
    ix, iy = cell_index(easting, northing, cell_m)
    ids = cell_id(ix, iy, cell_m)
    assert ids.shape == (200,)
    parsed = [parse_cell_id(text) for text in ids]
    assert [p[0] for p in parsed] == [cell_m] * 200
    assert [p[1] for p in parsed] == ix.tolist()
    assert [p[2] for p in parsed] == iy.tolist()
    # The point lies inside its cell.
    x, y = cell_centre(ix, iy, cell_m)
    assert (np.abs(easting - x) <= cell_m / 2).all() and (np.abs(northing - y) <= cell_m / 2).all()


def test_cell_id_format_and_negative_indices():
    assert cell_id(-3, 7, 100).tolist() == ["100m:-3:7"]
    assert parse_cell_id("100m:-3:7") == (100, -3, 7)


@pytest.mark.parametrize(
    "text",
    ["", "250:1:2", "250m:1", "250m:1:2:3", "m:1:2", "250m:a:2", "250M:1:2", " 250m:1:2", None],
)
def test_parse_cell_id_rejects_bad_text(text):
    with pytest.raises(ValueError, match="is not a grid cell id; expected '<metres>m:<ix>:<iy>'"):
        parse_cell_id(text)


def test_parse_cell_id_rejects_out_of_range_size():
    with pytest.raises(ValueError, match="cell size 10 m is outside 50-5000 m"):
        parse_cell_id("10m:1:2")


def test_cell_polygon_corners_round_trip():
    ix, iy, size = 1834, 1218, 250
    polygon = cell_polygon_lonlat(ix, iy, size)
    ring = np.array(polygon["coordinates"][0])
    assert polygon["type"] == "Polygon" and ring.shape == (5, 2)
    assert (ring[0] == ring[-1]).all()

    x0, y0 = ix * size, iy * size
    corners_x = np.array([x0, x0 + size, x0 + size, x0, x0], dtype=float)
    corners_y = np.array([y0, y0, y0 + size, y0 + size, y0], dtype=float)
    inverse = Transformer.from_crs(BRITISH_NATIONAL_GRID, WGS84, always_xy=True)
    lon, lat = inverse.transform(corners_x, corners_y)
    np.testing.assert_allclose(ring[:, 0], lon, atol=1e-6)
    np.testing.assert_allclose(ring[:, 1], lat, atol=1e-6)

    # And back to the grid: within a few centimetres (7-decimal rounding is about 1 cm).
    easting, northing = to_bng(ring[:, 0], ring[:, 1])
    np.testing.assert_allclose(easting, corners_x, atol=0.05)
    np.testing.assert_allclose(northing, corners_y, atol=0.05)


def test_cell_polygon_is_anticlockwise_and_contains_the_point():
    ring = np.array(cell_polygon_lonlat(1834, 1218, 250)["coordinates"][0])
    x, y = ring[:, 0], ring[:, 1]
    signed_area = 0.5 * np.sum(x[:-1] * y[1:] - x[1:] * y[:-1])
    assert signed_area > 0  # RFC 7946: exterior rings anticlockwise
    lon, lat = CLOCK_TOWER_LONLAT
    assert x.min() < lon < x.max() and y.min() < lat < y.max()


def test_cell_centre_and_area():
    x, y = cell_centre(np.array([0, 2]), np.array([-1, 3]), 500)
    assert x.tolist() == [250.0, 1250.0] and y.tolist() == [-250.0, 1750.0]
    assert cell_area_km2(250) == pytest.approx(0.0625)
    assert cell_area_km2(1000) == 1.0
    assert cell_area_km2(5000) == 25.0


def test_validate_cell_size_limits():
    assert (MIN_CELL_M, MAX_CELL_M) == (50, 5000)
    assert validate_cell_size(50) == 50
    assert validate_cell_size(5000.0) == 5000
    assert validate_cell_size(np.int64(250)) == 250


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (49, "cell size 49 m is outside 50-5000 m: below 50 m police.uk's snapping"),
        (5001, "above 5000 m a cell is bigger than most neighbourhoods"),
        (0, "cell size 0 m is outside 50-5000 m"),
        (-250, "cell size -250 m is outside 50-5000 m"),
        (250.5, "cell size 250.5 must be a whole number of metres"),
        (float("nan"), "must be a whole number of metres"),
        ("250", "cell size '250' must be a number of metres from 50 to 5000"),
        (True, "must be a number of metres"),
    ],
)
def test_validate_cell_size_messages(value, message):
    with pytest.raises(ValueError, match=message):
        validate_cell_size(value)
