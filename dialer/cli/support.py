"""What every command module shares: the consoles, the per-invocation store, atomic file writes.

``cli.py`` and the command modules beside it (``dialer.cli.engine_commands``, ``dialer.cli.tool_commands``)
import this; it imports none of them, so the command tree has no import cycle.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

import typer
from rich.console import Console
from sqlalchemy.engine import Engine

from campaigns.store import open_store
from dialer.core.errors import InvalidInput

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
        opened = open_store(ctx.meta.get(DB_KEY) or os.environ.get("DIALER_DB"))
        ctx.meta[_STORE_KEY] = opened
        ctx.call_on_close(opened.dispose)
    return opened


def write_atomically(path: Path, write: Callable[[TextIO], T]) -> T:
    """Run ``write(handle)`` on a temporary file beside ``path`` and move it into place on success."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            result = write(handle)
        Path(name).replace(path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return result


AMI_HELP = (
    "ami://user[:secret]@host:port. Prefer DIALER_AMI_URL, and the secret in DIALER_AMI_SECRET: "
    "other users can read a command line."
)


def ami_settings(option: str | None) -> AmiSettings:
    """The PBX: ``--ami``, else ``DIALER_AMI_URL``; the secret may come from ``DIALER_AMI_SECRET``."""
    from dialer.ami.settings import parse_ami_url

    url = option or os.environ.get("DIALER_AMI_URL")
    if not url:
        raise InvalidInput("no phone system: set DIALER_AMI_URL=ami://user@host:port and DIALER_AMI_SECRET")
    settings = parse_ami_url(url, secret=os.environ.get("DIALER_AMI_SECRET"))
    if option and settings.secret and settings.secret in option:
        stderr.print(
            "[yellow]warning:[/yellow] the AMI secret is on the command line, where other users can "
            "read it; use DIALER_AMI_URL / DIALER_AMI_SECRET instead"
        )
    return settings
