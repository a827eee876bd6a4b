"""The console's commands: ``dialer console``, ``users``, ``pause-codes``, ``dispositions``,
``scripts``. A thin shell over ``dialer.services``; ``cli.py`` registers them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from dialer.cli.support import stdout, store
from dialer.core.errors import InvalidInput
from dialer.core.i18n import _
from dialer.services import accounts, console, dispositions, pause_codes, survey

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
        password = typer.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    if not password:
        raise InvalidInput(_("an empty password is not allowed"))
    return password


def _print_user(user: accounts.UserView) -> None:
    operator = f", {_('operator')} {escape(user.operator)}" if user.operator else ""
    off = f" ({_('disabled')})" if user.disabled else ""
    stdout.print(f"{escape(user.name)}: {user.role.value}{operator}, {_('language')} {user.language}{off}")


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
        stdout.print(_("no users yet: dialer users add NAME --role operator --operator OPNAME"))
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
        stdout.print(_("no pause codes: a pause needs no reason (dialer pause-codes add CODE --label ...)"))
    for view in codes:
        stdout.print(f"{escape(view.code)}: {escape(view.label)}")


@pause_codes_app.command("remove")
def pause_codes_remove(ctx: typer.Context, code: Annotated[str, typer.Argument(help="The code.")]) -> None:
    """Remove a pause code."""
    pause_codes.remove_pause_code(store(ctx), code)
    stdout.print(_("removed {code}").format(code=escape(code)))


def _print_code(view: dispositions.CodeView) -> None:
    fate = _("final") if view.final else _("retry in {seconds}s").format(seconds=view.retry_in_s)
    extra = "".join([", dnc" if view.dnc else "", ", " + _("callback") if view.callback else ""])
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
    stdout.print(_("removed {code} from {campaign}").format(code=escape(code), campaign=escape(campaign)))


def _read_script(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(_("{file}: no such file").format(file=file)) from None
    except IsADirectoryError:
        raise InvalidInput(_("{file} is a directory, not a file").format(file=file)) from None
    except UnicodeDecodeError:
        raise InvalidInput(_("{file} is not UTF-8 text").format(file=file)) from None
    except OSError as exc:
        raise InvalidInput(
            _("cannot read {file}: {problem}").format(file=file, problem=exc.strerror)
        ) from None


@scripts_app.command("set")
def scripts_set(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Argument(help="Campaign name.")],
    file: Annotated[Path, typer.Argument(help="UTF-8 text file; {column} is filled from the lead.")],
) -> None:
    """Set a campaign's call script from a text file."""
    body = _read_script(file)
    console.set_script(store(ctx), campaign, body)
    stdout.print(
        _("script of {campaign}: {count} characters").format(campaign=escape(campaign), count=len(body))
    )


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
    stdout.print(f"{escape(q.key)} ({_kind(q)}): {escape(q.text)}")


def _kind(question: survey.QuestionView) -> str:
    return question.kind + (", " + _("required") if question.required else "")


@survey_app.command("list")
def survey_list(ctx: typer.Context, campaign: Annotated[str, typer.Argument(help="Campaign name.")]) -> None:
    """List a campaign's survey questions."""
    for q in survey.list_questions(store(ctx), campaign):
        choices = f" [{escape(' | '.join(q.choices))}]" if q.choices else ""
        stdout.print(f"{escape(q.key)} ({_kind(q)}): {escape(q.text)}{choices}")


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
        raise InvalidInput(_("--port {port}: expected 1-65535").format(port=port))
    app = create_app(store(ctx), secure_cookies=secure_cookies)
    stdout.print(_("console on {url} (Ctrl+C stops it)").format(url=f"http://{escape(host)}:{port}/"))
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False)


def register(app: typer.Typer) -> None:
    """Add the console's commands to the root command."""
    app.add_typer(users_app, name="users")
    app.add_typer(pause_codes_app, name="pause-codes")
    app.add_typer(dispositions_app, name="dispositions")
    app.add_typer(scripts_app, name="scripts")
    app.add_typer(survey_app, name="survey")
    app.command("console")(console_command)
