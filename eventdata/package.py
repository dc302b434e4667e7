"""Deterministic writers: events as Arrow, CSV and Parquet, and datapackage.json assembly."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from eventdata import progress
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


def events_table(events: pd.DataFrame, codebook: Codebook, *, consume: bool = False) -> pa.Table:
    """Events sorted by id, with the columns and types of the codebook and no pandas metadata.

    The table normalise_table makes of them, built a column at a time: each column is converted, encoded and put
    in id order before the next, so the unsorted table is never held whole. With consume, each column is
    removed from `events` once converted (and the frame is left without columns), so the frame and the table
    are never held whole side by side.
    """
    schema = to_arrow_schema(codebook)
    vocabularies = categories(published_table_schema(codebook))
    order = id_order(to_arrow_array(events["event_id_cnty"], schema.field("event_id_cnty")))
    jobs = []
    # Arrow puts a column in order without the interpreter lock: one column is sorted while the next is converted.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="eventdata-sort") as pool:
        for f in schema:
            jobs.append(pool.submit(_normalise_column, to_arrow_array(events[f.name], f), f, vocabularies, order))
            if consume:
                del events[f.name]
            if len(jobs) > 2:
                jobs[-3].result()  # at most a few unsorted columns held at once
        arrays = [job.result() for job in jobs]
    for name in list(events.columns) if consume else []:  # _sheet, _line: not published
        del events[name]
    return pa.Table.from_arrays(arrays, schema=schema)


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
    order = id_order(table.column("event_id_cnty"))
    arrays = [_normalise_column(table.column(f.name), f, vocabularies, order) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def id_order(ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The row order that sorts events by id: country prefix, then number (SYR2 before SYR10), then the id."""
    prefix = pc.utf8_slice_codeunits(ids, 0, 3)
    number = pc.cast(pc.utf8_slice_codeunits(ids, 3), pa.int64())
    keys = pa.table({"p": prefix, "n": number, "id": ids})
    order: pa.Array = pc.sort_indices(keys, sort_keys=[("p", "ascending"), ("n", "ascending"), ("id", "ascending")])
    return order


def _normalise_column(
    column: pa.Array | pa.ChunkedArray, field: pa.Field, vocabularies: dict[str, list[str]] | None, order: pa.Array
) -> pa.Array:
    """One column of normalise_table: in id order, as one chunk, with its fresh dictionary."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(field.type) and vocabularies is not None and field.name in vocabularies:
        encoded = _encode_known(column, vocabularies[field.name])
        if encoded is not None:  # encoded before sorting: only the indices are put in order
            taken: pa.Array = encoded.take(order)
            return taken
    column = column.take(order)
    if pa.types.is_dictionary(field.type):
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, column.type.value_type)
        if vocabularies is not None and field.name in vocabularies:
            column = encode_with(column, vocabularies[field.name], field.name)
        else:
            column = column.dictionary_encode()
    return column


def _encode_known(column: pa.Array, vocabulary: list[str]) -> pa.DictionaryArray | None:
    """encode_with of a column whose values are all in the vocabulary; None when one is not (to name it in order)."""
    dictionary = pa.array(vocabulary, pa.string())
    if pa.types.is_dictionary(column.type):  # look up the distinct values only
        mapping = pc.index_in(column.dictionary.cast(pa.string()), value_set=dictionary).cast(pa.int32())
        indices = mapping.take(column.indices)
    else:
        indices = pc.index_in(column, value_set=dictionary).cast(pa.int32())
    if indices.null_count != column.null_count:
        return None
    return pa.DictionaryArray.from_arrays(indices, dictionary)


class _Writes:
    """The files written inside one `parallel_writes` block: jobs on a thread pool, digests of what they wrote."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool
        self.jobs: list[tuple[Path, Future[None]]] = []
        self.csv_of: list[tuple[pa.Table, bool, Path, Future[None]]] = []  # tables written as CSV, to reuse


_writes: ContextVar[_Writes | None] = ContextVar("eventdata_parallel_writes", default=None)
#: sha256 of files this process wrote, by (path, size, mtime, inode): file_resource then need not read them again.
_digests: dict[tuple[str, int, int, int], str] = {}


