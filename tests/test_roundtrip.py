"""Property test: whatever text coders type survives sheet → build → CSV and Parquet unchanged.

The CSV holds a text cell that a spreadsheet would run as a formula with a leading apostrophe (README, "Formula
cells"); `restore_formulas` gives the typed text back exactly.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventdata.build import build_package
from eventdata.package import restore_formulas
from eventdata.project import Project
from tests.conftest import REPO, SEED_SHEET, read_rows, write_rows

# Notes as coders write them: any printable text, quotes, commas, line breaks, non-Latin scripts.
NOTES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")
    | st.sampled_from("\n\",;=+-@'"),
    min_size=1,
    max_size=80,
).filter(lambda text: text.strip() != "")


@settings(max_examples=12, deadline=None)
@pytest.mark.slow
@given(
    notes=st.lists(NOTES, min_size=1, max_size=3), fatalities=st.lists(st.integers(0, 10_000), min_size=1, max_size=3)
)
def test_roundtrip_csv_and_parquet_hold_the_typed_values(notes: list[str], fatalities: list[int]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "dataset"
        shutil.copytree(REPO / "schemas", root / "schemas")
        shutil.copytree(REPO / "seeds", root / "seeds")
        (root / "dist-data").mkdir()
        rows = read_rows(SEED_SHEET)
        for index, text in enumerate(notes):
            rows[index]["notes"] = text
        for index, deaths in enumerate(fatalities):
            rows[index]["fatalities"] = str(deaths)
        write_rows(Project(root).sheets_dir / SEED_SHEET.name, rows)
        result = build_package(Project(root))
        assert result.status == "built", [p.format() for p in result.report.problems]
        parquet = pq.read_table(result.package_dir / "data" / "events.parquet")
        text_types = {f.name: pa.string() for f in parquet.schema}
        csv = pa_csv.read_csv(
            result.package_dir / "data" / "events.csv",
            convert_options=pa_csv.ConvertOptions(column_types=text_types, strings_can_be_null=True),
        )
        csv = pa.table({name: restore_formulas(csv.column(name)) for name in csv.column_names})
        by_id = {row["event_id_cnty"]: row for row in parquet.to_pylist()}
        typed_by_id = {row["event_id_cnty"]: row for row in csv.to_pylist()}
        for index, text in enumerate(notes):
            event_id = rows[index]["event_id_cnty"]
            assert by_id[event_id]["notes"] == text.strip()
            assert typed_by_id[event_id]["notes"] == text.strip()
        for index, deaths in enumerate(fatalities):
            event_id = rows[index]["event_id_cnty"]
            assert by_id[event_id]["fatalities"] == deaths
            assert typed_by_id[event_id]["fatalities"] == str(deaths)
