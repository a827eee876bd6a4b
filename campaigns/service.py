"""Campaign settings: validated once into a ``CampaignSpec``, then stored and read back.

Every setting is checked here with a message that names the option and the
allowed values, so the CLI only prints an ``InvalidInput`` as one line.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.contact_limits import format_limits, parse_limits
from campaigns.dispositions import DEFAULT_CODES
from campaigns.lifecycle import CampaignState
from campaigns.models import Campaign, DispositionCode, Lead, check_fits
from campaigns.queue_sharing import check_queue_free
from campaigns.region import check_region
from campaigns.retry import RetryPolicy
from campaigns.settings import DEFAULT_SAFE_HARBOUR_SOUND as DEFAULT_SAFE_HARBOUR_SOUND
from campaigns.settings import DEFAULTS, LEGAL_CONNECT_LIMIT_S, MIN_RING_TIMEOUT_S
from campaigns.settings import calling_window as calling_window
from campaigns.settings import contact_limits as contact_limits
from campaigns.settings import render_dial_template as render_dial_template
from campaigns.settings import retry_policy as retry_policy
from campaigns.store import session_scope
from campaigns.window import CallingWindow
from dialer.core.errors import InvalidInput, NotFound
from dialer.core.i18n import _
from dialer.core.modes import PacingMode

MODES = tuple(PacingMode)
ABANDON_WINDOWS = ("30d", "24h")
TEMPLATE_FIELDS = frozenset({"number", "e164"})
CONTACT_LIMITS_LENGTH = 64  # the column's size
_NAME = re.compile(r"[\w][\w .@+-]{0,99}")  # always with fullmatch: '$' lets a final newline through
_QUEUE = re.compile(r"[A-Za-z0-9_.-]{1,80}")
_CONTROL = re.compile(r"[\r\n\x00]")
# A sound as Playback() takes it: a name or path without extension. Characters that
# mean something in dialplan arguments (, | & ; $ quotes brackets) are refused.
_SOUND = re.compile(r"[A-Za-z0-9_/.+-]{1,255}")
_SOUND_EXTENSIONS = (".wav", ".gsm", ".ulaw", ".alaw", ".sln", ".sln16", ".g722", ".g729", ".mp3", ".ogg")


@dataclass(frozen=True)
class CampaignSpec:
    """A campaign's settings, valid by construction (use ``CampaignSpec.build``)."""

    name: str
    mode: str = DEFAULTS.mode
    ratio: float = DEFAULTS.ratio
    queue: str = ""
    dial_template: str = ""
    caller_id: str = ""
    region: str = DEFAULTS.region
    calling_window: str = DEFAULTS.calling_window
    ring_timeout_s: int = DEFAULTS.ring_timeout_s
    max_channels: int = DEFAULTS.max_channels
    originate_rate: float = DEFAULTS.originate_rate
    max_attempts: int = DEFAULTS.max_attempts
    retry_rules: dict[str, int] = field(default_factory=dict)  # outcome -> delay in seconds
    connect_limit_s: float = DEFAULTS.connect_limit_s
    abandon_cap: float = DEFAULTS.abandon_cap
    abandon_window: str = DEFAULTS.abandon_window
    amd: bool = False
    uk_abandon_rule: bool = False
    safe_harbour_sound: str = DEFAULTS.safe_harbour_sound
    machine_message: str | None = None
    contact_limits: str = ""  # canonical N/PERIOD list; "" = no limits
    callerid_name_column: str = ""  # the lead column the operator's phone shows as the caller's name
    wrapup_limit_s: int = 0  # wrap-up held until the disposition, at most this long; 0: not held
    wrapup_code: str = ""  # the disposition recorded when that limit expires

    @classmethod
    def build(
        cls,
        name: str,
        *,
        mode: str = DEFAULTS.mode,
        ratio: float | None = None,
        queue: str = "",
        dial_template: str = "",
        caller_id: str = "",
        region: str = DEFAULTS.region,
        window: str = DEFAULTS.calling_window,
        ring_timeout_s: int = DEFAULTS.ring_timeout_s,
        max_channels: int = DEFAULTS.max_channels,
        originate_rate: float = DEFAULTS.originate_rate,
        max_attempts: int = DEFAULTS.max_attempts,
        retry: list[str] | None = None,
        connect_limit_s: float = DEFAULTS.connect_limit_s,
        abandon_cap: float = DEFAULTS.abandon_cap,
        abandon_window: str = DEFAULTS.abandon_window,
        amd: bool = False,
        uk_abandon_rule: bool = False,
        safe_harbour_sound: str = DEFAULTS.safe_harbour_sound,
        machine_message: str | None = None,
        contact_limits: str = "",
        callerid_name_column: str = "",
        wrapup_limit_s: int = 0,
        wrapup_code: str = "",
    ) -> CampaignSpec:
        """Check every setting; raise ``InvalidInput`` naming the first bad one."""
        mode = mode.strip().lower()
        if mode not in MODES:
            raise InvalidInput(
                _("--mode {mode}: expected one of {modes}").format(mode=repr(mode), modes=", ".join(MODES))
            )
        if ratio is not None and mode != PacingMode.RATIO:
            raise InvalidInput("--ratio applies only to --mode ratio")
        if ratio is not None and not 1.0 <= ratio <= 10.0:
            raise InvalidInput(f"--ratio {ratio}: expected lines per operator between 1 and 10")
        _check_range(
            "--ring-timeout", ring_timeout_s, MIN_RING_TIMEOUT_S, 300, "seconds (15 is the legal minimum)"
        )
        _check_range("--max-channels", max_channels, 1, 1000, "channels")
        _check_range("--originate-rate", originate_rate, 0.1, 100, "calls per second")
        _check_range("--max-attempts", max_attempts, 1, 100, "attempts")
        _check_range("--abandon-cap", abandon_cap, 0.0, 0.5, "as a fraction, e.g. 0.03 for 3%")
        _check_range("--wrapup-limit", wrapup_limit_s, 0, 3600, "seconds (0: wrap-up not held)")
        if wrapup_limit_s > 0 and not wrapup_code.strip():
            raise InvalidInput("--wrapup-limit needs --wrapup-code: the disposition recorded when it expires")
        if not 0 < connect_limit_s <= LEGAL_CONNECT_LIMIT_S:
            raise InvalidInput(
                f"--connect-limit {connect_limit_s}: expected more than 0 and at most 2 seconds"
            )
        if abandon_window not in ABANDON_WINDOWS:
            raise InvalidInput(
                f"--abandon-window {abandon_window!r}: expected 30d (US TSR) or 24h (UK Ofcom)"
            )
        return cls(
            name=check_name(name),
            mode=mode,
            ratio=ratio if ratio is not None else DEFAULTS.ratio,
            queue=_check_queue(queue),
            dial_template=check_dial_template(dial_template) if dial_template else "",
            caller_id=_check_text("--caller-id", caller_id, 80),
            region=_check_region(region),
            calling_window=_check_window(window),
            ring_timeout_s=ring_timeout_s,
            max_channels=max_channels,
            originate_rate=originate_rate,
            max_attempts=max_attempts,
            retry_rules=_check_retry(retry or [], max_attempts, uk_abandon_rule),
            connect_limit_s=connect_limit_s,
            abandon_cap=abandon_cap,
            abandon_window=abandon_window,
            amd=amd,
            uk_abandon_rule=uk_abandon_rule,
            safe_harbour_sound=check_sound("--safe-harbour-sound", safe_harbour_sound),
            machine_message=check_sound("--machine-message", machine_message) if machine_message else None,
            contact_limits=_check_contact_limits(contact_limits),
            callerid_name_column=_check_text("--callerid-name-column", callerid_name_column.strip(), 100),
            wrapup_limit_s=wrapup_limit_s,
            wrapup_code=wrapup_code.strip(),
        )


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"campaign name {name!r}: 1-100 characters, letters, digits, space and _ . @ + - "
            "(starting with a letter or digit)"
        )
    return name


