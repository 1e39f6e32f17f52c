"""The ring of empty cells for grid Gi*: Placewise's numpy version against the previous
cell-by-cell Python version, on SYNTHETIC national-scale cells, in the same process.

A grid screen adds the eight cells around every cell with incidents to the Gi* test with a
count of zero. The national 250 m screen has 253,188 cells with incidents (the synthetic
national set of ``bench_screening.py``); this script makes the same number of SYNTHETIC
cells, clustered like towns (Gaussian blobs over a 2,400 x 2,800 grid, England's extent in
250 m cells), with SYNTHETIC counts, and times, best of ``--runs``:

* baseline: the previous code of ``service._hotspots`` (a dict of cells, a set of nine
  tuples per cell, a sorted list, a values list, an f-string id per ring cell, reindex);
* Placewise: ``service.grid_ring`` and the positional take that replaced it;
* then, once, what both share: ``grid_neighbours`` and ``getis_ord_gi_star``,

checks that both give the same Gi* for every cell, and prints seconds, the ratio and the
peak traced memory (tracemalloc) of each.

    .venv/bin/python bench/bench_grid_ring.py [--cells 253188] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import numpy as np
import pandas as pd

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "placewise.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from placewise.analysis.hotspots import getis_ord_gi_star, grid_neighbours  # noqa: E402
from placewise.screening.service import grid_ring  # noqa: E402


def synthetic_cells(n: int, seed: int = 0) -> pd.Series:
    """SYNTHETIC occupied cells "x:y" -> SYNTHETIC incident counts, clustered like towns."""
    rng = np.random.default_rng(seed)
    towns = rng.uniform((0, 0), (2400, 2800), size=(3000, 2))
    sizes = rng.pareto(1.2, size=3000) + 1
    chosen: set[tuple[int, int]] = set()
    while len(chosen) < n:
        town = rng.choice(3000, size=n, p=sizes / sizes.sum())
        xy = towns[town] + rng.normal(0, 4 + 3 * np.sqrt(sizes[town]))[:, None]
        xy = np.clip(np.rint(xy), 0, (2399, 2799)).astype(int)
        chosen.update(map(tuple, xy.tolist()))
    cells = sorted(chosen)[:n]
    counts = rng.negative_binomial(2, 0.15, size=n) + 1
    return pd.Series(counts, index=pd.Index([f"{x}:{y}" for x, y in cells]), name="incidents")


def baseline(incidents: pd.Series):
    """The previous grid branch of ``_hotspots`` (its ring, values and ids), kept here."""
    cells = {tuple(int(v) for v in p.split(":")): n for p, n in incidents.items()}
    ring = {(x + dx, y + dy) for x, y in cells for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
    ordered = sorted(ring)
    ix, iy = (np.array(v) for v in zip(*ordered, strict=True))
    return ix, iy, lambda ids: np.array([cells.get(c, 0) for c in ids], dtype=float)


def placewise(incidents: pd.Series):
    _x, _y, ring_x, ring_y, position = grid_ring(incidents.index)
    values = np.zeros(len(ring_x))
    values[position] = incidents.to_numpy(float)
    return ring_x, ring_y, values, position


def timed(fn, runs: int):
    """Best of ``runs`` timings, then one more run under tracemalloc for the peak (tracing
    slows allocation-heavy Python code several times, so it is kept out of the timings)."""
    best, out = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, best, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=253_188)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    incidents = synthetic_cells(args.cells)
    print(
        f"{len(incidents):,} SYNTHETIC cells with incidents generated in "
        f"{time.perf_counter() - t0:.1f} s; load average {os.getloadavg()[0]:.2f}"
    )

    def old():
        ix, iy, values_for = baseline(incidents)
        ids = list(zip(ix.tolist(), iy.tolist(), strict=True))
        values = values_for(ids)
        index = [f"{x}:{y}" for x, y in ids]
        return ix, iy, values, index

    (oix, oiy, ovalues, oindex), old_s, old_mb = timed(old, args.runs)
    (rx, ry, values, position), new_s, new_mb = timed(lambda: placewise(incidents), args.runs)
    assert np.array_equal(oix, rx) and np.array_equal(oiy, ry)
    assert np.array_equal(ovalues, values)
    t1 = time.perf_counter()
    neighbours = grid_neighbours(rx, ry)
    t2 = time.perf_counter()
    gi = getis_ord_gi_star(values, neighbours)
    t3 = time.perf_counter()
    old_gi, old_back, _ = timed(lambda: gi.set_axis(oindex).reindex(incidents.index), args.runs)
    new_gi, new_back, _ = timed(lambda: gi.iloc[position].set_axis(incidents.index), args.runs)
    pd.testing.assert_frame_equal(old_gi, new_gi)
    print(f"ring cells (occupied + around them): {len(rx):,}")
    print(f"{'step':<46} {'seconds':>8} {'peak MiB':>9}")
    print(f"{'ring, values, ids: previous (baseline)':<46} {old_s:>8.2f} {old_mb:>9.0f}")
    print(f"{'ring, values, positions: Placewise':<46} {new_s:>8.2f} {new_mb:>9.0f}")
    print(f"{'Gi* back to the cells: previous (reindex)':<46} {old_back:>8.2f}")
    print(f"{'Gi* back to the cells: Placewise (positions)':<46} {new_back:>8.2f}")
    total_old, total_new = old_s + old_back, new_s + new_back
    print(
        f"{'together: previous / Placewise':<46} {total_old:>8.2f} / {total_new:.2f} s = "
        f"{total_old / total_new:.1f}x"
    )
    print(f"{'grid_neighbours (shared)':<46} {t2 - t1:>8.2f}")
    print(f"{'getis_ord_gi_star (shared)':<46} {t3 - t2:>8.2f}")
    print("Gi* z, p and hotspot flags identical for every cell both ways.")


if __name__ == "__main__":
    main()
