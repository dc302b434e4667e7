"""eventdata.dataset: one dataset folder, every part read once."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import eventdata.schema
from eventdata import Dataset, Project, build_package, validate_project
from eventdata.release import release_version

TODAY = date(2026, 12, 1)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Counter[Path]:
    """How many times each schemas/ folder is read as a codebook."""
    counts: Counter[Path] = Counter()
    real = eventdata.schema.load_codebook

    def counting(schemas_dir: Path | str) -> Any:
        counts[Path(schemas_dir).resolve()] += 1
        return real(schemas_dir)

    monkeypatch.setattr(eventdata.schema, "load_codebook", counting)
    return counts


def test_open_accepts_a_path_a_project_or_a_dataset(project: Project) -> None:
    dataset = Dataset.open(project.root)
    assert dataset.project.root == project.root
    assert Dataset.open(project).root == project.root
    assert Dataset.open(dataset) is dataset
    assert str(project.root) in repr(dataset)


def test_parts_are_read_lazily_and_once(project: Project, loads: Counter[Path]) -> None:
    dataset = Dataset.open(project)
    assert not loads  # opening reads nothing
    assert dataset.name == "eventdata-seeds"
    assert dataset.codebook is dataset.codebook
    assert dataset.actors is dataset.actors
    assert dataset.actors is not None
    assert dataset.gazetteer is dataset.gazetteer
    assert dataset.gazetteer is not None
    assert "000_d3eca66359643406" in dataset.articles
    assert dataset.registry is dataset.registry
    assert len(dataset.registry) > 0
    assert dataset.dist_dir == project.root / "dist-data" / "eventdata-seeds"
    assert dataset.releases == []
    assert dataset.latest_release is None
    assert loads[(project.schemas_dir).resolve()] == 1


def test_validate_and_build_read_the_codebook_once(project: Project, loads: Counter[Path]) -> None:
    dataset = Dataset.open(project)
    validation = validate_project(dataset, today=TODAY)
    assert validation.report.valid, [p.format() for p in validation.report.problems]
    result = build_package(dataset, today=TODAY)
    assert result.status in ("built", "written")
    assert (result.package_dir / "data" / "events.parquet").is_file()
    assert loads[project.schemas_dir.resolve()] == 1


def test_a_dataset_sees_the_releases_made_after_it_was_opened(project: Project) -> None:
    dataset = Dataset.open(project)
    assert dataset.latest_release is None
    result = release_version(dataset, release_date=date(2026, 11, 25), today=TODAY)
    assert result.status == "released"
    latest = dataset.latest_release
    assert latest is not None
    assert latest.version == result.version
    assert [r.version for r in dataset.releases] == [result.version]


def test_a_missing_list_is_none(project: Project) -> None:
    (project.schemas_dir / "actors.csv").unlink()
    (project.schemas_dir / "places.csv").unlink()
    dataset = Dataset.open(project)
    assert dataset.actors is None
    assert dataset.gazetteer is None
    references = dataset.references()
    assert references.actors is None
    assert references.gazetteer is None
    assert references.articles == dataset.articles
