"""Where the AMI is and who logs in: ``ami://user:secret@host:port``."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from dialer.ami.headers import check_header
from dialer.core.errors import HeaderRejected, InvalidInput

DEFAULT_PORT = 5038


@dataclass(frozen=True)
class AmiSettings:
    host: str
    port: int
    username: str
    secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"AmiSettings(host={self.host!r}, port={self.port}, username={self.username!r}, secret=***)"

    @property
    def masked_url(self) -> str:
        return f"ami://{self.username}:***@{self.host}:{self.port}"


def parse_ami_url(url: str, secret: str | None = None) -> AmiSettings:
    """Parse ``ami://user:secret@host[:port]`` (port 5038 by default); user and secret may be %-escaped.

    ``secret`` is used when the URL carries none (``ami://user@host``), so the secret can come
    from somewhere other than a command line, which other users of the machine can read.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        # The parser's own message quotes the part it choked on, which may be the secret.
        raise InvalidInput(f"AMI URL is malformed: {_masked(url)}; {_ESCAPE_HINT}") from None
    if parts.scheme != "ami":
        raise InvalidInput(f"AMI URL must start with ami:// (got {_masked(url)})")
    if not parts.hostname:
        raise InvalidInput(f"AMI URL has no host: {_masked(url)}")
    password = parts.password if parts.password is not None else secret
    if not parts.username or password is None:
        raise InvalidInput(
            f"AMI URL needs a user and a secret, as ami://user:secret@host:port: {_masked(url)}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInput(f"AMI URL takes no path or query: {_masked(url)}; {_ESCAPE_HINT}")
    settings = AmiSettings(
        host=parts.hostname,
        port=port or DEFAULT_PORT,
        username=unquote(parts.username),
        secret=unquote(password) if parts.password is not None else password,
    )
    check_login(settings)
    return settings


def check_login(settings: AmiSettings) -> None:
    """The Login action's headers through the same guard as every action's; the secret never shown."""
    try:
        check_header("Username", settings.username)
        check_header("Secret", settings.secret)
    except HeaderRejected:
        raise InvalidInput(
            "AMI user or secret contains a line break or NUL, or is too long: it cannot be sent to Asterisk"
        ) from None


_ESCAPE_HINT = (
    "write it as ami://user@host:port with the secret in DIALER_AMI_SECRET, "
    "or %-escape '/', '#', '?', '@' and ':' in the user and secret"
)
_SHOWN = 60


def _masked(url: str) -> str:
    """The URL for error messages: the user and host only, never any part of the secret."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        return "<not a URL>"
    userinfo, at, hostpart = rest.rpartition("@")
    if not at:  # no '@': whatever follows a ':' may be a secret the user meant to put there
        shown = rest.split(":", 1)[0] + (":***" if ":" in rest else "")
    else:
        user = userinfo.split(":", 1)[0].split("/", 1)[0]
        shown = f"{user}:***@{hostpart}"
    text = " ".join(f"{scheme[:10]}://{shown}".split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
