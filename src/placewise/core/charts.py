"""Small server-rendered SVG charts: no JavaScript, print well, pass a strict CSP."""

from __future__ import annotations

import datetime as dt

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#1f5fa8", "#e6550d", "#2d7a3e", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d")


def stacked_months(
    months: list[dt.date], series: dict[str, list[int]], width: int = 760, height: int = 260
) -> SafeString:
    """Stacked monthly bars, one colour per series, with a legend and month labels."""
    if not months:
        return mark_safe('<p class="muted">No incidents in this period.</p>')  # noqa: S308
    pad_l, pad_b, pad_t = 44, 34, 10
    plot_w, plot_h = width - pad_l - 8, height - pad_b - pad_t
    totals = [sum(s[i] for s in series.values()) for i in range(len(months))]
    top = max(max(totals), 1)
    bar_w = plot_w / len(months)
    parts = [
        f'<svg viewBox="0 0 {width} {height + 22 * ((len(series) + 2) // 3)}" '
        f'role="img" aria-label="Incidents per month by category">'
    ]
    for tick in _ticks(top):
        y = pad_t + plot_h - plot_h * tick / top
        parts.append(
            f'<line x1="{pad_l}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7ec"/>'
            f'<text x="{pad_l - 4}" y="{y + 4:.1f}" font-size="11" '
            f'text-anchor="end">{tick:g}</text>'
        )
    for i, month in enumerate(months):
        base = 0
        x = pad_l + i * bar_w
        for j, (name, values) in enumerate(series.items()):
            v = values[i]
            if v:
                h = plot_h * v / top
                y = pad_t + plot_h - plot_h * (base + v) / top
                parts.append(
                    f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(bar_w - 2, 1):.1f}" '
                    f'height="{h:.1f}" fill="{COLOURS[j % len(COLOURS)]}">'
                    f"<title>{escape(name)} {month:%b %Y}: {v}</title></rect>"
                )
                base += v
        if len(months) <= 18 or i % 3 == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - pad_b + 14}" font-size="10" '
                f'text-anchor="middle">{month:%b %y}</text>'
            )
    for j, name in enumerate(series):
        lx, ly = pad_l + (j % 3) * 240, height + 6 + 22 * (j // 3)
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{COLOURS[j % len(COLOURS)]}"/>'
            f'<text x="{lx + 16}" y="{ly + 11}" font-size="12">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped names only


def _ticks(top: float) -> list[float]:
    step = 10 ** max(len(str(int(top))) - 1, 0)
    while top / step > 6:
        step *= 2
    while top / step < 3 and step > 1:
        step /= 2
    return [step * k for k in range(0, int(top / step) + 1)]


def concentration_curves(
    curves: dict[str, list[tuple[float, float]]], width: int = 420, height: int = 320
) -> SafeString:
    """Lorenz-style curves: share of places (x) against share of the total (y), with the
    line of equal spread for comparison."""
    pad = 40
    size_w, size_h = width - pad - 10, height - pad - 10
    parts = [
        f'<svg viewBox="0 0 {width} {height + 24}" role="img" '
        'aria-label="Share of incidents and harm against share of places">',
        f'<line x1="{pad}" y1="{10 + size_h}" x2="{pad + size_w}" y2="10" stroke="#aaa" '
        'stroke-dasharray="4 3"/>',
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x, y = pad + size_w * tick, 10 + size_h * (1 - tick)
        parts.append(
            f'<text x="{x:.1f}" y="{height - 12}" font-size="10" text-anchor="middle">'
            f'{tick:.0%}</text><text x="{pad - 4}" y="{y + 3:.1f}" font-size="10" '
            f'text-anchor="end">{tick:.0%}</text>'
        )
    parts.append(
        f'<rect x="{pad}" y="10" width="{size_w}" height="{size_h}" fill="none" stroke="#ccc"/>'
    )
    for j, (name, points) in enumerate(curves.items()):
        path = " ".join(f"{pad + size_w * x:.1f},{10 + size_h * (1 - y):.1f}" for x, y in points)
        colour = COLOURS[j % len(COLOURS)]
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            f'<rect x="{pad + 10 + j * 130}" y="{height + 4}" width="12" height="12" '
            f'fill="{colour}"/><text x="{pad + 26 + j * 130}" y="{height + 14}" '
            f'font-size="12">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped names only


def lines(
    months: list[dt.date],
    series: dict[str, list[float | None]],
    marker: dt.date | None = None,
    y_label: str = "",
    width: int = 760,
    height: int = 240,
) -> SafeString:
    """Monthly lines on one axis, with an optional vertical marker (e.g. a project's start)."""
    values = [v for s in series.values() for v in s if v is not None]
    if not months or not values:
        return mark_safe('<p class="muted">No data for this period.</p>')  # noqa: S308
    pad_l, pad_b, pad_t = 48, 30, 10
    plot_w, plot_h = width - pad_l - 10, height - pad_b - pad_t
    top = max(max(values), 1e-9)
    step = plot_w / max(len(months) - 1, 1)
    parts = [f'<svg viewBox="0 0 {width} {height + 24}" role="img" aria-label="{escape(y_label)}">']
    for tick in _ticks(top):
        y = pad_t + plot_h - plot_h * tick / top
        parts.append(
            f'<line x1="{pad_l}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#e3e7ec"/><text x="{pad_l - 4}" y="{y + 4:.1f}" font-size="10" '
            f'text-anchor="end">{tick:g}</text>'
        )
    for i, month in enumerate(months):
        if len(months) <= 18 or i % 3 == 0:
            parts.append(
                f'<text x="{pad_l + i * step:.1f}" y="{height - 12}" font-size="10" '
                f'text-anchor="middle">{month:%b %y}</text>'
            )
    if marker is not None and months[0] <= marker <= months[-1]:
        x = pad_l + months.index(max(m for m in months if m <= marker)) * step
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{pad_t}" y2="{pad_t + plot_h}" '
            'stroke="#a33" stroke-dasharray="4 3"/>'
            f'<text x="{x + 4:.1f}" y="{pad_t + 10}" font-size="10" fill="#a33">start</text>'
        )
    for j, (name, vals) in enumerate(series.items()):
        points = " ".join(
            f"{pad_l + i * step:.1f},{pad_t + plot_h - plot_h * v / top:.1f}"
            for i, v in enumerate(vals)
            if v is not None
        )
        colour = COLOURS[j % len(COLOURS)]
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
            f'<rect x="{pad_l + j * 260}" y="{height + 6}" width="12" height="12" '
            f'fill="{colour}"/><text x="{pad_l + 16 + j * 260}" y="{height + 16}" '
            f'font-size="12">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped names only
