"""``dialer campaign ...``: create, list, show, edit, pause, resume, stop, archive.

``create`` and ``edit`` take the same options with the same help; ``edit`` changes only
the ones given, and both are validated by ``campaigns.service.CampaignSpec.build``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from campaigns import service, steering
from campaigns.describe import describe
from campaigns.settings import DEFAULTS
from dialer.cli import schedule_commands
from dialer.cli.support import stdout, store
from dialer.core import numbers
from dialer.core.i18n import N_, _

campaign_app = typer.Typer(help="Create, inspect and steer campaigns.", no_args_is_help=True)

CampaignName = Annotated[str, typer.Argument(help="Campaign name.")]
Mode = Annotated[str, typer.Option(help="Pacing: progressive, predictive, ratio or preview.")]
Ratio = Annotated[float | None, typer.Option(help="Lines per ready operator (--mode ratio only).")]
Queue = Annotated[str, typer.Option(help="Asterisk queue that answered calls join (default: the name).")]
ShareQueue = Annotated[
    bool,
    typer.Option(
        "--share-queue",
        help="Allow a queue another campaign uses; operators of both then take calls of both.",
    ),
]
DialTemplate = Annotated[
    str, typer.Option(help="Channel to originate: {number} = E.164 digits without +, {e164} = with +.")
]
CallerId = Annotated[str, typer.Option(help="Caller ID presented to the called person.")]
Window = Annotated[
    str, typer.Option(help="Calling window in the lead's local time, HH:MM-HH:MM[,weekend HH:MM-HH:MM].")
]
ContactLimits = Annotated[
    str,
    typer.Option(
        help="Most conversations per number in rolling periods, N/PERIOD comma-separated "
        "(e.g. 1/1d,2/7d,8/31d; periods in h or d), counted over every campaign; "
        "profile ru-230fz. Empty: no limits.",
    ),
]
CallerIdNameColumn = Annotated[
    str,
    typer.Option(
        help="Lead column whose value the operator's phone shows as the caller's name "
        "(default: a name-like column such as ФИО, Имя or Name).",
    ),
]
RingTimeout = Annotated[int, typer.Option(help="Seconds to ring before giving up (at least 15).")]
MaxChannels = Annotated[int, typer.Option(help="Most calls in progress at once.")]
OriginateRate = Annotated[float, typer.Option(help="Most new calls per second.")]
MaxAttempts = Annotated[int, typer.Option(help="Attempts per lead before it is exhausted.")]
Retry = Annotated[
    list[str] | None, typer.Option(help="OUTCOME=DURATION retry delay, repeatable (e.g. busy=15m).")
]
ConnectLimit = Annotated[
    float, typer.Option(help="Seconds to connect an answered call before it counts as abandoned (<= 2).")
]
AbandonCap = Annotated[float, typer.Option(help="Most abandoned calls as a fraction of answered.")]
AbandonWindow = Annotated[
    str, typer.Option(help="Period the abandon cap is measured over: 30d (US) or 24h (UK).")
]
Amd = Annotated[bool, typer.Option("--amd/--no-amd", help="Answering-machine detection.")]
Shared = Annotated[
    bool,
    typer.Option(
        "--shared/--no-shared",
        help="Dialed by every node that serves it, each for its own operators (PostgreSQL).",
    ),
]
UkRule = Annotated[
    bool,
    typer.Option(
        "--uk-abandon-rule/--no-uk-abandon-rule", help="No repeat call within 72 h after an abandoned call."
    ),
]
Region = Annotated[str, typer.Option(help="Default country for numbers without a country code.")]
SafeHarbour = Annotated[
    str,
    typer.Option(
        help="Sound played when no operator takes an answered call within the connect limit: "
        "a name or path as Asterisk's Playback() sees it, without extension.",
    ),
]
MachineMessage = Annotated[
    str | None,
    typer.Option(help="Sound left on answering machines (with --amd), without extension; empty: none."),
]

WrapupLimit = Annotated[
    int,
    typer.Option(
        "--wrapup-limit",
        help="Keep an operator out of the queue after each call until their disposition, at most "
        "this many seconds (0: not held).",
    ),
]
WrapupCode = Annotated[
    str, typer.Option("--wrapup-code", help="Disposition code recorded when the wrap-up limit expires.")
]


@campaign_app.command("create")
def campaign_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Campaign name (unique).")],
    mode: Mode = DEFAULTS.mode.value,
    ratio: Ratio = None,
    queue: Queue = "",
    share_queue: ShareQueue = False,
    dial_template: DialTemplate = "",
    caller_id: CallerId = "",
    window: Window = DEFAULTS.calling_window,
    contact_limits: ContactLimits = "",
    callerid_name_column: CallerIdNameColumn = "",
    ring_timeout: RingTimeout = DEFAULTS.ring_timeout_s,
    max_channels: MaxChannels = DEFAULTS.max_channels,
    originate_rate: OriginateRate = DEFAULTS.originate_rate,
    max_attempts: MaxAttempts = DEFAULTS.max_attempts,
    retry: Retry = None,
    connect_limit: ConnectLimit = DEFAULTS.connect_limit_s,
    abandon_cap: AbandonCap = DEFAULTS.abandon_cap,
    abandon_window: AbandonWindow = DEFAULTS.abandon_window,
    amd: Amd = False,
    uk_abandon_rule: UkRule = False,
    region: Region = DEFAULTS.region,
    safe_harbour_sound: SafeHarbour = DEFAULTS.safe_harbour_sound,
    machine_message: MachineMessage = None,
    wrapup_limit: WrapupLimit = 0,
    wrapup_code: WrapupCode = "",
) -> None:
    """Create a campaign; every setting is checked before anything is stored."""
    spec = service.CampaignSpec.build(
        name,
        mode=mode,
        ratio=ratio,
        queue=queue,
        dial_template=dial_template,
        caller_id=caller_id,
        region=region,
        window=window,
        ring_timeout_s=ring_timeout,
        max_channels=max_channels,
        originate_rate=originate_rate,
        max_attempts=max_attempts,
        retry=retry or [],
        connect_limit_s=connect_limit,
        abandon_cap=abandon_cap,
        abandon_window=abandon_window,
        amd=amd,
        uk_abandon_rule=uk_abandon_rule,
        safe_harbour_sound=safe_harbour_sound,
        machine_message=machine_message,
        contact_limits=contact_limits,
        callerid_name_column=callerid_name_column,
        wrapup_limit_s=wrapup_limit,
        wrapup_code=wrapup_code,
    )
    campaign = service.create_campaign(store(ctx), spec, share_queue=share_queue)
    stdout.print(_("created campaign {name} (id {id})").format(name=escape(campaign.name), id=campaign.id))


@campaign_app.command("edit")
def campaign_edit(
    ctx: typer.Context,
    name: CampaignName,
    mode: Mode | None = None,
    ratio: Ratio = None,
    queue: Queue | None = None,
    share_queue: ShareQueue = False,
    dial_template: DialTemplate | None = None,
    caller_id: CallerId | None = None,
    window: Window | None = None,
    contact_limits: ContactLimits | None = None,
    callerid_name_column: CallerIdNameColumn | None = None,
    ring_timeout: RingTimeout | None = None,
    max_channels: MaxChannels | None = None,
    originate_rate: OriginateRate | None = None,
    max_attempts: MaxAttempts | None = None,
    retry: Retry = None,
    connect_limit: ConnectLimit | None = None,
    abandon_cap: AbandonCap | None = None,
    abandon_window: AbandonWindow | None = None,
    amd: Amd | None = None,
    uk_abandon_rule: UkRule | None = None,
    region: Region | None = None,
    safe_harbour_sound: SafeHarbour | None = None,
    machine_message: MachineMessage = None,
    wrapup_limit: WrapupLimit | None = None,
    wrapup_code: WrapupCode | None = None,
    shared: Shared | None = None,
) -> None:
    """Change a campaign's settings, checked as create checks them; a running engine applies them at once."""
    given: dict[str, Any] = {
        "mode": mode,
        "ratio": ratio,
        "queue": queue,
        "dial_template": dial_template,
        "caller_id": caller_id,
        "window": window,
        "contact_limits": contact_limits,
        "callerid_name_column": callerid_name_column,
        "ring_timeout_s": ring_timeout,
        "max_channels": max_channels,
        "originate_rate": originate_rate,
        "max_attempts": max_attempts,
        "retry": retry or None,
        "connect_limit_s": connect_limit,
        "abandon_cap": abandon_cap,
        "abandon_window": abandon_window,
        "amd": amd,
        "uk_abandon_rule": uk_abandon_rule,
        "region": region,
        "safe_harbour_sound": safe_harbour_sound,
        "machine_message": machine_message,
        "wrapup_limit_s": wrapup_limit,
        "wrapup_code": wrapup_code,
        "shared": shared,
    }
    changes = {key: value for key, value in given.items() if value is not None}
    edit = steering.edit_campaign(store(ctx), name, changes, share_queue=share_queue)
    if not edit.changes:
        stdout.print(_("campaign {name}: nothing changed").format(name=escape(edit.name)))
        return
    for key, (before, after) in edit.changes.items():
        stdout.print(f"{escape(edit.name)}: {key}: {escape(str(before))} -> {escape(str(after))}")


