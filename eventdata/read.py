"""Reading a built package back as a typed pandas frame."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from eventdata.errors import SourceError
from eventdata.files import read_json
from eventdata.package import categories


def _descriptor_path(source: str | os.PathLike[str]) -> Path:
    path = Path(source)
    if path.is_dir():
        return path / "datapackage.json"
    if path.suffix == ".parquet":
        return path.parent.parent / "datapackage.json"  # data/events.parquet inside a package
    return path


def _read_descriptor(descriptor: Path) -> dict[str, Any]:
    package: dict[str, Any] = read_json(descriptor, SourceError)
    return package


def package_parquet(source: str | os.PathLike[str]) -> Path:
    """events.parquet of a package folder or of the package a datapackage.json describes."""
    path = Path(source)
    descriptor = path / "datapackage.json" if path.is_dir() else path
    if descriptor.suffix == ".parquet":
        return descriptor
    if not descriptor.is_file():
        raise SourceError(
            f"{descriptor} does not exist; give a package folder, its datapackage.json or events.parquet."
        )
    package = _read_descriptor(descriptor)
    for resource in package.get("resources", []):
        if resource.get("format") == "parquet":
            return descriptor.parent / str(resource["path"])
    raise SourceError(f"{descriptor} lists no Parquet resource.")


def events_schema(descriptor: dict[str, Any]) -> dict[str, Any]:
    """The Table Schema of the events resource of a datapackage.json (empty when it has none)."""
    for resource in descriptor.get("resources", []):
        if resource.get("name") == "events":
            schema: dict[str, Any] = resource.get("schema") or {}
            return schema
    return {}


def with_vocabularies(frame: pd.DataFrame, table_schema: dict[str, Any]) -> pd.DataFrame:
    """Categorical columns given the codebook's whole vocabulary as categories, in codebook order.

    Older packages (format 1) stored only the values present; this makes every version's frame alike.
    """
    for name, vocabulary in categories(table_schema).items():
        if name in frame.columns and isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype(pd.CategoricalDtype(vocabulary, ordered=False))
    return frame


def read_events(source: str | os.PathLike[str]) -> pd.DataFrame:
    """Events of a package: dates as datetime64, codes as integers, vocabularies as categoricals.

    The categories are the codebook's whole vocabulary in codebook order, in every version.
    """
    path = package_parquet(source)
    if not path.is_file():
        raise SourceError(f"{path} does not exist.")
    table = pq.read_table(path)
    frame: pd.DataFrame = table.to_pandas(date_as_object=False)
    descriptor = _descriptor_path(source)
    if descriptor.is_file():
        frame = with_vocabularies(frame, events_schema(_read_descriptor(descriptor)))
    return frame
