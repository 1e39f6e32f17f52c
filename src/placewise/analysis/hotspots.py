"""Spatial neighbours and Getis-Ord Gi* hotspots for place screening.

A place is a *hotspot* when it and its neighbours together hold more incidents than chance
would put there, judged by the Gi* statistic of Ord & Getis (1995) with binary weights that
include the place itself, and a Benjamini-Hochberg correction across all places tested.

Three ways to say who neighbours whom, each returning a :class:`Neighbours`:

- :func:`contiguity_neighbours`: queen contiguity between polygons (LSOAs, neighbourhoods);
- :func:`grid_neighbours`: the 8 surrounding cells of a regular grid;
- :func:`distance_band_neighbours`: points within a distance of each other.

:func:`getis_ord_gi_star` scores every place and :func:`benjamini_hochberg` adjusts p-values.
The method, its formula, its caveats and a worked figure on real Leicestershire data are in
``docs/methods/hotspots.md``.

This module is pure numpy/scipy/shapely on purpose: it must run without Django settings.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy import sparse, stats
from scipy.spatial import cKDTree

CORRECTIONS = ("fdr_bh", "bonferroni", "none")
CRS_UNITS = ("degrees", "metres")

# Metres in one degree of latitude on a sphere of the IUGG mean Earth radius (6,371,008.8 m).
# Good to about 0.2% anywhere in Great Britain, ample for a gap tolerance.
METRES_PER_DEGREE = 6_371_008.8 * math.pi / 180


@dataclass(frozen=True, eq=False)
class Neighbours:
    """Who neighbours whom: a symmetric binary adjacency over places.

    Attributes
    ----------
    ids : tuple
        Place ids, in the order of the matrix rows and columns. Must be unique.
    matrix : scipy.sparse.csr_matrix
        ``n x n`` adjacency, 1.0 where two places are neighbours and 0 elsewhere; symmetric,
        with a zero diagonal (a place is not its own neighbour here; Gi* adds itself).
    description : str
        How the neighbours were defined, in words for a page or a report.

    Raises
    ------
    ValueError
        If ``ids`` repeat, or ``matrix`` is not square of side ``len(ids)``, binary,
        symmetric and zero on the diagonal.

    Examples
    --------
    >>> from scipy import sparse
    >>> m = sparse.csr_matrix([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    >>> nb = Neighbours(ids=("a", "b", "c"), matrix=m, description="hand-made")
    >>> nb.islands
    ('c',)
    >>> nb.cardinalities()
    array([1, 1, 0])
    """

    ids: tuple
    matrix: sparse.csr_matrix
    description: str

    def __post_init__(self) -> None:
        ids = _as_id_tuple(self.ids)
        if len(set(ids)) != len(ids):
            raise ValueError("ids must be unique")
        matrix = sparse.csr_matrix(self.matrix, dtype=np.float64, copy=True)
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        _check_adjacency(matrix, len(ids))
        # Frozen dataclass: store the normalised copies through object.__setattr__.
        object.__setattr__(self, "ids", ids)
        object.__setattr__(self, "matrix", matrix)

    @property
    def islands(self) -> tuple:
        """Ids of places with no neighbour, in ``ids`` order."""
        return tuple(self.ids[i] for i in np.flatnonzero(self.cardinalities() == 0))

    def cardinalities(self) -> np.ndarray:
        """Number of neighbours of each place, in ``ids`` order (an int64 array)."""
        return np.diff(self.matrix.indptr).astype(np.int64)


def contiguity_neighbours(
    geometries: npt.ArrayLike,
    ids: Iterable[Hashable],
    *,
    tolerance_m: float = 0.0,
    crs_units: str | None = None,
) -> Neighbours:
    """Queen contiguity: polygons that share any boundary point, a corner included.

    Candidate pairs come from a shapely ``STRtree`` bulk query, so the cost grows roughly
    with the number of polygons times their vertex count, not with the number of pairs
    (35,000 polygons of LSOA detail take under a second). Two polygons are neighbours when they
    intersect: a shared edge, a shared corner, a corner lying on the other's edge, or an
    overlap all count.

    Parameters
    ----------
    geometries : sequence of shapely Polygon or MultiPolygon
        One geometry per place, e.g. a ``geopandas.GeoSeries`` or a list. Geometries
        should be valid (``shapely.make_valid`` repairs those that are not).
    ids : sequence
        Place ids (e.g. LSOA codes), same length and order as ``geometries``; unique.
    tolerance_m : float, default 0
        Largest gap, in metres, that still counts as contiguity. Generalised boundaries
        can leave slivers between places that touch on the ground; a small tolerance
        bridges them. ``0`` means exact touching only. The published LSOA boundaries
        Placewise imports (ONS "super generalised clipped") are topologically clean, so
        ``0`` is right for them.
    crs_units : {"degrees", "metres"}, optional
        Units of the geometries' coordinates; required when ``tolerance_m > 0``. Placewise
        stores LSOA boundaries in WGS84 longitude/latitude, so pass ``"degrees"`` for them,
        and ``"metres"`` for projected data such as British National Grid. With
        ``"degrees"`` the longitudes are scaled by the cosine of the data's mid latitude,
        which keeps the tolerance within a few percent of metres over one force area.

    Returns
    -------
    Neighbours
        Binary symmetric adjacency in the order of ``ids``.

    Raises
    ------
    ValueError
        If lengths differ, ids repeat, a geometry is missing or empty, ``tolerance_m`` is
        negative or not finite, or ``crs_units`` is not one of the valid options.

    Examples
    --------
    Three unit squares in a row and a fourth touching the third only at a corner:

    >>> from shapely.geometry import box
    >>> squares = [box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1), box(3, 1, 4, 2)]
    >>> nb = contiguity_neighbours(squares, ["a", "b", "c", "d"])
    >>> nb.matrix.toarray().astype(int)
    array([[0, 1, 0, 0],
           [1, 0, 1, 0],
           [0, 1, 0, 1],
           [0, 0, 1, 0]])
    >>> far = contiguity_neighbours([box(0, 0, 1, 1), box(1.5, 0, 2, 1)], ["a", "b"])
    >>> far.islands
    ('a', 'b')
    >>> near = contiguity_neighbours(
    ...     [box(0, 0, 1, 1), box(1.5, 0, 2, 1)], ["a", "b"], tolerance_m=0.5, crs_units="metres"
    ... )
    >>> near.islands
    ()
    """
    geoms = np.asarray(geometries, dtype=object)
    if geoms.ndim != 1 or shapely.is_missing(geoms).any() or shapely.is_empty(geoms).any():
        raise ValueError("geometries must be a flat sequence with no missing or empty geometry")
    ids = _as_id_tuple(ids)
    _check_same_length(geometries=geoms, ids=ids)
    tolerance_m = float(tolerance_m)
    if not math.isfinite(tolerance_m) or tolerance_m < 0:
        raise ValueError(f"tolerance_m must be a finite number >= 0, got {tolerance_m}")
    if tolerance_m == 0:
        i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        return _from_pairs(i, j, ids, "queen contiguity (shared boundary or corner)")
    _check_option("crs_units", crs_units, CRS_UNITS)
    geoms, distance = _in_metre_like_units(geoms, tolerance_m, crs_units)
    i, j = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=distance)
    description = f"queen contiguity (shared boundary or corner, gaps up to {tolerance_m:g} m)"
    return _from_pairs(i, j, ids, description)


def grid_neighbours(ix: npt.ArrayLike, iy: npt.ArrayLike) -> Neighbours:
    """Queen (8-neighbour) adjacency between the cells of a regular grid that are present.

    Cells are matched by hashing their integer indices, so the cost is linear in the number
    of cells. Cells missing from the input (for instance cells with no incidents that the
    caller left out) are not neighbours of anything; include them with a zero count if
    they are part of the study area.

    Parameters
    ----------
    ix, iy : sequence of int
        Column and row index of each cell, e.g. ``floor(easting / cell_size)``. Each
        ``(ix, iy)`` pair must appear once.

    Returns
    -------
    Neighbours
        Ids are ``(ix, iy)`` tuples of Python ints, in input order.

    Raises
    ------
    ValueError
        If lengths differ, an index is not a whole number, or a cell appears twice.

    Examples
    --------
    An L of three cells and one cell on its own:

    >>> nb = grid_neighbours([0, 1, 0, 5], [0, 0, 1, 5])
    >>> nb.ids
    ((0, 0), (1, 0), (0, 1), (5, 5))
    >>> nb.cardinalities()
    array([2, 2, 2, 0])
    >>> nb.islands
    ((5, 5),)
    """
    cols = _as_whole_numbers(ix, "ix")
    rows = _as_whole_numbers(iy, "iy")
    _check_same_length(ix=cols, iy=rows)
    cells = pd.MultiIndex.from_arrays([cols, rows])
    if cells.has_duplicates:
        raise ValueError("each (ix, iy) cell must appear once")
    # Half of the 8 directions is enough: _from_pairs adds the reverse of every pair.
    found_i, found_j = [], []
    for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1)):
        j = cells.get_indexer(pd.MultiIndex.from_arrays([cols + dx, rows + dy]))
        present = j >= 0
        found_i.append(np.flatnonzero(present))
        found_j.append(j[present])
    ids = tuple(zip(cols.tolist(), rows.tolist(), strict=True))
    description = "queen contiguity on grid cells (8 neighbours: edges and corners)"
    return _from_pairs(np.concatenate(found_i), np.concatenate(found_j), ids, description)


def distance_band_neighbours(
    x: npt.ArrayLike, y: npt.ArrayLike, threshold: float, ids: Iterable[Hashable]
) -> Neighbours:
    """Points within ``threshold`` of each other (distance <= threshold) are neighbours.

    Parameters
    ----------
    x, y : sequence of float
        Projected coordinates in metres, e.g. British National Grid eastings and northings
        (not longitude/latitude: a degree of longitude is not a degree of latitude).
    threshold : float
        Neighbour distance in metres; must be positive.
    ids : sequence
        Place ids, same length and order as ``x`` and ``y``; unique.

    Returns
    -------
    Neighbours
        Binary symmetric adjacency. Points at the same location are neighbours.

    Raises
    ------
    ValueError
        If lengths differ, a coordinate is not finite, or ``threshold`` is not positive.

    Examples
    --------
    >>> nb = distance_band_neighbours([0, 300, 600, 5000], [0, 0, 0, 0], 300, ["a", "b", "c", "d"])
    >>> nb.matrix.toarray().astype(int)
    array([[0, 1, 0, 0],
           [1, 0, 1, 0],
           [0, 1, 0, 0],
           [0, 0, 0, 0]])
    >>> nb.description
    'distance band: points within 300 m'
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    ids = _as_id_tuple(ids)
    _check_same_length(x=xs, y=ys, ids=ids)
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise ValueError("x and y must be finite numbers")
    threshold = float(threshold)
    if not (math.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold must be a positive number of metres, got {threshold}")
    pairs = cKDTree(np.column_stack([xs, ys])).query_pairs(threshold, output_type="ndarray")
    description = f"distance band: points within {threshold:g} m"
    return _from_pairs(pairs[:, 0], pairs[:, 1], ids, description)


def getis_ord_gi_star(
    values: npt.ArrayLike | pd.Series,
    neighbours: Neighbours,
    *,
    alpha: float = 0.05,
    correction: str = "fdr_bh",
) -> pd.DataFrame:
    r"""Getis-Ord Gi* z-scores, p-values and hotspot flags for every place.

    With binary weights that include the place itself (:math:`w_{ii} = 1`), for each
    place :math:`i`:

    .. math::

        z_i = \frac{\sum_j w_{ij} x_j - \bar{X} W_i}
                   {S \sqrt{(n W_{i2} - W_i^2) / (n - 1)}}

    where :math:`W_i = \sum_j w_{ij}`, :math:`W_{i2} = \sum_j w_{ij}^2` (equal to
    :math:`W_i` for binary weights), and :math:`\bar{X}` and :math:`S` are the mean and
    the population standard deviation (divisor :math:`n`) of all :math:`n` values
    (Ord & Getis 1995). P-values are two-sided from the standard normal.

    Parameters
    ----------
    values : sequence of float or pandas.Series
        One value per place (e.g. incident counts), in ``neighbours.ids`` order. A Series
        is aligned on its index instead, which must hold exactly ``neighbours.ids``; places
        with no incidents need an explicit 0.
    neighbours : Neighbours
        Who neighbours whom; the place itself is added by the statistic.
    alpha : float, default 0.05
        Significance level applied to the adjusted p-values.
    correction : {"fdr_bh", "bonferroni", "none"}, default "fdr_bh"
        Multiple-testing adjustment across all places: Benjamini-Hochberg false discovery
        rate, Bonferroni family-wise error rate, or none.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``neighbours.ids`` (one row per place, tuples kept as tuples), with
        ``gi_z``, ``gi_p`` (two-sided), ``gi_p_adj`` (after ``correction``), ``hotspot``
        (``gi_p_adj < alpha`` and ``gi_z > 0``) and ``coldspot`` (``gi_p_adj < alpha``
        and ``gi_z < 0``).

    Raises
    ------
    ValueError
        If there are fewer than 3 places, values are missing, not finite or do not match
        the ids, ``alpha`` is not in (0, 1), or ``correction`` is not a valid option.

    Notes
    -----
    When every value is the same (:math:`S = 0`) there is no pattern to find: every place
    gets ``gi_z = 0`` and ``gi_p = 1`` rather than a division by zero. The same holds for
    a place that neighbours every other place (:math:`n W_i = W_i^2`), whose numerator is
    identically zero. A place with no neighbours is scored on its own value alone.

    Examples
    --------
    A 5 x 5 grid with high counts in one corner:

    >>> import numpy as np
    >>> ix, iy = np.meshgrid(np.arange(5), np.arange(5), indexing="ij")
    >>> counts = np.where((ix < 2) & (iy < 2), 10, 1).ravel()
    >>> nb = grid_neighbours(ix.ravel(), iy.ravel())
    >>> result = getis_ord_gi_star(counts, nb)
    >>> result.loc[[(0, 0), (2, 2), (4, 4)]].round(3)  # doctest: +NORMALIZE_WHITESPACE
             gi_z   gi_p  gi_p_adj  hotspot  coldspot
    id
    (0, 0)  4.899  0.000     0.000     True     False
    (2, 2) -0.490  0.624     0.624    False     False
    (4, 4) -0.933  0.351     0.399    False     False
    >>> int(result["hotspot"].sum())
    4
    """
    _check_option("correction", correction, CORRECTIONS)
    alpha = float(alpha)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (exclusive), got {alpha}")
    if not isinstance(neighbours, Neighbours):
        raise ValueError("neighbours must be a Neighbours (see contiguity_neighbours)")
    if len(neighbours.ids) < 3:
        raise ValueError(f"Gi* needs at least 3 places, got {len(neighbours.ids)}")
    x = _aligned_values(values, neighbours.ids)
    z = _gi_star_z(x, neighbours)
    p = 2 * stats.norm.sf(np.abs(z))
    p_adj = _adjust_p(p, correction)
    significant = p_adj < alpha
    index = pd.Index(neighbours.ids, name="id", tupleize_cols=False)
    return pd.DataFrame(
        {
            "gi_z": z,
            "gi_p": p,
            "gi_p_adj": p_adj,
            "hotspot": significant & (z > 0),
            "coldspot": significant & (z < 0),
        },
        index=index,
    )


def benjamini_hochberg(p: npt.ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg (1995) adjusted p-values, controlling the false discovery rate.

    The adjusted value of the k-th smallest of m p-values is
    ``min over j >= k of (m * p_(j) / j)``, capped at 1 (the step-up rule as adjusted
    p-values), so a place is a discovery at level ``q`` exactly when its adjusted value is
    ``<= q``. The same values as ``statsmodels.stats.multitest.multipletests(p,
    method="fdr_bh")[1]``.

    Parameters
    ----------
    p : sequence of float
        P-values in [0, 1]. NaN means "not tested": it stays NaN and does not count in m.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, float64, in input order.

    Raises
    ------
    ValueError
        If ``p`` is not one-dimensional or a value lies outside [0, 1].

    Examples
    --------
    Four p-values are tested (the NaN is not). Sorted, m * p / rank gives 0.04, 0.04, 0.04
    and 0.4:

    >>> benjamini_hochberg([0.01, 0.03, 0.02, float("nan"), 0.4])
    array([0.04, 0.04, 0.04,  nan, 0.4 ])
    """
    values = np.asarray(p, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError("p must be one-dimensional")
    tested = np.flatnonzero(~np.isnan(values))
    if ((values[tested] < 0) | (values[tested] > 1)).any():
        raise ValueError("p-values must lie in [0, 1]")
    adjusted = np.full(values.shape, np.nan)
    m = tested.size
    if m == 0:
        return adjusted
    order = tested[np.argsort(values[tested], kind="stable")]
    scaled = values[order] * m / np.arange(1, m + 1)
    # Step-up: an adjusted value may not exceed that of any larger p-value.
    adjusted[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return adjusted


def _gi_star_z(x: np.ndarray, neighbours: Neighbours) -> np.ndarray:
    n = x.size
    w_i = neighbours.cardinalities() + 1.0  # binary weights plus w_ii = 1
    centred = x - x.mean()
    # Population standard deviation (divisor n), as in Ord & Getis (1995).
    s = math.sqrt(float(np.mean(centred**2)))
    # Binary weights, so W_i2 = W_i. Exact in floating point for integer W_i.
    spread = (n * w_i - w_i**2) / (n - 1)
    # Centring first: sum_j w_ij (x_j - mean) equals sum_j w_ij x_j - mean W_i, with less
    # cancellation when counts are large.
    numerator = neighbours.matrix @ centred + centred
    z = np.zeros(n)
    if np.all(x == x[0]):
        # Constant values: S is 0 up to rounding, and any z would be rounding noise.
        return z
    scored = spread > 0
    z[scored] = numerator[scored] / (s * np.sqrt(spread[scored]))
    return z


def _adjust_p(p: np.ndarray, correction: str) -> np.ndarray:
    if correction == "fdr_bh":
        return benjamini_hochberg(p)
    if correction == "bonferroni":
        return np.minimum(p * np.count_nonzero(~np.isnan(p)), 1.0)
    return p.copy()


def _aligned_values(values: npt.ArrayLike | pd.Series, ids: tuple) -> np.ndarray:
    if isinstance(values, pd.Series):
        index = pd.Index(ids, tupleize_cols=False)
        same_ids = len(values) == len(ids) and values.index.isin(index).all()
        if not same_ids or values.index.has_duplicates:
            raise ValueError("a values Series must be indexed by exactly the neighbours' ids")
        values = values.reindex(index)
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size != len(ids):
        raise ValueError(f"values must be one value per place: {len(ids)} expected")
    if not np.isfinite(x).all():
        raise ValueError("values must be finite numbers (fill missing places with 0)")
    return x


def _from_pairs(i: np.ndarray, j: np.ndarray, ids: tuple, description: str) -> Neighbours:
    """Symmetric binary adjacency from (i, j) index pairs in either or both directions."""
    keep = i != j
    rows = np.concatenate([i[keep], j[keep]])
    cols = np.concatenate([j[keep], i[keep]])
    n = len(ids)
    matrix = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0  # a pair found in both directions sums to 2
    return Neighbours(ids=ids, matrix=matrix, description=description)


def _in_metre_like_units(
    geoms: np.ndarray, tolerance_m: float, crs_units: str | None
) -> tuple[np.ndarray, float]:
    """Geometries and tolerance in units where one unit is the same length both ways."""
    if crs_units == "metres":
        return geoms, tolerance_m
    # Longitude/latitude: shrink longitudes by cos(mid latitude) so a unit is one degree of
    # latitude in both directions, then express the tolerance in degrees of latitude.
    _, south, _, north = shapely.total_bounds(geoms)
    scale = math.cos(math.radians((south + north) / 2))
    scaled = shapely.transform(geoms, lambda xy: xy * np.array([scale, 1.0]))
    return scaled, tolerance_m / METRES_PER_DEGREE


def _check_adjacency(matrix: sparse.csr_matrix, n: int) -> None:
    if matrix.shape != (n, n):
        raise ValueError(f"matrix must be {n} x {n} to match ids, got {matrix.shape}")
    if matrix.nnz and not np.all(matrix.data == 1):
        raise ValueError("matrix must be binary (0 or 1)")
    if matrix.diagonal().any():
        raise ValueError("matrix must have a zero diagonal")
    if (matrix != matrix.T).nnz:
        raise ValueError("matrix must be symmetric")


def _check_option(name: str, value: object, options: tuple[str, ...]) -> None:
    if value not in options:
        valid = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {valid}; got {value!r}")


def _check_same_length(**arrays: Collection[Any]) -> None:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name}={length}" for name, length in lengths.items())
        raise ValueError(f"inputs must have the same length: {detail}")


def _as_whole_numbers(values: npt.ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    as_float = array.astype(np.float64)
    if not (np.isfinite(as_float).all() and np.all(as_float == np.round(as_float))):
        raise ValueError(f"{name} must hold whole-number cell indices")
    return as_float.astype(np.int64)


def _as_id_tuple(ids: Iterable[Hashable]) -> tuple:
    # numpy and pandas containers: tolist() gives plain Python values (str, int).
    return tuple(ids.tolist() if hasattr(ids, "tolist") else ids)
