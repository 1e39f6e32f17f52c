"""Trend, seasonality and short seasonal forecasts of monthly incident counts.

Three audiences call this module:

* the screening table, one row per place (LSOA, neighbourhood or grid cell) for up to
  ~35,000 places: :func:`trend_table` and :func:`seasonal_strength_table`, both fully
  vectorised (no model is fitted per place in a Python loop);
* an area page, one monthly series: :func:`seasonal_profile`, :func:`seasonality_test` and
  :func:`forecast`;
* anyone labelling the two halves of a window: :func:`window_halves`.

Counts come in as a *wide* DataFrame (index = place, columns = consecutive first-of-month
Timestamps) or as a monthly Series. The methods, their assumptions and a worked example on
real police.uk data are in ``docs/methods/trend-and-seasonality.md``.

This module is pure numpy/pandas/scipy/statsmodels on purpose: it must run without Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

MIN_MONTHS = 12
"""Shortest window any function here accepts (one of each calendar month)."""

SEASONAL_MIN_MONTHS = 24
"""Shortest series for a seasonality test or a seasonal model: each calendar month twice."""

MIN_TREND_TOTAL = 10
"""Places with fewer incidents than this over the window get the trend direction "too few"."""

MIN_SEASONAL_TOTAL = 60
"""Places with fewer incidents than this (5 a calendar month) get no seasonal peak."""

SIGNIFICANCE = 0.05
"""Two-sided p-value below which the screening labels call a change or a pattern."""

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DIRECTIONS = ("up", "down", "no clear change", "too few")
SEASONALITY_LABELS = ("seasonal", "no clear pattern", "too few", "too short")
SEASONALITY_METHODS = ("poisson", "quasi")
FORECAST_METHODS = ("auto", "seasonal_glm", "mean")
MAX_HORIZON = 24

_TREND_COLUMNS = [
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


@dataclass(frozen=True, eq=False)
class WindowHalves:
    """The months compared by :func:`trend_table`.

    Attributes
    ----------
    earlier, later : pandas.DatetimeIndex
        The earlier and the later half, the same number of months each.
    dropped : pandas.DatetimeIndex
        The first month of an odd-length window (empty for an even one).

    Examples
    --------
    >>> halves = window_halves(pd.date_range("2020-01-01", periods=13, freq="MS"))
    >>> [str(m.date()) for m in (halves.dropped[0], halves.earlier[0], halves.later[0])]
    ['2020-01-01', '2020-02-01', '2020-08-01']
    """

    earlier: pd.DatetimeIndex
    later: pd.DatetimeIndex
    dropped: pd.DatetimeIndex


@dataclass(frozen=True)
class SeasonalityResult:
    """Outcome of :func:`seasonality_test` for one monthly series.

    Attributes
    ----------
    statistic : float
        Likelihood-ratio statistic (``method="poisson"``) or F statistic (``"quasi"``).
    dof : int
        Degrees of freedom of the month-of-year effect (11).
    dof_resid : int
        Residual degrees of freedom of the seasonal model (months - 13).
    p_value : float
        p-value of "no month-of-year effect beyond a linear trend".
    dispersion : float
        Pearson chi-square / residual dof of the seasonal model; 1 for Poisson counts.
        Much more than 1 means the Poisson p-value is too small.
    method : str
        ``"poisson"`` or ``"quasi"``.
    peak_month, trough_month : int
        Calendar month (1-12) with the highest and the lowest mean (:func:`seasonal_profile`).
    strength : float
        Peak-month mean / trough-month mean (``inf`` when the trough mean is 0).

    Examples
    --------
    >>> r = SeasonalityResult(1.0, 11, 13, 0.9, 1.1, "poisson", 7, 1, 1.2)
    >>> MONTH_NAMES[r.peak_month - 1]
    'Jul'
    """

    statistic: float
    dof: int
    dof_resid: int
    p_value: float
    dispersion: float
    method: str
    peak_month: int
    trough_month: int
    strength: float


# ----------------------------------------------------------------------------------------
# Input checks


def _month_index(values, what: str) -> pd.DatetimeIndex:
    """Months as a DatetimeIndex, refusing gaps, repeats and days other than the 1st."""
    months = pd.DatetimeIndex(values)
    if not (months == months.normalize()).all() or not (months.day == 1).all():
        raise ValueError(f"{what} must be first-of-month dates (months as YYYY-MM-01)")
    serial = np.asarray(months.year) * 12 + np.asarray(months.month)
    if len(serial) > 1 and not (np.diff(serial) == 1).all():
        # A gap would shift calendar months against the time trend and unbalance the halves.
        raise ValueError(f"{what} must be consecutive months in order, with no gaps or repeats")
    return months


def _check_length(n_months: int, needed: int, what: str) -> None:
    if n_months < needed:
        raise ValueError(f"{what} has {n_months} months; {needed} are needed")


def _count_values(values: np.ndarray, what: str) -> np.ndarray:
    """Counts as float64, refusing missing, negative and fractional values."""
    counts = np.asarray(values, dtype=float)
    if not np.isfinite(counts).all():
        raise ValueError(
            f"{what} has missing or infinite counts; fill months with no incidents by 0"
        )
    if (counts < 0).any() or (counts != np.floor(counts)).any():
        raise ValueError(f"{what} must hold whole, non-negative counts")
    return counts


def _wide_counts(wide: pd.DataFrame) -> tuple[np.ndarray, pd.DatetimeIndex]:
    _check_length(wide.shape[1], MIN_MONTHS, "wide")
    months = _month_index(wide.columns, "wide's columns")
    return _count_values(wide.to_numpy(), "wide"), months


def _series_counts(monthly: pd.Series, needed: int) -> tuple[np.ndarray, pd.DatetimeIndex]:
    _check_length(len(monthly), needed, "monthly")
    months = _month_index(monthly.index, "monthly's index")
    return _count_values(monthly.to_numpy(), "monthly"), months


def _check_option(value: str, options: tuple[str, ...], name: str) -> None:
    if value not in options:
        valid = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name}={value!r} is not valid; choose one of {valid}")


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level={level!r} must be between 0 and 1, for example 0.95")


# ----------------------------------------------------------------------------------------
# Trend: later half against earlier half


def window_halves(months) -> WindowHalves:
    """Split a window of consecutive months into an earlier and a later half.

    For an odd number of months the *first* month is dropped, so both halves have the same
    number of months (equal exposure) and the most recent months are always used.

    Parameters
    ----------
    months : sequence of datetime-like
        Consecutive first-of-month dates, at least 12.

    Returns
    -------
    WindowHalves

    Raises
    ------
    ValueError
        If there are fewer than 12 months, or they are not consecutive first-of-month dates.

    Examples
    --------
    >>> halves = window_halves(pd.date_range("2019-12-01", periods=24, freq="MS"))
    >>> halves.earlier[-1].strftime("%Y-%m"), halves.later[0].strftime("%Y-%m")
    ('2020-11', '2020-12')
    >>> len(halves.dropped)
    0
    """
    months = pd.DatetimeIndex(months)
    _check_length(len(months), MIN_MONTHS, "the window")
    months = _month_index(months, "the window")
    half = len(months) // 2
    start = len(months) - 2 * half
    return WindowHalves(
        earlier=months[start : start + half], later=months[start + half :], dropped=months[:start]
    )


def _rate_ratio(earlier: np.ndarray, later: np.ndarray) -> np.ndarray:
    # Add 0.5 to both counts when either is 0, so 0 -> 5 reads as a large finite rise
    # rather than infinity, and 0 -> 0 as a ratio of 1.
    zero = (earlier == 0) | (later == 0)
    shift = np.where(zero, 0.5, 0.0)
    return (later + shift) / (earlier + shift)


def _clopper_pearson(successes: np.ndarray, trials: np.ndarray, level: float):
    """Exact (Clopper-Pearson) bounds on a binomial proportion; NaN where trials = 0."""
    alpha = 1 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        low = stats.beta.ppf(alpha / 2, successes, trials - successes + 1)
        high = stats.beta.isf(alpha / 2, successes + 1, trials - successes)
    low = np.where(successes == 0, 0.0, low)
    high = np.where(successes == trials, 1.0, high)
    empty = trials == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def _odds(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p >= 1, np.inf, p / (1 - p))


def _binomial_p_value(later: np.ndarray, total: np.ndarray) -> np.ndarray:
    # Binomial(n, 1/2) is symmetric, so the two-sided "as unlikely or less" p-value that
    # scipy.stats.binomtest reports equals twice the smaller tail, capped at 1.
    smaller = np.minimum(later, total - later)
    p = np.minimum(1.0, 2 * stats.binom.cdf(smaller, total, 0.5))
    return np.where(total == 0, np.nan, p)


def _direction(later, earlier, p_value) -> np.ndarray:
    total = later + earlier
    clear = np.nan_to_num(p_value, nan=1.0) < SIGNIFICANCE
    label = np.where(clear & (later > earlier), "up", "no clear change")
    label = np.where(clear & (later < earlier), "down", label)
    return np.where(total < MIN_TREND_TOTAL, "too few", label).astype(object)


def trend_table(wide: pd.DataFrame) -> pd.DataFrame:
    """Change between the earlier and the later half of a window, per place, with a test.

    Each place's later-half count is compared with its earlier-half count by the exact
    conditional test for two Poisson counts: with equal exposure, ``later`` given
    ``total = earlier + later`` is Binomial(total, p) with p = RR / (1 + RR), where RR is the
    ratio of the later to the earlier rate. "No change" is p = 1/2.

    Parameters
    ----------
    wide : pandas.DataFrame
        Incident counts; index = place, columns = consecutive months (first-of-month
        Timestamps), at least 12. For an odd number of months the first month is dropped
        (see :func:`window_halves`). Months without incidents must be 0, not missing.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``wide``, with columns

        - ``earlier``, ``later``: counts in each half (int64);
        - ``change``: later - earlier;
        - ``change_pct``: 100 * change / earlier, NaN when earlier is 0;
        - ``rate_ratio``: later / earlier; when either count is 0, 0.5 is added to both
          (a continuity correction, so 0 -> 0 is 1 and 0 -> 5 is 11, not infinity);
        - ``rr_low``, ``rr_high``: 95% interval for the rate ratio, Clopper-Pearson bounds on
          p transformed by p / (1 - p) (``rr_high`` is inf when earlier is 0; both NaN when
          the place has no incidents);
        - ``p_value``: two-sided exact binomial test of p = 1/2 (NaN with no incidents);
        - ``direction``: ``"too few"`` when the place has fewer than ``MIN_TREND_TOTAL``
          (10) incidents in the two halves; else ``"up"`` or ``"down"`` when p_value < 0.05,
          else ``"no clear change"``.

    Raises
    ------
    ValueError
        Fewer than 12 months; columns that are not consecutive months; missing, negative or
        fractional counts.

    Notes
    -----
    The test assumes Poisson counts. Crime counts are usually overdispersed (they vary more
    than Poisson between months), which makes the p-values too small, so the more so for
    places with many incidents. ``direction`` is a screening signal to look closer, not
    proof of a change. Every place is tested at the 5% level with no correction for the
    number of places, so about 5% of places with no real change are labelled up or down.

    Examples
    --------
    >>> months = pd.date_range("2021-01-01", periods=12, freq="MS")
    >>> wide = pd.DataFrame(
    ...     [[2] * 6 + [6] * 6, [2] * 12, [1, 0] * 6, [0] * 12], index=list("ABCD"), columns=months
    ... )
    >>> table = trend_table(wide)
    >>> table[["earlier", "later", "rate_ratio", "direction"]]
       earlier  later  rate_ratio        direction
    A       12     36         3.0               up
    B       12     12         1.0  no clear change
    C        3      3         1.0          too few
    D        0      0         1.0          too few
    >>> print(f"{table.loc['A', 'p_value']:.5f} {table.loc['A', 'rr_low']:.2f}")
    0.00072 1.53
    """
    counts, months = _wide_counts(wide)
    halves = window_halves(months)
    n_half = len(halves.later)
    earlier = counts[:, -2 * n_half : -n_half].sum(axis=1)
    later = counts[:, -n_half:].sum(axis=1)
    total = earlier + later
    p_low, p_high = _clopper_pearson(later, total, 0.95)
    p_value = _binomial_p_value(later, total)
    with np.errstate(divide="ignore", invalid="ignore"):
        change_pct = np.where(earlier > 0, 100 * (later - earlier) / earlier, np.nan)
    columns = {
        "earlier": earlier.astype(np.int64),
        "later": later.astype(np.int64),
        "change": (later - earlier).astype(np.int64),
        "change_pct": change_pct,
        "rate_ratio": _rate_ratio(earlier, later),
        "rr_low": _odds(p_low),
        "rr_high": _odds(p_high),
        "p_value": p_value,
        "direction": _direction(later, earlier, p_value),
    }
    return pd.DataFrame(columns, index=wide.index, columns=_TREND_COLUMNS)


# ----------------------------------------------------------------------------------------
# Seasonality


def seasonal_profile(monthly: pd.Series) -> pd.DataFrame:
    """Mean count per calendar month and its index against the average month.

    Parameters
    ----------
    monthly : pandas.Series
        Counts indexed by consecutive first-of-month Timestamps, at least 12 months.

    Returns
    -------
    pandas.DataFrame
        12 rows indexed by calendar month 1..12 (index name ``"month"``), with columns

        - ``name``: ``"Jan"`` .. ``"Dec"``;
        - ``mean``: mean count of that calendar month over the series;
        - ``index``: ``mean`` / the average of the 12 calendar-month means (1 = a typical
          month, 1.2 = 20% above). Averaging the 12 means, not all months, keeps a window
          that is not a whole number of years from counting some months twice; for whole
          years the two are equal;
        - ``months``: how many months of the series fell in that calendar month.

        Read the index column as ``profile["index"]`` (``profile.index`` is the row index).

    Raises
    ------
    ValueError
        Fewer than 12 months, months not consecutive, or counts not whole and non-negative.

    Examples
    --------
    >>> months = pd.date_range("2020-01-01", periods=24, freq="MS")
    >>> monthly = pd.Series([10] * 6 + [20] * 6 + [14] * 6 + [16] * 6, index=months)
    >>> seasonal_profile(monthly).loc[[1, 7]]  # doctest: +NORMALIZE_WHITESPACE
          name  mean  index  months
    month
    1      Jan  12.0    0.8       2
    7      Jul  18.0    1.2       2
    """
    counts, months = _series_counts(monthly, MIN_MONTHS)
    frame = pd.DataFrame({"count": counts, "month": months.month})
    grouped = frame.groupby("month")["count"].agg(["mean", "size"])
    mean = grouped["mean"]
    overall = mean.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        index = mean / overall if overall > 0 else mean * np.nan
    profile = pd.DataFrame(
        {
            "name": [MONTH_NAMES[m - 1] for m in grouped.index],
            "mean": mean,
            "index": index,
            "months": grouped["size"].astype(np.int64),
        }
    )
    profile.index.name = "month"
    return profile


def _glm_design(calendar_month: np.ndarray, t: np.ndarray, seasonal: bool) -> np.ndarray:
    """Columns: constant, linear time, and 11 calendar-month dummies (January = reference)."""
    columns = [np.ones(len(t)), t]
    if seasonal:
        columns += [(calendar_month == m).astype(float) for m in range(2, 13)]
    return np.column_stack(columns)


def _centred_time(n: int) -> np.ndarray:
    # Centring time keeps the constant and the slope nearly uncorrelated, so IRLS and the
    # parameter simulation in forecast() are well conditioned.
    return np.arange(n, dtype=float) - (n - 1) / 2


def _poisson_fit(counts: np.ndarray, design: np.ndarray):
    return sm.GLM(counts, design, family=sm.families.Poisson()).fit()


def seasonality_test(monthly: pd.Series, *, method: str = "poisson") -> SeasonalityResult:
    """Test whether a monthly series has a month-of-year pattern beyond a linear trend.

    Two Poisson GLMs (log link) are fitted by statsmodels: ``count ~ time`` and
    ``count ~ time + calendar month`` (11 extra parameters). The linear time term keeps a
    steady rise or fall from being read as a season.

    Parameters
    ----------
    monthly : pandas.Series
        Counts indexed by consecutive first-of-month Timestamps, at least 24 months (every
        calendar month twice; with one year the month effect and the noise cannot be told
        apart).
    method : {"poisson", "quasi"}, default "poisson"
        ``"poisson"``: likelihood-ratio test, the deviance difference against chi-square
        with 11 degrees of freedom. ``"quasi"``: the same deviance difference per degree of
        freedom divided by the estimated dispersion, against F(11, months - 13); use it when
        ``dispersion`` is well above 1 (large, overdispersed counts such as force totals).

    Returns
    -------
    SeasonalityResult
        The statistic, its degrees of freedom and p-value, the dispersion, and the peak
        and trough calendar months and their ratio from :func:`seasonal_profile`.

    Raises
    ------
    ValueError
        Fewer than 24 months, an unknown ``method``, or invalid counts.

    Notes
    -----
    The peak, trough and strength describe the raw calendar-month means (what the profile
    chart shows), not the trend-adjusted month effects. With only two or three years a
    one-off shock (a lockdown, an operation) that fell in the same months looks like a
    season to this test: read the result with the series.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> months = pd.date_range("2019-01-01", periods=36, freq="MS")
    >>> rate = 50 * (1 + 0.4 * np.cos(2 * np.pi * (months.month - 7) / 12))
    >>> result = seasonality_test(pd.Series(rng.poisson(rate), index=months))
    >>> result.p_value < 1e-6, MONTH_NAMES[result.peak_month - 1], result.dof
    (True, 'Jul', 11)
    """
    _check_option(method, SEASONALITY_METHODS, "method")
    counts, months = _series_counts(monthly, SEASONAL_MIN_MONTHS)
    t, calendar = _centred_time(len(counts)), np.asarray(months.month)
    full = _poisson_fit(counts, _glm_design(calendar, t, seasonal=True))
    trend_only = _poisson_fit(counts, _glm_design(calendar, t, seasonal=False))
    deviance_drop = max(trend_only.deviance - full.deviance, 0.0)
    dof, dof_resid = 11, int(full.df_resid)
    dispersion = float(full.pearson_chi2 / dof_resid) if dof_resid > 0 else float("nan")
    if method == "poisson":
        statistic, p_value = deviance_drop, stats.chi2.sf(deviance_drop, dof)
    else:
        statistic = deviance_drop / dof / dispersion
        p_value = stats.f.sf(statistic, dof, dof_resid)
    profile = seasonal_profile(monthly)
    peak, trough = int(profile["mean"].idxmax()), int(profile["mean"].idxmin())
    trough_mean = profile.loc[trough, "mean"]
    strength = profile.loc[peak, "mean"] / trough_mean if trough_mean > 0 else float("inf")
    return SeasonalityResult(
        statistic=float(statistic),
        dof=dof,
        dof_resid=dof_resid,
        p_value=float(p_value),
        dispersion=dispersion,
        method=method,
        peak_month=peak,
        trough_month=trough,
        strength=float(strength),
    )


def _calendar_means(counts: np.ndarray, calendar: np.ndarray) -> np.ndarray:
    """Places x 12 array of calendar-month means (columns Jan..Dec)."""
    dummies = (calendar[:, None] == np.arange(1, 13)[None, :]).astype(float)
    return counts @ dummies / dummies.sum(axis=0)


def _loglinear_trend_fit(counts: np.ndarray, t: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Fitted means of a Poisson ``log(mu) = a + b t`` per row, by vectorised Newton steps.

    Rows must have a positive total. Steps are capped at 1 on the log scale, and the slope
    at a 65% change a month, because a place whose incidents all fall at one end of the
    window has no finite maximum: the caps keep such rows finite while the others converge.
    """
    a = np.log(counts.mean(axis=1))
    b = np.zeros(len(counts))
    for _ in range(iterations):
        mu = np.exp(a[:, None] + b[:, None] * t[None, :])
        resid = counts - mu
        g_a, g_b = resid.sum(axis=1), resid @ t
        h_aa, h_ab, h_bb = mu.sum(axis=1), mu @ t, mu @ (t * t)
        det = h_aa * h_bb - h_ab**2
        step_a = np.clip((h_bb * g_a - h_ab * g_b) / det, -1, 1)
        step_b = np.clip((h_aa * g_b - h_ab * g_a) / det, -1, 1)
        a, b = a + step_a, np.clip(b + step_b, -0.5, 0.5)
        if max(np.abs(step_a).max(), np.abs(step_b).max()) < 1e-10:
            break
    return np.exp(a[:, None] + b[:, None] * t[None, :])


