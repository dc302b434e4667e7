"""Reading a built package back as a typed pandas frame."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from eventdata.errors import SourceError


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
    try:
        package = json.loads(descriptor.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SourceError(f"{descriptor} is not a readable datapackage.json: {err}") from err
    for resource in package.get("resources", []):
        if resource.get("format") == "parquet":
            return descriptor.parent / str(resource["path"])
    raise SourceError(f"{descriptor} lists no Parquet resource.")


def read_events(source: str | os.PathLike[str]) -> pd.DataFrame:
    """Events of a package: dates as datetime64, codes as integers, vocabularies as categoricals."""
    path = package_parquet(source)
    if not path.is_file():
        raise SourceError(f"{path} does not exist.")
    table = pq.read_table(path)
    frame: pd.DataFrame = table.to_pandas(date_as_object=False)
    return frame
