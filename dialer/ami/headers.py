"""The AMI injection guard: every header key and value is checked before anything is written.

Asterisk ends a header at a bare LF as well as at CRLF, and an empty line ends the
action; a lead's name carrying ``\\r\\n\\r\\nAction: ...`` would otherwise make
Asterisk run an action of the lead's choosing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dialer.core.errors import HeaderRejected
from dialer.core.telephony import LINE_BREAKS

MAX_LINE_BYTES = 1023  # Asterisk reads header lines into a 1024-byte buffer

HeaderValue = str | Sequence[str]


def check_header(key: str, value: str) -> None:
    if not key or any(c in key for c in (*LINE_BREAKS, ":", " ")):
        raise HeaderRejected(f"AMI header name {key!r} is not allowed")
    if any(c in value for c in LINE_BREAKS):
        # The value may carry personal data: name the header, not its content.
        raise HeaderRejected(f"AMI header {key} contains a line break or NUL")
    if len(f"{key}: {value}\r\n".encode()) > MAX_LINE_BYTES:
        raise HeaderRejected(f"AMI header {key} is longer than {MAX_LINE_BYTES} bytes")


def check_action(action: Mapping[str, HeaderValue]) -> None:
    """Raise ``HeaderRejected`` unless every line of ``action`` is safe to send."""
    for key, value in action.items():
        values = [value] if isinstance(value, str) else list(value)
        for item in values:
            if not isinstance(item, str):
                raise HeaderRejected(f"AMI header {key} must be text")
            check_header(key, item)


def variable(name: str, value: str) -> str:
    """One Originate ``Variable`` entry, ``NAME=value``."""
    if not name or "=" in name or any(c in name for c in (*LINE_BREAKS, " ", ",")):
        raise HeaderRejected(f"channel variable name {name!r} is not allowed")
    return f"{name}={value}"
