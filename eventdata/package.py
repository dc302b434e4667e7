"""Deterministic writers: events as Arrow, CSV and Parquet, and datapackage.json assembly."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from eventdata.errors import SourceError
from eventdata.files import sha256_file
from eventdata.reference import ATTRIBUTION
from eventdata.schema import Codebook, arrow_field, published_table_schema, to_arrow_schema

DATA_PACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
CSV_EOL = "\r\n"  # RFC 4180
PARQUET_MEDIATYPE = "application/vnd.apache.parquet"
ID_PATTERN = re.compile(r"^([A-Z]{3})(\d+)$")
#: Layout of the files a package holds, recorded in datapackage.json as "eventdata:package_format" so that
#: `eventdata verify` rebuilds a release the way it was written. 1 (no entry): Parquet dictionaries hold the
#: values present; 2: they hold the codebook's whole vocabulary, in codebook order.
PACKAGE_FORMAT = 2
FORMAT_KEY = "eventdata:package_format"

#: Table Schema of data/articles.csv, the article index shipped in every package.
ARTICLES_SCHEMA: dict[str, Any] = {
    "fields": [
        {
            "name": "article_id",
            "type": "string",
            "description": "Identifier cited by events.article_id.",
            "constraints": {"required": True, "unique": True},
        },
        {
            "name": "title",
            "type": "string",
            "description": "Headline ('unknown' when not known).",
            "constraints": {"required": True},
        },
        {
            "name": "publisher",
            "type": "string",
            "description": "Outlet ('unknown' when not known).",
            "constraints": {"required": True},
        },
        {"name": "url", "type": "string", "description": "Where the article was published, when known."},
        {"name": "published", "type": "date", "description": "Publication date.", "constraints": {"required": True}},
        {
            "name": "language",
            "type": "string",
            "description": "Language of the text (ISO 639-1).",
            "constraints": {"required": True},
        },
        {
            "name": "sha256",
            "type": "string",
            "description": "sha256 of the article text.",
            "constraints": {"required": True, "pattern": "[0-9a-f]{64}"},
        },
        {
            "name": "bytes",
            "type": "integer",
            "description": "Size of the article text in bytes.",
            "constraints": {"required": True, "minimum": 0},
        },
        {"name": "notes", "type": "string", "description": "How the metadata was established."},
    ],
    "missingValues": [""],
    "primaryKey": ["article_id"],
}


def release_datetime(release_date: date, source_date_epoch: str | None = None) -> datetime:
    """The one time a package states: SOURCE_DATE_EPOCH when set, else midnight UTC of the release date."""
    if source_date_epoch:
        try:
            return datetime.fromtimestamp(int(source_date_epoch), tz=UTC)
        except (ValueError, OverflowError, OSError) as err:
            raise SourceError(
                f"SOURCE_DATE_EPOCH={source_date_epoch!r} is not a time: give whole seconds since 1970-01-01 UTC, "
                "or unset it to use the release date in schemas/dataset.json."
            ) from err
    return datetime(release_date.year, release_date.month, release_date.day, tzinfo=UTC)


def sort_events(events: pd.DataFrame) -> pd.DataFrame:
    """Rows in id order: by country prefix, then by number (SYR2 before SYR10)."""
    parts = events["event_id_cnty"].astype("string").str.extract(ID_PATTERN.pattern)
    keys = pd.DataFrame({"prefix": parts[0], "number": pd.to_numeric(parts[1]), "id": events["event_id_cnty"]})
    order = keys.sort_values(["prefix", "number", "id"], kind="stable").index
    return events.loc[order].reset_index(drop=True)


def to_arrow_array(values: pd.Series, field: pa.Field) -> pa.Array:
    """One parsed column as the Arrow type the codebook gives it."""
    if pa.types.is_date32(field.type):
        array = pa.array(
            values.to_numpy(dtype="datetime64[s]", na_value=np.datetime64("NaT")),
            type=pa.timestamp("s"),
            from_pandas=True,
        )
        return pc.cast(array, pa.date32())
    if pa.types.is_dictionary(field.type):
        return pa.array(values, type=pa.string(), from_pandas=True).dictionary_encode()
    return pa.array(values, type=field.type, from_pandas=True)


def categories(table_schema: dict[str, Any]) -> dict[str, list[str]]:
    """The vocabulary of every dictionary-encoded column, in codebook order, from a (published) Table Schema."""
    found: dict[str, list[str]] = {}
    for field in table_schema.get("fields", []):
        if pa.types.is_dictionary(arrow_field(field).type) and "enum" in field.get("constraints", {}):
            found[str(field["name"])] = [str(v) for v in field["constraints"]["enum"]]
    return found


def events_table(events: pd.DataFrame, codebook: Codebook) -> pa.Table:
    """Events sorted by id, with the columns and types of the codebook and no pandas metadata."""
    schema = to_arrow_schema(codebook)
    arrays = [to_arrow_array(events[f.name], f) for f in schema]
    table = pa.Table.from_arrays(arrays, schema=schema)
    return normalise_table(table, schema, categories(published_table_schema(codebook)))


def encode_with(column: pa.Array, vocabulary: list[str], name: str) -> pa.DictionaryArray:
    """A string column dictionary-encoded against the whole vocabulary (unused values included)."""
    dictionary = pa.array(vocabulary, pa.string())
    indices = pc.index_in(column, value_set=dictionary).cast(pa.int32())
    if indices.null_count != column.null_count:
        unknown = pc.filter(column, pc.and_(pc.is_null(indices), pc.is_valid(column)))
        raise SourceError(f"Column {name} holds {unknown[0].as_py()!r}, which is not in its vocabulary.")
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def present_dictionaries(table: pa.Table) -> pa.Table:
    """Package format 1: every dictionary column re-encoded to hold only the values present, in order of use."""
    arrays = []
    for field in table.schema:
        column = table.column(field.name).combine_chunks()
        if pa.types.is_dictionary(field.type):
            column = pc.cast(column, field.type.value_type).dictionary_encode()
        arrays.append(column)
    return pa.Table.from_arrays(arrays, schema=table.schema)


def normalise_table(table: pa.Table, schema: pa.Schema, vocabularies: dict[str, list[str]] | None = None) -> pa.Table:
    """A table of the release schema in the one canonical layout: sorted by id, one chunk, fresh dictionaries.

    Built and updated tables go through this, so equal content gives equal Parquet bytes. With vocabularies
    (package format 2) a dictionary holds the column's whole vocabulary, else only the values present.
    """
    ids = table.column("event_id_cnty")
    prefix = pc.utf8_slice_codeunits(ids, 0, 3)
    number = pc.cast(pc.utf8_slice_codeunits(ids, 3), pa.int64())
    keys = pa.table({"p": prefix, "n": number, "id": ids})
    order = pc.sort_indices(keys, sort_keys=[("p", "ascending"), ("n", "ascending"), ("id", "ascending")])
    taken = table.take(order).combine_chunks()
    arrays = []
    for field in schema:
        column = taken.column(field.name).combine_chunks()
        if pa.types.is_dictionary(field.type):
            if pa.types.is_dictionary(column.type):
                column = pc.cast(column, column.type.value_type)
            if vocabularies is not None and field.name in vocabularies:
                column = encode_with(column, vocabularies[field.name], field.name)
            else:
                column = column.dictionary_encode()
        arrays.append(column)
    return pa.Table.from_arrays(arrays, schema=schema)


def write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", use_dictionary=True, write_statistics=True, store_schema=True)


#: A text cell a spreadsheet would run as a formula: it starts (after any apostrophes) with = + - @, tab or
#: carriage return (OWASP, "CSV Injection"). Plain numbers (-3, +2.5) are numbers, not formulas.
FORMULA_START = r"^'*[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"


def _formula_like(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    starts = pc.match_substring_regex(column, FORMULA_START)
    return pc.fill_null(pc.and_(starts, pc.invert(pc.match_substring_regex(column, PLAIN_NUMBER))), False)


def neutralise_formulas(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Text cells a spreadsheet would run as formulas, prefixed with an apostrophe (OWASP); others as given.

    Reversible (restore_formulas): a cell that already starts with apostrophes before such a character
    gets one more.
    """
    return pc.if_else(_formula_like(column), pc.binary_join_element_wise("'", column, ""), column)


