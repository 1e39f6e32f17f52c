"""Tests for trend, seasonality and forecasts of monthly counts (no Django needed)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import SHARED_DATA
from scipy import stats

from placewise.analysis.trend import (
    DIRECTIONS,
    FORECAST_METHODS,
    MIN_SEASONAL_TOTAL,
    MIN_TREND_TOTAL,
    MONTH_NAMES,
    SEASONALITY_LABELS,
    SeasonalityResult,
    forecast,
    seasonal_profile,
    seasonal_strength_table,
    seasonality_test,
    trend_table,
    window_halves,
)

LEICESTERSHIRE = SHARED_DATA / "police_uk" / "leicestershire"
ASB = "Anti-social behaviour"


def months(n: int, start: str = "2019-01-01") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="MS")


def halves_row(earlier: int, later: int, n: int = 12) -> list[int]:
    """A row of n months whose halves sum to earlier and later (all in one month each)."""
    half = n // 2
    return [0] * (n - 2 * half) + [earlier] + [0] * (half - 1) + [later] + [0] * (half - 1)


def wide_from_halves(pairs: dict[str, tuple[int, int]], n: int = 12) -> pd.DataFrame:
    rows = [halves_row(e, lat, n) for e, lat in pairs.values()]
    return pd.DataFrame(rows, index=list(pairs), columns=months(n))


def seasonal_rate(calendar_month, mean: float, amplitude: float, peak: int = 7) -> np.ndarray:
    return mean * (1 + amplitude * np.cos(2 * np.pi * (np.asarray(calendar_month) - peak) / 12))


# ----------------------------------------------------------------------------------------
# trend_table


@pytest.mark.parametrize(
    ("earlier", "later"), [(40, 62), (120, 95), (7, 19), (300, 300), (1, 30), (55, 21)]
)
def test_trend_table_matches_scipy_binomtest_and_exact_interval(earlier, later):
    row = trend_table(wide_from_halves({"place": (earlier, later)})).loc["place"]

    total = earlier + later
    test = stats.binomtest(later, total, 0.5)
    ci = test.proportion_ci(confidence_level=0.95, method="exact")
    assert row["p_value"] == pytest.approx(test.pvalue, rel=1e-9, abs=1e-15)
    assert row["rr_low"] == pytest.approx(ci.low / (1 - ci.low), rel=1e-9)
    assert row["rr_high"] == pytest.approx(ci.high / (1 - ci.high), rel=1e-9)
    assert row["rate_ratio"] == pytest.approx(later / earlier)
    assert row["change"] == later - earlier
    assert row["change_pct"] == pytest.approx(100 * (later - earlier) / earlier)
    assert row["rr_low"] <= row["rate_ratio"] <= row["rr_high"]
    # Binomial(n, 1/2) is symmetric, so the test and the central interval agree.
    assert (row["rr_low"] > 1 or row["rr_high"] < 1) == (row["p_value"] < 0.05)
    expected = "no clear change"
    if test.pvalue < 0.05:
        expected = "up" if later > earlier else "down"
    assert row["direction"] == expected


def test_trend_table_columns_types_and_index():
    wide = wide_from_halves({"E01": (10, 20), "E02": (5, 5)})
    table = trend_table(wide)
    assert list(table.columns) == [
        "earlier",
        "later",
        "change",
        "change_pct",
        "rate_ratio",
        "rr_low",
        "rr_high",
        "p_value",
        "direction",
    ]
    assert list(table.index) == ["E01", "E02"]
    assert table["earlier"].dtype == np.int64 and table["change"].dtype == np.int64
    assert set(table["direction"]) <= set(DIRECTIONS)


def test_odd_window_drops_the_first_month():
    rng = np.random.default_rng(20240601)
    counts = rng.poisson(8, size=(5, 13))
    counts[:, 0] = 1000  # the dropped month: it must not reach either half
    wide = pd.DataFrame(counts, columns=months(13))

    table = trend_table(wide)

    pd.testing.assert_frame_equal(table, trend_table(wide.iloc[:, 1:]))
    assert (table["earlier"] == counts[:, 1:7].sum(axis=1)).all()
    assert (table["later"] == counts[:, 7:].sum(axis=1)).all()
    halves = window_halves(wide.columns)
    assert list(halves.dropped) == [wide.columns[0]]
    assert len(halves.earlier) == len(halves.later) == 6


def test_zero_counts():
    table = trend_table(wide_from_halves({"new": (0, 25), "gone": (25, 0), "none": (0, 0)}))

    new = table.loc["new"]
    assert np.isnan(new["change_pct"])
    assert new["rate_ratio"] == pytest.approx(25.5 / 0.5)  # 0.5 continuity correction
    assert new["rr_high"] == np.inf
    p_low = 0.025 ** (1 / 25)  # Clopper-Pearson lower bound when all 25 are in the later half
    assert new["rr_low"] == pytest.approx(p_low / (1 - p_low))
    assert new["p_value"] == pytest.approx(2 * 0.5**25)
    assert new["direction"] == "up"

    gone = table.loc["gone"]
    assert gone["change_pct"] == pytest.approx(-100.0)
    assert gone["rate_ratio"] == pytest.approx(0.5 / 25.5)
    assert gone["rr_low"] == 0.0
    assert gone["direction"] == "down"

    none = table.loc["none"]
    assert (none["earlier"], none["later"], none["change"]) == (0, 0, 0)
    assert none["rate_ratio"] == 1.0
    assert np.isnan([none["change_pct"], none["rr_low"], none["rr_high"], none["p_value"]]).all()
    assert none["direction"] == "too few"


def test_too_few_threshold():
    # 0 -> 9 would be "significant" (p = 2 / 2**9 = 0.004) but is under the threshold.
    assert MIN_TREND_TOTAL == 10
    table = trend_table(wide_from_halves({"nine": (0, 9), "ten": (0, 10), "eleven": (5, 6)}))
    assert table.loc["nine", "p_value"] < 0.01
    assert table["direction"].to_dict() == {
        "nine": "too few",
        "ten": "up",
        "eleven": "no clear change",
    }


def test_trend_table_refuses_short_and_broken_windows():
    with pytest.raises(ValueError, match="wide has 11 months; 12 are needed"):
        trend_table(pd.DataFrame([[1] * 11], columns=months(11)))
    gap = months(13).delete(5)
    with pytest.raises(ValueError, match="consecutive months"):
        trend_table(pd.DataFrame([[1] * 12], columns=gap))
    mid_month = pd.date_range("2020-01-15", periods=12, freq="30D")
    with pytest.raises(ValueError, match="first-of-month"):
        trend_table(pd.DataFrame([[1] * 12], columns=mid_month))
    with pytest.raises(ValueError, match="fill months with no incidents by 0"):
        trend_table(pd.DataFrame([[1.0] * 11 + [np.nan]], columns=months(12)))
    with pytest.raises(ValueError, match="whole, non-negative"):
        trend_table(pd.DataFrame([[1] * 11 + [-1]], columns=months(12)))


def test_trend_table_accepts_dates_and_no_places():
    dates = [m.date() for m in months(12)]  # months as first-of-month datetime.date
    table = trend_table(pd.DataFrame([[3] * 12], columns=dates))
    assert table.loc[0, "earlier"] == 18
    empty = trend_table(pd.DataFrame(np.zeros((0, 12)), columns=months(12)))
    assert empty.empty and "direction" in empty.columns


def test_trend_table_false_alarm_rate_on_synthetic_stable_places():
    # Stable Poisson places: the exact test is conservative, so at most ~5% are flagged.
    rng = np.random.default_rng(11)
    rates = rng.gamma(2.0, 5.0, size=4000)
    synthetic = pd.DataFrame(rng.poisson(rates[:, None], size=(4000, 36)), columns=months(36))
    flagged = trend_table(synthetic)["direction"].isin(["up", "down"]).mean()
    assert 0.02 < flagged <= 0.055


# ----------------------------------------------------------------------------------------
# seasonal_profile and seasonality_test


def test_seasonal_profile_recovers_a_known_profile():
    rng = np.random.default_rng(2024)
    index = months(120, "2012-01-01")  # ten years
    factor = np.array([0.7, 0.75, 0.9, 1.0, 1.1, 1.2, 1.3, 1.25, 1.05, 0.95, 0.9, 0.8])
    monthly = pd.Series(rng.poisson(2000 * factor[index.month - 1]), index=index)

    profile = seasonal_profile(monthly)

    assert list(profile.index) == list(range(1, 13))
    assert list(profile["name"]) == list(MONTH_NAMES)
    assert (profile["months"] == 10).all()
    # Each calendar mean averages 10 Poisson months of up to 2,600, so its index has a
    # standard deviation of at most sqrt(2600 / 10) / 2000 = 0.008: allow about 4 of them.
    np.testing.assert_allclose(profile["index"], factor / factor.mean(), atol=0.035)
    assert profile["index"].mean() == pytest.approx(1.0)
    assert profile["mean"].idxmax() == 7


def test_seasonal_profile_index_uses_calendar_month_means_for_part_years():
    # 18 months: Jan-Jun appear twice. Index is against the mean of the 12 calendar means.
    monthly = pd.Series([10] * 12 + [30] * 6, index=months(18))
    profile = seasonal_profile(monthly)
    assert profile.loc[1, "mean"] == 20 and profile.loc[12, "mean"] == 10
    assert profile.loc[1, "months"] == 2 and profile.loc[7, "months"] == 1
    assert profile.loc[1, "index"] == pytest.approx(20 / 15)


def test_seasonal_profile_refuses_under_twelve_months():
    with pytest.raises(ValueError, match="monthly has 11 months; 12 are needed"):
        seasonal_profile(pd.Series([1] * 11, index=months(11)))


def test_seasonality_test_detects_a_strong_pattern():
    rng = np.random.default_rng(7)
    index = months(36)
    monthly = pd.Series(rng.poisson(seasonal_rate(index.month, 40, 0.5)), index=index)

    result = seasonality_test(monthly)

    assert isinstance(result, SeasonalityResult)
    assert result.p_value < 0.01
    assert (result.dof, result.dof_resid, result.method) == (11, 23, "poisson")
    assert result.peak_month in (6, 7, 8) and result.trough_month in (12, 1, 2)
    profile = seasonal_profile(monthly)
    assert result.strength == pytest.approx(profile["mean"].max() / profile["mean"].min())
    assert seasonality_test(monthly, method="quasi").p_value < 0.01


def test_seasonality_test_is_quiet_on_a_flat_poisson_series():
    rng = np.random.default_rng(12345)
    monthly = pd.Series(rng.poisson(40, size=36), index=months(36))
    result = seasonality_test(monthly)
    assert result.p_value > 0.05
    assert result.p_value == pytest.approx(0.4518, abs=1e-4)  # deterministic for this seed
    assert 0.5 < result.dispersion < 2


def test_seasonality_test_matches_the_likelihood_ratio_by_hand():
    rng = np.random.default_rng(3)
    index = months(24)
    counts = rng.poisson(seasonal_rate(index.month, 30, 0.3) * np.linspace(0.9, 1.1, 24))
    t = np.arange(24.0)
    dummies = pd.get_dummies(index.month, drop_first=True, dtype=float).to_numpy()
    full_x = sm.add_constant(np.column_stack([t, dummies]))
    poisson = sm.families.Poisson()
    full = sm.GLM(counts, full_x, family=poisson).fit()
    trend_only = sm.GLM(counts, sm.add_constant(t), family=poisson).fit()
    lr = 2 * (full.llf - trend_only.llf)

    result = seasonality_test(pd.Series(counts, index=index))

    assert result.statistic == pytest.approx(lr, rel=1e-6)
    assert result.p_value == pytest.approx(stats.chi2.sf(lr, 11), rel=1e-6)
    quasi = seasonality_test(pd.Series(counts, index=index), method="quasi")
    dispersion = full.pearson_chi2 / full.df_resid
    assert quasi.statistic == pytest.approx(lr / 11 / dispersion, rel=1e-6)
    assert quasi.p_value == pytest.approx(stats.f.sf(lr / 11 / dispersion, 11, 11), rel=1e-6)


def test_seasonality_test_validates_method_and_length():
    monthly = pd.Series([5] * 24, index=months(24))
    with pytest.raises(ValueError, match="choose one of 'poisson', 'quasi'"):
        seasonality_test(monthly, method="wald")
    with pytest.raises(ValueError, match="monthly has 23 months; 24 are needed"):
        seasonality_test(monthly.iloc[:23])


# ----------------------------------------------------------------------------------------
# seasonal_strength_table


def test_seasonal_strength_table_score_test_matches_statsmodels():
    rng = np.random.default_rng(99)
    index = months(36)
    t = np.arange(36) - 17.5
    rows = [
        rng.poisson(seasonal_rate(index.month, 12, 0.4) * np.exp(0.01 * t)),
        rng.poisson(np.full(36, 9)),
        rng.poisson(seasonal_rate(index.month, 30, 0.15, peak=1)),
    ]
    wide = pd.DataFrame(rows, index=["a", "b", "c"], columns=index)

    table = seasonal_strength_table(wide)

    base = sm.add_constant(t)
    extra = pd.get_dummies(index.month, drop_first=True, dtype=float).to_numpy()
    for name, counts in zip(wide.index, rows, strict=True):
        fit = sm.GLM(counts, base, family=sm.families.Poisson()).fit()
        expected = float(np.ravel(fit.score_test(exog_extra=extra)[1])[0])
        assert table.loc[name, "p_value"] == pytest.approx(expected, rel=1e-6)
        means = pd.Series(counts).groupby(index.month).mean()
        assert table.loc[name, "peak_month"] == means.idxmax()
        assert table.loc[name, "peak_ratio"] == pytest.approx(means.max() / means.mean())
    assert table.loc["a", "seasonality"] == "seasonal"
    assert set(table["seasonality"]) <= set(SEASONALITY_LABELS)


def test_seasonal_strength_table_flags_too_few_and_too_short():
    index = months(24)
    busy = seasonal_rate(index.month, 10, 0.5).round().astype(int)
    quiet = np.r_[[3] * 19, [0] * 5]  # 57 incidents, under the threshold of 60
    wide = pd.DataFrame([busy, quiet], index=["busy", "quiet"], columns=index)

    table = seasonal_strength_table(wide)
    assert MIN_SEASONAL_TOTAL == 60
    assert table.loc["busy", "peak_name"] == "Jul"
    assert table.loc["quiet", "seasonality"] == "too few"
    assert pd.isna(table.loc["quiet", "peak_month"]) and pd.isna(table.loc["quiet", "peak_name"])
    assert np.isnan(table.loc["quiet", ["peak_ratio", "p_value"]].astype(float)).all()

    short = seasonal_strength_table(wide.iloc[:, -18:])
    assert short["seasonality"].tolist() == ["too short", "too few"]
    assert short["p_value"].isna().all()
    assert short.loc["busy", "peak_month"] == 7


# ----------------------------------------------------------------------------------------
# forecast


def trending_series(n: int = 36, seed: int = 5) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = months(n)
    rate = seasonal_rate(index.month, 60, 0.3) * np.exp(0.015 * np.arange(n))
    return pd.Series(rng.poisson(rate), index=index)


def test_forecast_seasonal_glm_interval_contains_mean_and_widens():
    result = forecast(trending_series(), 24, method="seasonal_glm", seed=1)

    assert list(result.columns) == ["month", "mean", "low", "high"]
    assert result["month"].iloc[0] == pd.Timestamp("2022-01-01")
    assert (result["month"].diff().dropna().dt.days.between(28, 31)).all()
    assert ((result["low"] <= result["mean"]) & (result["mean"] <= result["high"])).all()
    width = (result["high"] - result["low"]).to_numpy()
    # Same calendar month a year later: a higher mean and a longer extrapolation.
    assert (width[12:] >= width[:12]).all()
    assert result.attrs["method"] == "seasonal_glm" and result.attrs["level"] == 0.95


def test_forecast_mean_method_is_flat():
    monthly = trending_series()
    result = forecast(monthly, 6, method="mean")
    assert result["mean"].tolist() == [monthly.iloc[-12:].mean()] * 6
    assert result["low"].nunique() == 1 and result["high"].nunique() == 1
    assert (result["low"] <= result["mean"]).all() and (result["mean"] <= result["high"]).all()
    assert result.attrs["dispersion"] >= 1 + 1 / 12


def test_forecast_mean_method_is_poisson_for_poisson_months():
    # Twelve equal months: no spread beyond Poisson, so only the (1 + 1/12) widening.
    monthly = pd.Series([20] * 12, index=months(12))
    result = forecast(monthly, 2)
    dispersion = 1 + 1 / 12
    n, p = 20 / (dispersion - 1), 1 / dispersion
    assert result.attrs["method"] == "mean"
    assert result["low"].iloc[0] == stats.nbinom.ppf(0.025, n, p)
    assert result["high"].iloc[0] == stats.nbinom.ppf(0.975, n, p)


def test_forecast_is_reproducible_with_a_seed():
    monthly = trending_series()
    first = forecast(monthly, 6, seed=42)
    pd.testing.assert_frame_equal(first, forecast(monthly, 6, seed=42))
    other = forecast(monthly, 6, seed=43)
    pd.testing.assert_series_equal(first["mean"], other["mean"])  # the fit is not random


def test_forecast_interval_coverage_on_synthetic_overdispersed_series():
    # 60 series of 30 months from a negative binomial (variance 4 x mean): how often do the
    # 95% intervals for the next 6 months hold the values that then happen?
    rng = np.random.default_rng(8)
    index = months(36)
    hits = []
    for replicate in range(60):
        rate = seasonal_rate(index.month, 50, 0.3)
        counts = rng.poisson(rng.gamma(rate / 3, 3))
        result = forecast(pd.Series(counts[:30], index=index[:30]), 6, seed=replicate, draws=4000)
        hits.append(((counts[30:] >= result["low"]) & (counts[30:] <= result["high"])).mean())
    assert 0.88 <= np.mean(hits) <= 1.0


def test_forecast_auto_choice():
    assert forecast(trending_series(23), 3).attrs["method"] == "mean"
    assert forecast(trending_series(24), 3).attrs["method"] == "seasonal_glm"
    no_februaries = trending_series(24)
    no_februaries[no_februaries.index.month == 2] = 0
    assert forecast(no_februaries, 3).attrs["method"] == "mean"
    with pytest.raises(ValueError, match="each calendar month"):
        forecast(no_februaries, 3, method="seasonal_glm")
    with pytest.raises(ValueError, match="needs 24 months"):
        forecast(trending_series(23), 3, method="seasonal_glm")


@pytest.mark.parametrize("horizon", [0, 25, -1, 2.5, True])
def test_forecast_validates_horizon(horizon):
    with pytest.raises(ValueError, match="horizon"):
        forecast(trending_series(), horizon)


def test_forecast_validates_method_and_level():
    with pytest.raises(ValueError, match="choose one of 'auto', 'seasonal_glm', 'mean'"):
        forecast(trending_series(), 6, method="arima")
    assert FORECAST_METHODS == ("auto", "seasonal_glm", "mean")
    with pytest.raises(ValueError, match="level"):
        forecast(trending_series(), 6, level=95)


# ----------------------------------------------------------------------------------------
# Real data: Leicestershire Police, police.uk street files 2019-12 to 2021-11


def leicestershire_or_skip() -> Path:
    if LEICESTERSHIRE.is_dir():
        return LEICESTERSHIRE
    if os.environ.get("CI"):
        pytest.fail(f"{LEICESTERSHIRE} is missing in CI")
    pytest.skip(f"real police.uk files not present: {LEICESTERSHIRE} is missing")


@pytest.fixture(scope="module")
def force_months() -> pd.DataFrame:
    """Monthly counts for the force: rows "all" and "asb", one column per month."""
    counts = {}
    for path in sorted(leicestershire_or_skip().glob("*/*-leicestershire-street.csv")):
        crime_type = pd.read_csv(path, usecols=["Crime type"])["Crime type"]
        month = pd.Timestamp(f"{path.parent.name}-01")
        counts[month] = {"all": len(crime_type), "asb": int((crime_type == ASB).sum())}
    return pd.DataFrame(counts)


def test_real_months_are_the_24_expected(force_months):
    assert list(force_months.columns) == list(months(24, "2019-12-01"))
    assert force_months[pd.Timestamp("2019-12-01")].tolist() == [8092, 785]
    assert force_months[pd.Timestamp("2020-04-01")].tolist() == [7809, 1736]  # lockdown ASB
    assert force_months.sum(axis=1).tolist() == [196893, 24045]


def test_real_trend(force_months):
    table = trend_table(force_months)
    asb = table.loc["asb"]
    assert (asb["earlier"], asb["later"]) == (13789, 10256)
    assert asb["rate_ratio"] == pytest.approx(0.7438, abs=1e-4)
    assert asb["direction"] == "down"
    # All crime fell 1.1%: "down" at p = 0.015 only because the force total is so large.
    # The test ignores overdispersion; this is the screening caveat in action.
    everything = table.loc["all"]
    assert everything["change_pct"] == pytest.approx(-1.096, abs=1e-3)
    assert everything["p_value"] == pytest.approx(0.0146, abs=1e-4)


def test_real_asb_seasonality_is_significant_but_led_by_the_2020_lockdown(force_months):
    asb = force_months.loc["asb"]
    poisson = seasonality_test(asb)
    quasi = seasonality_test(asb, method="quasi")

    assert poisson.p_value < 1e-100
    assert quasi.p_value < 0.01  # still significant after allowing for dispersion of ~11
    assert 10 < quasi.dispersion < 13
    # April is the peak only because April 2020 (lockdown) had 1,736 ASB reports.
    assert MONTH_NAMES[poisson.peak_month - 1] == "Apr"
    assert MONTH_NAMES[poisson.trough_month - 1] == "Feb"
    assert poisson.strength == pytest.approx(1.787, abs=1e-3)
    # The last 12 months, without the lockdown spring, peak in June.
    assert seasonal_profile(asb.iloc[-12:])["mean"].idxmax() == 6


def test_real_all_crime_seasonality_is_not_significant_once_overdispersion_counts(force_months):
    everything = force_months.loc["all"]
    assert seasonality_test(everything).p_value < 1e-100
    quasi = seasonality_test(everything, method="quasi")
    assert quasi.dispersion > 50
    assert quasi.p_value > 0.5


def test_real_forecasts_run(force_months):
    for name in ("all", "asb"):
        result = forecast(force_months.loc[name], 6, seed=0)
        assert result.attrs["method"] == "seasonal_glm"
        assert result["month"].dt.strftime("%Y-%m").tolist() == [
            "2021-12",
            "2022-01",
            "2022-02",
            "2022-03",
            "2022-04",
            "2022-05",
        ]
        assert ((result["low"] <= result["mean"]) & (result["mean"] <= result["high"])).all()
        assert (result["low"] >= 0).all()
