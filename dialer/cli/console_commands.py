"""The console's commands: ``dialer console``, ``users``, ``pause-codes``, ``dispositions``,
``scripts``. A thin shell over ``dialer.services``; ``cli.py`` registers them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from dialer.cli.support import output_rules, stdout, store
from dialer.core.errors import InvalidInput
from dialer.services import accounts, console, dispositions, lead_edits, pause_codes, survey
from lists.safe_write import check_output, write_text

users_app = typer.Typer(help="Console accounts: operators, supervisors, admins.", no_args_is_help=True)
pause_codes_app = typer.Typer(help="Reasons an operator may give for a pause.", no_args_is_help=True)
dispositions_app = typer.Typer(help="A campaign's disposition codes.", no_args_is_help=True)
scripts_app = typer.Typer(help="A campaign's call script.", no_args_is_help=True)
survey_app = typer.Typer(help="A campaign's survey questions.", no_args_is_help=True)

UserName = Annotated[str, typer.Argument(help="User name (the console login).")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input (for scripts).")
]


def _password(from_stdin: bool) -> str:
    """The password, asked twice on a terminal or read from stdin: never from the command line."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise InvalidInput("an empty password is not allowed")
    return password


def _print_user(user: accounts.UserView) -> None:
    operator = f", operator {escape(user.operator)}" if user.operator else ""
    off = " (disabled)" if user.disabled else ""
    stdout.print(f"{escape(user.name)}: {user.role.value}{operator}, language {user.language}{off}")


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: UserName,
    role: Annotated[str, typer.Option(help="operator, supervisor or admin.")],
    operator: Annotated[
        str | None, typer.Option(help="The operator (queue member) an operator's account takes calls as.")
    ] = None,
    language: Annotated[str, typer.Option(help="Console language: ru or en.")] = "ru",
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a console account; the password is asked twice (or read with --password-stdin)."""
    password = _password(password_stdin)
    _print_user(accounts.add_user(store(ctx), name, role, password, operator, language))


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    """List console accounts."""
    users = accounts.list_users(store(ctx))
    if not users:
        stdout.print("no users yet: dialer users add NAME --role operator --operator OPNAME")
    for user in users:
        _print_user(user)


@users_app.command("disable")
def users_disable(ctx: typer.Context, name: UserName) -> None:
    """Disable an account and end its sessions."""
    _print_user(accounts.set_disabled(store(ctx), name, True))


@users_app.command("enable")
def users_enable(ctx: typer.Context, name: UserName) -> None:
    """Enable a disabled account again."""
    _print_user(accounts.set_disabled(store(ctx), name, False))


@users_app.command("passwd")
def users_passwd(ctx: typer.Context, name: UserName, password_stdin: PasswordStdin = False) -> None:
    """Set a new password (asked twice, or read with --password-stdin); ends the account's sessions."""
    password = _password(password_stdin)
    _print_user(accounts.set_password(store(ctx), name, password))


@pause_codes_app.command("add")
def pause_codes_add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Short code, e.g. lunch.")],
    label: Annotated[str, typer.Option(help="What the operator sees.")],
) -> None:
    """Add a pause code (or relabel one)."""
    view = pause_codes.add_pause_code(store(ctx), code, label)
    stdout.print(f"{escape(view.code)}: {escape(view.label)}")


@pause_codes_app.command("list")
def pause_codes_list(ctx: typer.Context) -> None:
    """List pause codes."""
    codes = pause_codes.list_pause_codes(store(ctx))
    if not codes:
        stdout.print("no pause codes: a pause needs no reason (dialer pause-codes add CODE --label ...)")
    for view in codes:
        stdout.print(f"{escape(view.code)}: {escape(view.label)}")


@pause_codes_app.command("remove")
def pause_codes_remove(ctx: typer.Context, code: Annotated[str, typer.Argument(help="The code.")]) -> None:
    """Remove a pause code."""
    pause_codes.remove_pause_code(store(ctx), code)
    stdout.print(f"removed {escape(code)}")


def _print_code(view: dispositions.CodeView) -> None:
    fate = "final" if view.final else f"retry in {view.retry_in_s}s"
    extra = "".join([", dnc" if view.dnc else "", ", callback" if view.callback else ""])
    ru = f" / {escape(view.label_ru)}" if view.label_ru else ""
    stdout.print(f"{view.key}. {escape(view.code)}: {escape(view.label)}{ru} ({fate}{extra})")


@dispositions_app.command("add")
def dispositions_add(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Argument(help="Campaign name.")],
    code: Annotated[str, typer.Argument(help="Short code stored on the attempt, e.g. sale.")],
    label: Annotated[str, typer.Option(help="What the operator sees (English).")],
    label_ru: Annotated[str, typer.Option(help="What the operator sees in Russian.")] = "",
    final: Annotated[bool, typer.Option("--final", help="Close the lead (the default).")] = False,
    retry_in: Annotated[
        str | None, typer.Option(help="Not final: call the lead again after this delay, e.g. 2h.")
    ] = None,
    dnc: Annotated[
        bool, typer.Option("--dnc", help="Put the number on the global do-not-call list.")
    ] = False,
    callback: Annotated[bool, typer.Option("--callback", help="The code asks for a callback.")] = False,
) -> None:
    """Add a disposition code to a campaign (or change the one with that code)."""
    _print_code(
        dispositions.add_code(
            store(ctx),
            campaign,
            code,
            label,
            label_ru=label_ru,
            final=final,
            retry_in=retry_in,
            dnc=dnc,
            callback=callback,
        )
    )