def _steer(ctx: typer.Context, name: str, action: str, effect: str) -> None:
    change = steering.change_state(store(ctx), name, action)
    stdout.print(f"{_('campaign')} {escape(change.name)}: {change.before} -> {change.after}; {_(effect)}")


@campaign_app.command("pause")
def campaign_pause(ctx: typer.Context, name: CampaignName) -> None:
    """No new calls; live calls finish; operators stay in the queue. Undo with resume."""
    _steer(ctx, name, "pause", N_("no new calls, live calls finish"))


@campaign_app.command("resume")
def campaign_resume(ctx: typer.Context, name: CampaignName) -> None:
    """Dial a paused, stopped or archived campaign again."""
    _steer(ctx, name, "resume", N_("a running engine dials it again"))


@campaign_app.command("stop")
def campaign_stop(ctx: typer.Context, name: CampaignName) -> None:
    """No new calls; live calls finish; then the engine lets the campaign and its queue go."""
    _steer(ctx, name, "stop", N_("no new calls, live calls finish, then its operators leave the queue"))


@campaign_app.command("archive")
def campaign_archive(ctx: typer.Context, name: CampaignName) -> None:
    """Hide a campaign from campaign list and status; refused while it has live calls."""
    _steer(ctx, name, "archive", N_("hidden from campaign list and status (--all shows it)"))


