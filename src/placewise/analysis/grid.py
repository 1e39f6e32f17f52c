"""Square grid cells on the British National Grid, for screening places that are not areas.

Points (police.uk longitude/latitude, WGS84) are projected to the British National Grid
(EPSG:27700, metres), and a cell of side ``cell_m`` metres is the pair of whole numbers
``(ix, iy) = (floor(easting / cell_m), floor(northing / cell_m))``. A cell's text id is
``"<cell_m>m:<ix>:<iy>"``, for example ``"250m:1834:1218"``, so ids from different cell sizes
never collide.

The transformation is pyproj's default EPSG:4326 -> EPSG:27700 pipeline. Without the
OSTN15 grid file installed (pyproj does not download it; Placewise runs offline) that is a
7-parameter Helmert datum shift, good to a few metres: far below the 50 m smallest cell and
police.uk's own location anonymisation. A machine with OSTN15 installed moves points by those
few metres, which can move a point lying on a cell edge into the next cell.

This module is pure numpy/pyproj on purpose: it must run without Django.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from pyproj import Transformer

MIN_CELL_M = 50
MAX_CELL_M = 5000
WGS84 = "EPSG:4326"
BRITISH_NATIONAL_GRID = "EPSG:27700"

_CELL_ID = re.compile(r"(?P<size>\d+)m:(?P<ix>-?\d+):(?P<iy>-?\d+)")


@lru_cache(maxsize=2)
def _transformer(source: str, target: str) -> Transformer:
    # Building a Transformer reads the PROJ database (milliseconds); transforming is cheap.
    # pyproj Transformers are thread-safe since 3.1, so one cached instance serves all threads.
    return Transformer.from_crs(source, target, always_xy=True)


def _transform(source: str, target: str, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinates, giving NaN (not PROJ's inf) where the input is not finite."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    ok = np.isfinite(x) & np.isfinite(y)
    out_x, out_y = np.full(x.shape, np.nan), np.full(y.shape, np.nan)
    if ok.any():
        out_x[ok], out_y[ok] = _transformer(source, target).transform(x[ok], y[ok])
    return out_x, out_y


def to_bng(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 longitude/latitude to British National Grid easting/northing.

    Parameters
    ----------
    lon, lat : array_like
        Degrees (WGS84, as police.uk publishes them). Missing values (NaN) are allowed.

    Returns
    -------
    easting, northing : numpy.ndarray
        Metres on EPSG:27700, float64, NaN where ``lon`` or ``lat`` is missing.

    Examples
    --------
    >>> easting, northing = to_bng([-1.1334417, np.nan], [52.6362639, 52.6])
    >>> print(f"{easting[0]:.0f} {northing[0]:.0f}")
    458741 304632
    >>> bool(np.isnan(easting[1]))
    True
    """
    return _transform(WGS84, BRITISH_NATIONAL_GRID, lon, lat)


def validate_cell_size(cell_m) -> int:
    """Check a grid cell size and return it as whole metres.

    Parameters
    ----------
    cell_m : int or float
        Side of a square cell in metres, a whole number from 50 to 5000.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        Outside 50-5000 m, or not a whole number of metres. Below 50 m a cell is smaller
        than police.uk's anonymisation, which moves every crime to one of a set of map
        points (street centres, public places), so cells would count map points rather
        than places; above 5 km a cell is bigger than most neighbourhoods.

    Examples
    --------
    >>> validate_cell_size(250.0)
    250
    >>> validate_cell_size(25)
    Traceback (most recent call last):
    ...
    ValueError: cell size 25 m is outside 50-5000 m: below 50 m police.uk's snapping of \
crimes to map points dominates; above 5000 m a cell is bigger than most neighbourhoods
    """
    if isinstance(cell_m, bool) or not isinstance(cell_m, int | float | np.integer | np.floating):
        raise ValueError(f"cell size {cell_m!r} must be a number of metres from 50 to 5000")
    if not np.isfinite(cell_m) or cell_m != int(cell_m):
        raise ValueError(f"cell size {cell_m!r} must be a whole number of metres")
    if not MIN_CELL_M <= cell_m <= MAX_CELL_M:
        raise ValueError(
            f"cell size {cell_m:g} m is outside {MIN_CELL_M}-{MAX_CELL_M} m: below {MIN_CELL_M} m"
            " police.uk's snapping of crimes to map points dominates; above"
            f" {MAX_CELL_M} m a cell is bigger than most neighbourhoods"
        )
    return int(cell_m)