def _stat_key(path: Path) -> tuple[str, int, int, int]:
    stat = path.stat()
    return (os.fspath(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)


def _written(path: Path) -> None:
    """Record the digest of a file just written (in the writing thread, so hashing uses both cores)."""
    key = _stat_key(path)
    if key not in _digests:
        _digests[key] = sha256_file(path)


def digest(path: Path) -> str:
    """sha256 of a file; remembered from writing it when this process wrote it and it is unchanged since."""
    known = _digests.get(_stat_key(path))
    return known if known is not None else sha256_file(path)


@contextmanager
def parallel_writes(workers: int | None = None) -> Iterator[None]:
    """Run the write_csv and write_parquet calls inside this block on a thread pool (default: a thread per core).

    Arrow encodes CSV and Parquet without holding the interpreter lock, so the files of a package are written
    side by side. Leaving the block waits for every file; the first error (in call order) is raised then, or
    the block's own error after the files in flight are done. The bytes written are those of the same calls
    made one after the other.
    """
    pool = ThreadPoolExecutor(max_workers=workers or min(4, os.cpu_count() or 1), thread_name_prefix="eventdata-write")
    writes = _Writes(pool)
    token = _writes.set(writes)
    try:
        yield
    except BaseException:
        pool.shutdown(wait=True)  # nothing may still write into a folder the caller is about to remove
        raise
    finally:
        _writes.reset(token)
        pool.shutdown(wait=True)
    for _, job in writes.jobs:
        job.result()


def _run(path: Path, write: Callable[[], None]) -> None:
    """Write a file now, or on the pool of the enclosing parallel_writes block."""

    def job() -> None:
        write()
        _written(path)

    writes = _writes.get()
    if writes is None:
        write()
    else:
        writes.jobs.append((path, writes.pool.submit(job)))
    progress.advance("files written", detail=path.name)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Events as zstd Parquet with dictionaries, statistics and the Arrow schema."""
    _run(path, lambda: _write_parquet(table, path))


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", use_dictionary=True, write_statistics=True, store_schema=True)


#: A text cell a spreadsheet would run as a formula: it starts (after any apostrophes) with = + - @, tab or
#: carriage return (OWASP, "CSV Injection"). Plain numbers (-3, +2.5) are numbers, not formulas.
FORMULA_START = r"^'*[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"


#: The bytes a cell matching FORMULA_START can begin with.
FORMULA_FIRST_BYTES = np.frombuffer(b"'=+-@\t\r", dtype=np.uint8)


def _formula_like(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    starts = pc.match_substring_regex(column, FORMULA_START)
    return pc.fill_null(pc.and_(starts, pc.invert(pc.match_substring_regex(column, PLAIN_NUMBER))), False)


def _string_parts(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The offsets (len + 1) and the data bytes of a string or large_string array, without copying."""
    _, offsets_buffer, data_buffer = chunk.buffers()
    kind = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=kind)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    return offsets, data


def _may_start_formula(chunk: pa.Array) -> np.ndarray:
    """Rows whose first byte can begin a formula (a superset of _formula_like, found without a regex per cell)."""
    offsets, data = _string_parts(chunk)
    starts = offsets[:-1]
    filled = offsets[1:] > starts
    first = np.zeros(len(chunk), dtype=np.uint8)
    first[filled] = data[starts[filled]]
    return np.isin(first, FORMULA_FIRST_BYTES)


def _holds_nul(chunk: pa.Array) -> bool:
    """Whether any byte of the cells is NUL (null cells included, which the exact check then rules out)."""
    offsets, data = _string_parts(chunk)
    cells = data[offsets[0] : offsets[-1]]
    return len(cells) > 0 and int(cells.min()) == 0  # a reduction: no array of the data's size is made


def _neutralise_chunk(chunk: pa.Array) -> pa.Array:
    candidates = _may_start_formula(chunk)
    if not candidates.any():
        return chunk  # no cell can be formula-like: the column as it is
    rows = np.flatnonzero(candidates)
    flagged = np.zeros(len(chunk), dtype=bool)
    flagged[rows] = np.asarray(_formula_like(chunk.take(pa.array(rows))).to_numpy(zero_copy_only=False), dtype=bool)
    if not flagged.any():
        return chunk
    result: pa.Array = pc.if_else(pa.array(flagged), pc.binary_join_element_wise("'", chunk, ""), chunk)
    return result


