"""Docs, help text and code check each other: every command is documented, with an example."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
import pytest

from eventdata.cli import cli
from eventdata.errors import PROBLEM_CODES
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
KEBAB_CASE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
CLICK_IMPORT = re.compile(r"^\s*(?:import\s+click\b|from\s+click(?:\.\w+)*\s+import\b)", re.MULTILINE)
CODE_BLOCK = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def walk(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    """Every command below group, as (full name, command), subcommands included."""
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        yield full, command
        if isinstance(command, click.Group):
            yield from walk(command, f"{full} ")


COMMANDS = dict(walk(cli))


def test_docs_cli_has_commands() -> None:
    assert {"init", "validate", "build", "codebook"} <= set(COMMANDS)


@pytest.mark.parametrize("name", ["", *COMMANDS])
def test_docs_command_help_has_example(name: str) -> None:
    command = COMMANDS[name] if name else cli
    assert command.help, f"eventdata {name} has no help text"
    assert "Example:" in command.help, f"eventdata {name} help has no 'Example:' block"
    example = command.help.split("Example:", 1)[1]
    assert f"eventdata {name}".strip() in example, f"the example of eventdata {name} does not run it"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_docs_command_in_readme(name: str) -> None:
    assert f"eventdata {name}" in README, f"README.md does not mention `eventdata {name}`"


def test_docs_click_imported_only_in_cli() -> None:
    package = REPO / "eventdata"
    importing = sorted(
        path.relative_to(REPO).as_posix()
        for path in package.rglob("*.py")
        if CLICK_IMPORT.search(path.read_text(encoding="utf-8"))
    )
    assert importing == ["eventdata/cli.py"]


def test_docs_readme_first_code_block_sets_up_builds_and_tests() -> None:
    first = CODE_BLOCK.search(README)
    assert first is not None
    commands = [
        line.strip() for line in first.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(commands) == 2, commands
    build, test = commands
    assert build.endswith("eventdata build"), build
    assert test.endswith('python -m pytest -m "not slow and not network"'), test
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()  # CI runs the README's test command, then the slow tests
    assert '.venv/bin/python -m pytest -m "slow and not network"' in ci.splitlines()
    for command in commands:
        assert "-c requirements.lock" in command, command


def test_docs_problem_codes_are_kebab_case() -> None:
    assert PROBLEM_CODES
    bad = [code for code in PROBLEM_CODES if not KEBAB_CASE.fullmatch(code)]
    assert bad == []
    assert all(description.strip() for description in PROBLEM_CODES.values())
