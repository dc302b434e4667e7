"""`eventdata import acled`: an ACLED export becomes a coding sheet, with its ids, actors, places and source.

An ACLED export is its own authority for the event ids, actors (with their types) and
places it uses, so the import keeps ACLED's `event_id_cnty`, registers those ids, adds
unknown actors to schemas/actors.csv and unknown places to schemas/places.csv, and
registers the export itself as the source article of every row. Its rows are taken as
ACLED coded them, with only the documented normalisations (below, and the table
schemas/acled_normalisations.csv); a row with an error (schemas/rules.csv) is left out and
its problems reported, and ``strict`` refuses the whole export instead. Every file is
written at once or none is. Every problem is located at the export's file, line (counted
from the top of the file), column (as spelled in its header) and value.

Files: the header is the first record naming ``event_id_cnty`` (after a preamble such as
``(Sample)``); an optional column empty on every row is taken as absent; ``actor2``,
``assoc_actor_2`` and ``inter2`` may be absent; rows repeating an event id that differ only
in the actor columns (one row per actor) are merged into one event, other repeats are
refused (``duplicate-event``).

Column layouts (ACLED changed them over the years; headers match case-insensitively):

====================================  ===============================================
export column                         rule
====================================  ===============================================
the 31 current columns                kept (CODEBOOK.md); year, disorder_type,
                                      interaction, iso and region are checked
                                      against what the tool derives, not stored
``ally_actor_1``, ``ally_actor_2``    renamed ``assoc_actor_1``, ``assoc_actor_2``
``geo_precis``                        renamed ``geo_precision``
``data_id``, ``event_id_no_cnty``,    dropped: ACLED's 2023 column guide calls them
``iso3``, ``gwno``                    row numbers or codes derivable from the id and
                                      the country
``population_*`` (1km … best)         dropped (ACLED's optional population columns)
any other column                      refused (``unknown-column``)
====================================  ===============================================

Values:

- ``event_date``: ``2022-02-03``, ``03 February 2022`` (export tool), ``3-February-2022``
  or ``01-Jan-2015`` (older files) become ISO dates. Dates a spreadsheet rewrote
  (``05-08-24``, ``03/02/2022``, ``5-Aug-24``) are read in the one order (day-month-year,
  month-day-year, year-month-day) that fits every such row of the file, else reported
  (``ambiguous-date``): see `eventdata.acled.values.read_dates`.
- ``inter1``/``inter2``: codes 0-8 or ACLED's labels (``State forces``, ``Rebel group``,
  ``Political militia``, ``Identity militia``, ``Rioters``, ``Protesters``, ``Civilians``,
  ``External/Other forces``; plural forms too), any case; an empty ``inter2`` with no
  ``actor2`` is 0.
- ``interaction``: a number, or text such as ``State forces-Rebel group`` or
  ``Rebel group only`` (``Sole rebel groups``), becomes 10*min + max (10*inter1 alone).
- ``civilian_targeting``: ACLED's codebook spelling ``Civilians targeted`` becomes
  ``Civilian targeting``. Exports from before 2023 have no such column: Violence against
  civilians events get ``Civilian targeting`` (ACLED's definition), all others none.
- ``disorder_type``: ``Political violence; Demonstrations`` (ACLED's value for events that are
  both, such as Excessive force against protesters) is accepted where the codebook derives
  either of the two, and the release carries the codebook's one.
- ``timestamp``: not kept in the row. A release's timestamp is the time of the version in
  which the row last changed; ACLED's value stays in the source text (below). It must be a
  Unix time within the codebook's timestamp bounds and the years of its ``year`` column.
- ``event_id_cnty``: required, and its number must fit the id registry (at most 18 digits).
- Every cell: a control character (NUL and the other C0 characters but tab and line breaks)
  is a ``control-character`` problem, as in a coding sheet.

Event types from before ACLED's 2019 taxonomy are mapped only where one current pair fits
(`OLDER_EVENT_TYPES`); a row's own ``sub_event_type`` picks among several when given:

============================================  ===============================================
older event type                              current event type / sub-event type
============================================  ===============================================
Battle-No change of territory                 Battles / Armed clash
Battle-Government regains territory           Battles / Government regains territory
Battle-Non-state actor overtakes territory    Battles / Non-state actor overtakes territory
Headquarters or base established              Strategic developments / Headquarters or base established
Non-violent transfer of territory             Strategic developments / Non-violent transfer of territory
Riots/Protests                                refused: Protests or Riots (5 sub-event types)
Remote violence                               refused: 6 Explosions/Remote violence sub-event types
Strategic development, Non-violent activity   refused: 8 Strategic developments sub-event types
by a conflict actor
============================================  ===============================================

Actors not in the actor list are added with ACLED's types: state forces coded 1 at home
and 8 abroad get one entry (type 1, that home country); an actor coded only 8 and named
``Military Forces of X (…)`` or ``Police Forces of X (…)`` with X a country is state forces
of X; other actors coded only 8 are External/Other forces of no country. When an actor's
type changes over time, its entry gets one validity period per type. Actors seen only as
associated actors (ACLED gives them no type) take the most frequent type of the actors
they accompany.

Provenance: the export becomes the article ``acled-<name>`` (seeds/articles/acled-<name>.txt):
a header line naming the file and its sha256, then one line per event,
``<event_id_cnty> (ACLED timestamp <t>): <notes>``. Each row cites it, quotes its notes as
evidence and names the coder ``acled-import``.

Modules: `eventdata.acled.export` reads the export and maps its column layouts;
`eventdata.acled.values` normalises its values; `eventdata.acled.lists` infers the actor and
place list additions; `eventdata.acled.checks` checks the result before anything is written;
`eventdata.acled.importer` builds the sheet and source article and writes the import.
"""