def _month_score_test(counts: np.ndarray, calendar: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Rao score test of 11 calendar-month effects in a Poisson log-linear trend model.

    The score test needs only the trend-only fit, which is cheap to vectorise; it is
    asymptotically equivalent to the likelihood-ratio test of :func:`seasonality_test`.
    """
    mu = _loglinear_trend_fit(counts, t)
    base = np.column_stack([np.ones_like(t), t])
    extra = (calendar[:, None] == np.arange(2, 13)[None, :]).astype(float)
    score = (counts - mu) @ extra
    info_ee, info_eb = _weighted_gram(extra, mu, extra), _weighted_gram(extra, mu, base)
    info_bb = _weighted_gram(base, mu, base)
    # Efficient information for the month effects once the trend has been estimated.
    info = info_ee - info_eb @ np.linalg.solve(info_bb, np.swapaxes(info_eb, 1, 2))
    statistic = np.einsum("pk,pk->p", score, np.linalg.solve(info, score[:, :, None])[:, :, 0])
    return stats.chi2.sf(statistic, 11)


def _weighted_gram(left: np.ndarray, weights: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per row p of ``weights``: left' diag(weights[p]) right, as a batched matrix product."""
    return (left.T[None, :, :] * weights[:, None, :]) @ right


def _month_score_test_chunked(counts, calendar, t, chunk: int = 4096) -> np.ndarray:
    # Chunks bound the (places x 11 x months) temporaries to a few tens of MB nationally.
    parts = [
        _month_score_test(counts[i : i + chunk], calendar, t) for i in range(0, len(counts), chunk)
    ]
    return np.concatenate(parts) if parts else np.empty(0)


def seasonal_strength_table(wide: pd.DataFrame) -> pd.DataFrame:
    """Peak calendar month and its strength per place, for the screening table.

    Parameters
    ----------
    wide : pandas.DataFrame
        Incident counts; index = place, columns = consecutive first-of-month Timestamps,
        at least 12. Months without incidents must be 0.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``wide``, with columns

        - ``total``: incidents over the window;
        - ``peak_month`` (nullable Int64, 1..12) and ``peak_name`` (``"Jan"``..): the
          calendar month with the highest mean (the earliest month on a tie);
        - ``peak_ratio``: peak-month mean / average of the 12 calendar-month means;
        - ``p_value``: score test of a month-of-year effect beyond a log-linear trend
          (Poisson; the vectorised counterpart of :func:`seasonality_test`);
        - ``seasonality``: ``"too short"`` for windows under 24 months (no test),
          ``"too few"`` under ``MIN_SEASONAL_TOTAL`` (60) incidents, else ``"seasonal"``
          when p_value < 0.05 and ``"no clear pattern"`` otherwise.

        With too few incidents ``peak_month``, ``peak_ratio`` and ``p_value`` are missing:
        at under 5 incidents a calendar month, noise alone makes ratios of 1.5 or more.

    Raises
    ------
    ValueError
        Fewer than 12 months, columns that are not consecutive months, invalid counts.

    Notes
    -----
    Like :func:`trend_table`, the test ignores overdispersion, so it calls patterns too
    readily for places with many incidents: a screening signal, not proof.

    Examples
    --------
    >>> rng = np.random.default_rng(7)
    >>> months = pd.date_range("2019-01-01", periods=36, freq="MS")
    >>> summer = 10 * (1 + 0.5 * np.cos(2 * np.pi * (months.month - 7) / 12))
    >>> wide = pd.DataFrame([rng.poisson(summer), rng.poisson(np.full(36, 10)), [1] * 36],
    ...                     index=["park", "flat", "quiet"], columns=months)

    The park's rate peaks in July; noise can move the observed peak by a month.

    >>> seasonal_strength_table(wide)[["total", "peak_name", "seasonality"]]
           total peak_name       seasonality
    park     388       Aug          seasonal
    flat     355       Jan  no clear pattern
    quiet     36      <NA>           too few
    """
    counts, months = _wide_counts(wide)
    calendar = np.asarray(months.month)
    total = counts.sum(axis=1)
    means = _calendar_means(counts, calendar)
    enough = total >= MIN_SEASONAL_TOTAL
    peak = means.argmax(axis=1) + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = means.max(axis=1) / means.mean(axis=1)
    p_value = np.full(len(counts), np.nan)
    long_enough = len(months) >= SEASONAL_MIN_MONTHS
    if long_enough and enough.any():
        t = _centred_time(len(months))
        p_value[enough] = _month_score_test_chunked(counts[enough], calendar, t)
    label = np.where(p_value < SIGNIFICANCE, "seasonal", "no clear pattern")
    label = label if long_enough else np.full(len(counts), "too short")
    label = np.where(enough, label, "too few")
    peak_month = pd.array(np.where(enough, peak, 0), dtype="Int64")
    peak_month[~enough] = pd.NA
    names = np.array((None, *MONTH_NAMES), dtype=object)[np.where(enough, peak, 0)]
    return pd.DataFrame(
        {
            "total": total.astype(np.int64),
            "peak_month": peak_month,
            "peak_name": pd.array(names, dtype="string"),
            "peak_ratio": np.where(enough, ratio, np.nan),
            "p_value": p_value,
            "seasonality": label.astype(object),
        },
        index=wide.index,
    )


# ----------------------------------------------------------------------------------------
# Forecast


def _future_months(last: pd.Timestamp, horizon: int) -> pd.DatetimeIndex:
    return pd.date_range(last + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")


def _nb1_quantiles(mean: np.ndarray, dispersion: float, level: float):
    """Quantiles of a count with the given mean and variance = dispersion * mean.

    dispersion 1 is Poisson; above 1 a negative binomial with that mean and variance.
    """
    tails = ((1 - level) / 2, (1 + level) / 2)
    if dispersion <= 1:
        return tuple(stats.poisson.ppf(q, mean) for q in tails)
    n, p = mean / (dispersion - 1), 1 / dispersion
    return tuple(stats.nbinom.ppf(q, n, p) for q in tails)


def _forecast_mean(counts, horizon, level):
    recent = counts[-12:]
    mean = recent.mean()
    if mean == 0:
        return np.zeros(horizon), np.zeros(horizon), np.zeros(horizon), 1.0
    # Month-to-month spread beyond Poisson (seasonality included) widens the interval,
    # and (1 + 1/12) adds the uncertainty of a mean taken from 12 months.
    dispersion = max(1.0, recent.var(ddof=1) / mean) * (1 + 1 / 12)
    low, high = _nb1_quantiles(np.full(horizon, mean), dispersion, level)
    return np.full(horizon, mean), low, high, dispersion


def _simulate_counts(rng, mean: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """Counts with variance dispersion * mean: a gamma-mixed Poisson (negative binomial)."""
    excess = np.maximum(dispersion - 1, 1e-9)[:, None]
    return rng.poisson(rng.gamma(mean / excess, excess))


def _forecast_glm(counts, months, horizon, level, seed, draws):
    n = len(counts)
    t_all = np.arange(n + horizon, dtype=float) - (n - 1) / 2
    future = _future_months(months[-1], horizon)
    calendar = np.concatenate([np.asarray(months.month), np.asarray(future.month)])
    design = _glm_design(calendar, t_all, seasonal=True)
    fit = _poisson_fit(counts, design[:n])
    dof_resid = int(fit.df_resid)
    dispersion = max(1.0, float(fit.pearson_chi2 / dof_resid))
    rng = np.random.default_rng(seed)
    # Parameter uncertainty: the dispersion from its scaled chi-square distribution, then
    # the coefficients from their normal approximation at that dispersion.
    phi = np.full(draws, 1.0)
    if dispersion > 1:
        phi = np.maximum(1.0, dispersion * dof_resid / rng.chisquare(dof_resid, draws))
    noise = rng.multivariate_normal(np.zeros(len(fit.params)), fit.normalized_cov_params, draws)
    coefs = fit.params[None, :] + np.sqrt(phi)[:, None] * noise
    simulated_mean = np.exp(coefs @ design[n:].T)
    simulated = _simulate_counts(rng, simulated_mean, phi)
    low = np.quantile(simulated, (1 - level) / 2, axis=0, method="lower")
    high = np.quantile(simulated, (1 + level) / 2, axis=0, method="higher")
    return np.exp(design[n:] @ fit.params), low, high, dispersion


def _pick_method(method: str, counts: np.ndarray, months: pd.DatetimeIndex) -> str:
    can_fit = len(counts) >= SEASONAL_MIN_MONTHS
    # A calendar month with no incidents at all has no finite month effect.
    all_months_seen = (_calendar_means(counts[None, :], np.asarray(months.month)) > 0).all()
    if method == "auto":
        return "seasonal_glm" if can_fit and all_months_seen else "mean"
    if method == "seasonal_glm" and not can_fit:
        raise ValueError(f"method='seasonal_glm' needs {SEASONAL_MIN_MONTHS} months or more")
    if method == "seasonal_glm" and not all_months_seen:
        raise ValueError("method='seasonal_glm' needs at least one incident in each calendar month")
    return method


def forecast(
    monthly: pd.Series,
    horizon: int = 6,
    *,
    level: float = 0.95,
    method: str = "auto",
    seed: int = 0,
    draws: int = 10_000,
) -> pd.DataFrame:
    """Forecast the next months of a monthly count series with a prediction interval.

    Parameters
    ----------
    monthly : pandas.Series
        Counts indexed by consecutive first-of-month Timestamps, at least 12 months.
    horizon : int, default 6
        Months to forecast after the last month of ``monthly``, 1 to 24.
    level : float, default 0.95
        Coverage of the prediction interval.
    method : {"auto", "seasonal_glm", "mean"}, default "auto"
        ``"seasonal_glm"``: a Poisson GLM with log link, linear trend and calendar-month
        factor, with overdispersion taken from the quasi-likelihood scale (Pearson
        chi-square / residual dof, at least 1). Needs 24 months and an incident in every
        calendar month. ``"mean"``: the mean of the last 12 months, flat. ``"auto"``:
        ``"seasonal_glm"`` when it can be fitted, otherwise ``"mean"``.
    seed : int, default 0
        Seed of the simulation behind the ``"seasonal_glm"`` interval.
    draws : int, default 10000
        Simulated futures behind the ``"seasonal_glm"`` interval.

    Returns
    -------
    pandas.DataFrame
        One row per future month: ``month`` (Timestamp), ``mean`` (the expected count),
        ``low`` and ``high`` (the prediction interval for the count that will be recorded,
        whole numbers). ``attrs`` holds ``method`` (the method used), ``level`` and
        ``dispersion``.

    Raises
    ------
    ValueError
        Unknown ``method``, ``horizon`` outside 1..24, ``level`` outside (0, 1), too few
        months, or invalid counts.

    Notes
    -----
    ``"seasonal_glm"`` interval: ``draws`` futures are simulated. Each draw takes a
    dispersion phi* = phi * dof / chi2(dof), coefficients from a normal centred on the
    estimates with covariance phi* (X'WX)^-1, and then a count from a negative binomial
    (gamma-mixed Poisson) with the drawn mean and variance phi* x mean; the interval is the
    central ``level`` range of those counts. So the interval includes the noise of a month,
    the overdispersion and the uncertainty of the trend, season and dispersion estimates.
    The linear trend is extrapolated: beyond a few months, trust the interval more than the
    mean.

    ``"mean"`` interval: quantiles of a count with that mean and variance = phi x mean,
    phi = max(1, variance / mean of the last 12 months) x (1 + 1/12) (Poisson when the
    months vary no more than Poisson and the mean were known).

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> months = pd.date_range("2019-01-01", periods=36, freq="MS")
    >>> rate = 40 * (1 + 0.3 * np.cos(2 * np.pi * (months.month - 7) / 12))
    >>> result = forecast(pd.Series(rng.poisson(rate), index=months), 3)
    >>> result.attrs["method"], [m.strftime("%b %Y") for m in result["month"]]
    ('seasonal_glm', ['Jan 2022', 'Feb 2022', 'Mar 2022'])
    >>> bool(((result["low"] <= result["mean"]) & (result["mean"] <= result["high"])).all())
    True
    """
    _check_option(method, FORECAST_METHODS, "method")
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer):
        raise ValueError(f"horizon={horizon!r} must be a whole number of months, 1 to 24")
    if not 1 <= horizon <= MAX_HORIZON:
        raise ValueError(f"horizon={horizon} must be between 1 and {MAX_HORIZON} months")
    _check_level(level)
    counts, months = _series_counts(monthly, MIN_MONTHS)
    used = _pick_method(method, counts, months)
    if used == "seasonal_glm":
        mean, low, high, dispersion = _forecast_glm(counts, months, horizon, level, seed, draws)
    else:
        mean, low, high, dispersion = _forecast_mean(counts, horizon, level)
    result = pd.DataFrame(
        {"month": _future_months(months[-1], horizon), "mean": mean, "low": low, "high": high}
    )
    result.attrs.update(method=used, level=level, dispersion=dispersion)
    return result
