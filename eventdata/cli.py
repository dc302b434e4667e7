"""The command line: thin commands over the library. The only module that imports click or prints."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from eventdata import __version__, progress
from eventdata.assign import assign_new_ids, unassigned_count, unassigned_message
from eventdata.build import build_package
from eventdata.catalog import VERSION
from eventdata.changes import check_release_events
from eventdata.checks import checks_markdown
from eventdata.dataset import Dataset
from eventdata.errors import EventdataError, Report, os_error_message
from eventdata.intake import add_article, new_sheet
from eventdata.load import update_parquet
from eventdata.project import Project, init_project, load_project
from eventdata.release import diff_releases, find_release, release_version, verification_report, verify_release
from eventdata.schema import codebook_markdown
from eventdata.sources.sheets import display_path
from eventdata.validate import validate_project

EXIT_INVALID = 1
EXIT_CANNOT_RUN = 2
EXIT_BUG = 3


class CommandFailed(click.ClickException):
    """An EventdataError shown as one line, exit 2."""

    exit_code = EXIT_CANNOT_RUN


class EventdataGroup(click.Group):
    """Turns every EventdataError and operating-system error into a message without a traceback, in one place.

    An OSError (a read-only folder, a full disk, a symbolic link to nothing) means the command could not run:
    exit 2 with the path and the cause.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EventdataError as err:
            raise CommandFailed(str(err)) from err
        except OSError as err:
            raise CommandFailed(os_error_message(err)) from err


F = TypeVar("F", bound=Callable[..., Any])


def shows_progress(command: F) -> F:
    """Add --quiet to a long command; show its progress on stderr when that is a terminal and there is no --json."""

    @click.option("--quiet", "-q", is_flag=True, help="Show no progress on the terminal.")
    @functools.wraps(command)
    def run(*args: Any, quiet: bool, **kwargs: Any) -> Any:
        if quiet or kwargs.get("as_json") or not sys.stderr.isatty():
            return command(*args, **kwargs)
        shown = progress.TerminalProgress(sys.stderr)
        # the command's own messages on stderr, and its output when stdout is the terminal too, go above the line
        out = shown.other_output(sys.stdout) if sys.stdout.isatty() else sys.stdout
        try:
            with (
                progress.reporting(shown),
                contextlib.redirect_stderr(shown.other_output()),
                contextlib.redirect_stdout(out),
            ):
                return command(*args, **kwargs)
        finally:
            shown.clear()

    return run  # type: ignore[return-value]


def _project(ctx: click.Context) -> Project:
    return _dataset(ctx).project


def _dataset(ctx: click.Context) -> Dataset:
    """The dataset of --project (default: the current directory), opened once per command."""
    if "dataset" not in ctx.obj:
        ctx.obj["dataset"] = Dataset.open(load_project(ctx.obj.get("project")))
    dataset: Dataset = ctx.obj["dataset"]
    return dataset


def _print_report(report: Report, *, limit: int | None) -> None:
    shown = report.problems if limit is None else report.problems[:limit]
    for problem in shown:
        click.echo(problem.format(), err=True)
    hidden = len(report.problems) - len(shown)
    if hidden > 0:
        click.echo(f"... and {hidden} more (use --all to see every problem, --json for the full report).", err=True)
    if report.errors:
        counts = ", ".join(f"{n} {code}" for code, n in report.counts("error").items())
        click.echo(
            f"{len(report.errors)} problem(s) in {len(report.files)} sheet(s), {report.rows} row(s): {counts}.",
            err=True,
        )
    if report.warnings:
        counts = ", ".join(f"{n} {code}" for code, n in report.counts("warning").items())
        click.echo(f"{len(report.warnings)} warning(s) (schemas/rules.csv; they do not block): {counts}.", err=True)


def _print_warnings(report: Report) -> None:
    """The warnings of a report that passed, on stderr; they never change the exit code."""
    for warning in report.warnings:
        click.echo(warning.format(), err=True)
    if report.warnings:
        counts = ", ".join(f"{n} {code}" for code, n in report.counts("warning").items())
        click.echo(f"{len(report.warnings)} warning(s), which do not block: {counts}.", err=True)


@click.group(cls=EventdataGroup)
@click.version_option(__version__, prog_name="eventdata")
@click.option(
    "--project",
    "project",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Dataset folder (default: the current directory).",
)
@click.pass_context
def cli(ctx: click.Context, project: Path | None) -> None:
    """Turn news articles into a validated, versioned conflict-event data package.

    \b
    Example:
        eventdata init my-dataset
        eventdata --project my-dataset validate
        eventdata --project my-dataset build
    """
    ctx.ensure_object(dict)
    ctx.obj["project"] = project
    from eventdata.allocator import use_jemalloc

    use_jemalloc()


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path), default=Path("."), required=False)
@click.option("--name", default=None, help="Dataset name (default: the folder name).")
@click.option("--title", default=None, help="Dataset title (default: the name).")
def init(directory: Path, name: str | None, title: str | None) -> None:
    """Create a dataset folder with the default codebook (default: the current folder, which must be empty).

    \b
    Example:
        eventdata init my-dataset --title "Events in my region"
        mkdir my-dataset && cd my-dataset && eventdata init
    """
    project = init_project(directory, name=name, title=title)
    click.echo(
        f"Created dataset folder {project.root.resolve()}. Next: fill description, licenses and contributors in "
        "schemas/dataset.json, then `eventdata add-article FILE …` and `eventdata new-sheet ARTICLE_ID`.",
        err=True,
    )
    click.echo(str(project.root))