def restore_formulas(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The exact text of cells written by neutralise_formulas: one leading apostrophe removed where added."""
    rest = pc.utf8_slice_codeunits(column, 1)
    added = pc.and_(pc.fill_null(pc.starts_with(column, "'"), False), _formula_like(rest))
    return pc.if_else(added, rest, column)


def write_csv(table: pa.Table, path: Path, *, neutralise: bool = True) -> None:
    """RFC 4180 CSV: header, CRLF, strings quoted, empty cell for missing values, ISO dates.

    The one CSV writer of a package. Text cells that a spreadsheet would run as a formula are written with
    a leading apostrophe (neutralise_formulas; packages of format 1 wrote them as they were, so verify
    rebuilds those with neutralise=False); Parquet keeps the exact values. A NUL byte is refused.
    """
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, column.type.value_type)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            nul = pc.fill_null(pc.match_substring(column, "\x00"), False)
            if pc.any(nul).as_py():
                row = pc.index(nul, True).as_py()
                raise SourceError(
                    f"Cannot write {path.name}: column {name} of row {row + 1} holds a NUL byte, which CSV tools "
                    "cut strings at; remove it from the input (schemas/ or seeds/) and build again."
                )
            if neutralise:
                column = neutralise_formulas(column)
        columns.append(column)
    plain = pa.Table.from_arrays(columns, names=table.column_names)
    pa_csv.write_csv(plain, path, pa_csv.WriteOptions(quoting_header="none", eol=CSV_EOL, include_header=True))


def articles_frame(articles: Iterable[Any]) -> pd.DataFrame:
    """The article index as published: metadata, sha256 and bytes of every text."""
    rows = [
        {
            "article_id": a.article_id,
            "title": a.title,
            "publisher": a.publisher,
            "url": a.url or None,
            "published": a.published,
            "language": a.language,
            "sha256": a.sha256,
            "bytes": a.bytes,
            "notes": a.notes or None,
        }
        for a in sorted(articles, key=lambda a: a.article_id)
    ]
    return pd.DataFrame(rows, columns=[f["name"] for f in ARTICLES_SCHEMA["fields"]])


def articles_table(frame: pd.DataFrame) -> pa.Table:
    fields = [arrow_field(f) for f in ARTICLES_SCHEMA["fields"]]
    arrays = []
    for field in fields:
        values = frame[field.name]
        if pa.types.is_date32(field.type):
            arrays.append(pa.array(list(values), type=pa.date32()))
        else:
            arrays.append(pa.array(list(values), type=field.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def file_resource(path: Path, root: Path, **descriptor: Any) -> dict[str, Any]:
    """A resource descriptor with path, bytes and sha256 of a written file."""
    resource: dict[str, Any] = {"name": descriptor.pop("name"), "path": path.relative_to(root).as_posix()}
    resource.update(descriptor)
    resource["bytes"] = path.stat().st_size
    resource["hash"] = f"sha256:{sha256_file(path)}"
    return resource


def datapackage_descriptor(
    codebook: Codebook,
    *,
    version: str,
    created: datetime,
    articles: Iterable[Any],
    resources: list[dict[str, Any]],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """datapackage.json (Data Package v2) from the dataset metadata in schemas/dataset.json."""
    dataset = codebook.dataset
    sources = []
    for article in sorted(articles, key=lambda a: a.article_id):
        source: dict[str, Any] = {
            "title": f"{article.article_id}: {article.title} ({article.publisher}, {article.published.isoformat()})"
        }
        if article.url:
            source["path"] = article.url
        sources.append(source)
    sources += [dict(source) for source in ATTRIBUTION]  # reference data that checked the places
    descriptor: dict[str, Any] = {"$schema": DATA_PACKAGE_PROFILE, "name": dataset["name"]}
    keys = ("title", "description", "homepage", "keywords", "licenses", "contributors", "methodology", "caveats", "hdx")
    for key in keys:
        if dataset.get(key):
            descriptor[key] = dataset[key]
    descriptor["version"] = version
    descriptor["created"] = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    descriptor["sources"] = sources
    descriptor["resources"] = resources
    if extra:
        descriptor.update(extra)
    return descriptor


def csv_resource(path: Path, root: Path, name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """A tabular resource descriptor for a CSV file the package writes (RFC 4180 dialect)."""
    options: dict[str, Any] = {
        "type": "table",
        "scheme": "file",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": {"delimiter": ",", "lineTerminator": CSV_EOL, "quoteChar": '"', "header": True},
    }
    if description:
        options["description"] = description
    return file_resource(path, root, name=name, **options, schema=schema)


def events_resources(package_dir: Path, codebook: Codebook) -> list[dict[str, Any]]:
    """Descriptors of the events files and the article index inside a written package."""
    schema = published_table_schema(codebook)
    acled_names = set(codebook.acled_field_names)
    acled_schema = dict(schema, fields=[f for f in schema["fields"] if f["name"] in acled_names])
    data = package_dir / "data"
    return [
        csv_resource(data / "events.csv", package_dir, "events", schema),
        file_resource(
            data / "events.parquet",
            package_dir,
            name="events-parquet",
            scheme="file",
            type="file",
            format="parquet",
            mediatype=PARQUET_MEDIATYPE,
            description="The events of data/events.csv as Parquet (zstd), with the same columns and values.",
        ),
        csv_resource(
            data / "events-acled.csv",
            package_dir,
            "events-acled",
            acled_schema,
            "The events with exactly ACLED's columns, in ACLED's order, for scripts written for ACLED.",
        ),
        csv_resource(data / "articles.csv", package_dir, "articles", ARTICLES_SCHEMA),
        file_resource(
            package_dir / "codebook.md",
            package_dir,
            name="codebook",
            scheme="file",
            format="md",
            mediatype="text/markdown",
            encoding="utf-8",
            description="The codebook: every column and vocabulary.",
        ),
    ]


CHANGES_SCHEMAS: dict[str, dict[str, Any]] = {
    "modified": {
        "fields": [
            {"name": "event_id_cnty", "type": "string", "constraints": {"required": True}},
            {
                "name": "column",
                "type": "string",
                "description": "The column that changed.",
                "constraints": {"required": True},
            },
            {
                "name": "old_value",
                "type": "string",
                "description": "The value in the previous release (as in its CSV).",
            },
            {"name": "new_value", "type": "string", "description": "The value in this release (as in its CSV)."},
        ],
        "missingValues": [""],
    },
    "deleted": {
        "fields": [
            {"name": "event_id_cnty", "type": "string", "constraints": {"required": True, "unique": True}},
            {"name": "deleted", "type": "date", "description": "Release date of the version that deleted the event."},
            {"name": "reason", "type": "string", "description": "Why the event was deleted (seeds/deletions.csv)."},
        ],
        "missingValues": [""],
    },
}


def changes_resources(package_dir: Path, codebook: Codebook) -> list[dict[str, Any]]:
    """Descriptors of changes/added.csv, modified.csv and deleted.csv."""
    changes = package_dir / "changes"
    return [
        csv_resource(
            changes / "added.csv",
            package_dir,
            "changes-added",
            published_table_schema(codebook),
            "Events added since the previous release (full rows).",
        ),
        csv_resource(
            changes / "modified.csv",
            package_dir,
            "changes-modified",
            CHANGES_SCHEMAS["modified"],
            "Values changed since the previous release, one row per event and column.",
        ),
        csv_resource(
            changes / "deleted.csv",
            package_dir,
            "changes-deleted",
            CHANGES_SCHEMAS["deleted"],
            "Events deleted since the previous release.",
        ),
    ]


def write_json(data: Any, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n")
