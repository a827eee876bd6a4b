"""The product's exceptions.

    DialerError                  anything the product raises on purpose
    ├── UserError                you used it wrongly: bad input, unknown name; the CLI prints one line
    │   ├── NotFound             an unknown campaign, operator or list
    │   └── InvalidInput         a file or setting that cannot be used
    └── TelephonyError           the phone system failed or refused
        ├── HeaderRejected       a header carried CR, LF or NUL (AMI injection guard)
        └── ConnectionFailed     could not reach or log in to the phone system
"""

from __future__ import annotations


class DialerError(Exception):
    """Base of every exception the product raises on purpose."""


class UserError(DialerError):
    """A mistake in what the user asked for; shown as one line, exit code 2."""


class NotFound(UserError):
    pass


class InvalidInput(UserError):
    pass


class TelephonyError(DialerError):
    pass


class HeaderRejected(TelephonyError):
    pass


class ConnectionFailed(TelephonyError):
    pass