@cli.command("add-article")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", required=True, help="Headline ('unknown' when not known).")
@click.option("--publisher", required=True, help="Outlet ('unknown' when not known).")
@click.option(
    "--published", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="Publication date, YYYY-MM-DD."
)
@click.option("--url", default="", help="Where the article was published.")
@click.option("--language", default="en", show_default=True, help="Language: an ISO 639 code (en, ar, ckb).")
@click.option("--id", "article_id", default=None, help="Article id (default: the next NNN_ plus 16 hex of the sha256).")
@click.option("--notes", default="", help="How the metadata was established.")
@click.pass_context
def add_article_command(
    ctx: click.Context,
    file: Path,
    title: str,
    publisher: str,
    published: Any,
    url: str,
    language: str,
    article_id: str | None,
    notes: str,
) -> None:
    """Copy an article's text into seeds/articles/ and index it (sha256 computed); prints its id.

    A text already in the dataset, or an id already used, is refused (exit 2) and nothing is written.

    \b
    Example:
        eventdata add-article raid.txt --title "US raid in Atmeh" --publisher "Example News" --published 2022-02-03
    """
    added = add_article(
        _project(ctx),
        file,
        title=title,
        publisher=publisher,
        published=published.date(),
        url=url,
        language=language,
        article_id=article_id,
        notes=notes,
    )
    click.echo(
        f"Added article {added.article_id} (sha256 {added.sha256}) as {display_path(added.text_path)}. "
        f"Start its sheet with `eventdata new-sheet {added.article_id}`.",
        err=True,
    )
    click.echo(added.article_id)


@cli.command("new-sheet")
@click.argument("article_id")
@click.option("--coder", default=None, help="Write one row to fill in, with the article id and this coder.")
@click.option("--name", default=None, help="Sheet name: seeds/sheets/NAME.csv (default: the article id).")
@click.pass_context
def new_sheet_command(ctx: click.Context, article_id: str, coder: str | None, name: str | None) -> None:
    """Start a coding sheet for an article with the columns a coder types (from the codebook); prints its path.

    Leave event_id_cnty empty: `eventdata assign-ids` or `release` writes the ids (build shows them provisionally).

    \b
    Example:
        eventdata new-sheet 001_58bc5d0ed20b43ad --coder "A. Coder"
    """
    path = new_sheet(_project(ctx), article_id, coder=coder, name=name)
    click.echo(
        f"Started {display_path(path)}: one row per event; `eventdata codebook` describes every column, "
        "and the tool fills the derived ones (event_id_cnty, year, inter1/2, admin1-3, coordinates…).",
        err=True,
    )
    click.echo(display_path(path))


@cli.command("serve")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port).")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; the default is reachable from this machine only.",
)
@click.pass_context
def serve_command(ctx: click.Context, port: int, host: str) -> None:
    """Open the coder's workbench: a local web page to code articles, with live checks and suggestions.

    Needs the serve extra: pip install 'eventdata[serve]'. Stop it with Ctrl+C; unsaved edits stay in the browser.

    \b
    Example:
        eventdata serve
        eventdata --project my-dataset serve --port 8000
    """
    try:
        from eventdata.serve.app import is_loopback, make_workbench_server
        from eventdata.serve.workbench import Workbench
    except ImportError as err:
        raise CommandFailed(
            f"eventdata serve needs the serve extra ({err.name} is not installed): pip install 'eventdata[serve]'."
        ) from err
    dataset = _dataset(ctx)
    workbench = Workbench(dataset)
    workbench.form()  # reads the codebook and lists now: a broken codebook stops here, exit 2
    workbench.dataset.references()
    try:
        server = make_workbench_server(workbench, host, port)
    except OSError as err:
        raise CommandFailed(f"Cannot listen on {host}:{port}: {err.strerror or err}; choose another --port.") from err
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{server.server_address[1]}/"
    reach = (
        "loopback only: reachable from this machine, not from the network"
        if is_loopback(host)
        else "WARNING: reachable from other machines; anyone who can reach it can edit the sheets"
    )
    click.echo(f"Workbench for {display_path(dataset.root)} at {url} ({reach}). Ctrl+C stops it.", err=True)
    click.echo(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped; saved rows are in seeds/sheets/.", err=True)
    finally:
        server.server_close()


@cli.command()
@shows_progress
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON on stdout.")
@click.option("--all", "show_all", is_flag=True, help="Print every problem (default: the first 100).")
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...], as_json: bool, show_all: bool) -> None:
    """Check coding sheets against the codebook; exit 1 if any error (warnings are printed, exit 0).

    PATHS are sheets or folders of sheets (default: every sheet in seeds/sheets/).

    \b
    Example:
        eventdata validate
        eventdata validate seeds/sheets/000_atmeh.csv --json
    """
    validation = validate_project(_dataset(ctx), list(paths) or None)
    report = validation.report
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    _print_report(report, limit=None if show_all else 100)
    if not report.valid:
        ctx.exit(EXIT_INVALID)
    click.echo(f"{report.rows} event(s) in {len(report.files)} sheet(s): valid.", err=True)
    if unassigned_count(validation):
        click.echo(unassigned_message(unassigned_count(validation)), err=True)


