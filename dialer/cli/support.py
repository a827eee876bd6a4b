"""What every command module shares: the consoles, the per-invocation store, safe file writes.

``cli.py`` and the command modules beside it (``dialer.cli.engine_commands``, ``dialer.cli.tool_commands``)
import this; it imports none of them, so the command tree has no import cycle.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from campaigns.store import open_store, resolve_url
from dialer.core.errors import InvalidInput
from dialer.core.i18n import _
from lists.safe_write import OutputRules, store_files

if TYPE_CHECKING:
    from dialer.ami.settings import AmiSettings

DB_KEY = "dialer.db"
_STORE_KEY = "dialer.store"

T = TypeVar("T")

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def store(ctx: typer.Context) -> Engine:
    """The store for this invocation, opened (and migrated) on first use."""
    opened: Engine | None = ctx.meta.get(_STORE_KEY)
    if opened is None:
        db = ctx.meta.get(DB_KEY) or os.environ.get("DIALER_DB")
        _refuse_memory(db)
        opened = open_store(db)
        ctx.meta[_STORE_KEY] = opened
        ctx.call_on_close(opened.dispose)
    return opened


def _refuse_memory(db: str | None) -> None:
    """A store in memory ends with the command: every change would be lost without a word."""
    url = resolve_url(db)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return  # open_store names the problem
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and (
        database in ("", ":memory:") or "mode=memory" in url or database.startswith("file::memory:")
    ):
        raise InvalidInput(
            _(
                "--db :memory: keeps the store in memory, lost when the command ends: "
                "give a file or a server URL"
            )
        )


FollowSymlinks = Annotated[
    bool,
    typer.Option(
        "--follow-symlinks",
        help="If the output is a symbolic link, write to the file it points to (refused otherwise).",
    ),
]


def output_rules(
    ctx: typer.Context, inputs: Sequence[Path] = (), follow_symlinks: bool = False, label: str = "output"
) -> OutputRules:
    """What this invocation's output must never be: the store's files, the command's inputs."""
    url = resolve_url(ctx.meta.get(DB_KEY) or os.environ.get("DIALER_DB"))
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return OutputRules(inputs=tuple(inputs), follow_symlinks=follow_symlinks, label=label)
    files = store_files(parsed.database) if parsed.get_backend_name() == "sqlite" else []
    return OutputRules(store=files, inputs=tuple(inputs), follow_symlinks=follow_symlinks, label=label)


AMI_HELP = (
    "ami://user[:secret]@host:port. Prefer DIALER_AMI_URL, and the secret in DIALER_AMI_SECRET: "
    "other users can read a command line."
)


def ami_settings(option: str | None) -> AmiSettings:
    """The PBX: ``--ami``, else ``DIALER_AMI_URL``; the secret may come from ``DIALER_AMI_SECRET``."""
    from dialer.ami.settings import parse_ami_url

    url = option or os.environ.get("DIALER_AMI_URL")
    if not url:
        raise InvalidInput(
            _("no phone system: set DIALER_AMI_URL=ami://user@host:port and DIALER_AMI_SECRET")
        )
    settings = parse_ami_url(url, secret=os.environ.get("DIALER_AMI_SECRET"))
    if option and settings.secret and settings.secret in option:
        stderr.print(
            "[yellow]warning:[/yellow] the AMI secret is on the command line, where other users can "
            "read it; use DIALER_AMI_URL / DIALER_AMI_SECRET instead"
        )
    return settings
