"""Small server-rendered SVG charts (stacked bars, donut, horizontal bars): pictures with no script and no CDN."""
from __future__ import annotations

import math
from datetime import date
from typing import Sequence

from markupsafe import Markup, escape

PALETTE: tuple[str, ...] = ("#3b5bdb", "#12b76a", "#f79009", "#7a5af8", "#0ba5ec", "#ee46bc", "#d92d20", "#66c61c",
                            "#344054", "#f04438", "#15b79e", "#ef6820", "#667085")


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def stacked_bars(*, days: Sequence[date], series: dict[str, list[int]], title: str, width: int = 760,
                 height: int = 260) -> Markup:
    """One bar per day, one colour per series; each segment carries a <title> tooltip."""
    left, bottom, top, right = 36, 28, 10, 8
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    peak = _nice_max(max(totals, default=0))
    slot = plot_w / max(len(days), 1)
    bar = slot * 0.66
    out = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" data-total="{sum(totals)}" '
           f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7ec"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#667085">{value:g}</text>')
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        for index, (name, values) in enumerate(series.items()):
            if not values[i]:
                continue
            h = plot_h * values[i] / peak
            y -= h
            out.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour(index)}">'
                       f'<title>{escape(name)}: {values[i]} on {day:%d %b}</title></rect>')
        if len(days) <= 16 or i % 2 == 0:
            out.append(f'<text x="{x + bar / 2:.1f}" y="{height - 10}" text-anchor="middle" font-size="11" fill="#667085">'
                       f'{day:%d %b}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def donut(*, segments: Sequence[tuple[str, int, str]], centre: str, caption: str, size: int = 180) -> Markup:
    """A ring split by value; `centre` is the headline figure (e.g. a rate)."""
    total = sum(value for _label, value, _colour in segments)
    radius, stroke = size / 2 - 14, 22
    circumference = 2 * math.pi * radius
    out = [f'<svg class="chart donut" role="img" viewBox="0 0 {size} {size}" width="{size}" height="{size}" '
           f'data-total="{total}" aria-label="{escape(caption)}"><title>{escape(caption)}</title>'
           f'<circle cx="{size / 2}" cy="{size / 2}" r="{radius:.1f}" fill="none" stroke="#f2f4f7" stroke-width="{stroke}"/>']
    offset = 0.0
    for label, value, fill in segments:
        if not value or not total:
            continue
        length = circumference * value / total
        out.append(f'<circle class="segment" cx="{size / 2}" cy="{size / 2}" r="{radius:.1f}" fill="none" stroke="{fill}" '
                   f'stroke-width="{stroke}" stroke-dasharray="{length:.2f} {circumference - length:.2f}" '
                   f'stroke-dashoffset="{-offset:.2f}" transform="rotate(-90 {size / 2} {size / 2})">'
                   f'<title>{escape(label)}: {value}</title></circle>')
        offset += length
    out.append(f'<text x="50%" y="50%" text-anchor="middle" dominant-baseline="central" font-size="24" font-weight="700" '
               f'fill="#1d2433">{escape(centre)}</text></svg>')
    return Markup("".join(out))


def hbars(*, rows: Sequence[tuple[str, float, str]], caption: str, fill: str = "#3b5bdb", width: int = 520,
          row_height: int = 26) -> Markup:
    """Horizontal bars: (label, value, value as text); the longest bar spans the width."""
    label_w, text_w = 150, 90
    height = max(len(rows), 1) * row_height + 4
    peak = max((value for _l, value, _t in rows), default=0) or 1
    out = [f'<svg class="chart hbars" role="img" viewBox="0 0 {width} {height}" width="100%" data-rows="{len(rows)}" '
           f'aria-label="{escape(caption)}"><title>{escape(caption)}</title>']
    span = width - label_w - text_w
    for i, (label, value, text) in enumerate(rows):
        y = i * row_height + 4
        w = max(span * value / peak, 2 if value else 0)
        out.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="12" fill="#1d2433">{escape(label)}</text>'
                   f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_height - 10}" rx="3" fill="{fill}">'
                   f'<title>{escape(label)}: {escape(text)}</title></rect>'
                   f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12" fill="#667085">{escape(text)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