def _print_new_id_columns(sheets: tuple[str, ...]) -> None:
    for sheet in sheets:
        click.echo(
            f"{sheet}: had no event_id_cnty column; the tool added it as the last column and wrote the new ids in "
            "it. Type new rows in this layout (a row without the last cell is read as having no id yet).",
            err=True,
        )


@cli.command("assign-ids")
@shows_progress
@click.option("--all", "show_all", is_flag=True, help="Print every problem (default: the first 100).")
@click.pass_context
def assign_ids_command(ctx: click.Context, show_all: bool) -> None:
    """Give every row typed without an id its event_id_cnty, in its sheet and in seeds/event_ids.csv.

    The one command besides `release` (which runs this step itself) that writes into seeds/: the ids are the
    ones `build` showed as provisional, and every file is written, or none. Writes nothing when a sheet has
    an error (exit 1). Prints each id given as SHEET:LINE ID.

    \b
    Example:
        eventdata assign-ids
    """
    result = assign_new_ids(_dataset(ctx))
    if result.status == "invalid":
        _print_report(result.report, limit=None if show_all else 100)
        click.echo("No id was written: fix the problems above first.", err=True)
        ctx.exit(EXIT_INVALID)
    _print_warnings(result.report)
    if result.status == "none":
        click.echo("Every row has its id; nothing was written.", err=True)
        return
    _print_new_id_columns(result.new_id_column)
    for sheet, line, event_id in result.ids:
        click.echo(f"{sheet}:{line} {event_id}")
    click.echo(
        f"Gave {len(result.ids)} row(s) their id, in {len(result.files) - 1} sheet(s) and "
        f"{display_path(result.files[-1])}.",
        err=True,
    )


@cli.command()
@shows_progress
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Package folder to write (default: the released version, or dist-data/<name>/draft/).",
)
@click.option("--all", "show_all", is_flag=True, help="Print every problem (default: the first 100).")
@click.pass_context
def build(ctx: click.Context, out_dir: Path | None, show_all: bool) -> None:
    """Validate, then write a package of the working sheets; prints its folder. Never makes a version.

    Only reads schemas/ and seeds/. When the sheets hold the data of the latest release, that release is the
    package. Otherwise the package is a draft (dist-data/<name>/draft/, replaced by each build) labelled with
    the version `eventdata release` would make; rows without an id get provisional ids in it (`eventdata
    assign-ids` writes them). Writes nothing when the sheets are invalid (exit 1).

    \b
    Example:
        eventdata build
        eventdata build --out-dir /tmp/package
    """
    result = build_package(_dataset(ctx), out_dir)
    if result.status == "invalid":
        _print_report(result.report, limit=None if show_all else 100)
        click.echo("Nothing was written: fix the problems above and build again.", err=True)
        ctx.exit(EXIT_INVALID)
    _print_warnings(result.report)
    if result.unassigned:
        click.echo(unassigned_message(result.unassigned) + " The draft shows the ids they will get.", err=True)
    counts = result.counts
    if result.draft:
        since = f"since {result.previous}" if result.previous else "no release yet"
        state = "is up to date" if result.status == "unchanged" else "was written"
        click.echo(
            f"Draft {result.version} of {result.report.rows} event(s) {state} "
            f"({since}: {counts.get('added', 0)} added, {counts.get('modified', 0)} corrected, "
            f"{counts.get('deleted', 0)} deleted). A draft is not a release: "
            + (
                f"`eventdata release` makes version {result.next_version}."
                if result.next_version
                else "with no event or schema change, `eventdata release` makes no new version."
            ),
            err=True,
        )
    elif result.status == "unchanged":
        click.echo(f"The sheets hold released version {result.version}, unchanged: {result.package_dir}.", err=True)
    else:
        click.echo(f"Wrote released version {result.version} again: {result.report.rows} event(s).", err=True)
    click.echo(str(result.package_dir))


