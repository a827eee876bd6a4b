"""The root command group: ``--db`` on every command, and every mistake as one red line.

A ``UserError``, a phone system that cannot be reached, a store that cannot be used (damaged,
locked, read-only) and a usage mistake (unknown option, a word where a number goes) each end in
one line on stderr and exit code 2; exit code 1 means something unexpected. Every invocation
speaks the locale's language (``LC_ALL``, ``LC_MESSAGES``, ``LANG``) unless ``--lang`` says otherwise.
"""

from __future__ import annotations

import copy
import os
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from sqlalchemy.exc import DBAPIError
from typer.core import TyperGroup
from typer.exceptions import TyperException

from campaigns.store import store_problem
from dialer.cli.support import DB_KEY, stderr
from dialer.core import i18n
from dialer.core.errors import TelephonyError, UserError
from dialer.core.i18n import _

DB_HELP = "Store: a SQLAlchemy URL or a SQLite file path (default ./dialer.db)."


def _remember_db(ctx: typer.Context, value: str | None) -> None:
    if value is not None:
        ctx.meta[DB_KEY] = value


def _db_option() -> Any:
    """A ``--db`` option object, built by Typer from a one-option command."""
    template = typer.Typer()

    @template.command()
    def _template(
        db: Annotated[
            str | None,
            typer.Option(
                "--db",
                envvar="DIALER_DB",
                metavar="URL",
                help=DB_HELP,
                expose_value=False,
                callback=_remember_db,
            ),
        ] = None,
    ) -> None:
        pass

    return typer.main.get_command(template).params[0]


class DialerGroup(TyperGroup):
    """The root group: gives every command ``--db`` and turns user errors into one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        option = _db_option()
        for command in _leaf_commands(self):
            if not any("--db" in getattr(p, "opts", ()) for p in command.params):
                command.params.append(copy.copy(option))

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Usage mistakes (unknown option, a word where a number goes) are one line too, exit code 2."""
        language = i18n.use(i18n.from_locale(os.environ))  # --lang, read later, may change it
        try:
            return self._main(*args, **kwargs)
        finally:
            i18n.restore(language)

    def _main(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("standalone_mode", True):
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except TyperException as exc:  # click's usage errors, as Typer ships them
            ctx = getattr(exc, "ctx", None)
            where = ctx.command_path if ctx is not None else "dialer"
            message = escape(_one_line(exc.format_message())[:300])
            if message:  # empty after the help of a bare group was printed
                stderr.print(f"[red]{_('error:')}[/red] {message} ({_('see')} {escape(where)} --help)")
            sys.exit(exc.exit_code)
        except typer.Abort:
            stderr.print(_("aborted"))
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            stderr.print(f"[red]{_('error:')}[/red] {escape(_one_line(_(str(exc))))}")
            raise typer.Exit(2) from None
        except TelephonyError as exc:  # the phone system cannot be reached or refused the login
            stderr.print(f"[red]{_('error:')}[/red] {escape(_one_line(_(str(exc))))}")
            raise typer.Exit(2) from None
        except DBAPIError as exc:  # locked, read-only or gone while the command ran
            stderr.print(f"[red]{_('error:')}[/red] {escape(_one_line(_(store_problem(exc))))}")
            raise typer.Exit(2) from None


def _leaf_commands(group: TyperGroup) -> list[Any]:
    found: list[Any] = []
    for command in group.commands.values():
        if isinstance(command, TyperGroup):
            found.extend(_leaf_commands(command))
        else:
            found.append(command)
    return found


def _one_line(message: str) -> str:
    return " ".join(message.split())
