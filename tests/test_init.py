"""The package's lazy namespace: light imports for data users and publishers, the same public names."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import eventdata

HEAVY = ("pandera", "frictionless")


def imported_after(statement: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    """The heavy modules a fresh interpreter has in sys.modules after running statement."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    heavy: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return heavy


@pytest.mark.parametrize(
    "statement",
    [
        "import eventdata",
        "from eventdata import load",
        "import eventdata.publish",
        "import eventdata.publish.directory, eventdata.publish.zenodo, eventdata.publish.ckan",
        "import eventdata.load, eventdata.read",
    ],
)
def test_loading_and_publishing_do_not_import_the_validation_stack(statement: str) -> None:
    assert imported_after(statement) == []


def test_validating_and_building_do_not_import_scipy() -> None:
    # scipy's sparse matrices serve duplicate scoring only (eventdata duplicates), imported where pairs are scored
    assert imported_after("import eventdata.cli, eventdata.build, eventdata.validate", ("scipy",)) == []
    assert imported_after("import eventdata.duplicates", ("scipy",)) == []
    scoring = "from eventdata.duplicates import note_words; import pandas; note_words(pandas.DataFrame())"
    assert imported_after(scoring, ("scipy",)) == ["scipy"]


def test_validation_still_brings_pandera() -> None:
    # the check above would pass vacuously if pandera were never imported at all
    assert "pandera" in imported_after("import eventdata.validate, eventdata.schema as s; s.to_pandera")
    assert "pandera" in imported_after("from eventdata import validate_project")


def test_public_names_resolve_to_their_definitions() -> None:
    from eventdata.build import build_package
    from eventdata.validate import validate_project

    assert eventdata.build_package is build_package
    assert eventdata.validate_project is validate_project
    assert set(eventdata.__all__) <= set(dir(eventdata))
    for name in eventdata.__all__:
        assert getattr(eventdata, name) is not None


def test_load_is_the_function_even_after_its_module_is_imported() -> None:
    code = "import eventdata.load, eventdata; print(callable(eventdata.load), eventdata.load.__module__)"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert completed.stdout.split() == ["True", "eventdata.load"]


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = eventdata.nope  # type: ignore[attr-defined]


def test_all_lists_exactly_the_lazy_names() -> None:
    assert set(eventdata.__all__) == {"__version__", *eventdata._EXPORTS}