def _refuse_output_in_dataset(dataset: Dataset, output: Path, what: str, example: str) -> None:
    """CommandFailed (nothing written) for an output file inside schemas/, seeds/ or the releases' folder."""
    inputs = dataset.project.input_folder_of(output)
    if inputs is not None:
        raise CommandFailed(
            f"Cannot write {what} to {output}: it is inside {display_path(inputs)}, which holds the dataset's "
            "inputs (a file written there would replace or add to them). "
            f"Nothing was written: give a file outside schemas/ and seeds/, e.g. -o {example}."
        )
    releases = dataset.dist_dir  # dist-data/<name>/
    if output.expanduser().resolve().is_relative_to(releases.resolve()):
        raise CommandFailed(
            f"Cannot write {what} to {output}: it is inside {display_path(releases)}, whose releases are never "
            f"changed (each holds its own codebook.md and report.html). Nothing was written: give a file outside "
            f"it, e.g. -o {example}."
        )


@cli.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to a file instead of stdout.",
)
@click.pass_context
def codebook(ctx: click.Context, output: Path | None) -> None:
    """Print the codebook (columns, the checks validation runs, vocabularies) as Markdown.

    \b
    Example:
        eventdata codebook -o codebook.md
    """
    dataset = _dataset(ctx)
    if output is not None:
        _refuse_output_in_dataset(dataset, output, "the codebook", "codebook.md")
    text = codebook_markdown(dataset.codebook, checks=checks_markdown(dataset.codebook, dataset.severities))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8", newline="\n")


@cli.command()
@shows_progress
@click.option(
    "--bump",
    type=click.Choice(["major", "minor", "patch"]),
    default=None,
    help="Part of the version to raise (default: what the changes need).",
)
@click.option("--as", "as_version", default=None, metavar="X.Y.Z", help="Release as this exact version.")
@click.option(
    "--date",
    "release_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Release date (default: today, UTC).",
)
@click.option("--force", is_flag=True, help="Allow a bump smaller than the changes need.")
@click.option("--all", "show_all", is_flag=True, help="Print every problem (default: the first 100).")
@click.pass_context
def release(
    ctx: click.Context, bump: str | None, as_version: str | None, release_date: Any, force: bool, show_all: bool
) -> None:
    """Freeze the current sheets as a new immutable version, with deltas, catalog and data changelog.

    The bump follows the Data Package Version recipe: schema change → major, new events → minor,
    corrections and deletions → patch. A smaller bump is refused unless --force.

    \b
    Example:
        eventdata release
        eventdata release --bump minor --date 2026-12-01
    """
    if bump is not None and as_version is not None:
        raise click.UsageError("Give --bump or --as, not both: --as names the whole version.")
    if as_version is not None and not VERSION.match(as_version):
        raise click.BadParameter(f"{as_version!r} is not a version X.Y.Z (e.g. 1.2.0).", param_hint="'--as'")
    if release_date is not None and release_date.date() > datetime.now(UTC).date() + timedelta(days=1):
        raise click.BadParameter(
            f"{release_date.date()} is in the future: a release is dated the day it is made (or earlier), and no "
            "later release could be dated before it.",
            param_hint="'--date'",
        )
    result = release_version(
        _dataset(ctx),
        bump=bump,
        as_version=as_version,
        release_date=release_date.date() if release_date else None,
        force=force,
    )
    if result.status == "invalid":
        _print_report(result.report, limit=None if show_all else 100)
        click.echo("Nothing was released: fix the problems above first.", err=True)
        ctx.exit(EXIT_INVALID)
    if result.status == "nothing-to-release":
        click.echo(
            f"The events and schema are those of {result.previous}; no release made. To release a change of the "
            "codebook, the articles or the metadata alone, give --bump patch.",
            err=True,
        )
        return
    _print_new_id_columns(result.new_id_column)
    _print_warnings(result.report)
    counts = result.counts
    since = f" since {result.previous}" if result.previous else ""
    need = (
        "first release"
        if not result.previous
        else f"changes need a {result.suggested} release"
        if result.suggested
        else "the events are unchanged"
    )
    click.echo(
        f"Released {result.version} ({need}){since}: "
        f"{counts.get('added', 0)} added, {counts.get('modified', 0)} corrected, {counts.get('deleted', 0)} deleted, "
        f"{len(result.schema_changes)} schema change(s).",
        err=True,
    )
    click.echo(str(result.path))


def _listed(ids: list[str], limit: int) -> str:
    """Ids joined by ', ', at most limit of them, then '… and N more'."""
    parts = ids[:limit]
    if len(ids) > limit:
        parts.append(f"… and {len(ids) - limit} more")
    return ", ".join(parts)