def check_dial_template(template: str) -> str:
    """A channel such as ``PJSIP/{number}@trunk``: one of ``{number}`` or ``{e164}``, nothing else."""
    if _CONTROL.search(template):
        raise InvalidInput("--dial-template must not contain CR, LF or NUL")
    try:
        fields = [
            (name, spec, conv)
            for _, name, spec, conv in string.Formatter().parse(template)
            if name is not None
        ]
    except ValueError as exc:
        raise InvalidInput(f"--dial-template {template!r}: {exc}") from None
    for name, spec, conv in fields:
        if name not in TEMPLATE_FIELDS:
            raise InvalidInput(
                f"--dial-template {template!r}: unknown placeholder {{{name}}}; use {{number}} or {{e164}}"
            )
        if spec or conv:
            raise InvalidInput(f"--dial-template {template!r}: placeholders take no format spec")
    if not fields:
        raise InvalidInput(f"--dial-template {template!r}: must contain {{number}} or {{e164}}")
    return template


def check_sound(option: str, sound: str) -> str:
    """A sound file as Asterisk's Playback() takes it: a name or path, without extension."""
    if _CONTROL.search(sound):
        raise InvalidInput(f"{option} must not contain CR, LF or NUL")
    sound = sound.strip()
    if not _SOUND.fullmatch(sound):
        raise InvalidInput(
            f"{option} {sound!r}: a sound name or path as Asterisk sees it, "
            "1-255 letters, digits and / _ . + - (e.g. /var/lib/asterisk/sounds/custom/offer)"
        )
    if sound.lower().endswith(_SOUND_EXTENSIONS):
        raise InvalidInput(f"{option} {sound!r}: give it without the extension; Asterisk picks the format")
    return sound