@dispositions_app.command("list")
def dispositions_list(
    ctx: typer.Context, campaign: Annotated[str, typer.Argument(help="Campaign name.")]
) -> None:
    """List a campaign's disposition codes with their number keys."""
    for view in dispositions.list_codes(store(ctx), campaign):
        _print_code(view)


@dispositions_app.command("remove")
def dispositions_remove(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Argument(help="Campaign name.")],
    code: Annotated[str, typer.Argument(help="The code.")],
) -> None:
    """Remove a disposition code from a campaign."""
    dispositions.remove_code(store(ctx), campaign, code)
    stdout.print(f"removed {escape(code)} from {escape(campaign)}")


@scripts_app.command("set")
def scripts_set(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Argument(help="Campaign name.")],
    file: Annotated[Path, typer.Argument(help="UTF-8 text file; {column} is filled from the lead.")],
) -> None:
    """Set a campaign's call script from a text file."""
    try:
        body = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {file}: {exc}") from None
    console.set_script(store(ctx), campaign, body)
    stdout.print(f"script of {escape(campaign)}: {len(body)} characters")


@scripts_app.command("show")
def scripts_show(ctx: typer.Context, campaign: Annotated[str, typer.Argument(help="Campaign name.")]) -> None:
    """Print a campaign's call script."""
    stdout.print(escape(console.get_script(store(ctx), campaign)), markup=True, highlight=False)


@survey_app.command("add")
def survey_add(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Argument(help="Campaign name.")],
    key: Annotated[str, typer.Argument(help="Short key: the answers export's column, e.g. age.")],
    text: Annotated[str, typer.Option(help="The question as the operator reads it.")],
    kind: Annotated[str, typer.Option(help="text, single, multi or number.")] = "text",
    choice: Annotated[list[str] | None, typer.Option(help="A choice (repeatable; single and multi).")] = None,
    required: Annotated[bool, typer.Option("--required", help="No disposition without an answer.")] = False,
) -> None:
    """Add a survey question to a campaign; answers are stored per attempt."""
    q = survey.add_question(store(ctx), campaign, key, text, kind, choice or [], required)
    stdout.print(f"{escape(q.key)} ({q.kind}{', required' if q.required else ''}): {escape(q.text)}")


@survey_app.command("list")
def survey_list(ctx: typer.Context, campaign: Annotated[str, typer.Argument(help="Campaign name.")]) -> None:
    """List a campaign's survey questions."""
    for q in survey.list_questions(store(ctx), campaign):
        choices = f" [{escape(' | '.join(q.choices))}]" if q.choices else ""
        stdout.print(
            f"{escape(q.key)} ({q.kind}{', required' if q.required else ''}): {escape(q.text)}{choices}"
        )


def export_answers_command(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Option(help="Campaign whose answers to export.")],
    output: Annotated[str, typer.Option("-o", "--output", help="File to write, or - for stdout.")],
) -> None:
    """Export survey answers: one row per connected attempt, a column per question."""
    engine = store(ctx)
    survey.list_questions(engine, campaign)  # an unknown campaign leaves no empty file behind
    if output == "-":
        survey.export_answers(engine, campaign, sys.stdout)
        return
    rules = output_rules(ctx, label="-o")
    check_output(output, rules)
    count = write_text(output, lambda handle: survey.export_answers(engine, campaign, handle), rules)
    stdout.print(f"exported {count} attempts to {escape(output)}")


def export_lead_edits_command(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Option(help="Campaign whose lead edits to export.")],
    output: Annotated[str, typer.Option("-o", "--output", help="File to write, or - for stdout.")],
) -> None:
    """Export the audit of lead edits made in the console: who, when, field, old and new value."""
    engine = store(ctx)
    lead_edits.lead_audit(engine, campaign)  # an unknown campaign leaves no empty file behind
    if output == "-":
        lead_edits.export_audit(engine, campaign, sys.stdout)
        return
    rules = output_rules(ctx, label="-o")
    check_output(output, rules)
    count = write_text(output, lambda handle: lead_edits.export_audit(engine, campaign, handle), rules)
    stdout.print(f"exported {count} lead edits to {escape(output)}")


def console_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Send the session cookie only over HTTPS (behind TLS).")
    ] = False,
) -> None:
    """Serve the operator console (by default on 127.0.0.1:8080)."""
    import uvicorn

    from dialer.web.app import create_app

    if not 0 < port < 65536:
        raise InvalidInput(f"--port {port}: expected 1-65535")
    app = create_app(store(ctx), secure_cookies=secure_cookies)
    stdout.print(f"console on http://{escape(host)}:{port}/ (Ctrl+C stops it)")
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False)


def register(app: typer.Typer, export_app: typer.Typer) -> None:
    """Add the console's commands to the root command and ``dialer export``."""
    app.add_typer(users_app, name="users")
    app.add_typer(pause_codes_app, name="pause-codes")
    app.add_typer(dispositions_app, name="dispositions")
    app.add_typer(scripts_app, name="scripts")
    app.add_typer(survey_app, name="survey")
    export_app.command("answers")(export_answers_command)
    export_app.command("lead-edits")(export_lead_edits_command)
    app.command("console")(console_command)