@cli.command()
@shows_progress
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True, help="Print every change as JSON.")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(min=0), help="Ids and values to list in each part."
)
@click.pass_context
def diff(ctx: click.Context, old: str, new: str, as_json: bool, limit: int) -> None:
    """Show what changed between two released versions: counts, then the added, deleted and changed events.

    \b
    Example:
        eventdata diff 1.0.0 1.1.0
        eventdata diff 1.0.0 1.1.0 --limit 100
        eventdata diff 1.0.0 1.1.0 --json > changes.json
    """
    progress.stage(f"comparing {old} with {new}", "reading the events of both versions")
    dataset = _dataset(ctx)
    for version in (old, new):  # a damaged release stops here, before anything is printed
        check_release_events(find_release(dataset, version))
    changes, schema = diff_releases(dataset, old, new)
    added = changes.added.column("event_id_cnty").to_pylist()
    deleted = changes.deleted.column("event_id_cnty").to_pylist()
    if as_json:
        payload = {
            "old": old,
            "new": new,
            "counts": changes.counts(),
            "schema": [{"level": c.level, "field": c.field, "change": c.description} for c in schema],
            "added": added,
            "modified": changes.modified.to_pylist(),
            "deleted": deleted,
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
        return
    counts = changes.counts()
    click.echo(f"{old} → {new}")
    click.echo(f"  added     {counts['added']:>8}")
    click.echo(f"  modified  {counts['modified']:>8} events, {counts['modified_cells']} values")
    click.echo(f"  deleted   {counts['deleted']:>8}")
    click.echo(f"  unchanged {counts['unchanged']:>8}")
    for change in schema:
        click.echo(f"  schema ({change.level}): {change.field} {change.description}")
    rows = [m for m in changes.modified.to_pylist() if m["column"] != "timestamp"]
    modified = list(dict.fromkeys(m["event_id_cnty"] for m in rows))
    for label, ids in (("added", added), ("deleted", deleted), ("modified", modified)):
        if ids:
            click.echo("")
            click.echo(f"{label} ({len(ids)}): {_listed(ids, limit)}")
    if rows and limit:
        click.echo("")
        click.echo(f"  {'event':<14} {'column':<18} {'old':<30} new")
        for m in rows[:limit]:
            click.echo(f"  {m['event_id_cnty']:<14} {m['column']:<18} {str(m['old_value'])[:30]:<30} {m['new_value']}")
        if len(rows) > limit:
            click.echo(f"  … and {len(rows) - limit} more values (--limit N, or --json for all)")


@cli.command()
@shows_progress
@click.argument("version", required=False)
@click.option("--no-rebuild", is_flag=True, help="Only re-hash the files; do not rebuild from the recorded sources.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON on stdout (as validate --json).")
@click.pass_context
def verify(ctx: click.Context, version: str | None, no_rebuild: bool, as_json: bool) -> None:
    """Re-hash a release (default: every release), rebuild it from its recorded sources and compare the content.

    Every file must match the sha256 in datapackage.json and catalog.json. The rebuild must give the same data
    (events' values and types, every CSV's values, the sources) and metadata (datapackage.json but the tool's
    version stamp); documents a newer eventdata words differently (README.md, CHANGELOG.md, …) are listed,
    not counted as a difference. Exit 1 when anything differs.

    \b
    Example:
        eventdata verify
        eventdata verify 1.0.0 --no-rebuild
        eventdata verify --json > verify.json
    """
    dataset = _dataset(ctx)
    results = verify_release(dataset, version, rebuild=not no_rebuild)
    if as_json:
        payload = verification_report(results, dataset.dist_dir).to_dict()
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    for result in results:
        if result.ok:
            rebuilt = ", rebuilt identically" if result.rebuilt else ""
            click.echo(f"{result.version}: {result.checked_files} files match their hashes{rebuilt}.", err=True)
        for problem in result.problems:
            click.echo(f"{result.version}: {problem.format()}", err=True)
        if result.reworded:
            click.echo(
                f"{result.version}: {', '.join(result.reworded)} read differently when eventdata {__version__} "
                "writes them (wording only; the data and metadata are the same).",
                err=True,
            )
    if not all(r.ok for r in results):
        ctx.exit(EXIT_INVALID)


@cli.command()
@shows_progress
@click.argument("version", required=False)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to a file instead of stdout.",
)
@click.pass_context
def report(ctx: click.Context, version: str | None, output: Path | None) -> None:
    """Write the HTML report of a release (default: the latest): counts, charts, a map and what changed.

    The same report is in every release as report.html; it opens offline, without scripts.

    \b
    Example:
        eventdata report 1.1.0 -o report-1.1.0.html
        eventdata report > latest.html
    """
    from eventdata.report import release_report, save_report

    dataset = _dataset(ctx)
    if output is not None:
        _refuse_output_in_dataset(dataset, output, "the report", "report.html")
    release = find_release(dataset, version)
    text = release_report(release, dataset.codebook)
    if output is None:
        click.echo(text, nl=False)
        return
    save_report(text, output, dataset_dir=release.path.parent)
    click.echo(f"Wrote the report of {release.name} {release.version} to {output}.", err=True)


