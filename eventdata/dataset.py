"""One dataset folder, opened once: its codebook, lists, articles, id registry and releases.

Every part is read the first time it is asked for and kept, so a command that validates, builds and
releases reads each file once. A Dataset describes the files as they were when first read: open a new one
after changing them.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from eventdata.project import Project, as_project

if TYPE_CHECKING:  # the loaders pull in pandas and pandera: imported where they are used
    import pandas as pd

    from eventdata.actors import ActorList
    from eventdata.catalog import Release
    from eventdata.errors import Problem
    from eventdata.gazetteer import Gazetteer
    from eventdata.schema import Codebook
    from eventdata.sources.articles import Article
    from eventdata.terms import TermsVocabulary
    from eventdata.validate import References


class Dataset:
    """A dataset folder (schemas/, seeds/, dist-data/) whose parts load lazily, once."""

    def __init__(self, project: Project) -> None:
        self.project = project

    @classmethod
    def open(cls, source: Dataset | Project | str | os.PathLike[str] | None = None) -> Dataset:
        """The dataset at a path (default: the current directory); a Dataset is returned as it is."""
        if isinstance(source, Dataset):
            return source
        return cls(as_project(source if source is not None else Path.cwd()))

    def __repr__(self) -> str:
        return f"Dataset({str(self.project.root)!r})"

    @property
    def root(self) -> Path:
        return self.project.root

    # --- the codebook --------------------------------------------------------------------------

    @cached_property
    def codebook(self) -> Codebook:
        """schemas/: the Table Schema, vocabularies, lists and dataset metadata (SchemaFileError if broken)."""
        from eventdata.schema import load_codebook

        return load_codebook(self.project.schemas_dir)

    @cached_property
    def severities(self) -> dict[str, str]:
        """Problem code → "error" or "warning" (schemas/rules.csv, else the default codebook's)."""
        from eventdata.rules import load_severities

        return load_severities(self.project.schemas_dir)

    @cached_property
    def terms(self) -> TermsVocabulary:
        """The terms of use a row may come under (schemas/vocabularies/terms.csv, else the shipped one)."""
        from eventdata.terms import terms_vocabulary

        return terms_vocabulary(self.codebook)

    @property
    def name(self) -> str:
        """The dataset's name, which names its folder in dist-data/."""
        return str(self.codebook.dataset["name"])

    @property
    def dist_dir(self) -> Path:
        """dist-data/<name>/: the releases, the draft and the catalog."""
        return self.project.dist_dir / self.name

    # --- lists ---------------------------------------------------------------------------------

    @cached_property
    def actors(self) -> ActorList | None:
        """The actor list (schemas/actors.csv), or None when the dataset has none."""
        from eventdata.actors import ACTORS_FILE, load_actors

        if not (self.project.schemas_dir / ACTORS_FILE).is_file():
            return None
        return load_actors(self.project.schemas_dir, self.codebook.vocabulary_values("countries.country"))

    @cached_property
    def _places(self) -> tuple[Gazetteer, list[Problem]]:
        from eventdata.gazetteer import load_places

        return load_places(self.project.schemas_dir, self.codebook)

    @property
    def gazetteer(self) -> Gazetteer | None:
        """The place list (schemas/places.csv), or None when the dataset has none."""
        from eventdata.gazetteer import PLACES_FILE

        if not (self.project.schemas_dir / PLACES_FILE).is_file():
            return None
        return self._places[0]

    @property
    def place_problems(self) -> list[Problem]:
        """What is wrong in the place list (its rows, or their points against the country borders)."""
        return list(self._places[1])

    # --- articles ------------------------------------------------------------------------------

    @cached_property
    def _articles(self) -> tuple[dict[str, Article], list[Problem]]:
        from eventdata.sources.articles import read_articles

        return read_articles(self.project.articles_index, self.project.articles_dir, self.terms)

    @property
    def articles(self) -> dict[str, Article]:
        """The usable articles of seeds/articles.csv, by id."""
        return self._articles[0]

    @property
    def article_problems(self) -> list[Problem]:
        """What is wrong in the article index or the article texts."""
        return list(self._articles[1])

    @cached_property
    def listed_articles(self) -> frozenset[str]:
        """Every id in the article index, usable or not."""
        from eventdata.sources.articles import listed_article_ids

        return frozenset(listed_article_ids(self.project.articles_index))

    # --- ids and deletions ---------------------------------------------------------------------

    @cached_property
    def registry(self) -> pd.DataFrame:
        """seeds/event_ids.csv: every id ever given, with the sheet and line it was given to."""
        from eventdata.ids import read_registry

        return read_registry(self.project.id_registry)

    @property
    def deletions_path(self) -> Path:
        from eventdata.ids import DELETIONS_FILE

        return self.project.seeds_dir / DELETIONS_FILE

    @cached_property
    def deletion_rows(self) -> pd.DataFrame:
        """seeds/deletions.csv as read, with the line of each row."""
        from eventdata.ids import read_deletion_rows

        return read_deletion_rows(self.deletions_path)

    @cached_property
    def deleted(self) -> dict[str, str]:
        """Id of each declared deletion → its reason."""
        rows = self.deletion_rows
        return dict(zip(rows["event_id_cnty"].str.strip(), rows["reason"].str.strip(), strict=True))

    @property
    def deletion_problems(self) -> list[Problem]:
        """Rows of seeds/deletions.csv that name no assigned event, repeat one, or give no reason."""
        from eventdata.deletions import deletion_file_problems

        rows = self.deletion_rows
        named = set(rows["event_id_cnty"].str.strip().dropna())
        registered = self.registry["event_id_cnty"].str.strip()
        ids = set(registered[registered.isin(named)]) if named else set()  # only membership of these is asked
        return deletion_file_problems(rows, ids, self.deletions_path)

    # --- releases ------------------------------------------------------------------------------

    @property
    def releases(self) -> list[Release]:
        """The dataset's release folders, oldest first (read again each time: releases are made meanwhile)."""
        from eventdata.catalog import list_releases

        return list_releases(self.dist_dir, self.name)

    @property
    def latest_release(self) -> Release | None:
        releases = self.releases
        return releases[-1] if releases else None

    # --- what rows are checked against ---------------------------------------------------------

    def reference_problems(self) -> list[Problem]:
        """Problems of the files rows are checked against: article index, place list, deletions."""
        return [*self.article_problems, *self.place_problems, *self.deletion_problems]

    def references(self) -> References:
        """Articles, actors, places and assigned ids, as validation checks rows against them."""
        from eventdata.validate import References

        return References(
            articles=self.articles,
            actors=self.actors,
            gazetteer=self.gazetteer,
            registry=self.registry,
            deleted=self.deleted,
            listed_articles=self.listed_articles,
        )
