"""Where the AMI is and who logs in: ``ami://user:secret@host:port``."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from dialer.core.errors import InvalidInput

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
    except ValueError as exc:
        raise InvalidInput(f"AMI URL: {_masked(url)}: {exc}") from None
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
        raise InvalidInput(f"AMI URL takes no path or query: {_masked(url)}")
    return AmiSettings(
        host=parts.hostname,
        port=port or DEFAULT_PORT,
        username=unquote(parts.username),
        secret=unquote(password) if parts.password is not None else password,
    )


def _masked(url: str) -> str:
    """The URL with anything between ':' and '@' of the user part hidden, for error messages."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "<not a URL>"
    userinfo, at, hostpart = rest.rpartition("@")
    if not at:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{hostpart}"
