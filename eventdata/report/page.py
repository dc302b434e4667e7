"""The report page: sections of headings, charts and the tables beside them, in one HTML file."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import pandas as pd

from eventdata import __version__, progress
from eventdata.report.data import ReportData, period_range, vocabulary_order
from eventdata.report.geo import event_map
from eventdata.report.svg import colour, count, horizontal_bars, rows_of, share_bars, stacked_columns
from eventdata.schema import Codebook
from eventdata.validate import RULES

TOP_COUNTRIES = 15
STYLE = """
:root { color: #222; background: #fff; font-family: system-ui, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
  line-height: 1.45; }
body { margin: 0 auto; max-width: 78rem; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; } h2 { margin-top: 2.4rem; border-bottom: 1px solid #ccc; }
h3 { margin-top: 1.6rem; } nav ol { columns: 2; }
.headline { display: flex; flex-wrap: wrap; gap: 0.8rem; padding: 0; margin: 1rem 0; }
.headline div { border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem 1rem; min-width: 8rem; }
.headline dt { font-size: 0.85rem; color: #555; } .headline dd { margin: 0; font-size: 1.6rem; font-weight: 600; }
.pair { display: grid; grid-template-columns: minmax(0, 46rem) minmax(0, 1fr); gap: 1.5rem; align-items: start; }
@media (max-width: 70rem) { .pair { grid-template-columns: minmax(0, 1fr); } }
figure { margin: 0; } figcaption { font-size: 0.9rem; color: #444; margin-top: 0.3rem; }
svg.chart { max-width: 100%; height: auto; display: block; font-family: inherit; }
.scroll { max-height: 26rem; overflow: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0.4rem; }
th, td { padding: 0.2rem 0.5rem; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
thead th { position: sticky; top: 0; background: #f4f4f4; } tbody th { white-space: nowrap; }
.ok { color: #005a32; font-weight: 600; } .bad { color: #a50f15; font-weight: 600; }
footer { margin-top: 3rem; font-size: 0.85rem; color: #555; border-top: 1px solid #ccc; padding-top: 0.6rem; }
"""


def _table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: Sequence[int] = ()) -> str:
    """An accessible table; columns listed in numeric are right-aligned and formatted with separators."""
    numeric_class = ' class="n"'
    head = "".join(
        f'<th scope="col"{numeric_class if i in numeric else ""}>{escape(h)}</th>' for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            text = count(value) if isinstance(value, int) and i in numeric else str(value)
            tag = 'th scope="row"' if i == 0 else "td"
            cls = ' class="n"' if i in numeric else ""
            cells.append(f"<{tag}{cls}>{escape(text)}</{tag.split()[0]}>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    label = escape(caption)
    return (
        f'<div class="scroll" tabindex="0" role="region" aria-label="{label}"><table><caption>{label}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _pair(figure: str, caption: str, table: str) -> str:
    return f'<div class="pair"><figure>{figure}<figcaption>{escape(caption)}</figcaption></figure>{table}</div>'


def _headline(data: ReportData) -> str:
    h = data.headline
    items = [
        ("Events", count(h.events)),
        ("Fatalities", count(h.fatalities)),
        ("Countries", count(h.countries)),
        ("Articles", count(h.articles)),
        ("Coders", count(h.coders)),
    ]
    cells = "".join(f"<div><dt>{escape(k)}</dt><dd>{v}</dd></div>" for k, v in items)
    span = f"<p>Event dates from {h.first_date} to {h.last_date}.</p>" if h.first_date else "<p>No events.</p>"
    return f'<section id="headline" aria-label="Headline counts"><dl class="headline">{cells}</dl>{span}</section>'


def _over_time(data: ReportData, colours: dict[str, str]) -> str:
    periods = period_range(data.periods["period"])
    unit = data.period_unit
    frame = data.periods
    parts = [f'<section id="time"><h2>Events and fatalities per {unit}</h2>']
    if not periods:
        return parts[0] + "<p>No events.</p></section>"
    for measure, noun in (("events", "events"), ("fatalities", "fatalities")):
        wide = frame.pivot_table(index="period", columns="event_type", values=measure, aggfunc="sum", observed=True)
        wide = wide.reindex(index=periods, columns=data.event_types).fillna(0).astype("int64")
        series = [(t, colours[t], wide[t].tolist()) for t in data.event_types]
        total = wide.sum(axis=1)
        title = f"{noun.capitalize()} per {unit} by event type"
        chart = stacked_columns(
            f"chart-{measure}-per-{unit}",
            title,
            f"Stacked columns: {noun} per {unit} from {periods[0]} to {periods[-1]}, one colour per event type; "
            f"{count(int(total.sum()))} {noun} in all. The table beside the chart gives the numbers.",
            periods,
            series,
            y_label=noun.capitalize(),
            x_label=unit.capitalize(),
            unit=noun,
        )
        shown = wide[total > 0]
        rows = [[p, *(int(v) for v in shown.loc[p]), int(total[p])] for p in shown.index]
        table = _table(
            f"{noun.capitalize()} per {unit} ({unit}s without {noun} left out)",
            [unit.capitalize(), *data.event_types, "Total"],
            rows,
            numeric=range(1, len(data.event_types) + 2),
        )
        parts.append(f"<h3>{escape(title)}</h3>")
        parts.append(_pair(chart, f"{title}; hover a column for its numbers.", table))
    parts.append("</section>")
    return "".join(parts)


def _countries(n: int) -> str:
    return "the country" if n == 1 else f"the {n} countries"


def _where(data: ReportData) -> str:
    if data.by_country.empty:
        return '<section id="where"><h2>Events by country and admin1</h2><p>No events.</p></section>'
    top = data.by_country.head(TOP_COUNTRIES)
    chart = horizontal_bars(
        "chart-events-by-country",
        "Events by country",
        f"Horizontal bars: events per country ({_countries(len(top))} with the most events).",
        top["country"].astype(str).tolist(),
        top["events"].tolist(),
        x_label="Events",
    )
    countries = _table(
        "Events and fatalities by country",
        ["Country", "Events", "Fatalities"],
        [[str(r.country), int(r.events), int(r.fatalities)] for r in rows_of(data.by_country)],
        numeric=(1, 2),
    )
    admin = data.by_admin1.head(100)
    admin1 = _table(
        f"Events and fatalities by admin1 (the {len(admin)} with the most events)",
        ["Admin1", "Country", "Events", "Fatalities"],
        [[str(r.admin1), str(r.country), int(r.events), int(r.fatalities)] for r in rows_of(admin)],
        numeric=(2, 3),
    )
    return (
        '<section id="where"><h2>Events by country and admin1</h2>'
        + _pair(chart, f"Events per country ({_countries(len(top))} with the most events).", countries)
        + f"<h3>By admin1</h3>{admin1}</section>"
    )


def _map(data: ReportData, colours: dict[str, str], codebook: Codebook) -> str:
    countries = codebook.vocabulary("countries")
    names = dict(zip(countries["iso3"], countries["country"], strict=True)) if "iso3" in countries else {}
    svg, caption = event_map(
        "chart-map", data.points, data.event_types, colours, names, title="Map of events by event type and fatalities"
    )
    places = _table(
        f"Places by events (the {len(data.places)} with the most)" if len(data.places) > 1 else "Places by events",
        ["Place", "Admin1", "Country", "Events", "Fatalities"],
        [
            [str(r.location), str(r.admin1), str(r.country), int(r.events), int(r.fatalities)]
            for r in rows_of(data.places)
        ],
        numeric=(3, 4),
    )
    caption += " Borders: Natural Earth admin-0 countries 1:10m (public domain)."
    return f'<section id="map"><h2>Map</h2>{_pair(svg, caption, places)}</section>'


def _precision(data: ReportData) -> str:
    titles = {"time_precision": "Time precision", "geo_precision": "Geo precision"}
    rows = []
    tables = []
    for field, frame in data.precision.items():
        segments = [(str(r.code), str(r.label), int(r.events)) for r in rows_of(frame)]
        rows.append((titles[field], segments))
        total = int(frame["events"].sum()) or 1
        tables.append(
            _table(
                f"{titles[field]} ({field})",
                ["Code", "Meaning", "Events", "Share"],
                [[int(r.code), str(r.label), int(r.events), f"{100 * r.events / total:.1f}%"] for r in rows_of(frame)],
                numeric=(2, 3),
            )
        )
    chart = share_bars(
        "chart-precision",
        "Shares of events by time and geo precision",
        "Two bars, each 100% of events, split by precision code (1 is the most precise).",
        rows,
    )
    return (
        '<section id="precision"><h2>Time and geo precision</h2>'
        + _pair(chart, "Share of events per precision code; 1 is the most precise.", "".join(tables))
        + "</section>"
    )


def _changes(data: ReportData) -> str:
    c = data.changes
    parts = ['<section id="changes"><h2>What changed</h2>']
    if c.previous is None:
        parts.append(f"<p>First release: all {count(c.added)} events are new.</p></section>")
        return "".join(parts)
    parts.append(
        f"<p>Compared with {escape(c.previous)}: {count(c.added)} added, {count(c.modified_events)} modified "
        f"({count(c.modified_total)} values), {count(c.deleted_total)} deleted; {count(c.compared)} events are in "
        f"both versions. Every change is listed in changes/added.csv, changes/modified.csv and "
        "changes/deleted.csv.</p>"
    )
    parts.append("<h3>Modified values per column</h3>")
    if c.per_column:
        rows = [
            [name, f"{count(n)} / {count(c.compared)}", f"{100 * n / (c.compared or 1):.1f}%"]
            for name, n in c.per_column
        ]
        parts.append(
            _table(
                "Changed values n / N per column (N: events in both versions)",
                ["Column", "Changed values", "Share"],
                rows,
            )
        )
        parts.append("<p>Other columns: no changed values. A modified event also gets a new timestamp.</p>")
        listed = c.modified_values
        shown = f" (the first {len(listed)} of {count(c.modified_total)})" if len(listed) < c.modified_total else ""
        parts.append(
            _table(
                f"Modified values{shown}",
                ["Event", "Column", "Old value", "New value"],
                [[r.event_id_cnty, r.column, r.old_value or "", r.new_value or ""] for r in rows_of(listed)],
            )
        )
    else:
        parts.append("<p>No values changed.</p>")
    parts.append(f"<h3>Added events ({count(c.added)})</h3>")
    if c.added:
        by_type = ", ".join(f"{escape(t)}: {count(n)}" for t, n in c.added_by_type)
        parts.append(f"<p>By event type: {by_type}.</p>")
        listed_added = c.added_events
        shown = f" (the first {len(listed_added)})" if len(listed_added) < c.added else ""
        parts.append(
            _table(
                f"Added events{shown}",
                ["Event", "Date", "Event type", "Country", "Location", "Fatalities"],
                [
                    [r.event_id_cnty, str(r.event_date), r.event_type, r.country, r.location, int(r.fatalities)]
                    for r in rows_of(listed_added)
                ],
                numeric=(5,),
            )
        )
    parts.append(f"<h3>Deleted events ({count(c.deleted_total)})</h3>")
    if c.deleted_total:
        if len(c.deleted_reasons) > 1:
            parts.append(
                _table(
                    "Deletions by reason", ["Reason", "Events"], [[r, n] for r, n in c.deleted_reasons], numeric=(1,)
                )
            )
        shown = f" (the first {len(c.deleted)})" if len(c.deleted) < c.deleted_total else ""
        parts.append(
            _table(
                f"Deleted events and why{shown}",
                ["Event", "Reason"],
                [[r.event_id_cnty, r.reason or "no reason given"] for r in rows_of(c.deleted)],
            )
        )
    parts.append("</section>")
    return "".join(parts)


def _checks(data: ReportData, codebook: Codebook) -> str:
    failed = sum(1 for c in data.constraints if c.violations)
    status = (
        f'<span class="ok">all {len(data.constraints)} passed</span>'
        if not failed
        else f'<span class="bad">{failed} of {len(data.constraints)} failed</span>'
    )
    rows = [
        [
            c.column,
            c.constraint,
            count(data.events_checked),
            "passed" if not c.violations else f"{count(c.violations)} violations",
        ]
        for c in data.constraints
    ]
    named = [r.summary for r in RULES]
    derived = ", ".join(codebook.derived_fields)
    return (
        '<section id="checks"><h2>Codebook checks</h2>'
        f"<p>The column constraints of the codebook, checked again on the {count(data.events_checked)} released "
        f"events: {status}.</p>"
        + _table("Column constraints", ["Column", "Constraint", "Events", "Result"], rows, numeric=(2,))
        + "<p>Checks that passed when the release was built (a release is written only when every sheet passes):</p>"
        + "<ul>"
        + "".join(f"<li>{escape(text)}</li>" for text in named)
        + f"<li>Columns derived by the tool agree with their derivation: {escape(derived)}.</li>"
        + "<li>Every actor is in the actor list and every place in the place list.</li></ul></section>"
    )


def _agreement(data: ReportData) -> str:
    frame = data.agreement
    if frame is None:
        return ""
    columns = [str(c) for c in frame.columns]
    rows = [[str(v) if not isinstance(v, float) else f"{v:.3f}" for v in row] for row in frame.itertuples(index=False)]
    table = _table("Agreement between coders per field", columns, rows)
    if "field" in frame.columns and "alpha" in frame.columns:
        values = pd.to_numeric(frame["alpha"], errors="coerce").fillna(0.0).clip(lower=0.0)
        chart = horizontal_bars(
            "chart-agreement",
            "Krippendorff's alpha per field",
            "Horizontal bars: alpha per field; dashed lines at 0.667 (tentative) and 0.800 (reliable).",
            frame["field"].astype(str).tolist(),
            values.tolist(),
            x_label="Krippendorff's alpha",
            formatter="decimal",
            maximum=1.0,
            marks=(0.667, 0.8),
        )
        body = _pair(chart, "Alpha of at least 0.800 is reliable, 0.667 to 0.800 tentative.", table)
    else:
        body = table
    return f'<section id="agreement"><h2>Agreement between coders</h2>{body}</section>'


def render(data: ReportData, codebook: Codebook) -> str:
    """The whole report as one HTML document (no scripts, no external resources)."""
    info = data.info
    progress.stage(f"making the report of {info.version}", "drawing the charts and the map")
    ordered = vocabulary_order(codebook, "event_type")
    ordered += [t for t in data.event_types if t not in ordered]
    colours = {t: colour(ordered.index(t)) for t in data.event_types}  # stable across releases
    sections = [
        ("time", "Events and fatalities over time"),
        ("where", "By country and admin1"),
        ("map", "Map"),
        ("precision", "Time and geo precision"),
        ("changes", "What changed"),
        ("checks", "Codebook checks"),
    ]
    agreement = _agreement(data)
    if agreement:
        sections.append(("agreement", "Agreement between coders"))
    compared = f" Compared with {escape(info.previous)}." if info.previous else " First release."
    nav = "".join(f'<li><a href="#{key}">{escape(label)}</a></li>' for key, label in sections)
    body = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="eventdata {escape(__version__)}">',
        f"<title>{escape(info.title)} {escape(info.version)}: release report</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{escape(info.title)}</h1>",
        f"<p>Release report of version {escape(info.version)} of {escape(info.name)}, released "
        f"{info.released.isoformat()}.{compared}</p>",
        f'<nav aria-label="Contents"><ol>{nav}</ol></nav>',
        "</header>",
        "<main>",
        _headline(data),
        _over_time(data, colours),
        _where(data),
        _map(data, colours, codebook),
        _precision(data),
        _changes(data),
        _checks(data, codebook),
        agreement,
        "</main>",
        f"<footer><p>Generated by eventdata {escape(__version__)} from the files of this release "
        "(data/events.parquet, data/articles.csv, changes/). Fatalities are the lowest reported figures. "
        "The report needs no network and no script.</p></footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(part for part in body if part) + "\n"
