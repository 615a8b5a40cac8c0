"""Small inline SVG charts for the HTML report: stacked columns, horizontal bars, a heat map.

Plain strings, no library and nothing fetched: the report opens offline. Every text is
escaped; every mark carries a <title> so a browser shows its value on hover.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

Format = Callable[[float], str]


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    colour: str
    values: Sequence[float]


def _svg(width: float, height: float, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="100%" role="img" aria-label="{escape(label)}" '
        f'style="max-width:{width:.0f}px">' + "".join(body) + "</svg>"
    )


def _ticks(most: float) -> list[float]:
    """Round hour marks for an axis up to `most` seconds."""
    hours = most / 3600
    step = next((s for s in (0.25, 0.5, 1, 2, 4, 6, 12, 24, 48, 96) if hours / s <= 5), 168)
    return [i * step * 3600 for i in range(1, int(hours / step) + 1)]


def stacked_columns(
    labels: Sequence[str], series: Sequence[Series], fmt: Format, label: str
) -> str:
    """One column per label, the series stacked bottom-up (e.g. active, idle, locked)."""
    count = max(1, len(labels))
    width, height, left, bottom, top = 880.0, 260.0, 48.0, 42.0, 10.0
    slot = (width - left - 8) / count
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    most = max(totals, default=0.0) or 3600.0
    scale = (height - bottom - top) / most
    body: list[str] = []
    for tick in _ticks(most):
        y = height - bottom - tick * scale
        body.append(
            f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
            f"{tick / 3600:g} h</text>"
        )
    every = max(1, round(count / 16))
    for i, name in enumerate(labels):
        x = left + i * slot
        y = height - bottom
        for s in series:
            value = s.values[i]
            if value <= 0:
                continue
            h = value * scale
            y -= h
            body.append(
                f'<rect x="{x + slot * 0.12:.1f}" y="{y:.1f}" width="{slot * 0.76:.1f}" '
                f'height="{h:.1f}" fill="{s.colour}"><title>{escape(name)}: {escape(s.name)} '
                f"{escape(fmt(value))}</title></rect>"
            )
        if i % every == 0:
            body.append(
                f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 16}" class="axis" '
                f'text-anchor="middle">{escape(name)}</text>'
            )
    legend_x = left
    for s in series:
        body.append(
            f'<rect x="{legend_x}" y="{height - 14}" width="10" height="10" fill="{s.colour}"/>'
            f'<text x="{legend_x + 14}" y="{height - 5}" class="axis">{escape(s.name)}</text>'
        )
        legend_x += 90
    return _svg(width, height, body, label)


def horizontal_bars(
    rows: Sequence[tuple[str, float, float, str]], colour: str, fmt: Format, label: str
) -> str:
    """One bar per (label, value, previous value, note); the previous value as a thin mark."""
    width, row_h, left, right = 880.0, 26.0, 170.0, 210.0
    height = max(1, len(rows)) * row_h + 8
    most = max((max(v, p) for _, v, p, _ in rows), default=0.0) or 1.0
    scale = (width - left - right) / most
    body: list[str] = []
    for i, (name, value, previous, note) in enumerate(rows):
        y = 4 + i * row_h
        shown = name if len(name) <= 24 else name[:23] + "…"
        body.append(
            f'<text x="{left - 8}" y="{y + 16}" class="label" text-anchor="end">'
            f"<title>{escape(name)}</title>{escape(shown)}</text>"
            f'<rect x="{left}" y="{y + 4}" width="{max(value * scale, 1):.1f}" height="16" '
            f'rx="2" fill="{colour}"><title>{escape(name)}: {escape(fmt(value))}</title></rect>'
        )
        if previous > 0:
            x = left + previous * scale
            body.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y + 1}" y2="{y + 23}" class="previous">'
                f"<title>previous period: {escape(fmt(previous))}</title></line>"
            )
        body.append(
            f'<text x="{left + max(value, previous) * scale + 6:.1f}" y="{y + 16}" class="value">'
            f'{escape(fmt(value))} <tspan class="note">{escape(note)}</tspan></text>'
        )
    return _svg(width, height, body, label)


def heat_map(
    rows: Sequence[str], values: Sequence[Sequence[float]], fmt: Format, label: str
) -> str:
    """A grid of rows by 24 hours; darker is more."""
    cell, left, top = 32.0, 48.0, 20.0
    width = left + 24 * cell + 8
    height = top + len(rows) * cell + 8
    most = max((max(r) for r in values), default=0.0) or 1.0
    body: list[str] = []
    for hour in range(24):
        body.append(
            f'<text x="{left + hour * cell + cell / 2:.0f}" y="{top - 6}" class="axis" '
            f'text-anchor="middle">{hour:02d}</text>'
        )
    for r, name in enumerate(rows):
        y = top + r * cell
        body.append(
            f'<text x="{left - 8}" y="{y + cell / 2 + 4:.0f}" class="label" '
            f'text-anchor="end">{escape(name)}</text>'
        )
        for hour, value in enumerate(values[r]):
            fill = "#2563eb" if value > 0 else "#e2e8f0"
            strength = 0.5 if value <= 0 else 0.12 + 0.88 * value / most
            body.append(
                f'<rect x="{left + hour * cell + 1:.0f}" y="{y + 1:.0f}" width="{cell - 2:.0f}" '
                f'height="{cell - 2:.0f}" rx="3" fill="{fill}" fill-opacity="{strength:.3f}" '
                f'class="cell"><title>{escape(name)} {hour:02d}:00: {escape(fmt(value))}</title>'
                "</rect>"
            )
    return _svg(width, height, body, label)


def state_bar(parts: Sequence[Series], most: float, fmt: Format, label: str) -> str:
    """One thin bar: each part's first value laid end to end (e.g. a device's active, idle and
    locked time), scaled so that `most` fills the width."""
    width, height = 240.0, 12.0
    scale = width / most if most > 0 else 0.0
    body: list[str] = [f'<rect width="{width:.0f}" height="{height:.0f}" rx="2" fill="#e2e8f0"/>']
    x = 0.0
    for part in parts:
        value = part.values[0] if part.values else 0.0
        if value <= 0 or scale <= 0:
            continue
        w = value * scale
        body.append(
            f'<rect x="{x:.1f}" width="{w:.1f}" height="{height:.0f}" fill="{part.colour}">'
            f"<title>{escape(part.name)} {escape(fmt(value))}</title></rect>"
        )
        x += w
    return _svg(width, height, body, label)
