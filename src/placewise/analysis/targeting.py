"""Targeting accuracy: score places from past months and back-test the scores on unseen months.

The screening page ranks places (LSOAs or regular grid cells) and lets an analyst ask "if we
had targeted the top places by this method, how many of next month's incidents would they have
held?". This module answers with the two standard measures, the hit rate and the Predictive
Accuracy Index (PAI; Chainey, Tompson & Uhlig 2008), for eight scoring methods, using a
rolling-origin back-test: every test month is predicted only from the months before it.

Inputs are month-by-place counts aggregated by the database::

    counts  columns place, month (first-of-month Timestamp), n (incidents), optional harm
    places  index place; columns area_km2 (> 0) and, for kernel methods, x and y (metres)

Methods, formulas, defaults and citations are documented in ``docs/methods/targeting.md``.

This module is pure pandas/numpy/scipy on purpose: it must run without Django settings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

COUNT_METHODS = ("naive", "long_term", "ewma", "kde", "prospective")
HARM_METHODS = ("harm_long_term", "harm_ewma", "harm_kde")
METHODS = COUNT_METHODS + HARM_METHODS
SPATIAL_METHODS = ("kde", "prospective", "harm_kde")
OUTCOMES = ("n", "harm")
DEFAULT_COVERAGES = (0.01, 0.05, 0.1)
SUGGESTION_COVERAGE = 0.05

# The Gaussian kernel is cut at five bandwidths: beyond that a neighbour's weight is below
# exp(-12.5) = 3.7e-6 of a place's own, and the cut keeps the distance matrix sparse (a county
# of 250 m cells would otherwise need a dense matrix of tens of millions of pairs).
KDE_TRUNCATION = 5.0

# Cumulative area shares are float sums; without a tolerance 3 x 0.1 > 0.3 would take one
# place too many and break the equal-area rule k = ceil(coverage * N).
_AREA_TOLERANCE = 1e-9
_M2_PER_KM2 = 1e6


# --- parameters and results -----------------------------------------------------------------


@dataclass(frozen=True)
class TargetingParams:
    """Tuning parameters of the scoring methods, with the documented defaults.

    Attributes
    ----------
    half_life : float
        ``ewma`` and ``harm_ewma``: months after which a month's weight halves (default 3).
    bandwidth : float
        ``kde`` and ``harm_kde``: Gaussian kernel bandwidth in metres (default 400).
    distance_bandwidth : float
        ``prospective``: distance in metres at which the spatial weight halves (default 200).
    distance_limit : float
        ``prospective``: incidents further than this many metres have no influence
        (default 400).
    time_bandwidth : float
        ``prospective``: age in months at which the temporal weight halves (default 1).

    Examples
    --------
    >>> TargetingParams.from_kwargs({"half_life": 6}).half_life
    6.0
    >>> TargetingParams.from_kwargs({"halflife": 6})
    Traceback (most recent call last):
    ...
    ValueError: unknown parameter(s) 'halflife'; valid parameters: half_life, bandwidth, \
