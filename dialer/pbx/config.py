"""The Asterisk configuration the dialer ships, rendered by pure functions.

A user ``#include``s three files into their own PBX (``dialer pbx config --out DIR``):

- ``manager_dialer.conf``: one least-privilege AMI user, reachable from 127.0.0.1 only;
- ``extensions_dialer.conf``: context ``dialer-answered``, the flow of an answered call
  (optional AMD, the campaign's queue with a short connect timeout, else the safe-harbour message),
  and ``dialer-direct``, the same for a call that goes to one operator's own interface;
- ``queues_dialer.conf``: one queue per campaign.

The sandbox Asterisk of the tests loads these same files.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from dialer.core.errors import InvalidInput
from dialer.core.i18n import _
from dialer.pbx.sounds import write_safe_harbour_sound
from lists.safe_write import OutputRules, check_output, shown, write_text

ANSWERED_CONTEXT = "dialer-answered"
DIRECT_CONTEXT = "dialer-direct"  # a call for one operator (dialer.policy.direct)
SAFE_HARBOUR_FILE = "dialer-safe-harbour.wav"

# What the engine's AMI user needs, and nothing more (each checked against Asterisk 22):
#   read  call        Newstate, Hangup, OriginateResponse
#   read  agent       QueueCallerJoin, AgentConnect, QueueMember* events
#   read  user        UserEvent (DialerAMD, DialerSafeHarbour)
#   write originate   Originate of a Context/Exten (no Application, so no "system")
#   write call        Hangup
#   write agent       QueueAdd, QueueRemove, QueuePause
#   write reporting   ShowDialPlan and CoreShowChannels (`dialer pbx check`, reconciling after a reconnect)
# QueueStatus, QueueSummary and Ping need no class at all.
AMI_READ = ("call", "agent", "user")
AMI_WRITE = ("originate", "call", "agent", "reporting")
# The events the engine reads (dialer.ami.tracker); Asterisk drops the rest before
# sending them. A connected call raises about 40 events, of which these are about
# 14: parsing the others would cost the engine more CPU than its own bookkeeping.
# QueueMember and CoreShowChannel answer actions and are listed in case a version
# filters those too. The ``eventfilter(name(...))`` syntax came with Asterisk 22.0
# (and the 18, 20 and 21 updates of late 2024); the engine works without the filter,
# only with more CPU, so on an older release these lines may simply be removed.
AMI_EVENTS = (
    "Newstate",
    "Hangup",
    "OriginateResponse",
    "UserEvent",
    "QueueCallerJoin",
    "AgentConnect",
    "QueueMemberAdded",
    "QueueMemberStatus",
    "QueueMemberPause",
    "QueueMemberRemoved",
    "QueueMember",
    "CoreShowChannel",
)

# Queue and AMI user names, always with fullmatch: a pattern ending in '$' lets a final newline through.
QUEUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

# The queues' wrapuptime `dialer pbx config` writes, and the one `dialer run` assumes, unless told.
DEFAULT_WRAPUP_S = 5


@dataclass(frozen=True)
class QueueSpec:
    """One campaign's queue."""

    name: str
    strategy: str = "rrmemory"
    wrapup_s: int = 0
    member_timeout_s: int = 15

    def __post_init__(self) -> None:
        if not QUEUE_NAME.fullmatch(self.name):
            raise InvalidInput(
                _("queue name {name!r}: use letters, digits, '.', '_' or '-'").format(name=self.name)
            )
        if self.strategy not in ("rrmemory", "leastrecent", "fewestcalls", "random", "ringall", "linear"):
            raise InvalidInput(
                _("queue {name}: unknown strategy {strategy!r}").format(
                    name=self.name, strategy=self.strategy
                )
            )
        if self.wrapup_s < 0 or self.member_timeout_s <= 0:
            raise InvalidInput(
                _("queue {name}: wrap-up must be >= 0 and member timeout > 0").format(name=self.name)
            )


@dataclass(frozen=True)
class AmdSettings:
    """Arguments of AMD(), in milliseconds; tuned to decide within ~2.5 s instead of the default 5 s."""

    initial_silence: int = 2000
    greeting: int = 1500
    after_greeting_silence: int = 800
    total_analysis_time: int = 2500
    min_word_length: int = 100
    between_words_silence: int = 50
    maximum_number_of_words: int = 3
    silence_threshold: int = 256
    maximum_word_length: int = 3000

    def as_args(self) -> str:
        return ",".join(
            str(v)
            for v in (
                self.initial_silence,
                self.greeting,
                self.after_greeting_silence,
                self.total_analysis_time,
                self.min_word_length,
                self.between_words_silence,
                self.maximum_number_of_words,
                self.silence_threshold,
                self.maximum_word_length,
            )
        )


@dataclass(frozen=True)
class PbxConfigFiles:
    manager: Path
    extensions: Path
    queues: Path
    safe_harbour_sound: Path
    ami_user: str
    ami_secret: str


