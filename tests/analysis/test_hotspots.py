"""Tests for spatial neighbours and Getis-Ord Gi* hotspots (no Django or database needed).

Gi* z-values are checked against esda's ``G_Local`` (the PySAL reference implementation)
with weights built from the same neighbours, on a hand-made grid and on real Leicestershire
data: one month of police.uk street crime and the ONS LSOA 2011 boundaries.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import gzip
import json
import math
import os
import warnings
from pathlib import Path

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
from conftest import DEMO, SHARED_DATA
from scipy import sparse
from shapely.geometry import Polygon, box, shape
from statsmodels.stats.multitest import multipletests

from placewise.analysis.hotspots import (
    CORRECTIONS,
    METRES_PER_DEGREE,
    Neighbours,
    benjamini_hochberg,
    contiguity_neighbours,
    distance_band_neighbours,
    getis_ord_gi_star,
    grid_neighbours,
)

BOUNDARIES = DEMO / "lsoa11_boundaries_leicestershire.geojson.gz"
GROUPS = DEMO / "groups_leicestershire.csv"
STREET_2021_06 = (
    SHARED_DATA / "police_uk" / "leicestershire" / "2021-06" / "2021-06-leicestershire-street.csv"
)
FORCE_LSOAS = 611
METHODS_DOC = Path(__file__).resolve().parents[2] / "docs" / "methods" / "hotspots.md"

# Figures for June 2021 quoted in docs/methods/hotspots.md; this test module keeps them true.
JUNE_2021_ROWS = 9299
JUNE_2021_IN_FORCE_LSOAS = 9217
JUNE_2021_HOTSPOTS_BH = 21
JUNE_2021_HOTSPOT_INCIDENTS = 1225
JUNE_2021_QUEEN_PAIRS = 1781


# --- helpers -------------------------------------------------------------------------------


def real_file_or_skip(path: Path) -> Path:
    """A real data file; its absence fails in CI and skips elsewhere."""
    if path.exists():
        return path
    if os.environ.get("CI"):
        pytest.fail(f"real data file {path} is missing in CI")
    pytest.skip(f"real data file {path} is not present on this machine")


def to_libpysal(nb: Neighbours) -> libpysal.weights.W:
    """libpysal weights with exactly the neighbours of ``nb`` (binary, no self-weight)."""
    neighbours = {
        place: [nb.ids[k] for k in nb.matrix[row].indices] for row, place in enumerate(nb.ids)
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands and disconnected components warn
        return libpysal.weights.W(neighbours, id_order=list(nb.ids))


def esda_gi_star_z(values: np.ndarray, nb: Neighbours) -> np.ndarray:
    local = esda.getisord.G_Local(
        np.asarray(values, dtype=float), to_libpysal(nb), star=True, transform="B", permutations=0
    )
    return local.Zs


def pair_set(nb: Neighbours) -> set[tuple]:
    coo = nb.matrix.tocoo()
    return {(nb.ids[i], nb.ids[j]) for i, j in zip(coo.row, coo.col, strict=True)}


def libpysal_pair_set(w: libpysal.weights.W) -> set[tuple]:
    return {(i, j) for i, neighbours in w.neighbors.items() for j in neighbours}


def hot_corner_grid() -> tuple[Neighbours, np.ndarray]:
    """An 8 x 6 grid of counts around 2, with a 3 x 3 block of high counts at (0, 0)."""
    rng = np.random.default_rng(20210601)
    ix, iy = np.meshgrid(np.arange(8), np.arange(6), indexing="ij")
    counts = rng.poisson(2, size=ix.shape)
    counts[:3, :3] += 12
    return grid_neighbours(ix.ravel(), iy.ravel()), counts.ravel()


@pytest.fixture(scope="module")
def force_polygons() -> tuple[tuple[str, ...], list]:
    """The 611 LSOAs of the Leicestershire force area: codes and shapely polygons."""
    with real_file_or_skip(GROUPS).open(newline="") as f:
        force = {row["lsoa_code"] for row in csv.DictReader(f) if row["kind"] == "force"}
    with gzip.open(real_file_or_skip(BOUNDARIES), "rt", encoding="utf-8") as f:
        features = json.load(f)["features"]
    kept = [f for f in features if f["properties"]["LSOA11CD"] in force]
    assert len(kept) == len(force) == FORCE_LSOAS
    return tuple(f["properties"]["LSOA11CD"] for f in kept), [shape(f["geometry"]) for f in kept]


@pytest.fixture(scope="module")
def june_2021_counts(force_polygons) -> np.ndarray:
    """All-crime counts per force-area LSOA, 2021-06, in ``force_polygons`` order."""
    ids, _ = force_polygons
    with real_file_or_skip(STREET_2021_06).open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == JUNE_2021_ROWS
    per_lsoa = collections.Counter(row["LSOA code"] for row in rows)
    # Rows with no location or in another force's LSOAs are not counted: the rest are.
    counts = np.array([per_lsoa[code] for code in ids])
    assert counts.sum() == JUNE_2021_IN_FORCE_LSOAS
    return counts


# --- Gi* against esda ----------------------------------------------------------------------


def test_gi_star_matches_esda_on_hand_made_grid_with_hot_corner():
    nb, counts = hot_corner_grid()

    result = getis_ord_gi_star(counts, nb)

    np.testing.assert_allclose(result["gi_z"], esda_gi_star_z(counts, nb), rtol=1e-9, atol=0)
    assert result.loc[[(0, 0), (1, 1)], "hotspot"].all()
    assert result["gi_z"].idxmax() in {(0, 0), (1, 1), (0, 1), (1, 0)}
    # Every hotspot touches the hot block; nothing at the far side of the grid is hot.
    assert all(ix <= 3 and iy <= 3 for ix, iy in result.index[result["hotspot"]])


def test_gi_star_worked_by_hand_on_a_path_of_three():
    # a - b - c with values 1, 2, 3: mean 2, S = sqrt(2/3) (population), n = 3.
    # a: W = 2 (a and b), sum 3, z = (3 - 2 * 2) / (S * sqrt((3 * 2 - 4) / 2)) = -sqrt(3/2).
    # b neighbours everyone: W = n, numerator and spread both 0, so z = 0 by definition.
    m = sparse.csr_matrix([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    nb = Neighbours(ids=("a", "b", "c"), matrix=m, description="path")

    result = getis_ord_gi_star([1, 2, 3], nb, correction="none")

    np.testing.assert_allclose(result["gi_z"], [-math.sqrt(1.5), 0, math.sqrt(1.5)], rtol=1e-12)
    assert result.loc["b", "gi_p"] == 1.0
    assert result.loc["a", "gi_p"] == pytest.approx(2 * 0.5 * math.erfc(math.sqrt(1.5 / 2)))


def test_gi_star_matches_esda_on_real_leicestershire_june_2021(force_polygons, june_2021_counts):
    ids, polygons = force_polygons
    nb = contiguity_neighbours(polygons, ids)

    result = getis_ord_gi_star(june_2021_counts, nb)

    reference = esda_gi_star_z(june_2021_counts, nb)
    np.testing.assert_allclose(result["gi_z"], reference, rtol=1e-9, atol=0)
    # The same weights through libpysal's sparse route give the same answer.
    from_sparse = libpysal.weights.WSP(nb.matrix, id_order=list(ids)).to_W()
    local = esda.getisord.G_Local(
        june_2021_counts.astype(float), from_sparse, star=True, transform="B", permutations=0
    )
    np.testing.assert_allclose(result["gi_z"], local.Zs, rtol=1e-9, atol=0)
    np.testing.assert_allclose(result["gi_p"], 2 * local.p_norm, rtol=1e-9, atol=0)
    assert list(result.index) == list(ids)


def test_real_june_2021_figures_quoted_in_the_methods_doc(force_polygons, june_2021_counts):
    ids, polygons = force_polygons
    nb = contiguity_neighbours(polygons, ids)
    result = getis_ord_gi_star(june_2021_counts, nb)
    uncorrected = getis_ord_gi_star(june_2021_counts, nb, correction="none")["hotspot"].sum()
    bonferroni = getis_ord_gi_star(june_2021_counts, nb, correction="bonferroni")["hotspot"].sum()

    hot = result["hotspot"].to_numpy()
    assert hot.sum() == JUNE_2021_HOTSPOTS_BH
    assert june_2021_counts[hot].sum() == JUNE_2021_HOTSPOT_INCIDENTS
    assert result["coldspot"].sum() == 0
    assert (uncorrected, bonferroni) == (44, 16)
    doc = " ".join(METHODS_DOC.read_text(encoding="utf-8").split())
    for phrase in (
        f"{JUNE_2021_HOTSPOTS_BH} of the {FORCE_LSOAS} LSOAs are hotspots",
        f"{JUNE_2021_HOTSPOT_INCIDENTS:,} of the {JUNE_2021_IN_FORCE_LSOAS:,} located records",
        f"{uncorrected} hotspots with no correction, {bonferroni} with Bonferroni",
        f"{JUNE_2021_ROWS:,} records",
        f"({JUNE_2021_QUEEN_PAIRS:,} neighbour pairs",
    ):
        assert phrase in doc, phrase


# --- contiguity ----------------------------------------------------------------------------


def test_contiguity_on_real_polygons_equals_libpysal_queen(force_polygons):
    ids, polygons = force_polygons
    nb = contiguity_neighbours(polygons, ids)

    from_iterable = libpysal.weights.Queen.from_iterable(polygons, ids=list(ids))
    frame = gpd.GeoDataFrame({"code": ids}, geometry=polygons, crs="OGC:CRS84")
    from_frame = libpysal.weights.Queen.from_dataframe(frame, ids="code", use_index=False)

    assert pair_set(nb) == libpysal_pair_set(from_iterable) == libpysal_pair_set(from_frame)
    assert nb.matrix.nnz == 2 * JUNE_2021_QUEEN_PAIRS


def test_contiguity_scale_check_on_611_real_polygons(force_polygons):
    ids, polygons = force_polygons

    nb = contiguity_neighbours(polygons, ids)

    m = nb.matrix
    assert m.shape == (FORCE_LSOAS, FORCE_LSOAS)
    assert (m != m.T).nnz == 0
    assert not m.diagonal().any()
    assert set(m.data) == {1.0}
    assert nb.islands == ()
    assert nb.cardinalities().min() >= 1
    assert nb.description == "queen contiguity (shared boundary or corner)"


def test_contiguity_counts_corner_on_edge_where_libpysal_needs_a_shared_vertex():
    # B's corner (1, 1) lies inside A's top edge, and C shares part of A's top edge without
    # sharing a vertex with A. Both touch A on the ground; libpysal's queen matches vertices
    # exactly and so misses both, while the shapely intersection test finds them. The
    # published LSOA boundaries are topologically clean, so the two agree on real data.
    a = box(0, 0, 4, 1)
    b = Polygon([(1, 1), (1.5, 2), (0.5, 2)])
    c = box(2.5, 1, 3.5, 2)
    nb = contiguity_neighbours([a, b, c], ["a", "b", "c"])

    assert pair_set(nb) == {("a", "b"), ("b", "a"), ("a", "c"), ("c", "a")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns that every polygon is an island
        queen = libpysal.weights.Queen.from_iterable([a, b, c], ids=["a", "b", "c"])
    assert libpysal_pair_set(queen) == set()


def test_contiguity_tolerance_in_metres_and_in_degrees():
    gap = 10.0  # metres between two squares side by side
    metres = [box(0, 0, 100, 100), box(100 + gap, 0, 200, 100)]
    assert contiguity_neighbours(metres, ["a", "b"]).islands == ("a", "b")
    near = contiguity_neighbours(metres, ["a", "b"], tolerance_m=gap, crs_units="metres")
    assert near.islands == ()
    assert near.description == "queen contiguity (shared boundary or corner, gaps up to 10 m)"

    # The same 10 m gap east-west and north-south at Leicester's latitude, in degrees.
    lat = 52.6
    dlon = gap / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    dlat = gap / METRES_PER_DEGREE
    side = 0.001
    west = box(-1.1 - side, lat, -1.1, lat + side)
    east = box(-1.1 + dlon, lat, -1.1 + dlon + side, lat + side)
    north = box(-1.1 - side, lat + side + dlat, -1.1, lat + 2 * side + dlat)
    polygons, ids = [west, east, north], ["west", "east", "north"]
    for tolerance, expected in ((gap * 0.9, 0), (gap * 1.1, 2)):
        nb = contiguity_neighbours(polygons, ids, tolerance_m=tolerance, crs_units="degrees")
        assert nb.cardinalities()[0] == expected, tolerance


def test_contiguity_tolerance_needs_valid_units():
    squares = [box(0, 0, 1, 1), box(2, 0, 3, 1)]
    for units in (None, "feet"):
        with pytest.raises(ValueError, match="crs_units must be one of 'degrees', 'metres'"):
            contiguity_neighbours(squares, ["a", "b"], tolerance_m=1, crs_units=units)
    with pytest.raises(ValueError, match="tolerance_m"):
        contiguity_neighbours(squares, ["a", "b"], tolerance_m=-1, crs_units="metres")


def test_contiguity_accepts_a_geoseries_and_multipolygons():
    two_parts = box(0, 0, 1, 1).union(box(5, 0, 6, 1))
    series = gpd.GeoSeries([two_parts, box(6, 0, 7, 1), box(10, 0, 11, 1)])

    nb = contiguity_neighbours(series, pd.Index(["x", "y", "z"]))

    assert nb.ids == ("x", "y", "z")
    assert nb.islands == ("z",)


# --- grid and distance band ----------------------------------------------------------------


def test_grid_neighbours_hand_checked_with_a_hole_and_an_island():
    #  row 2:  .  C  .          cells present: A(0,0) B(1,0) D(2,0) C(1,2) E(3,1) F(9,9)
    #  row 1:  .  .  .  E       A-B edge; B-D edge; D-E corner; C is two rows up from B,
    #  row 0:  A  B  D  .       so it has no neighbour. F is far away.
    ix = [0, 1, 1, 2, 3, 9]
    iy = [0, 0, 2, 0, 1, 9]

    nb = grid_neighbours(ix, iy)

    assert nb.ids == ((0, 0), (1, 0), (1, 2), (2, 0), (3, 1), (9, 9))
    expected = {((0, 0), (1, 0)), ((1, 0), (2, 0)), ((2, 0), (3, 1))}
    assert pair_set(nb) == expected | {(b, a) for a, b in expected}
    assert nb.islands == ((1, 2), (9, 9))
    assert nb.cardinalities().tolist() == [1, 2, 0, 2, 1, 0]


def test_grid_neighbours_full_lattice_equals_libpysal_queen_lattice():
    rows, cols = 4, 5
    iy, ix = np.divmod(np.arange(rows * cols), cols)  # libpysal numbers cells row by row

    nb = grid_neighbours(ix, iy)

    lattice = libpysal.weights.lat2W(rows, cols, rook=False)
    expected = {(nb.ids[i], nb.ids[j]) for i, j in libpysal_pair_set(lattice)}
    assert pair_set(nb) == expected
    assert sorted(nb.cardinalities().tolist()) == sorted(lattice.cardinalities.values())


def test_grid_neighbours_negative_and_float_whole_indices():
    nb = grid_neighbours(np.array([-1.0, 0.0]), np.array([-1.0, 0.0]))
    assert nb.ids == ((-1, -1), (0, 0))
    assert nb.islands == ()


def test_distance_band_hand_checked_with_island_and_boundary_distance():
    # 3-4-5 triangle: a-b 3 m, b-c 4 m, a-c 5 m (exactly the threshold, so included);
    # d is 100 m away from everything.
    x = [0, 3, 3, 103]
    y = [0, 0, 4, 4]

    nb = distance_band_neighbours(x, y, 5, ["a", "b", "c", "d"])

    expected = {("a", "b"), ("b", "c"), ("a", "c")}
    assert pair_set(nb) == expected | {(b, a) for a, b in expected}
    assert nb.islands == ("d",)
    shorter = distance_band_neighbours(x, y, 4.5, ["a", "b", "c", "d"])
    assert shorter.cardinalities().tolist() == [1, 2, 1, 0]


def test_distance_band_equals_libpysal_distance_band():
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 2000, size=(200, 2))

    nb = distance_band_neighbours(xy[:, 0], xy[:, 1], 250, list(range(200)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about islands
        band = libpysal.weights.DistanceBand(xy, threshold=250, binary=True, silence_warnings=True)
    assert pair_set(nb) == libpysal_pair_set(band)
    assert nb.islands == tuple(sorted(band.islands))


# --- multiple testing ----------------------------------------------------------------------


def test_benjamini_hochberg_equals_statsmodels():
    rng = np.random.default_rng(1995)
    p = np.concatenate(
        [rng.uniform(size=300), rng.uniform(0, 0.001, size=40), [0.0, 1.0, 0.02, 0.02, 0.02]]
    )
    rng.shuffle(p)

    np.testing.assert_allclose(
        benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1], rtol=1e-15, atol=0
    )


def test_benjamini_hochberg_leaves_nan_and_adjusts_the_rest_alone():
    p = np.array([0.04, np.nan, 0.01, 0.3, np.nan, 0.02])
    tested = ~np.isnan(p)

    adjusted = benjamini_hochberg(p)

    assert np.isnan(adjusted[~tested]).all()
    np.testing.assert_allclose(
        adjusted[tested], multipletests(p[tested], method="fdr_bh")[1], rtol=1e-15
    )
    assert np.isnan(benjamini_hochberg([np.nan, np.nan])).all()
    assert benjamini_hochberg([]).shape == (0,)


def test_benjamini_hochberg_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        benjamini_hochberg([0.5, 1.5])
    with pytest.raises(ValueError, match="one-dimensional"):
        benjamini_hochberg([[0.1, 0.2]])


def test_gi_star_corrections_match_statsmodels():
    nb, counts = hot_corner_grid()
    raw = getis_ord_gi_star(counts, nb, correction="none")

    for correction in ("fdr_bh", "bonferroni"):
        result = getis_ord_gi_star(counts, nb, correction=correction)
        expected = multipletests(raw["gi_p"], method=correction)[1]
        np.testing.assert_allclose(result["gi_p_adj"], expected, rtol=1e-12)
        np.testing.assert_array_equal(
            result["hotspot"], (expected < 0.05) & (result["gi_z"] > 0).to_numpy()
        )
    np.testing.assert_array_equal(raw["gi_p_adj"], raw["gi_p"])


def test_gi_star_alpha_and_coldspots():
    nb, counts = hot_corner_grid()
    cold = getis_ord_gi_star(-counts, nb)
    hot = getis_ord_gi_star(counts, nb)

    np.testing.assert_array_equal(cold["coldspot"], hot["hotspot"])
    assert not cold["hotspot"].any()
    strict = getis_ord_gi_star(counts, nb, alpha=1e-6)
    assert strict["hotspot"].sum() < hot["hotspot"].sum()


# --- edge cases and bad input --------------------------------------------------------------


def test_gi_star_constant_values_give_zero_z_and_p_one():
    nb = grid_neighbours([0, 1, 2, 3], [0, 0, 0, 0])

    for constant in (0, 0.1, 7):
        result = getis_ord_gi_star([constant] * 4, nb)
        assert (result["gi_z"] == 0).all()
        assert (result["gi_p"] == 1).all()
        assert not (result["hotspot"] | result["coldspot"]).any()


def test_gi_star_aligns_a_series_on_its_index():
    nb, counts = hot_corner_grid()
    series = pd.Series(counts, index=pd.Index(nb.ids, tupleize_cols=False))
    shuffled = series.iloc[np.random.default_rng(3).permutation(len(series))]

    pd.testing.assert_frame_equal(getis_ord_gi_star(shuffled, nb), getis_ord_gi_star(counts, nb))
    with pytest.raises(ValueError, match="exactly the neighbours' ids"):
        getis_ord_gi_star(series.iloc[1:], nb)


def test_gi_star_wrong_correction_lists_the_valid_ones():
    nb, counts = hot_corner_grid()
    with pytest.raises(ValueError) as error:
        getis_ord_gi_star(counts, nb, correction="holm")
    for name in CORRECTIONS:
        assert repr(name) in str(error.value)
    assert "'holm'" in str(error.value)


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 2])
def test_gi_star_rejects_alpha_outside_zero_one(alpha):
    nb, counts = hot_corner_grid()
    with pytest.raises(ValueError, match="alpha"):
        getis_ord_gi_star(counts, nb, alpha=alpha)


def test_gi_star_needs_three_places():
    nb = grid_neighbours([0, 1], [0, 0])
    with pytest.raises(ValueError, match="at least 3 places"):
        getis_ord_gi_star([1, 2], nb)


@pytest.mark.parametrize(
    "values", [[1, 2], [1, 2, 3, 4], [1, np.nan, 3], [1, np.inf, 3], [[1, 2, 3]]]
)
def test_gi_star_rejects_values_that_do_not_fit(values):
    nb = grid_neighbours([0, 1, 2], [0, 0, 0])
    with pytest.raises(ValueError):
        getis_ord_gi_star(values, nb)


def test_mismatched_lengths_are_rejected_everywhere():
    with pytest.raises(ValueError, match="same length"):
        contiguity_neighbours([box(0, 0, 1, 1), box(1, 0, 2, 1)], ["a"])
    with pytest.raises(ValueError, match="same length"):
        grid_neighbours([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="same length"):
        distance_band_neighbours([0, 1], [0, 1], 5, ["a", "b", "c"])


def test_bad_neighbour_inputs_are_rejected():
    with pytest.raises(ValueError, match="appear once"):
        grid_neighbours([0, 0], [1, 1])
    with pytest.raises(ValueError, match="whole-number"):
        grid_neighbours([0.5, 1], [0, 0])
    with pytest.raises(ValueError, match="threshold"):
        distance_band_neighbours([0, 1], [0, 1], 0, ["a", "b"])
    with pytest.raises(ValueError, match="finite"):
        distance_band_neighbours([0, np.nan], [0, 1], 5, ["a", "b"])
    with pytest.raises(ValueError, match="unique"):
        distance_band_neighbours([0, 1], [0, 1], 5, ["a", "a"])
    with pytest.raises(ValueError, match="missing or empty"):
        contiguity_neighbours([box(0, 0, 1, 1), None], ["a", "b"])


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[0, 1], [0, 0]], "symmetric"),
        ([[1, 0], [0, 0]], "diagonal"),
        ([[0, 2], [2, 0]], "binary"),
        ([[0, 1, 0], [1, 0, 0], [0, 0, 0]], "2 x 2"),
    ],
)
def test_neighbours_checks_its_matrix(matrix, message):
    with pytest.raises(ValueError, match=message):
        Neighbours(ids=("a", "b"), matrix=sparse.csr_matrix(matrix), description="bad")


def test_neighbours_is_frozen_and_keeps_its_own_copy():
    source = sparse.csr_matrix([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    nb = Neighbours(ids=["a", "b", "c"], matrix=source, description="hand-made")
    source.data[:] = 0

    assert nb.ids == ("a", "b", "c")
    assert nb.matrix[0, 1] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        nb.description = "changed"  # type: ignore[misc]
