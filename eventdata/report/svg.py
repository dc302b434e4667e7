"""Hand-written inline SVG charts: deterministic text, a <title> and description each, no script."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from html import escape
from typing import Any

import pandas as pd

#: Okabe & Ito (2008), the colour-blind-safe palette, in the order event types take it (codebook order).
OKABE_ITO = ("#D55E00", "#56B4E9", "#0072B2", "#E69F00", "#CC79A7", "#009E73", "#F0E442", "#000000")
INK, MUTED, GRID = "#222222", "#555555", "#d9d9d9"
WIDTH = 720


def rows_of(frame: pd.DataFrame) -> Iterator[Any]:
    """The rows of a frame as named tuples (typed loosely: their fields are the frame's columns)."""
    yield from frame.itertuples(index=False)


def colour(index: int) -> str:
    return OKABE_ITO[index % len(OKABE_ITO)]


def num(value: float) -> str:
    """A coordinate with at most one decimal, so output bytes do not depend on float noise."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def count(value: int) -> str:
    return f"{value:,}"


def nice_ticks(maximum: float, target: int = 5) -> list[int]:
    """0 and round steps up to at least maximum (1, 2 or 5 times a power of ten)."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / target
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(1, int(step))
    top = int(math.ceil(maximum / step) * step)
    return list(range(0, top + 1, step))


def open_svg(chart_id: str, width: int, height: float, title: str, description: str) -> list[str]:
    height = round(height)
    return [
        f'<svg id="{chart_id}" class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def legend(names: Sequence[str], colours: Sequence[str], x: float, y: float, width: float) -> tuple[list[str], float]:
    """Swatches and names in rows from (x, y); returns the elements and the height used."""
    parts, cx, cy = ['<g class="legend">'], x, y
    for name, fill in zip(names, colours, strict=True):
        size = 12 + 7 * len(name) + 18
        if cx + size > x + width and cx > x:
            cx, cy = x, cy + 18
        parts.append(
            f'<rect x="{num(cx)}" y="{num(cy)}" width="12" height="12" fill="{fill}" '
            f'stroke="{INK}" stroke-width="0.5"/>'
        )
        parts.append(f'<text x="{num(cx + 16)}" y="{num(cy + 10)}" font-size="12" fill="{INK}">{escape(name)}</text>')
        cx += size
    parts.append("</g>")
    return parts, cy + 18 - y


def period_label(period: str) -> str:
    """'2022-02' as 'Feb 2022'; a year stays as it is."""
    if len(period) != 7:
        return period
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{months[int(period[5:]) - 1]} {period[:4]}"


def stacked_columns(
    chart_id: str,
    title: str,
    description: str,
    periods: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[int]]],
    *,
    y_label: str,
    x_label: str,
    unit: str,
) -> str:
    """Columns per period, stacked by series (name, colour, value per period), with axes and a legend."""
    left, right, top = 64, 12, 12
    plot_width = WIDTH - left - right
    legend_parts, legend_height = legend([s[0] for s in series], [s[1] for s in series], left, 0, plot_width)
    plot_height = 220
    height = top + plot_height + 56 + legend_height
    totals = [sum(s[2][i] for s in series) for i in range(len(periods))]
    ticks = nice_ticks(max(totals, default=0))
    scale = plot_height / ticks[-1]
    band = plot_width / max(len(periods), 1)
    bar = max(band * 0.8, 1.0)
    parts = open_svg(chart_id, WIDTH, height, title, description)
    base = top + plot_height
    for tick in ticks:
        y = base - tick * scale
        parts.append(
            f'<line x1="{left}" x2="{WIDTH - right}" y1="{num(y)}" y2="{num(y)}" stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{num(y + 4)}" font-size="11" text-anchor="end" fill="{MUTED}">'
            f"{count(tick)}</text>"
        )
    parts.append('<g class="bars">')
    for index, period in enumerate(periods):
        x = left + index * band + (band - bar) / 2
        stacked = 0
        for name, fill, values in series:
            value = values[index]
            if not value:
                continue
            y = base - (stacked + value) * scale
            parts.append(
                f'<rect x="{num(x)}" y="{num(y)}" width="{num(bar)}" height="{num(value * scale)}" fill="{fill}">'
                f"<title>{escape(period_label(period))}, {escape(name)}: {count(value)} {escape(unit)}</title></rect>"
            )
            stacked += value
    parts.append("</g>")
    parts.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{base}" y2="{base}" stroke="{INK}" stroke-width="1"/>')
    every = max(1, math.ceil(len(periods) / 8))
    if len(periods) > 8 and all(len(p) == 7 for p in periods):
        every = 12 * max(1, math.ceil(len(periods) / 12 / 8))
    for index, period in enumerate(periods):
        january = len(period) == 7 and period.endswith("-01")
        if (every >= 12 and not january) or (every < 12 and index % every):
            continue
        x = left + index * band + band / 2
        parts.append(f'<line x1="{num(x)}" x2="{num(x)}" y1="{base}" y2="{base + 4}" stroke="{INK}"/>')
        parts.append(
            f'<text x="{num(x)}" y="{base + 17}" font-size="11" text-anchor="middle" fill="{MUTED}">'
            f"{escape(period_label(period))}</text>"
        )
    parts.append(
        f'<text x="{left + plot_width / 2:.0f}" y="{base + 36}" font-size="12" text-anchor="middle" fill="{INK}">'
        f"{escape(x_label)}</text>"
    )
    parts.append(
        f'<text transform="translate(14 {top + plot_height / 2:.0f}) rotate(-90)" font-size="12" '
        f'text-anchor="middle" fill="{INK}">{escape(y_label)}</text>'
    )
    parts.append(f'<g transform="translate(0 {base + 46})">')
    parts += legend_parts
    parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def horizontal_bars(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    x_label: str,
    fill: str = "#0072B2",
    formatter: str = "count",
    maximum: float | None = None,
    marks: Sequence[float] = (),
) -> str:
    """One bar per label, its value written at its end; optional vertical reference marks."""
    left, right, top, row = 200, 64, 8, 22
    plot_width = WIDTH - left - right
    height = top + row * len(labels) + 44
    top_value = maximum if maximum is not None else float(nice_ticks(max(values, default=0))[-1])
    scale = plot_width / (top_value or 1)
    parts = open_svg(chart_id, WIDTH, height, title, description)
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + index * row
        text = count(int(value)) if formatter == "count" else f"{value:.3f}"
        shown = label if len(label) <= 30 else label[:29] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" font-size="12" text-anchor="end" fill="{INK}">{escape(shown)}</text>'
        )
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{num(max(value, 0) * scale)}" height="{row - 6}" fill="{fill}">'
            f"<title>{escape(label)}: {text}</title></rect>"
        )
        parts.append(
            f'<text x="{num(left + max(value, 0) * scale + 4)}" y="{y + 15}" font-size="11" fill="{MUTED}">'
            f"{text}</text>"
        )
    base = top + row * len(labels)
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{base}" stroke="{INK}"/>')
    for mark in marks:
        x = left + mark * scale
        parts.append(
            f'<line x1="{num(x)}" x2="{num(x)}" y1="{top}" y2="{base}" stroke="{INK}" stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{num(x)}" y="{base + 14}" font-size="11" text-anchor="middle" fill="{INK}">{mark:.3f}</text>'
        )
    parts.append(
        f'<text x="{left + plot_width / 2:.0f}" y="{base + 34}" font-size="12" text-anchor="middle" fill="{INK}">'
        f"{escape(x_label)}</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


def share_bars(
    chart_id: str, title: str, description: str, rows: Sequence[tuple[str, Sequence[tuple[str, str, int]]]]
) -> str:
    """One 100% bar per row (name, [(code, label, count)]); a code has the same colour in every row."""
    left, right, top, row = 150, 12, 8, 34
    plot_width = WIDTH - left - right
    codes = sorted({code for _, segments in rows for code, _, _ in segments})
    palette = ("#0072B2", "#56B4E9", "#E69F00", "#CC79A7", "#009E73")
    fills = {code: palette[i % len(palette)] for i, code in enumerate(codes)}
    legend_parts, legend_height = legend([f"code {c}" for c in codes], [fills[c] for c in codes], left, 0, plot_width)
    height = top + row * len(rows) + 30 + legend_height
    parts = open_svg(chart_id, WIDTH, height, title, description)
    for index, (name, segments) in enumerate(rows):
        y = top + index * row
        total = sum(n for _, _, n in segments) or 1
        parts.append(
            f'<text x="{left - 8}" y="{y + 19}" font-size="12" text-anchor="end" fill="{INK}">{escape(name)}</text>'
        )
        x = float(left)
        for code, label, n in segments:
            if not n:
                continue
            width = plot_width * n / total
            share = 100 * n / total
            parts.append(
                f'<rect x="{num(x)}" y="{y + 4}" width="{num(width)}" height="{row - 10}" fill="{fills[code]}" '
                f'stroke="#ffffff" stroke-width="1"><title>{escape(name)}, {escape(code)} {escape(label)}: '
                f"{count(n)} events ({share:.1f}%)</title></rect>"
            )
            if width > 150:
                text_fill = "#ffffff" if fills[code] in ("#0072B2", "#009E73") else INK
                parts.append(
                    f'<text x="{num(x + width / 2)}" y="{y + 19}" font-size="11" text-anchor="middle" '
                    f'fill="{text_fill}">{escape(code)} {escape(label)}: {share:.1f}%</text>'
                )
            x += width
    parts.append(
        f'<text x="{left + plot_width / 2:.0f}" y="{top + row * len(rows) + 16}" font-size="12" '
        f'text-anchor="middle" fill="{INK}">Share of events (%)</text>'
    )
    parts.append(f'<g transform="translate(0 {top + row * len(rows) + 26})">')
    parts += legend_parts
    parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)