from eventdata.acled.checks import check_rows, existing_rows_problems, locate
from eventdata.acled.export import (
    CHECKED_ONLY,
    DROPPED,
    RENAMED,
    REQUIRED,
    Export,
    ExportRow,
    merge_actor_rows,
    read_export,
)
from eventdata.acled.importer import (
    ACTOR_COLUMNS,
    CODER,
    NAME_PATTERN,
    PUBLISHER,
    TERMS,
    ImportResult,
    Lists,
    appended_csv,
    article_entry,
    import_acled,
    import_name,
    outputs,
    published_date,
    sheet_columns,
    sheet_text,
    source_article,
    source_text,
    write_all,
)
from eventdata.acled.lists import PLACE_COLUMNS, STATE_FORCES_NAME, PlaceKey, Sighting, infer_actors, infer_places
from eventdata.acled.values import (
    CIVILIAN_TARGETING,
    COMBINED_DISORDER,
    INTER_LABELS,
    ISO_DATE,
    MONTHS,
    NAMED_MONTH_DATE,
    OLDER_EVENT_TYPES,
    SLASH_DATE,
    VIOLENCE_AGAINST_CIVILIANS,
    Normalisation,
    Taxonomy,
    load_normalisations,
    parse_date,
    parse_inter,
    parse_interaction,
    read_dates,
)

__all__ = [
    "CODER",
    "ACTOR_COLUMNS",
    "PUBLISHER",
    "TERMS",
    "NAME_PATTERN",
    "RENAMED",
    "DROPPED",
    "REQUIRED",
    "CHECKED_ONLY",
    "INTER_LABELS",
    "COMBINED_DISORDER",
    "CIVILIAN_TARGETING",
    "VIOLENCE_AGAINST_CIVILIANS",
    "OLDER_EVENT_TYPES",
    "MONTHS",
    "NAMED_MONTH_DATE",
    "ISO_DATE",
    "SLASH_DATE",
    "STATE_FORCES_NAME",
    "ImportResult",
    "ExportRow",
    "Export",
    "read_export",
    "merge_actor_rows",
    "read_dates",
    "Normalisation",
    "load_normalisations",
    "parse_date",
    "parse_inter",
    "parse_interaction",
    "Taxonomy",
    "Sighting",
    "infer_actors",
    "PLACE_COLUMNS",
    "infer_places",
    "PlaceKey",
    "source_text",
    "published_date",
    "article_entry",
    "sheet_columns",
    "sheet_text",
    "check_rows",
    "locate",
    "existing_rows_problems",
    "appended_csv",
    "write_all",
    "import_name",
    "Lists",
    "source_article",
    "outputs",
    "import_acled",
]