@cli.command()
@shows_progress
@click.argument("local", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from", "source", required=True, help="dist-data/<name> folder, catalog.json path or URL.")
@click.option("--to", "to_version", default="latest", show_default=True, help="Version to update to.")
def update(local: Path, source: str, to_version: str) -> None:
    """Bring a local events.parquet up to a newer version by applying the published deltas.

    \b
    Example:
        eventdata update events.parquet --from https://example.org/data/eventdata-seeds/
    """
    version = update_parquet(local, source, to_version)
    click.echo(f"{local} is at version {version}.", err=True)


@cli.command()
@shows_progress
@click.argument("version")
@click.option("--to", "target", required=True, help="A folder, an fsspec URL (s3://…), 'zenodo', 'ckan' or 'hdx'.")
@click.option("--check", "check_only", is_flag=True, help="Only list the metadata the target lacks; send nothing.")
@click.option("--dry-run", is_flag=True, help="Check, then print the planned requests and files; send nothing.")
@click.option("--base-url", default=None, help="Zenodo, CKAN or HDX server (default: zenodo.org, data.humdata.org).")
@click.option("--organization", default=None, help="CKAN or HDX organization that owns the dataset.")
@click.option("--endpoint-url", default=None, help="S3 endpoint for s3:// targets (default: AWS_ENDPOINT_URL).")
@click.option("--name", "dataset", default=None, help="Dataset name, when dist-data/ holds several.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the result (and plan) as JSON; with --check, or when the check fails, its findings as validate --json.",
)
@click.pass_context
def publish(
    ctx: click.Context,
    version: str,
    target: str,
    check_only: bool,
    dry_run: bool,
    base_url: str | None,
    organization: str | None,
    endpoint_url: str | None,
    dataset: str | None,
    as_json: bool,
) -> None:
    """Publish a built release to a folder or bucket, Zenodo, CKAN or HDX; running it again sends nothing twice.

    Where each version went is recorded in dist-data/<name>/publications/. Tokens come from
    EVENTDATA_ZENODO_TOKEN / EVENTDATA_CKAN_TOKEN / EVENTDATA_HDX_TOKEN or the keyring (service eventdata).

    \b
    Example:
        eventdata publish 1.1.0 --to /srv/data/eventdata-seeds
        eventdata publish 1.1.0 --to s3://bucket/eventdata-seeds --endpoint-url http://127.0.0.1:8333
        eventdata publish 1.1.0 --to zenodo --base-url https://sandbox.zenodo.org --dry-run
        eventdata publish 1.1.0 --to ckan --base-url https://data.example.org --organization acme --check
        eventdata publish 1.1.0 --to hdx --organization acme --check
    """
    from eventdata.publish import find_release, get_publisher

    release = find_release(_project(ctx).dist_dir, version, dataset)
    publisher = get_publisher(
        target,
        base_url=base_url,
        organization=organization,
        endpoint_url=endpoint_url,
        progress=lambda line: click.echo(line, err=True),
    )
    report = publisher.check(release)
    if as_json and (check_only or not report.valid):  # the findings, in the shape of validate --json
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    for problem in report.problems:
        click.echo(problem.format(), err=True)
    if not report.valid:
        click.echo(f"{len(report.problems)} problem(s) for {target}: nothing was sent.", err=True)
        ctx.exit(EXIT_INVALID)
    if check_only:
        click.echo(f"{release.descriptor_path} has everything {target} needs.", err=True)
        return
    result = publisher.publish(release, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif dry_run:
        for step in result.plan:
            click.echo(step.format())
    doi = f" (DOI {result.doi})" if result.doi else ""
    if dry_run and not result.plan:
        click.echo(f"Dry run: {release.name} {version} is already at {target}: {result.url}{doi}.", err=True)
        return
    if dry_run:
        click.echo(f"Dry run: {len(result.plan)} request(s) planned for {target}; nothing was sent.", err=True)
        return
    if result.created:
        click.echo(f"Published {release.name} {version} to {target}: {result.url}{doi}", err=True)
    else:
        click.echo(f"{release.name} {version} is already at {target}: {result.url}{doi}; nothing sent.", err=True)
    if not as_json:
        click.echo(result.url or "")


@cli.group("import")
def import_group() -> None:
    """Turn another dataset's export into coding sheets of this dataset.

    \b
    Example:
        eventdata import acled 2024-01-01-2024-12-31-Syria.csv
    """


@import_group.command("acled")
@shows_progress
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="Name of the import: sheet acled-NAME.csv (default: from the file name).")
@click.option("--all", "show_all", is_flag=True, help="Print every problem (default: the first 100).")
@click.option(
    "--strict", is_flag=True, help="Refuse the whole export if any row has an error (default: skip those rows)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON on stdout (as validate --json).")
@click.pass_context
def import_acled_command(
    ctx: click.Context, file: Path, name: str | None, show_all: bool, strict: bool, as_json: bool
) -> None:
    """Import an ACLED export: a coding sheet keeping ACLED's ids, plus its actors, places and source.

    Current and older ACLED layouts are read (see "Importing ACLED exports" in the README). Rows are
    taken as ACLED coded them, with the documented corrections (schemas/acled_normalisations.csv);
    rows with errors are listed and not taken (exit 1), and --strict refuses the whole export instead.
    Warnings are listed and do not block. Prints the new sheet.

    \b
    Example:
        eventdata import acled 2024-01-01-2024-12-31-Syria.csv
        eventdata import acled acled-export.csv --name syria-2024 --strict
    """
    from eventdata.acled import import_acled

    result = import_acled(_project(ctx), file, name=name, strict=strict)
    if as_json:
        click.echo(json.dumps(result.report.to_dict(), indent=2, ensure_ascii=False))
    _print_report(result.report, limit=None if show_all else 100)
    for item, count in result.normalised:
        click.echo(
            f"Corrected {item.column} {item.value!r} to {item.correct!r} on {count} row(s)"
            f"{f' ({item.sub_event_type})' if item.sub_event_type else ''}: schemas/acled_normalisations.csv.",
            err=True,
        )
    for column in result.absent_columns:
        click.echo(f"Column {column!r} is empty on every row: taken as absent.", err=True)
    if result.merged:
        click.echo(f"Merged {result.merged} event(s) given as one row per actor.", err=True)
    if not result.written:
        click.echo("Nothing was written: fix the export (or the lists in schemas/) and import again.", err=True)
        ctx.exit(EXIT_INVALID)
    click.echo(
        f"Imported {result.rows} event(s): {len(result.new_actors)} new actor(s), {len(result.new_places)} new "
        f"place(s), {len(result.registered_ids)} id(s) registered.",
        err=True,
    )
    click.echo(str(result.sheet), err=as_json)  # with --json, stdout holds only the JSON
    if result.skipped:
        click.echo(f"{len(result.skipped)} line(s) of the export were not imported (problems above).", err=True)
        ctx.exit(EXIT_INVALID)


# --- double coding and duplicates (#11) ------------------------------------------------------------------


def _alpha(value: Any) -> str:
    return "   n/a" if value is None else f"{value:6.3f}"


@cli.command()
@shows_progress
@click.option(
    "--json", "as_json", is_flag=True, help="Print everything as JSON: fields, detection, per coder and month."
)
@click.option(
    "--samples",
    default=1000,
    show_default=True,
    type=click.IntRange(min=0),
    help="Bootstrap samples for the intervals.",
)
@click.pass_context
def agreement(ctx: click.Context, as_json: bool, samples: int) -> None:
    """Agreement between the coders of double-coded articles (seeds/double/<article_id>/<coder>.csv).

    Events are matched across coders per article (date within 3 days, place, event type, actors); unmatched
    events give event-detection precision, recall and F1, matched ones Krippendorff's alpha per field with
    95% bootstrap intervals. Exit 1 if a coder sheet has errors (they are listed), 0 otherwise.

    \b
    Example:
        eventdata agreement
        eventdata agreement --json > agreement.json
    """
    from eventdata.agreement import measure

    result = measure(_dataset(ctx), samples=samples)
    for problem in result.coded.problems:
        click.echo(problem.format(), err=True)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif not result.units:
        click.echo(
            "No article is coded by two coders: put each coder's sheet in seeds/double/<article_id>/<coder>.csv."
        )
    else:
        matched = sum(len(u.rows) >= 2 for u in result.units)
        click.echo(
            f"{len(result.articles)} double-coded article(s), {len(result.coders)} coder(s), "
            f"{len(result.units)} event(s), {matched} matched"
        )
        click.echo(f"  {'field':<18} {'level':<9} {'alpha':>6}  {'95% interval':<16} {'units':>5}  agreement")
        for f in result.fields:
            row = f.row()
            interval = "" if row["ci_low"] is None else f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}]"
            share = "" if row["agreement"] is None else f"{row['agreement']:.0%}"
            click.echo(f"  {f.field:<18} {f.level:<9} {_alpha(row['alpha'])}  {interval:<16} {f.units:>5}  {share}")
        click.echo("Event detection between coders:")
        for d in result.detection:
            row = d.row()
            click.echo(
                f"  {d.coder_a} / {d.coder_b}: {d.matched} matched of {d.events_a} and {d.events_b} events; "
                f"precision {_alpha(row['precision']).strip()}, recall {_alpha(row['recall']).strip()}, "
                f"F1 {_alpha(row['f1']).strip()}"
            )
        for pending in result.pending():
            click.echo(
                f"  pending: {pending['article_id']} ({pending['sheets']} sheet(s)) {', '.join(pending['missing'])}"
            )
    if result.coded.problems:
        ctx.exit(EXIT_INVALID)