def cell_index(easting, northing, cell_m) -> tuple[np.ndarray, np.ndarray]:
    """Grid cell of each point: ``floor(coordinate / cell_m)``.

    Parameters
    ----------
    easting, northing : array_like
        Metres on EPSG:27700 (see :func:`to_bng`).
    cell_m : int
        Cell side in metres (:func:`validate_cell_size`).

    Returns
    -------
    ix, iy : numpy.ndarray of int64

    Raises
    ------
    ValueError
        If a coordinate is missing: police.uk rows without a location have no cell, and
        the caller must set them aside (and count them) before asking for cells.

    Examples
    --------
    >>> ix, iy = cell_index([458741.0, 458749.9, 458750.0], [304632.0] * 3, 250)
    >>> ix.tolist(), iy.tolist()
    ([1834, 1834, 1835], [1218, 1218, 1218])
    """
    size = validate_cell_size(cell_m)
    x, y = np.broadcast_arrays(np.asarray(easting, dtype=float), np.asarray(northing, dtype=float))
    missing = int((~(np.isfinite(x) & np.isfinite(y))).sum())
    if missing:
        raise ValueError(f"{missing} point(s) have no coordinates; drop them before cell_index")
    return np.floor(x / size).astype(np.int64), np.floor(y / size).astype(np.int64)


def cell_id(ix, iy, cell_m) -> np.ndarray:
    """Text ids ``"<cell_m>m:<ix>:<iy>"`` for cells.

    Parameters
    ----------
    ix, iy : array_like of int
        Cell indices from :func:`cell_index`.
    cell_m : int
        Cell side in metres.

    Returns
    -------
    numpy.ndarray of str (object dtype), one-dimensional

    Examples
    --------
    >>> cell_id([1834, 1835], [1218, 1218], 250).tolist()
    ['250m:1834:1218', '250m:1835:1218']
    """
    size = validate_cell_size(cell_m)
    ix, iy = np.broadcast_arrays(np.atleast_1d(ix), np.atleast_1d(iy))
    prefix = f"{size}m:"
    return np.array([f"{prefix}{x}:{y}" for x, y in zip(ix.tolist(), iy.tolist(), strict=True)])


def parse_cell_id(text: str) -> tuple[int, int, int]:
    """Read a cell id back into ``(cell_m, ix, iy)``.

    Parameters
    ----------
    text : str
        An id made by :func:`cell_id`, such as ``"250m:1834:1218"``.

    Returns
    -------
    tuple of int

    Raises
    ------
    ValueError
        If ``text`` is not of the form ``"<metres>m:<ix>:<iy>"`` or the size is outside
        50-5000 m.

    Examples
    --------
    >>> parse_cell_id("250m:1834:1218")
    (250, 1834, 1218)
    >>> parse_cell_id("250:1834")
    Traceback (most recent call last):
    ...
    ValueError: '250:1834' is not a grid cell id; expected '<metres>m:<ix>:<iy>', \
e.g. '250m:1834:1218'
    """
    match = _CELL_ID.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{text!r} is not a grid cell id; expected '<metres>m:<ix>:<iy>', e.g. '250m:1834:1218'"
        )
    size = validate_cell_size(int(match["size"]))
    return size, int(match["ix"]), int(match["iy"])


def cell_centre(ix, iy, cell_m) -> tuple[np.ndarray, np.ndarray]:
    """Centre of cells in British National Grid metres.

    Examples
    --------
    >>> x, y = cell_centre(1834, 1218, 250)
    >>> float(x), float(y)
    (458625.0, 304625.0)
    """
    size = validate_cell_size(cell_m)
    return (np.asarray(ix) + 0.5) * size, (np.asarray(iy) + 0.5) * size


def cell_polygon_lonlat(ix: int, iy: int, cell_m) -> dict:
    """One cell as a GeoJSON Polygon in WGS84 longitude/latitude.

    The four BNG corners are transformed back (EPSG:27700 -> EPSG:4326). The cell's edges
    are straight on the grid, not on a lon/lat map, but over at most 5 km the bend is
    centimetres, so four corners are enough.

    Parameters
    ----------
    ix, iy : int
        Cell indices.
    cell_m : int
        Cell side in metres.

    Returns
    -------
    dict
        ``{"type": "Polygon", "coordinates": [ring]}``: one closed ring of five
        ``[lon, lat]`` positions, south-west corner first and anticlockwise as RFC 7946
        asks, rounded to 7 decimal places (about 1 cm).

    Examples
    --------
    >>> polygon = cell_polygon_lonlat(1834, 1218, 250)
    >>> polygon["type"], len(polygon["coordinates"][0]), polygon["coordinates"][0][0]
    ('Polygon', 5, [-1.1370233, 52.6351056])
    """
    size = validate_cell_size(cell_m)
    x0, y0 = int(ix) * size, int(iy) * size
    corner_x = np.array([x0, x0 + size, x0 + size, x0, x0], dtype=float)
    corner_y = np.array([y0, y0, y0 + size, y0 + size, y0], dtype=float)
    lon, lat = _transform(BRITISH_NATIONAL_GRID, WGS84, corner_x, corner_y)
    ring = [[round(float(a), 7), round(float(b), 7)] for a, b in zip(lon, lat, strict=True)]
    return {"type": "Polygon", "coordinates": [ring]}


def cell_area_km2(cell_m) -> float:
    """Area of one cell in square kilometres.

    Examples
    --------
    >>> cell_area_km2(250)
    0.0625
    """
    size = validate_cell_size(cell_m)
    return (size / 1000) ** 2