distance_bandwidth, distance_limit, time_bandwidth
    """

    half_life: float = 3.0
    bandwidth: float = 400.0
    distance_bandwidth: float = 200.0
    distance_limit: float = 400.0
    time_bandwidth: float = 1.0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise ValueError(f"parameter {item.name!r} must be a number; got {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"parameter {item.name!r} must be positive; got {value!r}")
            object.__setattr__(self, item.name, float(value))

    @classmethod
    def from_kwargs(cls, params: Mapping[str, object]) -> TargetingParams:
        """Build from keyword arguments, naming the valid parameters on a typo."""
        valid = [item.name for item in fields(cls)]
        unknown = [name for name in params if name not in valid]
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))}; "
                f"valid parameters: {', '.join(valid)}"
            )
        return cls(**params)  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """Rolling-origin back-test of targeting methods; see :func:`backtest`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (method, coverage): ``method, coverage, hit_rate, pai, pai_low,
        pai_high, area_share, months``. ``hit_rate`` and ``pai`` are means over test months,
        ``pai_low``/``pai_high`` a 95% percentile bootstrap interval over test months,
        ``area_share`` the mean share of area actually selected, ``months`` the number of
        test months with a defined figure (months with no test incidents are left out).
    per_month : pandas.DataFrame
        One row per (month, method, coverage): ``month, method, coverage, hit_rate, pai,
        area_share, places_selected, test_total``.
    suggested : str or None
        Method with the highest mean PAI at ``suggested_coverage``; ties go to the method
        listed first; None when no method has a defined PAI.
    suggested_coverage : float
        0.05 when it is among the coverages, otherwise the middle coverage (the lower middle
        one for an even number).
    runner_up : str or None
        The method with the next highest mean PAI there (None with fewer than two).
    margin : tuple of float
        ``(mean, low, high)``: suggested minus runner-up PAI at ``suggested_coverage``,
        averaged over test months, with a 95% bootstrap interval paired by month. When the
        interval includes 0 the suggestion is not clearly better than the runner-up.
    params : TargetingParams
        Method parameters used.
    train_months, seed, n_boot : int
        Settings used.
    outcome : str
        ``"n"`` (incidents) or ``"harm"``: what the hit rate counts.
    """

    table: pd.DataFrame
    per_month: pd.DataFrame
    suggested: str | None
    suggested_coverage: float
    runner_up: str | None
    margin: tuple[float, float, float]
    params: TargetingParams
    train_months: int
    seed: int
    n_boot: int
    outcome: str

    def as_records(self) -> list[dict[str, object]]:
        """The table as JSON-safe dicts (NaN becomes None), for the API and the page.

        Returns
        -------
        list of dict
            Keys ``method, coverage, hit_rate, pai, pai_low, pai_high``.

        Examples
        --------
        >>> table = pd.DataFrame([{"method": "naive", "coverage": 0.05, "hit_rate": 0.5,
        ...     "pai": 10.0, "pai_low": float("nan"), "pai_high": 12.0}])
        >>> result = BacktestResult(table, pd.DataFrame(), "naive", 0.05, None,
        ...     (math.nan,) * 3, TargetingParams(), 12, 0, 1000, "n")
        >>> result.as_records()[0]["pai_low"] is None
        True
        """
        keys = ("hit_rate", "pai", "pai_low", "pai_high")
        return [
            {
                "method": str(row["method"]),
                "coverage": float(row["coverage"]),
                **{key: _json_float(row[key]) for key in keys},
            }
            for row in self.table.to_dict("records")
        ]


@dataclass(frozen=True, eq=False)
class ConcentrationResult:
    """How concentrated incidents (or harm) are across places; see :func:`concentration`.

    Attributes
    ----------
    curve : pandas.DataFrame
        Columns ``place_share, value_share`` from (0, 0) to (1, 1), places in descending
        order, at most ``max_points`` rows, for plotting.
    top_shares : dict of float to float
        Share of the total held by the top 1%, 5% and 10% of places (or of area).
    gini : float
        Gini coefficient: 0 when spread evenly, towards 1 when all in one place.
    """

    curve: pd.DataFrame
    top_shares: dict[float, float]
    gini: float


# --- public functions -----------------------------------------------------------------------


def predict(
    counts: pd.DataFrame,
    places: pd.DataFrame,
    method: str,
    *,
    train_end: object,
    train_months: int,
    **params: float,
) -> pd.Series:
    """Score every place from the ``train_months`` months ending at ``train_end`` inclusive.

    With ages counted back from the last training month (age 0) and ``w`` the variable
    (``n``, or ``harm`` for the ``harm_`` methods), the score of place ``i`` is:

    ``naive``
        ``w`` in the last training month.
    ``long_term``, ``harm_long_term``
        The sum of ``w`` over the training window.
    ``ewma``, ``harm_ewma``
        ``sum_t w_it * 0.5 ** (age_t / half_life)``, an exponentially weighted sum.
    ``kde``, ``harm_kde``
        Gaussian kernel density at the place centroid of the window's sums, per km2:
        ``sum_j W_j * exp(-d_ij**2 / (2 h**2)) / (2 pi h**2) * 1e6``, ``h = bandwidth``,
        cut at ``KDE_TRUNCATION`` bandwidths.
    ``prospective``
        Bowers, Johnson & Pease (2004) at place level:
        ``sum_j sum_t n_jt / (1 + d_ij / distance_bandwidth) / (1 + age_t / time_bandwidth)``
        over ``d_ij <= distance_limit`` and the training window.

    Parameters
    ----------
    counts : pandas.DataFrame
        Columns ``place``, ``month`` (first-of-month dates), ``n`` and optional ``harm``.
        Several rows for one place and month are added together.
    places : pandas.DataFrame
        Indexed by place, column ``area_km2``; ``x`` and ``y`` in metres for ``kde``,
        ``harm_kde`` and ``prospective``. Places with no incidents must be included.
    method : str
        One of :data:`METHODS`.
    train_end : str or pandas.Timestamp
        Last training month.
    train_months : int
        Length of the training window in months.
    **params : float
        Overrides of :class:`TargetingParams` defaults.

    Returns
    -------
    pandas.Series
        Float scores named ``score``, indexed like ``places``. To rank, use
        :func:`rank_places`, which breaks ties by place id.

    Raises
    ------
    ValueError
        Unknown method or parameter, a training window outside the data, a missing
        ``harm``/``x``/``y`` column the method needs, or malformed counts.

    Examples
    --------
    >>> counts = pd.DataFrame({
    ...     "place": ["a", "a", "b"],
    ...     "month": pd.to_datetime(["2021-01-01", "2021-02-01", "2021-01-01"]),
    ...     "n": [1, 2, 5],
    ... })
    >>> places = pd.DataFrame({"area_km2": [1.0, 1.0, 1.0]}, index=["a", "b", "c"])
    >>> predict(counts, places, "long_term", train_end="2021-02", train_months=2).tolist()
    [3.0, 5.0, 0.0]
    >>> predict(counts, places, "naive", train_end="2021-02", train_months=2).tolist()
    [2.0, 0.0, 0.0]
    """
    method = _check_methods([method])[0]
    settings = TargetingParams.from_kwargs(params)
    train_months = _check_positive_int(train_months, "train_months")
    panel = _panel(counts, places, uses_harm=method in HARM_METHODS, uses_xy=_spatial([method]))
    end = _month(train_end, "train_end")
    _check_training_window(panel, end - (train_months - 1), end, train_months)
    scorer = _Scorer(panel, settings)
    scores = scorer.score(method, panel.row(end), train_months)
    return pd.Series(scores, index=panel.places, name="score")


def rank_places(scores: pd.Series) -> pd.Index:
    """Place ids from the highest score down; ties broken by place id, ascending.

    The tie rule makes rankings reproducible from run to run and between the page and the
    back-test. Missing scores rank last. Ids that cannot be compared with each other (mixed
    types) are compared as text.

    Parameters
    ----------
    scores : pandas.Series
        Score per place, indexed by place id.

    Returns
    -------
    pandas.Index
        The place ids in rank order.

    Examples
    --------
    >>> rank_places(pd.Series({"c": 2.0, "b": 5.0, "a": 2.0, "d": float("nan")})).tolist()
    ['b', 'a', 'c', 'd']
    """
    order = _rank_order(scores.to_numpy(dtype=float), _id_rank(scores.index))
    return scores.index[order]


def hit_rate_and_pai(
    scores: pd.Series, actual: pd.Series, area_km2: pd.Series, coverage: float
) -> tuple[float, float]:
    """Hit rate and Predictive Accuracy Index of the top-scoring places at a coverage.

    Places are taken in :func:`rank_places` order until their cumulative area reaches
    ``coverage`` of the total area (the first point where the share is >= ``coverage``); with
    ``N`` equal-area places that is ``k = ceil(coverage * N)`` places. Then::

        hit rate = test incidents in the selected places / all test incidents
        PAI      = hit rate / area share actually selected     (Chainey et al. 2008)

    The selected share can exceed ``coverage`` (whole places only), so PAI divides by the
    share actually selected, never by ``coverage``.

    Parameters
    ----------
    scores : pandas.Series
        Score per place (index = place id), e.g. from :func:`predict`.
    actual : pandas.Series
        Test-period incidents per place; places absent from it count as zero.
    area_km2 : pandas.Series
        Area per place; must cover every scored place.
    coverage : float
        Target share of the total area, in (0, 1].

    Returns
    -------
    tuple of float
        ``(hit_rate, pai)``; both NaN when there are no test incidents.

    Examples
    --------
    Ten equal cells, the top cell (by score) holds 5 of 10 test incidents: at 10% coverage
    the hit rate is 0.5 and the PAI 0.5 / 0.1 = 5.

    >>> ids = list("abcdefghij")
    >>> scores = pd.Series(range(10, 0, -1), index=ids, dtype=float)
    >>> actual = pd.Series([5, 0, 1, 0, 0, 0, 0, 0, 4, 0], index=ids)
    >>> area = pd.Series(1.0, index=ids)
    >>> hit, pai = hit_rate_and_pai(scores, actual, area, 0.1)
    >>> float(hit), round(float(pai), 12)
    (0.5, 5.0)
    """
    coverage = _check_coverages([coverage])[0]
    places = scores.index
    actual_values = _aligned(actual, places, "actual", fill=0.0)
    area = _aligned(area_km2, places, "area_km2", fill=None)
    _check_areas(area)
    order = _rank_order(scores.to_numpy(dtype=float), _id_rank(places))
    hit, pai, _, _ = _measure(actual_values[order], np.cumsum(area[order]) / area.sum(), coverage)
    return hit, pai


def backtest(
    counts: pd.DataFrame,
    places: pd.DataFrame,
    *,
    test_from: object,
    test_to: object,
    train_months: int = 12,
    methods: Sequence[str] = METHODS,
    coverages: Sequence[float] = DEFAULT_COVERAGES,
    seed: int = 0,
    n_boot: int = 1000,
    outcome: str = "n",
    **params: float,
) -> BacktestResult:
    """Rolling-origin back-test of targeting methods: hit rate and PAI on unseen months.

    For every test month ``m`` from ``test_from`` to ``test_to``, each method scores the
    places from the ``train_months`` months before ``m`` (see :func:`predict`), and the hit
    rate and PAI of its top places are measured on month ``m`` (see
    :func:`hit_rate_and_pai`). The table reports the mean over test months and a 95%
    percentile bootstrap interval for the mean PAI, resampling whole test months with
    replacement; every method and coverage uses the same resamples, so intervals are paired.

    Parameters
    ----------
    counts, places : pandas.DataFrame
        As for :func:`predict`.
    test_from, test_to : str or pandas.Timestamp
        First and last test months, inclusive; both inside the data.
    train_months : int, default 12
        Training window length; the data must start ``train_months`` months before
        ``test_from``.
    methods : sequence of str, default METHODS
        Any of :data:`METHODS`; ``harm_`` methods need a ``harm`` column.
    coverages : sequence of float, default (0.01, 0.05, 0.1)
        Target area shares, each in (0, 1].
    seed : int, default 0
        Seed of the bootstrap; the point figures do not depend on it.
    n_boot : int, default 1000
        Bootstrap resamples.
    outcome : {"n", "harm"}, default "n"
        What the hit rate counts in the test month: incidents (all methods judged on one
        yardstick) or harm.
    **params : float
        Overrides of :class:`TargetingParams` defaults.

    Returns
    -------
    BacktestResult

    Raises
    ------
    ValueError
        Unknown method, parameter or outcome; a coverage outside (0, 1]; a test window
        outside the data or without enough training months before it; a missing column.

    Examples
    --------
    Place "a" always has the most incidents, so every method picks it and gets them all.

    >>> months = pd.date_range("2021-01-01", periods=6, freq="MS")
    >>> counts = pd.DataFrame({"place": ["a"] * 6 + ["b"] * 6, "month": list(months) * 2,
    ...     "n": [4] * 6 + [1, 0, 0, 0, 0, 0]})
    >>> ids = ["a", "b"] + [f"z{i}" for i in range(18)]
    >>> places = pd.DataFrame({"area_km2": 1.0}, index=ids)
    >>> result = backtest(counts, places, test_from="2021-04", test_to="2021-06",
    ...     train_months=3, methods=["naive", "long_term"], coverages=[0.05], n_boot=200)
    >>> result.table[["method", "hit_rate", "pai", "months"]]
          method  hit_rate   pai  months
    0      naive       1.0  20.0       3
    1  long_term       1.0  20.0       3
    >>> result.suggested, result.runner_up, result.margin
    ('naive', 'long_term', (0.0, 0.0, 0.0))
    """
    settings = TargetingParams.from_kwargs(params)
    methods = _check_methods(methods)
    coverages = _check_coverages(coverages)
    outcome = _check_choice(outcome, OUTCOMES, "outcome")
    train_months = _check_positive_int(train_months, "train_months")
    n_boot = _check_positive_int(n_boot, "n_boot")
    uses_harm = outcome == "harm" or any(m in HARM_METHODS for m in methods)
    panel = _panel(counts, places, uses_harm=uses_harm, uses_xy=_spatial(methods))
    test_months = _test_months(panel, _month(test_from, "test_from"), _month(test_to, "test_to"))
    first_test = test_months[0]
    _check_training_window(panel, first_test - train_months, first_test - 1, train_months)
    scorer = _Scorer(panel, settings)
    per_month = _score_months(scorer, test_months, methods, coverages, train_months, outcome)
    # One set of month resamples for every method and coverage: the intervals are paired.
    draws = np.random.default_rng(seed).integers(0, len(test_months), (n_boot, len(test_months)))
    table = _summarise(per_month, methods, coverages, draws)
    coverage = _suggestion_coverage(coverages)
    suggested, runner_up = _top_two(table, coverage)
    return BacktestResult(
        table=table,
        per_month=per_month,
        suggested=suggested,
        suggested_coverage=coverage,
        runner_up=runner_up,
        margin=_margin(per_month, coverage, suggested, runner_up, draws),
        params=settings,
        train_months=train_months,
        seed=seed,
        n_boot=n_boot,
        outcome=outcome,
    )


def concentration(
    values: pd.Series | Sequence[float] | np.ndarray,
    area: pd.Series | Sequence[float] | np.ndarray | None = None,
    *,
    max_points: int = 200,
) -> ConcentrationResult:
    """Concentration (Lorenz-style) curve of incidents or harm across places.

    Places are sorted from the highest value down (ties by place id, as in
    :func:`rank_places`) and the cumulative share of the total is drawn against the
    cumulative share of places. When ``area`` is given the x axis is the share of area and
    places are sorted by value per unit area, so the curve reads "the densest x% of the area
    holds y% of the incidents" (with equal areas the order is the same).

    Parameters
    ----------
    values : pandas.Series or array-like
        Non-negative value per place, with a positive total.
    area : pandas.Series or array-like, optional
        Positive area per place, aligned with ``values`` (by index for two Series).
    max_points : int, default 200
        Most rows in ``curve``; longer curves are thinned evenly, always keeping both ends.

    Returns
    -------
    ConcentrationResult
        ``top_shares`` and ``gini`` are read from the full curve (linear between places),
        not from the thinned one.

    Examples
    --------
    Four places holding 6, 2, 2 and 0 incidents: the top quarter holds 60%.

    >>> result = concentration([2, 6, 0, 2])
    >>> result.curve.round(2).to_dict("list")
    {'place_share': [0.0, 0.25, 0.5, 0.75, 1.0], 'value_share': [0.0, 0.6, 0.8, 1.0, 1.0]}
    >>> round(result.gini, 3)
    0.45
    """
    weights, amounts, index = _concentration_inputs(values, area)
    density = amounts / weights
    order = _rank_order(density, _id_rank(index))
    place_share = np.concatenate([[0.0], np.cumsum(weights[order]) / weights.sum()])
    value_share = np.concatenate([[0.0], np.cumsum(amounts[order]) / amounts.sum()])
    place_share[-1] = value_share[-1] = 1.0  # float sums can end at 0.9999999999999999
    auc = float(np.sum(np.diff(place_share) * (value_share[1:] + value_share[:-1]) / 2))
    keep = _thin(len(place_share), _check_positive_int(max_points, "max_points"))
    curve = pd.DataFrame({"place_share": place_share[keep], "value_share": value_share[keep]})
    tops = {share: float(np.interp(share, place_share, value_share)) for share in (0.01, 0.05, 0.1)}
    return ConcentrationResult(curve=curve, top_shares=tops, gini=2.0 * auc - 1.0)


# --- validation -----------------------------------------------------------------------------


def _check_choice(value: object, options: Sequence[str], name: str) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"unknown {name} {value!r}; valid options: {', '.join(options)}")
    return value


def _check_methods(methods: Iterable[str]) -> list[str]:
    if isinstance(methods, str):
        methods = [methods]
    checked = [_check_choice(method, METHODS, "method") for method in methods]
    if not checked:
        raise ValueError(f"no methods given; valid options: {', '.join(METHODS)}")
    return list(dict.fromkeys(checked))


def _check_coverages(coverages: Iterable[float]) -> list[float]:
    checked = []
    for coverage in coverages:
        if isinstance(coverage, bool) or not isinstance(coverage, int | float | np.number):
            raise ValueError(f"coverage must be a number in (0, 1]; got {coverage!r}")
        if not (0.0 < float(coverage) <= 1.0):
            raise ValueError(f"coverage must be in (0, 1] (a share of area); got {coverage!r}")
        checked.append(float(coverage))
    if not checked:
        raise ValueError("no coverages given; give shares of area in (0, 1], e.g. 0.05")
    return sorted(set(checked))


def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive whole number; got {value!r}")
    return int(value)


def _check_areas(area: np.ndarray) -> None:
    if not (np.isfinite(area).all() and (area > 0).all()):
        raise ValueError("area_km2 must be a positive finite number for every place")


def _month(value: object, name: str) -> pd.Period:
    if isinstance(value, pd.Period):
        return value.asfreq("M")
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a month such as '2021-01'; got {value!r}") from error
    if pd.isna(stamp):
        raise ValueError(f"{name} must be a month such as '2021-01'; got {value!r}")
    return pd.Period(year=stamp.year, month=stamp.month, freq="M")


def _spatial(methods: Iterable[str]) -> bool:
    return any(method in SPATIAL_METHODS for method in methods)


def _aligned(values: object, index: pd.Index, name: str, fill: float | None) -> np.ndarray:
    if not isinstance(values, pd.Series):
        array = np.asarray(values, dtype=float)
        if array.shape != (len(index),):
            raise ValueError(f"{name} must be a Series indexed by place, or match scores")
        return array
    extra = values.index.difference(index)
    if fill is not None and len(extra):
        raise ValueError(f"{name} has places that are not scored: {list(extra[:5])}")
    missing = index.difference(values.index)
    if fill is None and len(missing):
        raise ValueError(f"{name} is missing scored places: {list(missing[:5])}")
    return values.reindex(index, fill_value=fill).to_numpy(dtype=float)


# --- the month-by-place panel ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Panel:
    places: pd.Index
    first: pd.Period
    n: np.ndarray  # months x places
    harm: np.ndarray | None  # months x places, only when asked for
    area: np.ndarray
    xy: np.ndarray | None  # places x 2, only when asked for

    @property
    def last(self) -> pd.Period:
        return self.first + (self.n.shape[0] - 1)

    def row(self, month: pd.Period) -> int:
        return (month - self.first).n


def _panel(counts: pd.DataFrame, places: pd.DataFrame, *, uses_harm: bool, uses_xy: bool) -> _Panel:
    missing = [c for c in ("place", "month", "n") if c not in counts.columns]
    if missing:
        raise ValueError(f"counts is missing column(s) {missing}; found {list(counts.columns)}")
    if len(counts) == 0:
        raise ValueError("counts is empty: there is nothing to train or test on")
    area, xy = _place_table(places, uses_xy)
    columns = _place_positions(counts["place"], places.index)
    months = _month_periods(counts["month"])
    first = months.min()
    rows = months.asi8 - first.ordinal
    shape = (int(rows.max()) + 1, len(places))
    n = _matrix(_numbers(counts["n"], "n", whole=True), rows, columns, shape)
    harm = None
    if uses_harm:
        if "harm" not in counts.columns:
            raise ValueError(
                f"harm methods and outcome='harm' need a 'harm' column in counts; "
                f"found {list(counts.columns)}"
            )
        harm = _matrix(_numbers(counts["harm"], "harm", whole=False), rows, columns, shape)
    return _Panel(places=places.index, first=first, n=n, harm=harm, area=area, xy=xy)


def _place_table(places: pd.DataFrame, uses_xy: bool) -> tuple[np.ndarray, np.ndarray | None]:
    if not places.index.is_unique:
        raise ValueError("places must have one row per place (its index has duplicates)")
    if "area_km2" not in places.columns:
        raise ValueError(f"places needs an 'area_km2' column; found {list(places.columns)}")
    area = places["area_km2"].to_numpy(dtype=float)
    _check_areas(area)
    if not uses_xy:
        return area, None
    if not {"x", "y"} <= set(places.columns):
        raise ValueError("kde and prospective methods need 'x' and 'y' columns (metres)")
    xy = places[["x", "y"]].to_numpy(dtype=float)
    if not np.isfinite(xy).all():
        raise ValueError("places 'x' and 'y' must be finite for every place")
    return area, xy


def _place_positions(ids: pd.Series, index: pd.Index) -> np.ndarray:
    positions = index.get_indexer(ids)
    if (positions < 0).any():
        unknown = pd.unique(ids[positions < 0])[:5]
        raise ValueError(f"counts has places missing from places: {list(unknown)}")
    return positions


def _month_periods(values: pd.Series) -> pd.PeriodIndex:
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(values))
    except (TypeError, ValueError) as error:
        raise ValueError("counts 'month' must hold first-of-month dates") from error
    if stamps.tz is not None:
        stamps = stamps.tz_localize(None)  # keep the local calendar month
    if stamps.isna().any() or (stamps.day != 1).any():
        bad = stamps[stamps.isna() | (stamps.day != 1)][:3]
        raise ValueError(f"counts 'month' must hold first-of-month dates; got {list(bad)}")
    return stamps.to_period("M")


def _numbers(values: pd.Series, name: str, *, whole: bool) -> np.ndarray:
    array = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError(f"counts {name!r} must be non-negative numbers with no gaps")
    if whole and (array != np.round(array)).any():
        raise ValueError(f"counts {name!r} must be whole numbers of incidents")
    return array


def _matrix(values: np.ndarray, rows: np.ndarray, columns: np.ndarray, shape) -> np.ndarray:
    matrix = np.zeros(shape)
    np.add.at(matrix, (rows, columns), values)  # several rows per place-month add up
    return matrix


def _test_months(panel: _Panel, start: pd.Period, end: pd.Period) -> list[pd.Period]:
    if start > end:
        raise ValueError(f"test_from {start} is after test_to {end}")
    if start < panel.first or end > panel.last:
        raise ValueError(
            f"test window {start}..{end} is outside the data, which runs "
            f"{panel.first}..{panel.last}"
        )
    return list(pd.period_range(start, end, freq="M"))


def _check_training_window(
    panel: _Panel, start: pd.Period, end: pd.Period, train_months: int
) -> None:
    if start < panel.first:
        raise ValueError(
            f"{train_months} training months need data from {start}; "
            f"the first month available is {panel.first}"
        )
    if end > panel.last:
        raise ValueError(f"train_end {end} is after the last month in the data, {panel.last}")


# --- scoring --------------------------------------------------------------------------------


class _Scorer:
    """Scores from one panel; caches the spatial matrices, which do not change by month."""

    def __init__(self, panel: _Panel, params: TargetingParams) -> None:
        self.panel = panel
        self.params = params
        self._operators: dict[str, sparse.csr_matrix] = {}

    def score(self, method: str, end_row: int, train_months: int) -> np.ndarray:
        base = method.removeprefix("harm_")
        source = self.panel.harm if method in HARM_METHODS else self.panel.n
        assert source is not None  # _panel loads harm whenever a harm method is asked for
        window = source[end_row - train_months + 1 : end_row + 1][::-1]  # row 0 = age 0
        profile = _time_weights(base, train_months, self.params) @ window
        if base in ("kde", "prospective"):
            return self._operator(base) @ profile
        return profile

    def _operator(self, base: str) -> sparse.csr_matrix:
        if base not in self._operators:
            assert self.panel.xy is not None
            self._operators[base] = _spatial_operator(base, self.panel.xy, self.params)
        return self._operators[base]


def _time_weights(base: str, train_months: int, params: TargetingParams) -> np.ndarray:
    age = np.arange(train_months, dtype=float)
    if base == "naive":
        return (age == 0).astype(float)
    if base == "ewma":
        return 0.5 ** (age / params.half_life)
    if base == "prospective":
        return 1.0 / (1.0 + age / params.time_bandwidth)
    return np.ones(train_months)  # long_term and kde use the plain window sum


def _spatial_operator(base: str, xy: np.ndarray, params: TargetingParams) -> sparse.csr_matrix:
    reach = KDE_TRUNCATION * params.bandwidth if base == "kde" else params.distance_limit
    tree = cKDTree(xy)
    pairs = tree.sparse_distance_matrix(tree, reach, output_type="ndarray")
    distance = pairs["v"]
    if base == "kde":
        h2 = params.bandwidth**2
        weight = np.exp(-(distance**2) / (2 * h2)) / (2 * np.pi * h2) * _M2_PER_KM2
    else:
        weight = 1.0 / (1.0 + distance / params.distance_bandwidth)
    size = len(xy)
    return sparse.csr_matrix((weight, (pairs["i"], pairs["j"])), shape=(size, size))


# --- measuring ------------------------------------------------------------------------------


def _id_rank(index: pd.Index) -> np.ndarray:
    try:
        order = np.asarray(index.argsort())
    except TypeError:
        order = np.asarray(pd.Index(index.map(str)).argsort())  # mixed id types
    rank = np.empty(len(index), dtype=np.int64)
    rank[order] = np.arange(len(index))
    return rank


def _rank_order(scores: np.ndarray, id_rank: np.ndarray) -> np.ndarray:
    key = np.where(np.isnan(scores), np.inf, -scores)
    return np.lexsort((id_rank, key))  # last key sorts first: score, then place id


def _measure(
    actual_sorted: np.ndarray, area_share: np.ndarray, coverage: float
) -> tuple[float, float, float, int]:
    """Hit rate, PAI, selected area share and places selected, for places in rank order."""
    k = int(np.searchsorted(area_share, coverage - _AREA_TOLERANCE, side="left")) + 1
    k = min(k, len(area_share))
    total = actual_sorted.sum()
    share = float(area_share[k - 1])
    if total <= 0:
        return math.nan, math.nan, share, k
    hit = float(actual_sorted[:k].sum() / total)
    return hit, hit / share, share, k


def _score_months(
    scorer: _Scorer,
    test_months: list[pd.Period],
    methods: list[str],
    coverages: list[float],
    train_months: int,
    outcome: str,
) -> pd.DataFrame:
    panel = scorer.panel
    truth = panel.harm if outcome == "harm" else panel.n
    assert truth is not None
    id_rank = _id_rank(panel.places)
    records = []
    for month in test_months:
        row = panel.row(month)
        for method in methods:
            order = _rank_order(scorer.score(method, row - 1, train_months), id_rank)
            area_share = np.cumsum(panel.area[order]) / panel.area.sum()
            actual = truth[row][order]
            for coverage in coverages:
                hit, pai, share, k = _measure(actual, area_share, coverage)
                records.append(
                    (month.to_timestamp(), method, coverage, hit, pai, share, k, actual.sum())
                )
    columns = ["month", "method", "coverage", "hit_rate", "pai", "area_share"]
    return pd.DataFrame(records, columns=[*columns, "places_selected", "test_total"])


def _summarise(
    per_month: pd.DataFrame,
    methods: list[str],
    coverages: list[float],
    draws: np.ndarray,
) -> pd.DataFrame:
    rows = []
    for method in methods:
        for coverage in coverages:
            cell = per_month[(per_month["method"] == method) & (per_month["coverage"] == coverage)]
            pai = cell["pai"].to_numpy(dtype=float)
            low, high = _bootstrap_interval(pai, draws)
            rows.append(
                {
                    "method": method,
                    "coverage": coverage,
                    "hit_rate": _nanmean(cell["hit_rate"].to_numpy(dtype=float)),
                    "pai": _nanmean(pai),
                    "pai_low": low,
                    "pai_high": high,
                    "area_share": float(cell["area_share"].mean()),
                    "months": int(np.isfinite(pai).sum()),
                }
            )
    return pd.DataFrame(rows)


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


def _bootstrap_interval(monthly: np.ndarray, draws: np.ndarray) -> tuple[float, float]:
    # Months with no test incidents have no PAI; a resample averages the months it has.
    sample = monthly[draws]
    defined = np.isfinite(sample)
    counts = defined.sum(axis=1)
    sums = np.where(defined, sample, 0.0).sum(axis=1)
    means = sums[counts > 0] / counts[counts > 0]
    if means.size == 0:
        return math.nan, math.nan
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def _suggestion_coverage(coverages: list[float]) -> float:
    for coverage in coverages:
        if math.isclose(coverage, SUGGESTION_COVERAGE):
            return coverage
    return coverages[(len(coverages) - 1) // 2]


def _top_two(table: pd.DataFrame, coverage: float) -> tuple[str | None, str | None]:
    rows = table[(table["coverage"] == coverage) & table["pai"].notna()]
    # A stable sort keeps tied methods in the order they were given in.
    ranked = rows.sort_values("pai", ascending=False, kind="stable")["method"].tolist()
    ranked += [None, None]
    return ranked[0], ranked[1]


def _margin(
    per_month: pd.DataFrame,
    coverage: float,
    suggested: str | None,
    runner_up: str | None,
    draws: np.ndarray,
) -> tuple[float, float, float]:
    if suggested is None or runner_up is None:
        return math.nan, math.nan, math.nan
    at = per_month[per_month["coverage"] == coverage]
    # Rows are in month order for every method, so the two arrays pair month by month.
    best = at.loc[at["method"] == suggested, "pai"].to_numpy(dtype=float)
    second = at.loc[at["method"] == runner_up, "pai"].to_numpy(dtype=float)
    difference = best - second
    return (_nanmean(difference), *_bootstrap_interval(difference, draws))


def _json_float(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


# --- concentration --------------------------------------------------------------------------


def _concentration_inputs(values: object, area: object) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    amounts = series.to_numpy(dtype=float)
    if amounts.size == 0 or not np.isfinite(amounts).all() or (amounts < 0).any():
        raise ValueError("values must be non-negative finite numbers, at least one")
    if amounts.sum() <= 0:
        raise ValueError("values sum to zero: concentration is undefined with nothing to share")
    if area is None:
        weights = np.ones_like(amounts)
    else:
        weights = _aligned(area, series.index, "area", fill=None)
        _check_areas(weights)
    return weights, amounts, series.index


def _thin(length: int, max_points: int) -> np.ndarray:
    if length <= max_points:
        return np.arange(length)
    return np.unique(np.round(np.linspace(0, length - 1, max(max_points, 2))).astype(int))