@cli.command()
@shows_progress
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@click.pass_context
def adjudicate(ctx: click.Context, as_json: bool) -> None:
    """Write the coders' disagreements as seeds/adjudication/<article_id>.csv, and each adjudicated article's sheet.

    The adjudicator fills `decision` (the value to keep; keep or drop for an `event` row) and `adjudicator`
    on every row; run the command again: once an article has no undecided row, seeds/sheets/<article_id>.csv is
    written from the agreed values and the decisions, and only those rows of the article are built.
    Exit 1 if a coder sheet or a decision has errors (nothing is written): a decision is checked as the
    codebook checks the sheets' cells.

    \b
    Example:
        eventdata adjudicate
    """
    from eventdata.adjudicate import adjudicate as run_adjudication
    from eventdata.adjudicate import summary

    run = run_adjudication(_dataset(ctx))
    for problem in run.problems:
        click.echo(problem.format(), err=True)
    if run.problems:
        click.echo("Nothing was written: fix the coder sheets or the decisions first.", err=True)
        ctx.exit(EXIT_INVALID)
    for problem in run.kept_aside:  # decisions whose difference is gone: kept at the end of their sheet
        click.echo(problem.format(), err=True)
    if as_json:
        click.echo(json.dumps(summary(run), indent=2, ensure_ascii=False))
        return
    if not run.articles:
        click.echo("No article is coded by two coders: nothing to adjudicate.", err=True)
    for item in summary(run):
        state = (
            f"{item['undecided']} of {item['differences']} undecided"
            if item["sheet"] is None
            else f"adjudicated: {item['events']} event(s) in {item['sheet']}"
        )
        click.echo(f"{item['adjudication_sheet']}: {state}")


