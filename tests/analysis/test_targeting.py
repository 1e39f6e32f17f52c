"""Tests for targeting scores, hit rate, PAI, the back-test and concentration (no database).

The real-data tests read 24 police.uk months for Leicestershire from the shared data folder.
Run this file as a script to print the results table of docs/methods/targeting.md and the
back-test time::

    .venv/bin/python tests/analysis/test_targeting.py
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from scipy.stats import multivariate_normal

from placewise.analysis.targeting import (
    METHODS,
    BacktestResult,
    backtest,
    concentration,
    hit_rate_and_pai,
    predict,
    rank_places,
)

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("PLACEWISE_SHARED_DATA", REPO.parent / "shared" / "data"))
LEICESTERSHIRE = SHARED_DATA / "police_uk" / "leicestershire"
REAL_MONTHS = [str(month) for month in pd.period_range("2019-12", "2021-11", freq="M")]
METHODS_DOC = REPO / "docs" / "methods" / "targeting.md"
CELL_M = 250
CELL_KM2 = (CELL_M / 1000) ** 2

# Rounded volume-weighted CSS weights from docs/methods/harm-weights.md; anti-social behaviour
# has no CSS weight and takes the proposed default of that note.
HARM_WEIGHTS = {
    "Anti-social behaviour": 2.7,
    "Bicycle theft": 15.2,
    "Burglary": 380.5,
    "Criminal damage and arson": 18.3,
    "Drugs": 103.4,
    "Other crime": 118.4,
    "Other theft": 46.3,
    "Possession of weapons": 154.2,
    "Public order": 18.5,
    "Robbery": 799.6,
    "Shoplifting": 11.9,
    "Theft from the person": 80.4,
    "Vehicle crime": 52.0,
    "Violence and sexual offences": 280.0,
}


# --- hit rate and PAI worked by hand --------------------------------------------------------


def _ten_cells():
    ids = [f"c{i}" for i in range(10)]
    scores = pd.Series([10.0, 9, 8, 7, 6, 5, 4, 3, 2, 1], index=ids)
    actual = pd.Series([5, 0, 2, 0, 0, 1, 0, 0, 0, 2], index=ids)
    return scores, actual, pd.Series(0.0625, index=ids)


def test_hit_rate_and_pai_equal_cells_by_hand():
    scores, actual, area = _ten_cells()
    # 10 test incidents. Coverage 0.1: k = ceil(0.1 * 10) = 1 cell (c0, 5 incidents):
    #   hit rate 5/10 = 0.5, area share 1/10, PAI 0.5 / 0.1 = 5.
    assert hit_rate_and_pai(scores, actual, area, 0.1) == (0.5, 5.0)
    # Coverage 0.25: k = ceil(2.5) = 3 cells (c0, c1, c2: 5 + 0 + 2 = 7 incidents):
    #   hit rate 0.7, area share 3/10 (not 0.25), PAI 0.7 / 0.3 = 2.333...
    hit, pai = hit_rate_and_pai(scores, actual, area, 0.25)
    assert hit == 0.7
    assert pai == pytest.approx(7 / 3, rel=1e-12)
    # Coverage 0.3 is exactly three cells despite 3 * 0.1 summing to 0.30000000000000004.
    assert hit_rate_and_pai(scores, actual, area, 0.3) == (hit, pai)
    # Everything selected: hit rate 1, PAI 1.
    assert hit_rate_and_pai(scores, actual, area, 1.0) == (1.0, 1.0)


def test_hit_rate_and_pai_unequal_areas_by_hand():
    scores = pd.Series({"a": 3.0, "b": 2.0, "c": 1.0})
    actual = pd.Series({"a": 3, "b": 3, "c": 4})
    area = pd.Series({"a": 1.0, "b": 3.0, "c": 6.0})  # cumulative shares 0.1, 0.4, 1.0
    # 0.1 of the area is exactly "a": hit rate 3/10, PAI 0.3 / 0.1 = 3.
    assert hit_rate_and_pai(scores, actual, area, 0.1) == pytest.approx((0.3, 3.0), rel=1e-12)
    # 0.05 cannot be met more closely than by "a" (0.1): PAI divides by 0.1, not 0.05.
    assert hit_rate_and_pai(scores, actual, area, 0.05) == pytest.approx((0.3, 3.0), rel=1e-12)
    # 0.2 first reached by "a" + "b" (share 0.4): hit rate 6/10, PAI 0.6 / 0.4 = 1.5.
    assert hit_rate_and_pai(scores, actual, area, 0.2) == pytest.approx((0.6, 1.5), rel=1e-12)


def test_ties_go_to_the_lower_place_id_and_missing_places_count_zero():
    scores = pd.Series({"b": 1.0, "a": 1.0, "c": 0.0, "d": float("nan")})
    assert list(rank_places(scores)) == ["a", "b", "c", "d"]
    area = pd.Series(1.0, index=scores.index)
    # Only "a" is selected at 25%; "b" would have had all 4 incidents.
    assert hit_rate_and_pai(scores, pd.Series({"b": 4}), area, 0.25) == (0.0, 0.0)
    assert list(rank_places(pd.Series({2: 1.0, "x": 1.0, 1: 1.0}))) == [1, 2, "x"]


def test_no_test_incidents_gives_nan():
    scores, actual, area = _ten_cells()
    hit, pai = hit_rate_and_pai(scores, actual * 0, area, 0.1)
    assert math.isnan(hit) and math.isnan(pai)


# --- each method on a tiny hand-made series -------------------------------------------------


MONTHS = pd.date_range("2021-01-01", periods=4, freq="MS")
TINY_N = {  # Jan, Feb, Mar, Apr
    "p1": [1, 0, 2, 3],
    "p2": [0, 4, 0, 1],
    "p3": [2, 2, 2, 0],
    "p5": [0, 0, 1, 0],
}
TINY_XY = {  # metres; p1-p2 300 m, p2-p5 exactly 400 m, p1-p5 500 m, p4 far away
    "p1": (0.0, 0.0),
    "p2": (300.0, 0.0),
    "p3": (1000.0, 0.0),
    "p4": (0.0, 5000.0),
    "p5": (300.0, 400.0),
}
HARM_PER_INCIDENT = {"p1": 10.0, "p2": 1.0, "p3": 100.0, "p5": 2.5}


def _tiny():
    rows = [
        {"place": place, "month": month, "n": n, "harm": n * HARM_PER_INCIDENT[place]}
        for place, series in TINY_N.items()
        for month, n in zip(MONTHS, series, strict=True)
        if n
    ]
    places = pd.DataFrame.from_dict(TINY_XY, orient="index", columns=["x", "y"])
    return pd.DataFrame(rows), places.assign(area_km2=1.0)


def _matrix(variable="n"):
    """Months x places (p1..p5), the direct way, for the reference computations."""
    counts, places = _tiny()
    table = counts.pivot_table(index="month", columns="place", values=variable, aggfunc="sum")
    return table.reindex(index=MONTHS, columns=places.index, fill_value=0).fillna(0.0)


def _predict(method, train_months=3, **params):
    counts, places = _tiny()
    return predict(counts, places, method, train_end="2021-04", train_months=train_months, **params)


def test_naive_is_the_last_training_month():
    assert _predict("naive").to_dict() == {"p1": 3, "p2": 1, "p3": 0, "p4": 0, "p5": 0}
    counts, places = _tiny()
    march = predict(counts, places, "naive", train_end="2021-03-01", train_months=1)
    assert march.to_dict() == {"p1": 2, "p2": 0, "p3": 2, "p4": 0, "p5": 1}


def test_long_term_sums_the_window_only():
    # Feb..Apr: January (p1 1, p3 2) is outside a 3-month window ending in April.
    assert _predict("long_term").to_dict() == {"p1": 5, "p2": 5, "p3": 4, "p4": 0, "p5": 1}
    assert _predict("long_term", train_months=4)["p3"] == 6
    assert _predict("harm_long_term").to_dict() == {
        "p1": 50.0,
        "p2": 5.0,
        "p3": 400.0,
        "p4": 0.0,
        "p5": 2.5,
    }


@pytest.mark.parametrize(("method", "variable"), [("ewma", "n"), ("harm_ewma", "harm")])
def test_ewma_matches_the_explicit_formula(method, variable):
    matrix = _matrix(variable)
    half_life = 2.0
    # age 0 = April: score = sum over Feb..Apr of w * 0.5 ** (age / half_life).
    expected = sum(matrix.loc[MONTHS[3 - age]] * 0.5 ** (age / half_life) for age in range(3))
    got = _predict(method, half_life=half_life)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12)
    # p1 by hand: Apr 3 * 1 + Mar 2 * 2 ** -0.5 + Feb 0 * 0.5 = 3 + sqrt(2) = 4.41421...
    if variable == "n":
        assert got["p1"] == pytest.approx(3 + math.sqrt(2), rel=1e-12)


@pytest.mark.parametrize(
    ("method", "variable", "bandwidth"),
    [("kde", "n", 400.0), ("kde", "n", 1500.0), ("harm_kde", "harm", 250.0)],
)
def test_kde_matches_a_direct_gaussian_sum(method, variable, bandwidth):
    totals = _matrix(variable).loc[MONTHS[1:]].sum()  # Feb..Apr
    _, places = _tiny()
    xy = places[["x", "y"]].to_numpy()
    cov = bandwidth**2 * np.eye(2)
    # Density per km2: sum_j W_j * N(x_i; x_j, h^2 I), per m2, times 1e6 m2 per km2.
    expected = [
        sum(totals.iloc[j] * multivariate_normal.pdf(xy[i], mean=xy[j], cov=cov) for j in range(5))
        * 1e6
        for i in range(5)
    ]
    got = _predict(method, bandwidth=bandwidth)
    # The kernel is cut at 5 bandwidths; the pairs beyond it weigh < 4e-6 of a place's own.
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-5, atol=1e-9)


def test_prospective_matches_a_direct_double_loop():
    matrix = _matrix("n")
    _, places = _tiny()
    bw_d, limit, bw_t = 200.0, 400.0, 1.0
    expected = {}
    for i in places.index:
        total = 0.0
        for j in places.index:
            d = math.dist(TINY_XY[i], TINY_XY[j])
            if d > limit:
                continue
            for age in range(3):  # Feb..Apr, April is age 0
                n = matrix.loc[MONTHS[3 - age], j]
                total += n / (1 + d / bw_d) / (1 + age / bw_t)
        expected[i] = total
    got = _predict("prospective")
    assert got.to_dict() == pytest.approx(expected, rel=1e-12)
    # p2 by hand (ages: Apr 0, Mar 1, Feb 2): its own 1/1 + 0/2 + 4/3; p1 at 300 m has
    # spatial weight 1 / (1 + 1.5) = 0.4 on (3/1 + 2/2) = 4, so 1.6; p5 at exactly 400 m
    # has 1 / (1 + 2) on 1/2 (March), so 1/6; p3 at 700 m is beyond the limit.
    assert got["p2"] == pytest.approx(1 + 4 / 3 + 1.6 + 1 / 6)
    assert got["p4"] == 0.0


def test_predict_adds_duplicate_rows_and_follows_places_order():
    counts, places = _tiny()
    doubled = pd.concat([counts, counts])
    reordered = places.loc[["p5", "p4", "p3", "p2", "p1"]]
    got = predict(doubled, reordered, "long_term", train_end="2021-04", train_months=3)
    assert list(got.index) == ["p5", "p4", "p3", "p2", "p1"]
    assert got.to_dict() == {"p1": 10, "p2": 10, "p3": 8, "p4": 0, "p5": 2}


# --- bad inputs -----------------------------------------------------------------------------


def test_unknown_method_lists_the_methods():
    counts, places = _tiny()
    with pytest.raises(ValueError, match="unknown method 'hotspot'; valid options: ") as error:
        predict(counts, places, "hotspot", train_end="2021-04", train_months=3)
    assert all(method in str(error.value) for method in METHODS)
    with pytest.raises(ValueError, match="naive, long_term, ewma, kde, prospective"):
        backtest(
            counts,
            places,
            test_from="2021-04",
            test_to="2021-04",
            train_months=3,
            methods=["naive", "knn"],
        )


def test_too_few_training_months_names_the_months():
    counts, places = _tiny()
    message = "3 training months need data from 2020-12; the first month available is 2021-01"
    with pytest.raises(ValueError, match=message):
        backtest(counts, places, test_from="2021-03", test_to="2021-04", train_months=3)
    with pytest.raises(ValueError, match="need data from 2020-11; the first month available"):
        predict(counts, places, "naive", train_end="2021-02", train_months=4)


def test_test_window_outside_the_data():
    counts, places = _tiny()
    with pytest.raises(ValueError, match=r"2021-04\.\.2021-05 is outside the data"):
        backtest(counts, places, test_from="2021-04", test_to="2021-05", train_months=1)
    with pytest.raises(ValueError, match="after test_to"):
        backtest(counts, places, test_from="2021-04", test_to="2021-03", train_months=1)


@pytest.mark.parametrize("coverage", [0, 0.0, -0.1, 1.01, 5])
def test_coverage_must_be_a_share_of_area(coverage):
    counts, places = _tiny()
    with pytest.raises(ValueError, match=r"coverage must be in \(0, 1\]"):
        backtest(
            counts,
            places,
            test_from="2021-04",
            test_to="2021-04",
            train_months=3,
            coverages=[0.05, coverage],
        )
    scores, actual, area = _ten_cells()
    with pytest.raises(ValueError, match=r"coverage must be in \(0, 1\]"):
        hit_rate_and_pai(scores, actual, area, coverage)


@pytest.mark.parametrize("method", ["harm_long_term", "harm_ewma", "harm_kde"])
def test_harm_methods_need_a_harm_column(method):
    counts, places = _tiny()
    counts = counts.drop(columns="harm")
    with pytest.raises(ValueError, match="need a 'harm' column in counts"):
        predict(counts, places, method, train_end="2021-04", train_months=3)
    with pytest.raises(ValueError, match="need a 'harm' column in counts"):
        backtest(
            counts,
            places,
            test_from="2021-04",
            test_to="2021-04",
            train_months=3,
            methods=["naive", method],
        )
    # Count methods do not need it.
    predict(counts, places, "kde", train_end="2021-04", train_months=3)


def test_other_bad_inputs():
    counts, places = _tiny()
    window = {"test_from": "2021-04", "test_to": "2021-04", "train_months": 3}
    with pytest.raises(ValueError, match="unknown parameter.*valid parameters: half_life"):
        backtest(counts, places, halflife=2, **window)
    with pytest.raises(ValueError, match="'bandwidth' must be positive"):
        backtest(counts, places, bandwidth=0, **window)
    with pytest.raises(ValueError, match="unknown outcome 'crimes'; valid options: n, harm"):
        backtest(counts, places, outcome="crimes", **window)
    with pytest.raises(ValueError, match="places missing from places"):
        backtest(counts, places.drop(index="p5"), **window)
    with pytest.raises(ValueError, match="first-of-month dates"):
        backtest(counts.assign(month=counts["month"] + pd.Timedelta(days=3)), places, **window)
    with pytest.raises(ValueError, match="'x' and 'y'"):
        backtest(counts, places.drop(columns="x"), methods=["prospective"], **window)
    with pytest.raises(ValueError, match="area_km2 must be a positive"):
        backtest(counts, places.assign(area_km2=0.0), **window)


# --- back-test on hand-made data ------------------------------------------------------------


def test_backtest_month_without_incidents_is_nan_and_json_safe():
    counts, places = _tiny()
    # April emptied: the April test month has no incidents, so no hit rate or PAI.
    counts = counts[counts["month"] < "2021-04-01"]
    counts = pd.concat([counts, pd.DataFrame([{"place": "p1", "month": MONTHS[3], "n": 0}])])
    result = backtest(
        counts,
        places,
        test_from="2021-04",
        test_to="2021-04",
        train_months=3,
        methods=["naive", "long_term"],
        coverages=[0.2],
    )
    assert result.table["months"].tolist() == [0, 0]
    assert result.suggested is None
    records = result.as_records()
    assert records[0] == {
        "method": "naive",
        "coverage": 0.2,
        "hit_rate": None,
        "pai": None,
        "pai_low": None,
        "pai_high": None,
    }
    json.dumps(records, allow_nan=False)


def test_backtest_suggests_the_middle_coverage_without_five_percent():
    counts, places = _tiny()
    result = backtest(
        counts,
        places,
        test_from="2021-03",
        test_to="2021-04",
        train_months=2,
        coverages=[0.6, 0.2, 0.4, 0.8],
        methods=["naive", "long_term"],
    )
    assert result.suggested_coverage == 0.4
    assert result.table["coverage"].unique().tolist() == [0.2, 0.4, 0.6, 0.8]


# --- concentration --------------------------------------------------------------------------


def test_concentration_by_hand():
    result = concentration(pd.Series({"a": 2, "b": 6, "c": 0, "d": 2}))
    # Sorted 6, 2, 2, 0 of 10: cumulative shares 0.6, 0.8, 1.0, 1.0 at 1/4, 2/4, 3/4, 4/4.
    np.testing.assert_allclose(result.curve["place_share"], [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(result.curve["value_share"], [0, 0.6, 0.8, 1, 1])
    # Top 5% of places: linear on the first segment, 0.6 * 0.05 / 0.25 = 0.12.
    assert result.top_shares[0.05] == pytest.approx(0.12)
    # Gini = mean absolute difference / (2 * mean) = (36 / 16) / (2 * 2.5) = 0.45.
    assert result.gini == pytest.approx(0.45)
    assert concentration([0, 0, 0, 5]).gini == pytest.approx(0.75)  # (n - 1) / n


def test_concentration_by_area_sorts_by_density():
    # "b" holds 4 on 1 km2 (4 per km2), "a" 6 on 3 km2 (2 per km2): "b" comes first.
    result = concentration(pd.Series({"a": 6.0, "b": 4.0}), pd.Series({"b": 1.0, "a": 3.0}))
    np.testing.assert_allclose(result.curve["place_share"], [0, 0.25, 1])
    np.testing.assert_allclose(result.curve["value_share"], [0, 0.4, 1])
    assert result.top_shares[0.1] == pytest.approx(0.4 * 0.1 / 0.25)


def test_concentration_of_uniform_values_equals_the_place_share():
    result = concentration(np.ones(1000))
    assert result.top_shares == pytest.approx({0.01: 0.01, 0.05: 0.05, 0.1: 0.1})
    assert result.gini == pytest.approx(0.0, abs=1e-12)
    assert len(result.curve) <= 200
    assert result.curve.iloc[0].tolist() == [0.0, 0.0]
    assert result.curve.iloc[-1].tolist() == [1.0, 1.0]
    # Nearly uniform counts (Poisson, mean 1000): the top shares sit just above coverage.
    noisy = concentration(np.random.default_rng(7).poisson(1000, size=5000))
    for share, value in noisy.top_shares.items():
        assert share <= value < share * 1.1


def test_concentration_bad_inputs():
    with pytest.raises(ValueError, match="sum to zero"):
        concentration([0, 0])
    with pytest.raises(ValueError, match="non-negative"):
        concentration([1, -1])
    with pytest.raises(ValueError, match="area is missing"):
        concentration(pd.Series({"a": 1.0, "b": 1.0}), pd.Series({"a": 1.0}))


# --- back-test on real Leicestershire data --------------------------------------------------


def load_leicestershire() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts per 250 m British National Grid cell and month, and the cells with incidents."""
    records = []
    for month in REAL_MONTHS:
        path = LEICESTERSHIRE / month / f"{month}-leicestershire-street.csv"
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["Longitude"] and row["Latitude"]:  # no location: cannot be placed
                    records.append((month, row["Longitude"], row["Latitude"], row["Crime type"]))
    frame = pd.DataFrame(records, columns=["month", "lon", "lat", "category"])
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    east, north = to_bng.transform(frame["lon"].astype(float), frame["lat"].astype(float))
    frame["ix"] = np.floor(np.asarray(east) / CELL_M).astype(int)
    frame["iy"] = np.floor(np.asarray(north) / CELL_M).astype(int)
    frame["place"] = frame["ix"].astype(str) + "_" + frame["iy"].astype(str)
    frame["harm"] = frame["category"].map(HARM_WEIGHTS)
    assert frame["harm"].notna().all(), "a category without a harm weight"
    counts = (
        frame.groupby(["place", "month"]).agg(n=("harm", "size"), harm=("harm", "sum"))
    ).reset_index()
    counts["month"] = pd.to_datetime(counts["month"] + "-01")
    cells = frame.drop_duplicates("place").set_index("place")[["ix", "iy"]].sort_index()
    places = pd.DataFrame(
        {
            "area_km2": CELL_KM2,
            "x": (cells["ix"] + 0.5) * CELL_M,  # cell centres
            "y": (cells["iy"] + 0.5) * CELL_M,
        },
        index=cells.index,
    )
    return counts, places


