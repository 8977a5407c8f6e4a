"""The inline-SVG charts: well-formed, escaped, inert, and readable from 0 to thousands of points."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from intel.reports import charts
from intel.reports.charts import (
    HEAT,
    area_chart,
    bar_chart,
    heatmap,
    horizontal_bars,
    line_chart,
    no_data,
    short_number,
)

PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "'); DROP TABLE messages;--",
    "</svg><svg onload=alert(3)>",
    "a & b < c",
)
WEEKS = [f"2026-{m:02d}-{d:02d}" for m in (6, 7, 8) for d in (1, 8, 15, 22)]


def parse(svg: str) -> ET.Element:
    """The chart as XML: it must be one well-formed <svg> element."""
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    return ET.fromstring(svg)


def texts(root: ET.Element, tag: str = "text") -> list[str]:
    """The text of every `tag` element; for <text>, what is drawn (not its <title> tooltip)."""
    if tag == "title":
        return ["".join(e.itertext()) for e in root.iter(tag)]
    return [(e.text or "") + "".join(child.tail or "" for child in e) for e in root.iter(tag)]


def assert_inert(svg: str) -> None:
    root = parse(svg)
    for element in root.iter():
        assert element.tag not in {"script", "foreignObject", "a", "image", "use", "iframe", "img"}
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            assert "href" not in name.lower()
            assert "url(" not in value and "javascript:" not in value.lower()
    assert "http" not in svg  # not even an xmlns URL: inline SVG in HTML needs none


CHARTS: dict[str, Callable[[list[str], dict[str, list[float | None]]], str]] = {
    "line": lambda labels, series: line_chart(labels, series, title="t", y_label="messages"),
    "area": lambda labels, series: area_chart(labels, series, title="t"),
    "stacked": lambda labels, series: bar_chart(labels, series, title="t"),
    "grouped": lambda labels, series: bar_chart(labels, series, title="t", stacked=False),
    "horizontal": lambda labels, series: horizontal_bars(labels, series, title="t"),
}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "–"),
        (float("nan"), "–"),
        (0, "0"),
        (7, "7"),
        (7.0, "7"),
        (0.25, "0.25"),
        (12.5, "12.5"),
        (999, "999"),
        (1000, "1k"),
        (1500, "1.5k"),
        (35_000, "35k"),
        (250_000, "250k"),
        (4_100_000, "4.1M"),
        (-2500, "-2.5k"),
    ],
)
def test_short_number(value: float | None, text: str) -> None:
    assert short_number(value) == text


@pytest.mark.parametrize("high", [0, 0.3, 1, 3, 7, 10, 11, 99, 101, 1234, 98_765])
def test_ticks_are_round_and_cover_the_maximum(high: float) -> None:
    ticks = charts._ticks(high, 5, integer=True)
    assert ticks[0] == 0 and ticks[-1] >= high and len(ticks) <= 7
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    step = steps.pop()
    assert step >= 1 and float(step).is_integer()  # counts get no "2.5 messages" tick
    mantissa = step / 10 ** len(str(int(step)))
    assert round(mantissa * 10, 6) in {1, 2, 2.5, 5}


@pytest.mark.parametrize("kind", sorted(CHARTS))
def test_every_label_is_escaped_and_the_chart_is_inert(kind: str) -> None:
    labels = list(PAYLOADS)
    series = {PAYLOADS[0]: [1, 2, 3, 4, 5], PAYLOADS[1]: [5, 4, 3, 2, 1]}
    svg = CHARTS[kind](labels, series)
    assert_inert(svg)
    for payload in PAYLOADS:
        assert payload not in svg
    root = parse(svg)
    # What a reader sees (tooltips and text) is the original text, decoded, not markup.
    seen = " ".join(texts(root, "title") + texts(root))
    assert "<script>alert(1)</script>" in seen
    assert not any(e.tag == "script" for e in root.iter())


def test_the_title_and_units_are_escaped_too() -> None:
    svg = line_chart(["a", "b"], {"s": [1, 2]}, title=PAYLOADS[1], y_label=PAYLOADS[0])
    assert_inert(svg)
    assert PAYLOADS[0] not in svg and PAYLOADS[1] not in svg
    root = parse(svg)
    assert root.attrib["aria-label"] == PAYLOADS[1]
    assert PAYLOADS[0] in texts(root)


@pytest.mark.parametrize("kind", sorted(CHARTS))
def test_no_points_is_a_no_data_panel(kind: str) -> None:
    svg = CHARTS[kind]([], {})
    assert_inert(svg)
    assert "No data" in texts(parse(svg))


def test_heatmap_without_cells_is_a_no_data_panel() -> None:
    assert "No data" in texts(parse(heatmap([], [], [], title="t")))
    assert "Nothing yet" in texts(parse(no_data("t", "Nothing yet")))


def test_series_must_match_the_labels() -> None:
    with pytest.raises(ValueError, match="has 2 values for 3 labels"):
        line_chart(["a", "b", "c"], {"s": [1, 2]}, title="t")
    with pytest.raises(ValueError, match="7 rows of 24"):
        heatmap(["Mon"] * 7, [str(h) for h in range(24)], [[0] * 23] * 7, title="t")


def test_one_point_is_drawn_visibly() -> None:
    line = parse(line_chart(["2026-06-01"], {"in": [3]}, title="t"))
    dots = [c for c in line.iter("circle") if c.attrib["fill-opacity"] == "1"]
    assert len(dots) == 1 and "2026-06-01" in texts(line)
    area = parse(area_chart(["2026-06-01"], {"in": [3], "out": [2]}, title="t"))
    assert len([r for r in area.iter("rect") if r.find("title") is not None]) == 2
    bars = parse(bar_chart(["2026-06-01"], {"in": [3]}, title="t"))
    (bar,) = [r for g in bars.iter("g") for r in g.iter("rect")]
    assert float(bar.attrib["width"]) <= 56  # one bar is not stretched over the whole chart


def _label_extents(root: ET.Element, y: float) -> list[tuple[float, float]]:
    extents = []
    for element in root.iter("text"):
        if abs(float(element.attrib["y"]) - y) > 0.01:
            continue
        width = len("".join(element.itertext())) * 11 * 0.6
        x = float(element.attrib["x"])
        anchor = element.attrib.get("text-anchor", "start")
        start = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        extents.append((start, start + width))
    return sorted(extents)


@pytest.mark.parametrize("points", [2, 13, 90, 365, 3000])
@pytest.mark.parametrize("kind", ["line", "stacked", "area"])
def test_x_labels_never_overlap_and_stay_inside(points: int, kind: str) -> None:
    labels = [f"2026-{i:05d}" for i in range(points)]
    svg = CHARTS[kind](labels, {"in": [float(i % 17) for i in range(points)], "out": [1.0] * points})
    root = parse(svg)
    bottom_y = max(float(e.attrib["y"]) for e in root.iter("text"))
    extents = _label_extents(root, bottom_y)
    assert 1 <= len(extents) <= points
    assert extents[0][0] >= 0 and extents[-1][1] <= 720
    for (_, right), (left, _) in itertools.pairwise(extents):
        assert left >= right, extents


def test_thousands_of_points_stay_a_reasonable_size() -> None:
    labels = [f"d{i}" for i in range(5000)]
    values = [float(i % 50) for i in range(5000)]
    line = line_chart(labels, {"a": values}, title="t")
    bars = bar_chart(labels, {"a": values, "b": values}, title="t")
    assert len(line) < 100_000 and len(bars) < 400_000
    assert "<circle" not in line  # no markers or tooltips when they would be noise
    assert "<title>d1 " not in bars
    assert_inert(line)
    assert_inert(bars)


def test_a_missing_value_breaks_the_line() -> None:
    root = parse(line_chart(["a", "b", "c", "d", "e"], {"s": [1, 2, None, 4, 5]}, title="t"))
    (path,) = list(root.iter("path"))
    assert path.attrib["d"].count("M") == 2 and path.attrib["d"].count("L") == 2


def _bar_heights(svg: str) -> list[float]:
    return [float(r.attrib["height"]) for g in parse(svg).iter("g") for r in g.iter("rect")]


def test_bars_are_proportional_and_stack() -> None:
    single = _bar_heights(bar_chart(["a", "b"], {"s": [2, 4]}, title="t"))
    assert single[1] == pytest.approx(2 * single[0], abs=0.02)
    stacked = bar_chart(["a"], {"x": [2], "y": [4]}, title="t")
    root = parse(stacked)
    rects = [r for g in root.iter("g") for r in g.iter("rect")]
    low, high = rects
    assert float(high.attrib["height"]) == pytest.approx(2 * float(low.attrib["height"]), abs=0.02)
    # y stacks on top of x: its bottom edge is x's top edge
    assert float(high.attrib["y"]) + float(high.attrib["height"]) == pytest.approx(float(low.attrib["y"]), abs=0.02)
    grouped = parse(bar_chart(["a"], {"x": [2], "y": [4]}, title="t", stacked=False))
    x_rect, y_rect = [r for g in grouped.iter("g") for r in g.iter("rect")]
    assert float(x_rect.attrib["x"]) + float(x_rect.attrib["width"]) <= float(y_rect.attrib["x"]) + 0.01


def test_zero_and_negative_free_values_draw_no_bar() -> None:
    assert len(_bar_heights(bar_chart(["a", "b", "c"], {"s": [0, None, 3]}, title="t"))) == 1


def test_a_series_keeps_its_assigned_colour_and_the_legend_names_it() -> None:
    svg = bar_chart(WEEKS, {"negative": [1] * 12, "positive": [2] * 12}, title="t", colours={"negative": "#D55E00"})
    root = parse(svg)
    fills = [g.attrib["fill"] for g in root.iter("g")]
    assert fills == ["#D55E00", charts.PALETTE[1]]
    assert {"negative", "positive"} <= set(texts(root))


def test_a_crowded_legend_wraps_and_the_plot_keeps_its_height() -> None:
    names = [f"custom_intent_number_{i}" for i in range(14)]
    svg = bar_chart(WEEKS, {n: [1] * 12 for n in names}, title="t", height=240)
    root = parse(svg)
    legend_rows = {e.attrib["y"] for e in root.iter("text") if "".join(e.itertext()).startswith("custom_intent")}
    assert len(legend_rows) >= 3
    assert float(root.attrib["height"]) > 240  # grown, not squashed


def test_horizontal_bars_shorten_long_labels_in_the_middle_and_keep_them_whole_in_tooltips() -> None:
    address = "someone.with.a.very.long.local.part@a-long-customer-domain.example"
    root = parse(horizontal_bars([address, "b@x.example"], {"in": [3, 1], "out": [1, 0]}, title="t"))
    shown = [t for t in texts(root) if "…" in t]
    assert shown and shown[0].startswith("someone") and shown[0].endswith("domain.example")
    assert address in texts(root, "title")
    assert "4" in texts(root) and "1" in texts(root)  # totals at the bar ends
    taller = parse(horizontal_bars([f"r{i}" for i in range(30)], {"n": [1] * 30}, title="t"))
    assert float(taller.attrib["height"]) > float(root.attrib["height"]) + 400


def test_heatmap_shades_by_value_with_a_legend_of_the_ranges() -> None:
    rows = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    hours = [f"{h:02d}" for h in range(24)]
    values = [[0.0] * 24 for _ in rows]
    values[0][9] = 12
    values[1][10] = 1
    values[4][16] = 6
    root = parse(heatmap(rows, hours, values, title="Busiest hours"))
    cells = [r for r in root.iter("rect") if r.find("title") is not None]
    assert len(cells) == 168
    by_title = {"".join(r.find("title").itertext()): r.attrib["fill"] for r in cells}  # type: ignore[union-attr]
    assert by_title["Monday 09: 12 messages"] == HEAT[-1]
    assert by_title["Tuesday 10: 1 messages"] == HEAT[1]
    assert by_title["Sunday 00: 0 messages"] == HEAT[0]
    assert by_title["Friday 16: 6 messages"] == HEAT[3]
    legend = [t for t in texts(root) if re.fullmatch(r"\d+(–\d+)?", t or "")]
    assert legend[-6:] == ["1–2", "3–4", "5–6", "7–8", "9–10", "11–12"]
    assert {"00", "12", "23"} <= set(texts(root))


def test_heatmap_of_small_counts_lists_only_the_shades_in_use() -> None:
    values = [[0.0] * 24 for _ in range(7)]
    values[2][3] = 2
    root = parse(heatmap([str(d) for d in range(7)], [str(h) for h in range(24)], values, title="t"))
    swatches = [r for r in root.iter("rect") if r.find("title") is None]
    assert len(swatches) == 3  # 0, 1 and 2: no empty or fractional ranges
