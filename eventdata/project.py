"""A dataset folder: schemas/, seeds/ and dist-data/, and `eventdata init`."""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from eventdata.errors import SchemaFileError, SourceError

#: Files of the codebook that every dataset starts from (the rest is the dataset's own).
DEFAULT_CODEBOOK_PACKAGE_DIR = "default_codebook"
#: The longest dataset name. It names the folder dist-data/<name>/, the release archives <name>-<version>.zip and
#: the dataset on CKAN and HDX, whose names have at most 100 characters.
NAME_MAX_LENGTH = 100
#: Why a dataset name has at most NAME_MAX_LENGTH characters.
NAME_LENGTH_REASON = (
    "it names the folder dist-data/<name>/, the release archives <name>-<version>.zip and the dataset on CKAN and HDX"
)


@dataclass(frozen=True)
class Project:
    """Paths of one dataset folder."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))  # Project("folder") works too

    @property
    def schemas_dir(self) -> Path:
        return self.root / "schemas"

    @property
    def seeds_dir(self) -> Path:
        return self.root / "seeds"

    def input_folder_of(self, path: Path) -> Path | None:
        """schemas/ or seeds/ when path is inside it (symbolic links resolved): outputs never go there."""
        resolved = path.expanduser().resolve()
        return next((f for f in (self.schemas_dir, self.seeds_dir) if resolved.is_relative_to(f.resolve())), None)

    @property
    def articles_index(self) -> Path:
        return self.seeds_dir / "articles.csv"

    @property
    def id_registry(self) -> Path:
        return self.seeds_dir / "event_ids.csv"

    @property
    def articles_dir(self) -> Path:
        return self.seeds_dir / "articles"

    @property
    def sheets_dir(self) -> Path:
        return self.seeds_dir / "sheets"

    @property
    def dist_dir(self) -> Path:
        return self.root / "dist-data"

    def sheet_paths(self) -> list[Path]:
        """Every coding sheet of the dataset, in a stable order."""
        if not self.sheets_dir.is_dir():
            return []
        return sorted(self.sheets_dir.glob("*.csv"))

    def unread_sheet_files(self) -> list[Path]:
        """What seeds/sheets/ holds that is not read as a sheet (x.CSV, x.xlsx, subfolders); hidden files aside."""
        if not self.sheets_dir.is_dir():
            return []
        read = set(self.sheet_paths())
        return sorted(p for p in self.sheets_dir.iterdir() if not p.name.startswith(".") and p not in read)


def as_project(project: Project | str | os.PathLike[str]) -> Project:
    """A Project, or the dataset folder at a path (checked like load_project)."""
    return project if isinstance(project, Project) else load_project(project)


def load_project(root: str | os.PathLike[str] | None = None) -> Project:
    """The dataset folder at root (default: the current directory), checked for its layout."""
    path = Path(root) if root is not None else Path.cwd()
    if not path.is_dir():
        raise SourceError(f"Dataset folder {path} does not exist. Create one with `eventdata init {path}`.")
    schema_file = path / "schemas" / "events.schema.json"
    if not schema_file.is_file():
        raise SourceError(
            f"{path.resolve()} is not an eventdata dataset: {schema_file} is missing. "
            "Run the command inside a dataset folder, pass --project DIR, or create one with `eventdata init DIR`."
        )
    return Project(path)


def default_codebook_dir() -> Path:
    """The codebook shipped with the package (schemas/ of the flagship dataset)."""
    shipped = Path(str(resources.files("eventdata"))) / DEFAULT_CODEBOOK_PACKAGE_DIR
    if shipped.is_dir():
        return shipped
    # An editable install runs from the repository, whose schemas/ is what the wheel ships.
    repo_schemas = Path(__file__).resolve().parent.parent / "schemas"
    if repo_schemas.is_dir():
        return repo_schemas
    raise SourceError("The default codebook is missing from this installation of eventdata; reinstall the package.")


def init_project(root: str | os.PathLike[str], *, name: str | None = None, title: str | None = None) -> Project:
    """Create a dataset folder with the default codebook, an empty article index and an empty sheet."""
    path = Path(root)
    if path.exists() and any(path.iterdir()):
        raise SourceError(f"{path} exists and is not empty; `eventdata init` only creates new dataset folders.")
    dataset_name = name or re.sub(r"[^a-z0-9._-]+", "-", path.resolve().name.lower()).strip("-._") or "events"
    source = default_codebook_dir()
    check_dataset_name(dataset_name, source / "dataset.schema.json")
    existed = path.exists()
    path.mkdir(parents=True, exist_ok=True)
    try:
        _write_new_project(path, source, dataset_name, title)
    except BaseException:  # a full disk or a killed command: no half dataset folder that init then refuses
        if existed:
            for child in path.iterdir():  # the folder was empty: everything in it is ours
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)
        raise
    return Project(path)


def check_dataset_name(name: str, schema_path: Path) -> None:
    """Refuse a name that the pattern of "name" in dataset.schema.json, or NAME_MAX_LENGTH, does not allow."""
    try:
        rule = json.loads(schema_path.read_text(encoding="utf-8"))["properties"]["name"]
        pattern = str(rule["pattern"])
        # JSON Schema's $ ends the text; Python's also matches before a final line break, which no name holds
        matches = re.search(pattern, name) is not None and name == name.strip()
    except (OSError, ValueError, KeyError, TypeError, re.error) as err:
        raise SchemaFileError(f"{schema_path}: the pattern of the dataset name cannot be read ({err}).") from err
    shown = name if len(name) <= 40 else f"{name[:40]}…"
    if not matches:
        described = f": {rule['description']}" if rule.get("description") else ""
        raise SourceError(
            f"Dataset name {shown!r} must match {pattern}{described}. Nothing was written: give another with --name."
        )
    if len(name) > NAME_MAX_LENGTH:
        raise SourceError(
            f"Dataset name {shown!r} has {len(name)} characters; at most {NAME_MAX_LENGTH} are allowed, since "
            f"{NAME_LENGTH_REASON}. Nothing was written: give a shorter one with --name."
        )


def _write_new_project(path: Path, source: Path, dataset_name: str, title: str | None) -> None:
    """The files of a new dataset folder, into the empty folder path."""
    shutil.copytree(source, path / "schemas", ignore=shutil.ignore_patterns("dataset.json", "__pycache__"))
    dataset = {
        "name": dataset_name,
        "title": title or dataset_name,
        "description": "",
        "licenses": [],
        "contributors": [],
        "keywords": [],
    }
    (path / "schemas" / "dataset.json").write_text(json.dumps(dataset, indent=2) + "\n", encoding="utf-8")
    seeds = path / "seeds"
    (seeds / "articles").mkdir(parents=True)
    (seeds / "sheets").mkdir()
    (seeds / "articles.csv").write_text(
        "article_id,title,publisher,url,published,language,sha256,notes,terms\n", encoding="utf-8"
    )
    (path / "dist-data").mkdir()