# --- store -----------------------------------------------------------------------------


def create_campaign(store: Engine, spec: CampaignSpec, share_queue: bool = False) -> Campaign:
    """Store a new campaign; a queue another campaign uses is refused unless ``share_queue``."""
    with session_scope(store) as session:
        if _find(session, spec.name) is not None:
            raise InvalidInput(_("campaign {name} already exists").format(name=repr(spec.name)))
        check_queue_free(session, spec.name, spec.queue, share_queue)
        if spec.wrapup_code and spec.wrapup_code not in {c.code for c in DEFAULT_CODES}:
            raise InvalidInput(
                f"--wrapup-code {spec.wrapup_code!r}: not one of the campaign's disposition codes"
            )
        campaign = Campaign(**asdict(spec))
        check_fits(campaign, {key: "--" + key.replace("_", "-") for key in asdict(spec)})
        session.add(campaign)
        session.flush()
        for position, code in enumerate(DEFAULT_CODES, start=1):
            session.add(
                DispositionCode(
                    campaign_id=campaign.id,
                    code=code.code,
                    label=code.label,
                    label_ru=code.label_ru,
                    final=code.final and code.retry_in_s is None,
                    retry_in_s=code.retry_in_s,
                    dnc=code.dnc,
                    callback=code.callback,
                    position=position,
                )
            )
        session.refresh(campaign)
        return campaign


def list_campaigns(store: Engine, archived: bool = False) -> list[Campaign]:
    """Campaigns by name; archived ones only when asked for."""
    query = select(Campaign).order_by(Campaign.name)
    if not archived:
        query = query.where(Campaign.state != CampaignState.ARCHIVED.value)
    with Session(store) as session:
        return list(session.exec(query).all())


def get_campaign(store: Engine, name: str) -> Campaign:
    with Session(store) as session:
        return find_campaign(session, name)