def run_real_backtest(counts, places, seed=0, outcome="n") -> BacktestResult:
    return backtest(
        counts,
        places,
        test_from="2020-12",
        test_to="2021-11",
        train_months=12,
        methods=METHODS,
        coverages=(0.01, 0.05, 0.1),
        seed=seed,
        outcome=outcome,
    )


def results_markdown(result: BacktestResult) -> str:
    """The docs table: mean PAI (95% bootstrap interval) and mean hit rate per coverage."""
    table = result.table.set_index(["method", "coverage"])
    coverages = sorted(result.table["coverage"].unique())
    head = [f"PAI {c:.0%}" for c in coverages] + [f"Hit rate {c:.0%}" for c in coverages]
    lines = ["| Method | " + " | ".join(head) + " |", "|---" + "|---:" * len(head) + "|"]
    for method in result.table["method"].unique():
        rows = [table.loc[(method, c)] for c in coverages]
        pai = [f"{r['pai']:.2f} ({r['pai_low']:.2f}-{r['pai_high']:.2f})" for r in rows]
        hit = [f"{r['hit_rate']:.1%}" for r in rows]
        lines.append(f"| {method} | " + " | ".join(pai + hit) + " |")
    return "\n".join(lines)


def suggestion_markdown(result: BacktestResult) -> str:
    mean, low, high = result.margin
    return (
        f"Suggested method: **{result.suggested}** (runner-up {result.runner_up}; PAI "
        f"difference at {result.suggested_coverage:.0%} {mean:.2f}, 95% interval "
        f"{low:.2f} to {high:.2f})"
    )


