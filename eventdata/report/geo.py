"""The map: Natural Earth borders (shipped with the package, see eventdata/reference.py) and the events on them.

Equirectangular projection around the events' mean latitude; borders clipped to the frame and
simplified below a pixel; points sized by fatalities (area) and coloured by event type.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from eventdata.report.svg import INK, MUTED, WIDTH, count, legend, num, open_svg, rows_of

HEIGHT_RANGE = (300, 560)
MAX_MARKS = 4000  # more points than this are merged into grid cells
RADIUS = (3.5, 18.0)
LAND, SEA, BORDER = "#f2f0e9", "#e3edf5", "#8c8c8c"


class Frame:
    """Longitude/latitude bounds of the map and the projection to SVG pixels."""

    def __init__(self, longitudes: np.ndarray, latitudes: np.ndarray) -> None:
        west, east = float(longitudes.min()), float(longitudes.max())
        south, north = float(latitudes.min()), float(latitudes.max())
        pad_x, pad_y = max(0.5, 0.15 * (east - west)), max(0.5, 0.15 * (north - south))
        west, east, south, north = west - pad_x, east + pad_x, south - pad_y, north + pad_y
        self.cos = max(math.cos(math.radians((south + north) / 2)), 0.2)
        width, height = (east - west) * self.cos, north - south
        low, high = HEIGHT_RANGE[0] / WIDTH, HEIGHT_RANGE[1] / WIDTH
        if height < width * low:  # too flat: show more latitude
            extra = (width * low - height) / 2
            south, north = south - extra, north + extra
        elif height > width * high:  # too tall: show more longitude
            extra = (height / high / self.cos - (east - west)) / 2
            west, east = west - extra, east + extra
        self.west, self.east = max(west, -180.0), min(east, 180.0)
        self.south, self.north = max(south, -90.0), min(north, 90.0)
        self.scale = WIDTH / ((self.east - self.west) * self.cos)
        self.height = round((self.north - self.south) * self.scale)

    def x(self, longitude: Any) -> Any:
        return (np.asarray(longitude) - self.west) * self.cos * self.scale

    def y(self, latitude: Any) -> Any:
        return (self.north - np.asarray(latitude)) * self.scale


def _ring(frame: Frame, coordinates: Any) -> str:
    points = np.asarray(coordinates)
    xs, ys = frame.x(points[:, 0]), frame.y(points[:, 1])
    return "M" + "L".join(f"{num(x)} {num(y)}" for x, y in zip(xs, ys, strict=True)) + "Z"


def _polygons(geometry: Any) -> list[Any]:
    kind = geometry.geom_type
    if kind == "Polygon":
        return [geometry]
    if kind in ("MultiPolygon", "GeometryCollection"):
        return [p for part in geometry.geoms for p in _polygons(part)]
    return []


def borders(frame: Frame, names: dict[str, str]) -> tuple[list[str], list[str]]:
    """Country shapes clipped to the frame as SVG paths, and country name labels."""
    import shapely

    from eventdata.reference import country_shapes

    tolerance = 0.6 / frame.scale / frame.cos  # below a pixel
    paths, labels = [], []
    for code, shape in sorted(country_shapes().items()):
        west, south, east, north = shape.bounds
        if east < frame.west or west > frame.east or north < frame.south or south > frame.north:
            continue
        clipped = shapely.clip_by_rect(shape, frame.west, frame.south, frame.east, frame.north)
        if clipped.is_empty:
            continue
        simplified = shapely.simplify(clipped, tolerance, preserve_topology=True)
        rings = []
        for polygon in _polygons(simplified):
            if polygon.is_empty:
                continue
            rings.append(_ring(frame, polygon.exterior.coords))
            rings += [_ring(frame, interior.coords) for interior in polygon.interiors]
        if not rings:
            continue
        name = names.get(code, code)
        paths.append(
            f'<path d="{"".join(rings)}" fill="{LAND}" stroke="{BORDER}" stroke-width="0.8" '
            f'fill-rule="evenodd"><title>{escape(name)}</title></path>'
        )
        area = clipped.area * frame.cos * frame.scale**2
        if area > 4000:
            point = shapely.point_on_surface(max(_polygons(clipped), key=lambda p: p.area))
            labels.append(
                f'<text x="{num(float(frame.x(point.x)))}" y="{num(float(frame.y(point.y)))}" font-size="12" '
                f'text-anchor="middle" fill="{MUTED}" font-style="italic">{escape(name)}</text>'
            )
    return paths, labels


def merge_points(points: pd.DataFrame, frame: Frame) -> tuple[pd.DataFrame, float]:
    """Points per (place, event type), merged into grid cells of growing size while they exceed MAX_MARKS."""
    marks = points.assign(x=frame.x(points["longitude"].to_numpy()), y=frame.y(points["latitude"].to_numpy()))
    cell = 0.0
    while len(marks) > MAX_MARKS:
        cell = cell * 2 if cell else 2.0
        grid = marks.assign(
            gx=np.floor(marks["x"] / cell).astype("int64"),
            gy=np.floor(marks["y"] / cell).astype("int64"),
        )
        merged = (
            grid.groupby(["gx", "gy", "event_type"], observed=True, sort=True)
            .agg(events=("events", "sum"), fatalities=("fatalities", "sum"), location=("location", "first"))
            .reset_index()
        )
        merged["x"] = (merged["gx"] + 0.5) * cell
        merged["y"] = (merged["gy"] + 0.5) * cell
        merged["location"] = merged["location"] + " and nearby places"
        marks = merged.drop(columns=["gx", "gy"])
        if cell > 64:
            break
    return marks, cell


def radius(fatalities: np.ndarray, largest: int) -> np.ndarray:
    """Circle area proportional to fatalities; events without fatalities keep the smallest size."""
    low, high = RADIUS
    if largest <= 0:
        return np.full(len(fatalities), low)
    result: np.ndarray = low + (high - low) * np.sqrt(np.clip(fatalities, 0, None) / largest)
    return result


def _label_boxes(
    marks: pd.DataFrame, radii: np.ndarray, limit: int, height: int
) -> list[tuple[float, float, str, str]]:
    """Labels for the places with the most events: right of the point, else left, above, below; never overlapping."""
    taken: list[tuple[float, float, float, float]] = []
    placed: list[tuple[float, float, str, str]] = []
    order = marks.assign(r=radii).sort_values(["events", "fatalities", "location"], ascending=[False, False, True])
    seen: set[str] = set()
    for row in rows_of(order):
        name = str(row.location)
        if name in seen or len(placed) >= limit:
            continue
        seen.add(name)
        width, x, y, r = 6.6 * len(name), float(row.x), float(row.y), float(row.r)
        options = [
            (x + r + 3, y + 4, "start", (x + r + 3, y - 8, x + r + 3 + width, y + 6)),
            (x - r - 3, y + 4, "end", (x - r - 3 - width, y - 8, x - r - 3, y + 6)),
            (x, y - r - 4, "middle", (x - width / 2, y - r - 16, x + width / 2, y - r - 2)),
            (x, y + r + 13, "middle", (x - width / 2, y + r + 1, x + width / 2, y + r + 15)),
        ]
        for lx, ly, anchor, box in options:
            inside = box[0] >= 0 and box[2] <= WIDTH and box[1] >= 0 and box[3] <= height
            clear = all(box[2] < t[0] or box[0] > t[2] or box[3] < t[1] or box[1] > t[3] for t in taken)
            if inside and clear:
                taken.append(box)
                placed.append((lx, ly, anchor, name))
                break
    return placed


def _graticule(frame: Frame) -> list[str]:
    span = max(frame.east - frame.west, frame.north - frame.south)
    step = next(s for s in (0.5, 1, 2, 5, 10, 15, 30, 45, 90) if span / s <= 8)
    parts = ['<g class="graticule">']
    longitude = math.ceil(frame.west / step) * step
    while longitude <= frame.east:
        x = float(frame.x(longitude))
        parts.append(
            f'<line x1="{num(x)}" x2="{num(x)}" y1="0" y2="{frame.height}" stroke="#ffffff" stroke-width="0.7"/>'
        )
        hemisphere = "E" if longitude >= 0 else "W"
        parts.append(
            f'<text x="{num(x + 3)}" y="{frame.height - 5}" font-size="10" fill="{MUTED}">'
            f"{abs(longitude):g}°{hemisphere}</text>"
        )
        longitude += step
    latitude = math.ceil(frame.south / step) * step
    while latitude <= frame.north:
        y = float(frame.y(latitude))
        parts.append(f'<line x1="0" x2="{WIDTH}" y1="{num(y)}" y2="{num(y)}" stroke="#ffffff" stroke-width="0.7"/>')
        hemisphere = "N" if latitude >= 0 else "S"
        parts.append(
            f'<text x="4" y="{num(y - 3)}" font-size="10" fill="{MUTED}">{abs(latitude):g}°{hemisphere}</text>'
        )
        latitude += step
    parts.append("</g>")
    return parts


def event_map(
    chart_id: str,
    points: pd.DataFrame,
    event_types: Sequence[str],
    colours: dict[str, str],
    country_names: dict[str, str],
    *,
    title: str,
) -> tuple[str, str]:
    """The map as SVG and a sentence saying what it shows (for its caption)."""
    if points.empty:
        return "", "No events to map."
    frame = Frame(points["longitude"].to_numpy(), points["latitude"].to_numpy())
    marks, cell = merge_points(points, frame)
    largest = int(marks["fatalities"].max())
    marks = marks.assign(r=radius(marks["fatalities"].to_numpy(dtype="float64"), largest))
    marks = marks.sort_values(["r", "y", "x", "event_type"], ascending=[False, True, True, True], kind="stable")
    paths, country_labels = borders(frame, country_names)
    types_shown = [t for t in event_types if t in set(marks["event_type"].astype(str))]
    legend_parts, legend_height = legend(types_shown, [colours[t] for t in types_shown], 8, 0, WIDTH - 16)
    tenth = max(1, largest // 10)
    middle = int(str(tenth)[0]) * 10 ** (len(str(tenth)) - 1)  # a round figure near a tenth of the largest
    sizes = sorted({largest, middle, 0}) if largest else [0]
    size_height = 2 * RADIUS[1] + 12
    height = round(frame.height + 12 + legend_height + size_height)
    description = (
        f"Map of {count(int(marks['events'].sum()))} events between longitude {frame.west:.1f} and {frame.east:.1f}, "
        f"latitude {frame.south:.1f} and {frame.north:.1f}; circle area shows fatalities, colour the event type."
    )
    parts = open_svg(chart_id, WIDTH, height, title, description)
    parts.append(
        f'<clipPath id="{chart_id}-clip"><rect x="0" y="0" width="{WIDTH}" height="{frame.height}"/></clipPath>'
    )
    parts.append(f'<g clip-path="url(#{chart_id}-clip)">')
    parts.append(f'<rect x="0" y="0" width="{WIDTH}" height="{frame.height}" fill="{SEA}"/>')
    parts.append('<g class="borders">')
    parts += paths
    parts.append("</g>")
    parts += _graticule(frame)
    parts.append('<g class="country-names">')
    parts += country_labels
    parts.append("</g>")
    parts.append('<g class="events">')
    for row in rows_of(marks):
        event_type = str(row.event_type)
        events, fatalities = int(row.events), int(row.fatalities)
        tip = (
            f"{row.location}: {count(events)} event{'s' if events != 1 else ''} of type {event_type}, "
            f"{count(fatalities)} fatalit{'ies' if fatalities != 1 else 'y'}"
        )
        parts.append(
            f'<circle class="event" cx="{num(row.x)}" cy="{num(row.y)}" r="{num(row.r)}" fill="{colours[event_type]}" '
            f'fill-opacity="0.8" stroke="{INK}" stroke-width="0.8" data-events="{events}" '
            f'data-fatalities="{fatalities}"><title>{escape(tip)}</title></circle>'
        )
    parts.append("</g>")
    parts.append('<g class="place-names">')
    for lx, ly, anchor, name in _label_boxes(marks, marks["r"].to_numpy(), 12, frame.height):
        parts.append(
            f'<text x="{num(lx)}" y="{num(ly)}" font-size="12" text-anchor="{anchor}" fill="{INK}" '
            f'stroke="#ffffff" stroke-width="3" paint-order="stroke">{escape(name)}</text>'
        )
    parts.append("</g>")
    parts.append("</g>")
    parts.append(f'<rect x="0" y="0" width="{WIDTH}" height="{frame.height}" fill="none" stroke="{INK}"/>')
    parts.append(f'<g transform="translate(0 {frame.height + 8})">')
    parts += legend_parts
    parts.append("</g>")
    y = frame.height + 12 + legend_height + RADIUS[1]
    x = 8.0
    parts.append('<g class="size-legend">')
    for size in sizes:
        r = float(radius(np.array([float(size)]), largest)[0])
        parts.append(
            f'<circle cx="{num(x + r)}" cy="{num(y)}" r="{num(r)}" fill="#ffffff" stroke="{INK}" stroke-width="0.8"/>'
        )
        parts.append(
            f'<text x="{num(x + 2 * r + 4)}" y="{num(y + 4)}" font-size="12" fill="{INK}">'
            f"{count(size)} fatalit{'y' if size == 1 else 'ies'}</text>"
        )
        x += 2 * r + 110
    parts.append("</g>")
    parts.append("</svg>")
    caption = description
    if cell:
        caption += f" Places closer than {cell:g} pixels are merged into one circle per event type."
    return "\n".join(parts), caption