def _chance(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """A score option: a finite number from 0 to 1 (FloatRange lets nan through: it compares false with both ends)."""
    if value is not None and value != value:  # nan, the one float unequal to itself
        raise click.BadParameter(f"{value} is not a number from 0 to 1.", ctx, param)
    return value


@cli.command()
@shows_progress
@click.option("--json", "as_json", is_flag=True, help="Print the candidates as JSON.")
@click.option("--days", default=3, show_default=True, type=click.IntRange(0, 30), help="Dates at most this far apart.")
@click.option(
    "--threshold",
    default=None,
    type=click.FloatRange(0, 1),
    callback=_chance,
    help="Lowest score listed, from 0 to 1 (default: eventdata.duplicates.DEFAULT_THRESHOLD).",
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=0), help="Candidates printed.")
@click.option("--write", is_flag=True, help="Add the new candidates to seeds/duplicates.csv, undecided, for a coder.")
@click.pass_context
def duplicates(ctx: click.Context, as_json: bool, days: int, threshold: float, limit: int, write: bool) -> None:
    """Pairs of events from different articles that are likely the same event, with their score and reasons.

    A coder marks each pair in seeds/duplicates.csv (decision: duplicate or distinct); deleting one event of a
    duplicate pair (seeds/deletions.csv) makes the release's changes/deleted.csv name the event it duplicated.
    Exit 1 if the sheets or seeds/duplicates.csv are invalid.

    \b
    Example:
        eventdata duplicates --days 2
        eventdata duplicates --write
    """
    from eventdata.duplicates import DEFAULT_THRESHOLD, append_candidates, find_candidates, new_candidates

    if threshold is None:
        threshold = DEFAULT_THRESHOLD

    dataset = _dataset(ctx)
    validation = validate_project(dataset)
    if not validation.report.valid:
        _print_report(validation.report, limit=100)
        ctx.exit(EXIT_INVALID)
    events = validation.events
    if validation.new_ids is not None and len(validation.new_ids):
        fresh = set(validation.new_ids["event_id_cnty"].astype(str))
        events = events[~events["event_id_cnty"].astype(str).isin(fresh)]
        click.echo(
            f"{len(fresh)} event(s) have no id yet and are left out: run `eventdata assign-ids` first, which writes "
            "their ids into the sheets.",
            err=True,
        )
    aliases = None
    if dataset.actors is not None:
        names = dataset.actors.names
        aliases = dict(zip(names["key"], names["actor"], strict=True))
    candidates = find_candidates(events, days=days, threshold=threshold, aliases=aliases)
    fresh_candidates = new_candidates(candidates, dataset.project)
    if as_json:
        rows = candidates.drop(columns=["row_a", "row_b"]).to_dict(orient="records")
        click.echo(json.dumps({"candidates": rows, "new": len(fresh_candidates)}, indent=2, ensure_ascii=False))
    else:
        click.echo(f"{len(candidates)} candidate pair(s), {len(fresh_candidates)} not yet in seeds/duplicates.csv")
        for row in candidates.head(limit).itertuples(index=False):
            click.echo(f"  {row.event_a} ~ {row.event_b}  score {row.score:.3f}: {row.reasons}")
    if write:
        added = append_candidates(candidates, dataset.project)
        click.echo(f"Added {added} pair(s) to seeds/duplicates.csv: mark each duplicate or distinct.", err=True)


def main() -> None:
    """Entry point: exit 0 ok, 1 invalid data, 2 could not run, 3 a bug (with traceback)."""
    try:
        cli.main(prog_name="eventdata", standalone_mode=True)
    except SystemExit:
        raise
    except Exception:  # noqa: BLE001  # the one place bugs are caught: report them, exit 3
        traceback.print_exc()
        click.echo("This is a bug in eventdata; please report it with the traceback above.", err=True)
        sys.exit(EXIT_BUG)