@pytest.fixture(scope="module")
def leicestershire():
    missing = [m for m in REAL_MONTHS if not (LEICESTERSHIRE / m).is_dir()]
    if missing:
        reason = f"police.uk Leicestershire months {missing[0]}.. not found under {LEICESTERSHIRE}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return load_leicestershire()


@pytest.fixture(scope="module")
def real_result(leicestershire):
    return run_real_backtest(*leicestershire)


@pytest.fixture(scope="module")
def real_harm_result(leicestershire):
    return run_real_backtest(*leicestershire, outcome="harm")


def test_real_grid_is_as_expected(leicestershire):
    counts, places = leicestershire
    # 196,893 street-level records in 24 months, 4,404 without a location.
    assert counts["n"].sum() == 196_893 - 4_404
    assert counts["month"].nunique() == 24
    assert len(places) == counts["place"].nunique()


def test_real_backtest_invariants(real_result, leicestershire):
    _, places = leicestershire
    table, per_month = real_result.table, real_result.per_month
    assert len(per_month) == 12 * len(METHODS) * 3
    assert len(table) == len(METHODS) * 3 and (table["months"] == 12).all()
    for frame in (table, per_month):
        assert frame["hit_rate"].between(0, 1).all()
    # PAI x the share actually selected is the hit rate, every month.
    np.testing.assert_allclose(per_month["pai"] * per_month["area_share"], per_month["hit_rate"])
    # Equal cells: k = ceil(coverage * N), so the selected share is in [c, c + 1/N) and
    # PAI * c <= hit rate < PAI * (c + 1/N).
    n_cells = len(places)
    for row in table.itertuples():
        k = math.ceil(row.coverage * n_cells)
        assert row.area_share == pytest.approx(k / n_cells)
        assert row.pai * row.area_share == pytest.approx(row.hit_rate)
        assert row.pai * row.coverage <= row.hit_rate < row.pai * (row.coverage + 1 / n_cells)
        assert row.pai_low <= row.pai <= row.pai_high
    at_5 = table[table["coverage"] == 0.05].set_index("method")
    # A year of history predicts next month better than last month alone.
    assert at_5.loc["long_term", "pai"] > at_5.loc["naive", "pai"]
    assert at_5.loc["long_term", "hit_rate"] > at_5.loc["naive", "hit_rate"]
    assert real_result.suggested == at_5["pai"].idxmax()
    assert real_result.suggested_coverage == 0.05
    runner_up = at_5.drop(index=real_result.suggested)["pai"].idxmax()
    assert real_result.runner_up == runner_up
    mean, low, high = real_result.margin
    assert mean == pytest.approx(
        at_5.loc[real_result.suggested, "pai"] - at_5.loc[runner_up, "pai"]
    )
    assert low <= mean <= high