def render_template(name: str, values: Mapping[str, str]) -> str:
    """Fill ``@@KEY@@`` placeholders of a file under ``dialer/pbx/templates`` (``${...}`` is Asterisk's)."""
    text = (resources.files("dialer.pbx") / "templates" / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    left = re.findall(r"@@[A-Z_]+@@", text)
    if left:
        raise InvalidInput(f"template {name}: no value for {', '.join(sorted(set(left)))}")
    return text


def _check_value(label: str, value: str) -> str:
    # These land in config files: a newline or ';' would start a new setting or a comment.
    if not value or any(c in value for c in "\r\n\0;[]") or value != value.strip():
        raise InvalidInput(
            _("{label}: must be non-empty, one line, without ';', '[' or ']'").format(label=label)
        )
    return value


def render_manager(ami_user: str, ami_secret: str, bind: str = "127.0.0.1") -> str:
    """The AMI user's section; ``bind`` is the one address allowed to log in as it."""
    if not QUEUE_NAME.fullmatch(ami_user):
        raise InvalidInput(
            _("AMI user {user}: use letters, digits, '.', '_' or '-'").format(user=shown(repr(ami_user)))
        )
    _check_value("AMI secret", ami_secret)
    address = _bind_address(bind)
    permit = f"{address}/255.255.255.255" if address.version == 4 else f"{address}/128"
    return (
        "; Outbound dialer: its AMI user. Generated by `dialer pbx config`.\n"
        "; Include it from manager.conf:   #include manager_dialer.conf\n"
        "; and keep AMI itself on the loopback in manager.conf [general]:\n"
        ";     enabled = yes\n"
        f";     bindaddr = {address}\n"
        "\n"
        f"[{ami_user}]\n"
        f"secret = {ami_secret}\n"
        "deny = 0.0.0.0/0.0.0.0\n"
        + ("deny = ::/0\n" if address.version == 6 else "")
        + f"permit = {permit}\n"
        f"read = {','.join(AMI_READ)}\n"
        f"write = {','.join(AMI_WRITE)}\n"
        "writetimeout = 1000\n"
        "; Only the events the dialer reads (Asterisk's advanced event filters).\n"
        + "".join(f"eventfilter(action(include),name({name})) =\n" for name in AMI_EVENTS)
    )


def _bind_address(bind: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The one address the AMI user may log in from: an IP address, not a network or a name."""
    try:
        address = ipaddress.ip_address(bind)
    except ValueError:
        address = None
    if address is None or getattr(address, "scope_id", None):
        raise InvalidInput(
            _("--bind {bind}: give one IP address, e.g. 127.0.0.1").format(bind=shown(repr(bind)))
        )
    return address


def render_extensions(amd: AmdSettings | None = None) -> str:
    return render_template("extensions_dialer.conf.in", {"AMD_ARGS": (amd or AmdSettings()).as_args()})


# Refuse to queue (and leave the queue) at once when nobody could take the call within
# the connect timeout: no members, all paused, all unreachable. The person hears the
# safe-harbour message at once instead of silence. Members on a call, ringing or in
# wrap-up still count: one may be free within the 2 seconds, which is what predictive
# pacing bets on. "unknown" counts too: SIP phones without qualify report it while fine.
_NOBODY_READY = "paused,unavailable,invalid"


def render_queue(spec: QueueSpec) -> str:
    return (
        f"[{spec.name}]\n"
        f"strategy = {spec.strategy}\n"
        "ringinuse = no\n"
        "autofill = yes\n"
        "timeoutpriority = app\n"
        f"timeout = {spec.member_timeout_s}\n"
        "retry = 1\n"
        f"wrapuptime = {spec.wrapup_s}\n"
        f"joinempty = {_NOBODY_READY}\n"
        f"leavewhenempty = {_NOBODY_READY}\n"
        "announce-frequency = 0\n"
        "announce-holdtime = no\n"
        "announce-position = no\n"
        "periodic-announce-frequency = 0\n"
        "setinterfacevar = yes\n"
        "autopause = no\n"
        "maxlen = 0\n"
    )


def render_queues(queues: Sequence[QueueSpec]) -> str:
    names = [q.name for q in queues]
    if len(set(names)) != len(names):
        raise InvalidInput(_("queue names must be unique"))
    header = (
        "; Outbound dialer: one queue per campaign. Generated by `dialer pbx config`.\n"
        "; Include it from queues.conf:   #include queues_dialer.conf\n"
        "; Asterisk 12+ always sends the member and caller events the dialer reads\n"
        "; (QueueMemberStatus, AgentCalled, AgentConnect, QueueCallerJoin/Leave).\n"
    )
    return header + "".join("\n" + render_queue(q) for q in queues)


# Every file is replaced whole (temporary file, fsync, rename) and never through a symbolic link:
# a link planted in the folder must not carry the AMI secret, or our text, somewhere else.
_SECRET = OutputRules(secret=True, label="--out")
_PLAIN = OutputRules(label="--out")


def write_pbx_config(
    out_dir: Path | str,
    queues: Sequence[QueueSpec],
    ami_user: str,
    ami_secret: str | None,
    bind: str = "127.0.0.1",
    amd: AmdSettings | None = None,
) -> PbxConfigFiles:
    """Write the three include files and the default safe-harbour sound into ``out_dir``.

    ``ami_secret=None`` generates a random secret; it is returned, never logged.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidInput(_("--out {path}: exists and is not a folder").format(path=shown(out)))
    out.mkdir(parents=True, exist_ok=True)
    secret = ami_secret if ami_secret is not None else secrets.token_urlsafe(24)
    files = PbxConfigFiles(
        manager=out / "manager_dialer.conf",
        extensions=out / "extensions_dialer.conf",
        queues=out / "queues_dialer.conf",
        safe_harbour_sound=out / SAFE_HARBOUR_FILE,
        ami_user=ami_user,
        ami_secret=secret,
    )
    manager, extensions = render_manager(ami_user, secret, bind), render_extensions(amd)
    queue_text = render_queues(queues)
    for path in (files.manager, files.extensions, files.queues, files.safe_harbour_sound):
        check_output(path, _SECRET if path == files.manager else _PLAIN)  # all refused before any is written
    write_text(files.manager, lambda handle: handle.write(manager), _SECRET)
    write_text(files.extensions, lambda handle: handle.write(extensions), _PLAIN)
    write_text(files.queues, lambda handle: handle.write(queue_text), _PLAIN)
    write_safe_harbour_sound(files.safe_harbour_sound)
    return files
