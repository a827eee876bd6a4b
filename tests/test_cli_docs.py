"""Every command has help text and is documented in docs/cli.md, options included.

The command tree is walked, so commands added later are held to the same rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from cli import app

DOCS = (Path(__file__).parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")


def leaf_commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    children = getattr(command, "commands", None)
    if children is None:
        yield path, command
        return
    for name, child in children.items():
        yield from leaf_commands(child, (*path, name))


COMMANDS = list(leaf_commands(typer.main.get_command(app)))


def test_the_tree_has_the_foundation_commands() -> None:
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert {"campaign create", "campaign list", "campaign show", "lists import", "dnc add", "dnc import",
            "dnc check", "dnc remove", "export leads"} <= paths  # fmt: skip


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_command_has_help_and_is_documented(path: tuple[str, ...], command: Any) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0
    assert (command.help or "").strip(), f"dialer {' '.join(path)} has no help text"
    assert f"`dialer {' '.join(path)}" in DOCS, f"dialer {' '.join(path)} is missing from docs/cli.md"
    section = DOCS.split(f"`dialer {' '.join(path)}", 1)[1].split("\n### ", 1)[0]
    for param in command.params:
        for opt in [*param.opts, *getattr(param, "secondary_opts", [])]:
            if opt.startswith("--") and opt not in {"--help", "--db"}:
                assert opt in section, f"{opt} of dialer {' '.join(path)} is not in its docs/cli.md section"


def test_global_options_are_documented() -> None:
    for option in ["--db", "DIALER_DB", "--version"]:
        assert option in DOCS