def find_campaign(session: Session, name: str) -> Campaign:
    """The campaign called ``name``, or ``NotFound`` listing the names that exist."""
    campaign = _find(session, name)
    if campaign is None:
        raise NotFound(_("unknown campaign {name}").format(name=repr(name)) + _known(session))
    return campaign


def find_campaigns(session: Session, names: Sequence[str]) -> list[Campaign]:
    """The campaigns called ``names``, by name, or ``NotFound`` naming every one that does not exist."""
    wanted = {name.strip() for name in names}
    found = session.exec(select(Campaign).where(col(Campaign.name).in_(wanted)).order_by(Campaign.name)).all()
    missing = wanted - {c.name for c in found}
    if missing:
        unknown = ", ".join(repr(name) for name in sorted(missing))
        raise NotFound(_("unknown campaign {name}").format(name=unknown) + _known(session))
    return list(found)


def _known(session: Session) -> str:
    names = session.exec(select(Campaign.name).order_by(Campaign.name).limit(10)).all()
    if not names:
        return " (" + _("no campaigns yet: dialer campaign create NAME") + ")"
    return " (" + _("known: {names}").format(names=", ".join(names)) + ")"


def lead_counts(store: Engine, campaign_id: int) -> dict[str, int]:
    """Leads per status."""
    with Session(store) as session:
        rows = session.exec(
            select(Lead.status, func.count()).where(Lead.campaign_id == campaign_id).group_by(Lead.status)
        ).all()
    return {status: int(count) for status, count in rows}


def _find(session: Session, name: str) -> Campaign | None:
    return session.exec(select(Campaign).where(Campaign.name == name.strip())).first()


def _check_range(option: str, value: float, low: float, high: float, unit: str) -> None:
    if not low <= value <= high:
        raise InvalidInput(f"{option} {value:g}: expected {low:g} to {high:g} {unit}")


def _check_text(option: str, value: str, limit: int) -> str:
    if _CONTROL.search(value):
        raise InvalidInput(f"{option} must not contain CR, LF or NUL")
    if len(value) > limit:
        raise InvalidInput(f"{option}: at most {limit} characters")
    return value


def _check_queue(queue: str) -> str:
    if queue and not _QUEUE.fullmatch(queue):
        raise InvalidInput(f"--queue {queue!r}: 1-80 letters, digits and _ . -")
    return queue


def _check_region(region: str) -> str:
    try:
        return check_region(region)
    except InvalidInput as exc:
        raise InvalidInput(f"--region: {exc}") from None


def _check_window(text: str) -> str:
    try:
        return str(CallingWindow.parse(text))
    except ValueError as exc:
        raise InvalidInput(f"--window: {exc}") from None


def _check_contact_limits(text: str) -> str:
    try:
        canonical = format_limits(parse_limits(text))
    except ValueError as exc:
        raise InvalidInput(f"--contact-limits: {exc}") from None
    if len(canonical) > CONTACT_LIMITS_LENGTH:
        raise InvalidInput(f"--contact-limits {text!r}: at most {CONTACT_LIMITS_LENGTH} characters")
    return canonical


def _check_retry(items: list[str], max_attempts: int, uk_abandon_rule: bool) -> dict[str, int]:
    base = RetryPolicy(max_attempts=max_attempts, uk_abandon_rule=uk_abandon_rule)
    rules: dict[str, int] = {}
    for item in items:
        key = item.partition("=")[0].strip().lower()
        if key in {"max_attempts", "uk_abandon_rule"}:
            raise InvalidInput(f"--retry {item!r}: use --{key.replace('_', '-')} instead")
        try:
            policy = RetryPolicy.parse_overrides([item], base)
        except ValueError as exc:
            raise InvalidInput(f"--retry: {exc}") from None
        delay: timedelta = getattr(policy, key)
        rules[key] = int(delay.total_seconds())
    return rules