@campaign_app.command("list")
def campaign_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include archived campaigns.")] = False,
) -> None:
    """List campaigns with their state, mode, calling window and lead count."""
    engine = store(ctx)
    campaigns = service.list_campaigns(engine, archived=all_)
    if not campaigns:
        stdout.print(_("no campaigns yet: dialer campaign create NAME"))
        return
    for campaign in campaigns:
        assert campaign.id is not None
        leads = sum(service.lead_counts(engine, campaign.id).values())
        stdout.print(
            f"{escape(campaign.name)}\t{campaign.state}\t{campaign.mode}\t{campaign.calling_window}\t"
            + _("{count} leads").format(count=numbers.integer(leads))
        )


# campaign show's labels (campaigns.service.describe), translated where they are printed
SHOW_LABELS = (
    N_("name"), N_("state"), N_("mode"), N_("queue"), N_("dial template"), N_("caller id"), N_("region"),
    N_("calling window"), N_("ring timeout"), N_("max channels"), N_("originate rate"), N_("max attempts"),
    N_("retry"), N_("connect limit"), N_("abandon cap"), N_("amd"), N_("safe-harbour sound"),
    N_("machine message"), N_("uk abandon rule"), N_("contact limits"), N_("caller-id name column"),
    N_("wrap-up"), N_("shared"),
)  # fmt: skip


@campaign_app.command("show")
def campaign_show(ctx: typer.Context, name: CampaignName) -> None:
    """Show a campaign's state, settings and its leads by status."""
    engine = store(ctx)
    campaign = service.get_campaign(engine, name)
    assert campaign.id is not None
    for key, value in describe(campaign).items():
        stdout.print(f"{_(key) if key in SHOW_LABELS else key}: {escape(str(value))}")
    partners = steering.queue_partners_of(engine, campaign)
    if partners:
        stdout.print(_("queue shared with: {names}").format(names=escape(", ".join(partners))))
    counts = service.lead_counts(engine, campaign.id)
    total = sum(counts.values())
    detail = ", ".join(f"{status} {numbers.integer(count)}" for status, count in sorted(counts.items()))
    leads = _("leads: {count}").format(count=numbers.integer(total))
    stdout.print(leads + (f" ({detail})" if detail else ""))
    due = steering.next_due(engine, campaign.id)
    if due is not None:
        stdout.print(_("next call due: {due} UTC").format(due=f"{due:%Y-%m-%d %H:%M}"))
    schedule_commands.print_rules(engine, name)