def test_real_backtest_on_harm(real_harm_result, real_result):
    table = real_harm_result.table
    assert table["hit_rate"].between(0, 1).all()
    assert (table["pai_low"] <= table["pai"]).all() and (table["pai"] <= table["pai_high"]).all()
    # Scores are the same; only what counts as a hit changed.
    assert not np.allclose(table["hit_rate"], real_result.table["hit_rate"])


def test_real_backtest_is_reproducible_and_only_the_bounds_use_the_seed(
    real_result, leicestershire
):
    again = run_real_backtest(*leicestershire, seed=0)
    pd.testing.assert_frame_equal(again.table, real_result.table)
    pd.testing.assert_frame_equal(again.per_month, real_result.per_month)
    other = run_real_backtest(*leicestershire, seed=1)
    point = ["method", "coverage", "hit_rate", "pai", "area_share", "months"]
    pd.testing.assert_frame_equal(other.table[point], real_result.table[point])
    assert (other.table["pai_low"] != real_result.table["pai_low"]).any()
    assert (other.table["pai_high"] != real_result.table["pai_high"]).any()
    assert other.suggested == real_result.suggested


def test_real_concentration(leicestershire):
    counts, places = leicestershire
    totals = counts.groupby("place")["n"].sum().reindex(places.index)
    result = concentration(totals, places["area_km2"])
    # Crime is concentrated: the top 5% of cells hold far more than 5% of the incidents.
    assert result.top_shares[0.05] > 0.3
    assert 0.5 < result.gini < 1
    assert len(result.curve) <= 200


def test_docs_tables_match_the_real_backtest(real_result, real_harm_result):
    text = METHODS_DOC.read_text(encoding="utf-8")
    for result in (real_result, real_harm_result):
        assert results_markdown(result) in text, "run this file as a script; update the docs"
        assert suggestion_markdown(result) in text, "run this file as a script; update the docs"


def main() -> int:
    """Print the docs table and the time of the back-test with all methods."""
    if not LEICESTERSHIRE.is_dir():
        print(f"{LEICESTERSHIRE} not found", file=sys.stderr)
        return 1
    start = time.perf_counter()
    counts, places = load_leicestershire()
    loaded = time.perf_counter() - start
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        result = run_real_backtest(counts, places)
        timings.append(time.perf_counter() - start)
    for outcome in ("n", "harm"):
        result = run_real_backtest(counts, places, outcome=outcome)
        print(
            f"outcome={outcome!r}\n\n{results_markdown(result)}\n\n{suggestion_markdown(result)}\n"
        )
    print(f"{len(places)} cells, {int(counts['n'].sum())} incidents; loading {loaded:.2f} s")
    print("back-test, all methods, 5 runs (s): " + ", ".join(f"{t:.3f}" for t in timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
