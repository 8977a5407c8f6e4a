"""Small inline-SVG charts for the HTML report: pure functions from numbers to an SVG string.

Every chart is self-contained (presentation attributes, no scripts, no external references, no
``xmlns`` URL: inline SVG in HTML does not need one) and every piece of text in it, labels,
legend entries, tooltips and titles, is HTML-escaped here, so callers may pass strings that came
from mail. Charts stay readable from zero points (a "no data" panel) to thousands (x labels are
thinned to what fits, markers and tooltips are dropped when they would be noise).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

__all__ = [
    "PALETTE",
    "area_chart",
    "bar_chart",
    "heatmap",
    "horizontal_bars",
    "line_chart",
    "no_data",
    "short_number",
]

# Okabe-Ito colours (safe for the common colour-vision deficiencies), then a few more.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#8C6D31",
    "#7F7F7F",
    "#332288",
    "#B8A200",
)
HEAT = ("#eef3f9", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b")
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif"
TEXT = "#1f2933"
MUTED = "#52606d"
GRID = "#e4e7eb"
AXIS = "#9aa5b1"

_FONT_SIZE = 11
_CHAR = 0.6  # average glyph width as a share of the font size (a little generous, so labels fit)
_MARKERS_UP_TO = 60  # points per series with a visible marker
_TOOLTIPS_UP_TO = 1500  # shapes with a <title> tooltip per chart

Number = float | int | None


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _width(text: str, size: float = _FONT_SIZE) -> float:
    return len(text) * size * _CHAR


def _fit(text: str, max_chars: int) -> str:
    text = " ".join(str(text).split())
    if len(text) <= max_chars:
        return text
    return text[: max(1, max_chars - 1)].rstrip() + "…"


def _fit_middle(text: str, max_chars: int) -> str:
    """Shorten from the middle, so both ends stay (an address keeps its domain)."""
    text = " ".join(str(text).split())
    if len(text) <= max_chars:
        return text
    head = (max_chars - 1) // 2 + (max_chars - 1) % 2
    tail = max_chars - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


def _num(value: Number) -> float:
    if value is None:
        return 0.0
    value = float(value)
    return value if math.isfinite(value) else 0.0


def _n(value: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def short_number(value: Number) -> str:
    """A compact label: 7, 0.25, 12.5, 1.2k, 35k, 4.1M ("–" for a missing value)."""
    if value is None:
        return "–"
    value = float(value)
    if not math.isfinite(value):
        return "–"
    magnitude = abs(value)
    for divisor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= divisor:
            scaled = value / divisor
            return (_trim(f"{scaled:.1f}") if abs(scaled) < 100 else f"{scaled:.0f}") + suffix
    if value.is_integer():
        return str(int(value))
    return _trim(f"{value:.2f}" if magnitude < 10 else f"{value:.1f}")


def _trim(decimal: str) -> str:
    """Drop trailing zeros of a number with a decimal point ("2.50" -> "2.5", "3.0" -> "3")."""
    return decimal.rstrip("0").rstrip(".") if "." in decimal else decimal


def _ticks(high: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """Round tick values from 0 to at least `high` (1, 2, 2.5 or 5 times a power of ten apart)."""
    if not math.isfinite(high) or high <= 0:
        high = 1.0
    raw = high / max(count, 1)
    if integer and raw < 1:
        raw = 1.0
    power = 10 ** math.floor(math.log10(raw))
    # Whole-number data gets whole-number steps: no 2.5 when the power of ten is 1.
    multiples = (1, 2, 5, 10) if integer and power < 10 else (1, 2, 2.5, 5, 10)
    step = float(next(m * power for m in multiples if raw <= m * power * (1 + 1e-9)))
    steps = max(1, math.ceil(high / step - 1e-9))
    return [i * step for i in range(steps + 1)]


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}"'
        f' role="img" aria-label="{_e(title)}" font-family="{_e(FONT)}" font-size="{_FONT_SIZE}" fill="{TEXT}"'
        f' style="max-width:100%;height:auto">'
        f"<title>{_e(title)}</title>" + "".join(body) + "</svg>"
    )


def _title(title: str, width: float) -> str:
    return f'<text x="0" y="15" font-size="13" font-weight="600">{_e(_fit(title, int(width / (13 * _CHAR))))}</text>'


def no_data(title: str, message: str = "No data", *, width: int = 720, height: int = 90) -> str:
    """A titled panel saying there is nothing to draw."""
    body = [
        _title(title, width),
        f'<rect x="0.5" y="26.5" width="{width - 1}" height="{height - 28}" fill="#f8f9fa" stroke="{GRID}" rx="4"/>',
        f'<text x="{_n(width / 2)}" y="{_n(27 + (height - 28) / 2 + 4)}" text-anchor="middle" fill="{MUTED}">'
        f"{_e(message)}</text>",
    ]
    return _svg(width, height, title, body)


def _colour(name: str, index: int, colours: Mapping[str, str] | None) -> str:
    if colours and name in colours:
        return colours[name]
    return PALETTE[index % len(PALETTE)]


def _legend(
    names: Sequence[str], colours: Sequence[str], x0: float, y0: float, right: float
) -> tuple[list[str], float]:
    """Legend entries laid out in rows from (x0, y0); returns the elements and the y below them."""
    parts: list[str] = []
    x, y = x0, y0
    for name, colour in zip(names, colours, strict=True):
        label = _fit(name, 28)
        item = 14 + _width(label) + 14
        if x > x0 and x + item > right:
            x, y = x0, y + 16
        parts.append(
            f'<rect x="{_n(x)}" y="{_n(y - 9)}" width="10" height="10" rx="2" fill="{_e(colour)}"/>'
            f'<text x="{_n(x + 14)}" y="{_n(y)}" fill="{MUTED}"><title>{_e(name)}</title>{_e(label)}</text>'
        )
        x += item
    return parts, y + 10


class _Frame:
    """The plot area of an x-by-band chart: margins, y scale, gridlines, x labels."""

    def __init__(
        self,
        title: str,
        labels: Sequence[str],
        names: Sequence[str],
        colours: Sequence[str],
        high: float,
        *,
        width: int,
        height: int,
        y_label: str,
        integer: bool,
        legend: bool,
    ) -> None:
        self.width = width
        self.height = height
        self.parts: list[str] = [_title(title, width)] if title else []
        top = 26.0 if title else 6.0
        if legend:
            entries, below = _legend(names, colours, 0, top + 8, width)
            self.parts += entries
            height += int(below - (top + 18))  # legend rows after the first add height, not squash the plot
            top = below + 4
        if y_label:
            self.parts.append(f'<text x="0" y="{_n(top + 10)}" fill="{MUTED}">{_e(_fit(y_label, 60))}</text>')
            top += 16
        self.ticks = _ticks(high, 5, integer=integer)
        tick_text = [short_number(t) for t in self.ticks]
        self.left = max(24.0, max(_width(t) for t in tick_text) + 10)
        self.right = 10.0
        self.top = top + 6
        self.height = height
        self.bottom = max(height - 22.0, self.top + 40)
        self.height = int(self.bottom + 22)
        self.plot_width = width - self.left - self.right
        self.count = max(len(labels), 1)
        self.band = self.plot_width / self.count
        self.top_value = self.ticks[-1]
        for value, text in zip(self.ticks, tick_text, strict=True):
            y = self.y(value)
            self.parts.append(
                f'<line x1="{_n(self.left)}" x2="{_n(width - self.right)}" y1="{_n(y)}" y2="{_n(y)}"'
                f' stroke="{GRID if value else AXIS}" stroke-width="1"/>'
                f'<text x="{_n(self.left - 6)}" y="{_n(y + 4)}" text-anchor="end" fill="{MUTED}">{_e(text)}</text>'
            )
        self._x_labels(labels)

    def x(self, index: int) -> float:
        return self.left + (index + 0.5) * self.band

    def y(self, value: float) -> float:
        return self.bottom - (value / self.top_value) * (self.bottom - self.top)

    def _x_labels(self, labels: Sequence[str]) -> None:
        if not labels:
            return
        texts = [_fit(label, 16) for label in labels]
        longest = max(_width(text) for text in texts) + 10
        step = max(1, math.ceil(longest / self.band))
        drawn_to = -math.inf  # right edge of the last label drawn
        for index in range(0, len(labels), step):
            centre = self.x(index)
            size = _width(texts[index])
            x, anchor, start = centre, "middle", centre - size / 2
            if start < 0:  # the first labels lean right instead of leaving the chart
                x = max(centre - self.band / 2, 0.0)
                anchor, start = "start", x
            elif centre + size / 2 > self.width:
                x = min(centre + self.band / 2, float(self.width))
                anchor, start = "end", x - size
            if start < drawn_to + 8:
                continue
            drawn_to = start + size
            self.parts.append(
                f'<line x1="{_n(centre)}" x2="{_n(centre)}" y1="{_n(self.bottom)}"'
                f' y2="{_n(self.bottom + 4)}" stroke="{AXIS}"/>'
                f'<text x="{_n(x)}" y="{_n(self.bottom + 16)}" text-anchor="{anchor}" fill="{MUTED}">'
                f"{_e(texts[index])}</text>"
            )

    def svg(self, title: str) -> str:
        return _svg(self.width, self.height, title, self.parts)


def _is_integer(series: Mapping[str, Sequence[Number]]) -> bool:
    return all(v is None or float(v).is_integer() for values in series.values() for v in values)


def _check(labels: Sequence[str], series: Mapping[str, Sequence[Number]]) -> None:
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")


def line_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number]],
    *,
    title: str,
    y_label: str = "",
    colours: Mapping[str, str] | None = None,
    width: int = 720,
    height: int = 240,
) -> str:
    """One line per series over `labels` (e.g. weeks); a missing value (None) breaks the line."""
    _check(labels, series)
    if not labels or not series:
        return no_data(title, width=width)
    names = list(series)
    palette = [_colour(name, i, colours) for i, name in enumerate(names)]
    high = max((_num(v) for values in series.values() for v in values), default=0.0)
    frame = _Frame(
        title,
        labels,
        names,
        palette,
        high,
        width=width,
        height=height,
        y_label=y_label,
        integer=_is_integer(series),
        legend=len(names) > 1,
    )
    tooltips = len(labels) * len(names) <= _TOOLTIPS_UP_TO
    for name, colour in zip(names, palette, strict=True):
        values = series[name]
        path: list[str] = []
        pen_down = False
        for index, value in enumerate(values):
            if value is None or not math.isfinite(float(value)):
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{_n(frame.x(index))} {_n(frame.y(float(value)))}")
            pen_down = True
        if path:
            frame.parts.append(
                f'<path d="{" ".join(path)}" fill="none" stroke="{_e(colour)}" stroke-width="2"'
                f' stroke-linejoin="round" stroke-linecap="round"/>'
            )
        isolated = len(labels) == 1
        if tooltips:
            radius = 3 if len(labels) <= _MARKERS_UP_TO or isolated else 0
            for index, value in enumerate(values):
                if value is None:
                    continue
                frame.parts.append(
                    f'<circle cx="{_n(frame.x(index))}" cy="{_n(frame.y(_num(value)))}" r="{radius or 4}"'
                    f' fill="{_e(colour)}" fill-opacity="{1 if radius else 0}">'
                    f"<title>{_e(labels[index])} · {_e(name)}: {_e(short_number(value))}</title></circle>"
                )
    return frame.svg(title)


def area_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number]],
    *,
    title: str,
    y_label: str = "",
    colours: Mapping[str, str] | None = None,
    width: int = 720,
    height: int = 240,
) -> str:
    """Stacked areas over `labels`: each series on top of the ones before it (None counts as 0)."""
    _check(labels, series)
    if not labels or not series:
        return no_data(title, width=width)
    names = list(series)
    palette = [_colour(name, i, colours) for i, name in enumerate(names)]
    totals = [sum(_num(series[name][i]) for name in names) for i in range(len(labels))]
    frame = _Frame(
        title,
        labels,
        names,
        palette,
        max(totals, default=0.0),
        width=width,
        height=height,
        y_label=y_label,
        integer=_is_integer(series),
        legend=len(names) > 1,
    )
    base = [0.0] * len(labels)
    for name, colour in zip(names, palette, strict=True):
        upper = [b + _num(v) for b, v in zip(base, series[name], strict=True)]
        if len(labels) == 1:  # one point has no area: draw it as a bar
            x0, x1 = frame.x(0) - 28, frame.x(0) + 28
            frame.parts.append(
                f'<rect x="{_n(x0)}" y="{_n(frame.y(upper[0]))}" width="{_n(x1 - x0)}"'
                f' height="{_n(frame.y(base[0]) - frame.y(upper[0]))}" fill="{_e(colour)}" fill-opacity="0.8">'
                f"<title>{_e(labels[0])} · {_e(name)}: {_e(short_number(series[name][0]))}</title></rect>"
            )
        else:
            top_edge = [f"{_n(frame.x(i))},{_n(frame.y(v))}" for i, v in enumerate(upper)]
            bottom_edge = [f"{_n(frame.x(i))},{_n(frame.y(v))}" for i, v in reversed(list(enumerate(base)))]
            frame.parts.append(
                f'<polygon points="{" ".join(top_edge + bottom_edge)}" fill="{_e(colour)}" fill-opacity="0.75"'
                f' stroke="{_e(colour)}" stroke-width="1"><title>{_e(name)}</title></polygon>'
            )
        base = upper
    return frame.svg(title)


def bar_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number]],
    *,
    title: str,
    y_label: str = "",
    stacked: bool = True,
    colours: Mapping[str, str] | None = None,
    width: int = 720,
    height: int = 240,
) -> str:
    """Vertical bars per label: the series stacked (default) or side by side (`stacked=False`)."""
    _check(labels, series)
    if not labels or not series:
        return no_data(title, width=width)
    names = list(series)
    palette = [_colour(name, i, colours) for i, name in enumerate(names)]
    if stacked:
        high = max((sum(_num(series[n][i]) for n in names) for i in range(len(labels))), default=0.0)
    else:
        high = max((_num(v) for values in series.values() for v in values), default=0.0)
    frame = _Frame(
        title,
        labels,
        names,
        palette,
        high,
        width=width,
        height=height,
        y_label=y_label,
        integer=_is_integer(series),
        legend=len(names) > 1,
    )
    # Bars keep a gap while there is room for one, and stay slim when there are only a few.
    group = min(frame.band * 0.8 if frame.band >= 4 else frame.band, 56.0 if stacked else 36.0 * len(names))
    gap = frame.band - group
    bar = group if stacked else group / len(names)
    tooltips = len(labels) * len(names) <= _TOOLTIPS_UP_TO
    base = [0.0] * len(labels)
    for position, (name, colour) in enumerate(zip(names, palette, strict=True)):
        shapes: list[str] = []
        for index, value in enumerate(series[name]):
            amount = _num(value)
            if amount <= 0:
                continue
            x = frame.left + index * frame.band + gap / 2 + (0 if stacked else position * bar)
            low = base[index] if stacked else 0.0
            y_top, y_low = frame.y(low + amount), frame.y(low)
            bar_width, tall = max(bar, 0.5), max(y_low - y_top, 0.5)
            if tooltips:
                shapes.append(
                    f'<rect x="{_n(x)}" y="{_n(y_top)}" width="{_n(bar_width)}" height="{_n(tall)}">'
                    f"<title>{_e(labels[index])} · {_e(name)}: {_e(short_number(value))}</title></rect>"
                )
            else:  # thousands of bars: one path per series keeps the page small
                shapes.append(f"M{_n(x)} {_n(y_top)}h{_n(bar_width)}v{_n(tall)}h{_n(-bar_width)}z")
            if stacked:
                base[index] += amount
        drawn = "".join(shapes) if tooltips else (f'<path d="{"".join(shapes)}"/>' if shapes else "")
        frame.parts.append(f'<g fill="{_e(colour)}" shape-rendering="crispEdges">{drawn}</g>')
    return frame.svg(title)


def horizontal_bars(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number]],
    *,
    title: str,
    colours: Mapping[str, str] | None = None,
    width: int = 720,
    max_label: int = 36,
) -> str:
    """One row per label with its series stacked left to right and the total at the end.

    The chart grows with the number of rows; long labels are shortened (the full text is the
    row's tooltip).
    """
    _check(labels, series)
    if not labels or not series:
        return no_data(title, width=width)
    names = list(series)
    palette = [_colour(name, i, colours) for i, name in enumerate(names)]
    parts: list[str] = [_title(title, width)] if title else []
    top = 26.0 if title else 6.0
    if len(names) > 1:
        entries, top = _legend(names, palette, 0, top + 8, width)
        parts += entries
    top += 8
    shown = [_fit_middle(label, max_label) for label in labels]
    left = min(max(_width(s) for s in shown) + 10, width * 0.45)
    totals = [sum(_num(series[n][i]) for n in names) for i in range(len(labels))]
    ticks = _ticks(max(totals, default=0.0), 5, integer=_is_integer(series))
    right = max(_width(short_number(max(totals, default=0))) + 10, 30.0)
    plot = width - left - right
    row = 20.0
    bottom = top + row * len(labels)
    height = bottom + 22

    def x(value: float) -> float:
        return left + value / ticks[-1] * plot

    for value in ticks:
        parts.append(
            f'<line x1="{_n(x(value))}" x2="{_n(x(value))}" y1="{_n(top)}" y2="{_n(bottom)}"'
            f' stroke="{GRID if value else AXIS}"/>'
            f'<text x="{_n(x(value))}" y="{_n(bottom + 15)}" text-anchor="middle" fill="{MUTED}">'
            f"{_e(short_number(value))}</text>"
        )
    for index, label in enumerate(labels):
        y = top + index * row
        parts.append(
            f'<text x="{_n(left - 6)}" y="{_n(y + row / 2 + 4)}" text-anchor="end">'
            f"<title>{_e(label)}</title>{_e(shown[index])}</text>"
        )
        start = 0.0
        for name, colour in zip(names, palette, strict=True):
            amount = _num(series[name][index])
            if amount <= 0:
                continue
            parts.append(
                f'<rect x="{_n(x(start))}" y="{_n(y + 3)}" width="{_n(max(x(start + amount) - x(start), 0.5))}"'
                f' height="{_n(row - 6)}" fill="{_e(colour)}" shape-rendering="crispEdges">'
                f"<title>{_e(label)} · {_e(name)}: {_e(short_number(amount))}</title></rect>"
            )
            start += amount
        parts.append(
            f'<text x="{_n(x(start) + 4)}" y="{_n(y + row / 2 + 4)}" fill="{MUTED}">{_e(short_number(start))}</text>'
        )
    return _svg(width, height, title, parts)


def heatmap(
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Sequence[Sequence[Number]],
    *,
    title: str,
    unit: str = "messages",
    width: int = 720,
) -> str:
    """A grid of cells shaded by value (e.g. weekday rows by hour columns) with a legend of the shades.

    Cells show their number when there is room; every cell has a tooltip.
    """
    if len(values) != len(row_labels) or any(len(row) != len(column_labels) for row in values):
        raise ValueError(f"heatmap values must be {len(row_labels)} rows of {len(column_labels)} cells")
    if not row_labels or not column_labels:
        return no_data(title, width=width)
    parts: list[str] = [_title(title, width)] if title else []
    top = 34.0 if title else 8.0
    left = max(_width(_fit(label, 14)) for label in row_labels) + 10
    cell_w = (width - left - 4) / len(column_labels)
    cell_h = max(min(cell_w * 0.8, 26.0), 8.0)
    high = max((_num(v) for row in values for v in row), default=0.0)
    shades = len(HEAT) - 1  # HEAT[0] is zero; the others split (0, high] evenly

    def shade(value: float) -> int:
        if value <= 0 or high <= 0:
            return 0
        return min(shades, max(1, math.ceil(value / high * shades)))

    label_numbers = cell_w >= 18 and cell_h >= 12
    for r, label in enumerate(row_labels):
        y = top + r * cell_h
        parts.append(
            f'<text x="{_n(left - 6)}" y="{_n(y + cell_h / 2 + 4)}" text-anchor="end" fill="{MUTED}">'
            f"{_e(_fit(label, 14))}</text>"
        )
        for c, value in enumerate(values[r]):
            amount = _num(value)
            level = shade(amount)
            x = left + c * cell_w
            parts.append(
                f'<rect x="{_n(x + 0.5)}" y="{_n(y + 0.5)}" width="{_n(cell_w - 1)}" height="{_n(cell_h - 1)}"'
                f' fill="{HEAT[level]}"><title>{_e(label)} {_e(column_labels[c])}: {_e(short_number(value))}'
                f" {_e(unit)}</title></rect>"
            )
            if label_numbers and amount > 0:
                text = short_number(amount)
                if _width(text, 10) < cell_w - 2:
                    parts.append(
                        f'<text x="{_n(x + cell_w / 2)}" y="{_n(y + cell_h / 2 + 3.5)}" text-anchor="middle"'
                        f' font-size="10" fill="{"#ffffff" if level >= 4 else TEXT}">{_e(text)}</text>'
                    )
    bottom = top + len(row_labels) * cell_h
    longest = max(_width(_fit(label, 8)) for label in column_labels) + 6
    step = max(1, math.ceil(longest / cell_w))
    for c in range(0, len(column_labels), step):
        parts.append(
            f'<text x="{_n(left + (c + 0.5) * cell_w)}" y="{_n(bottom + 14)}" text-anchor="middle" fill="{MUTED}">'
            f"{_e(_fit(column_labels[c], 8))}</text>"
        )
    # Legend: one swatch per shade with the range of values it stands for.
    y = bottom + 36
    x = left
    legend = [("0", 0)]
    integer = all(v is None or float(v).is_integer() for row in values for v in row)
    for level in range(1, shades + 1 if high > 0 else 1):
        low, upper = high * (level - 1) / shades, high * level / shades
        if integer:  # whole numbers: the shade covers floor(low) + 1 ..= floor(upper), maybe none
            first, last = math.floor(low) + 1, math.floor(upper)
            if first > last:
                continue
            text = short_number(first) if first == last else f"{short_number(first)}–{short_number(last)}"
        else:
            text = f"{short_number(low)}–{short_number(upper)}"
        legend.append((text, level))
    parts.append(f'<text x="{_n(left - 6)}" y="{_n(y)}" text-anchor="end" fill="{MUTED}">{_e(_fit(unit, 14))}</text>')
    for text, level in legend:
        parts.append(
            f'<rect x="{_n(x)}" y="{_n(y - 10)}" width="14" height="12" fill="{HEAT[level]}" stroke="{GRID}"/>'
            f'<text x="{_n(x + 18)}" y="{_n(y)}" fill="{MUTED}">{_e(text)}</text>'
        )
        x += 18 + _width(text) + 14
    return _svg(width, y + 8, title, parts)
