"""``dialer callbacks``: a campaign's settings for calls that go to one operator, and the callbacks
waiting. A thin shell over ``dialer.services.callbacks``; ``cli.py`` registers it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from dialer.cli.support import stdout, store
from dialer.services import callbacks

callbacks_app = typer.Typer(
    help="Callbacks and preview: per-campaign settings, what is waiting.", no_args_is_help=True
)


@callbacks_app.command("settings")
def callbacks_settings(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Argument(help="Campaign name.")],
    release_after: Annotated[
        str | None,
        typer.Option(
            help="A personal callback still waiting this long after its time goes to anyone (1m-7d)."
        ),
    ] = None,
    preview_hold: Annotated[
        str | None, typer.Option(help="How long a previewed lead stays reserved for its operator (10s-1h).")
    ] = None,
) -> None:
    """Show the campaign's callback and preview settings; change those given."""
    if release_after is None and preview_hold is None:
        shown = callbacks.show_settings(store(ctx), campaign)
    else:
        shown = callbacks.change_settings(store(ctx), campaign, release_after, preview_hold)
    stdout.print(
        f"{escape(shown.campaign)}: personal callbacks go to anyone after {shown.callback_release_s} s"
    )
    stdout.print(f"{escape(shown.campaign)}: a previewed lead stays reserved {shown.preview_hold_s} s")


@callbacks_app.command("list")
def callbacks_list(
    ctx: typer.Context,
    operator: Annotated[str, typer.Argument(help="Operator name.")],
) -> None:
    """The callbacks waiting for an operator (theirs, and those they set for anyone), in the lead's time."""
    for row in callbacks.upcoming(store(ctx), operator, limit=200):
        who = "personal" if row.personal else "anyone"
        stdout.print(f"{row.due_local:%Y-%m-%d %H:%M %Z}  {escape(row.phone)}  lead {row.lead_id}  {who}")


def register(app: typer.Typer) -> None:
    app.add_typer(callbacks_app, name="callbacks")