def neutralise_formulas(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Text cells a spreadsheet would run as formulas, prefixed with an apostrophe (OWASP); others as given.

    Reversible (restore_formulas): a cell that already starts with apostrophes before such a character
    gets one more. Only cells whose first byte can begin a formula are matched against FORMULA_START.
    """
    if isinstance(column, pa.ChunkedArray):
        return pa.chunked_array([_neutralise_chunk(c) for c in column.chunks], type=column.type)
    return _neutralise_chunk(column)


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
    writes = _writes.get()
    if writes is not None:  # the same table written before in this block (a first release's added.csv)
        for earlier, earlier_neutralise, source, job in writes.csv_of:
            if earlier_neutralise == neutralise and _same_table(earlier, table):
                _run(path, lambda job=job, source=source: _copy_when_done(job, source, path))  # type: ignore[misc]
                return
    refuse_nul(table, path)  # before anything is written
    _run(path, lambda: _write_csv(table, path, neutralise=neutralise))
    if writes is not None:
        writes.csv_of.append((table, neutralise, path, writes.jobs[-1][1]))


#: Rows converted to CSV text at a time: a CSV is written in batches, never converted whole.
CSV_BATCH_ROWS = 65_536


def refuse_nul(table: pa.Table, path: Path) -> None:
    """A SourceError naming the first cell of a text column that holds a NUL byte (CSV tools cut strings there)."""
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_dictionary(column.type):
            if not any(_is_text(c.dictionary) and _holds_nul(c.dictionary) for c in column.chunks):
                continue
            column = pc.cast(column, column.type.value_type)
        if not _is_text(column) or not any(_holds_nul(chunk) for chunk in column.chunks):
            continue
        nul = pc.fill_null(pc.match_substring(column, "\x00"), False)
        if pc.any(nul).as_py():
            row = pc.index(nul, True).as_py()
            raise SourceError(
                f"Cannot write {path.name}: column {name} of row {row + 1} holds a NUL byte, which CSV "
                "tools cut strings at; remove it from the input (schemas/ or seeds/) and build again."
            )


def _is_text(values: pa.Array | pa.ChunkedArray) -> bool:
    return bool(pa.types.is_string(values.type) or pa.types.is_large_string(values.type))


def _csv_table(table: pa.Table, *, neutralise: bool) -> pa.Table:
    """The table as its CSV holds it: plain strings, formula-like cells neutralised."""
    columns = []
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, column.type.value_type)
        if neutralise and _is_text(column):
            column = neutralise_formulas(column)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _write_csv(table: pa.Table, path: Path, *, neutralise: bool) -> None:
    """The CSV of table, converted and written CSV_BATCH_ROWS rows at a time."""
    schema = pa.schema(
        [pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type) for f in table.schema]
    )
    options = pa_csv.WriteOptions(quoting_header="none", eol=CSV_EOL, include_header=True)
    with pa_csv.CSVWriter(path, schema, write_options=options) as writer:
        for batch in table.to_batches(max_chunksize=CSV_BATCH_ROWS):
            writer.write_table(_csv_table(pa.Table.from_batches([batch]), neutralise=neutralise))


def _same_table(one: pa.Table, other: pa.Table) -> bool:
    """Equal column names, types and values (schema metadata aside): the CSV of one is the CSV of the other."""
    if one is other:
        return True
    if one.num_rows != other.num_rows or one.column_names != other.column_names:
        return False
    return all(a.type == b.type and a.equals(b) for a, b in zip(one.columns, other.columns, strict=True))


def _copy_when_done(job: Future[None], source: Path, target: Path) -> None:
    job.result()
    try:
        os.link(source, target)  # the same bytes under a second name: nothing copied, nothing hashed again
    except OSError:  # a file system without hard links
        shutil.copyfile(source, target)
        return
    known = _digests.get(_stat_key(source))
    if known is not None:
        _digests[_stat_key(target)] = known


def copy_file(source: Path, target: Path) -> None:
    """Copy a file (on the pool of the enclosing parallel_writes block), its digest remembered."""

    def copy() -> None:
        shutil.copyfile(source, target)

    _run(target, copy)


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
    resource["hash"] = f"sha256:{digest(path)}"
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
    progress.advance("files written", detail=path.name)
