"""The product's exceptions, in two families as httpx draws its own: "you used it wrongly" and
"the outside world failed".

    DialerError                  anything the product raises on purpose
    ├── UserError                you used it wrongly; the CLI prints one red line, exit code 2
    │   ├── NotFound             an unknown campaign, operator, list or number
    │   └── InvalidInput         a file, setting or argument that cannot be used (also a ValueError)
    │       └── FieldRejected    one field of a lead or do-not-call row (phone, time zone, consent);
    │                            importers reject the row with this reason and go on
    └── TelephonyError           the outside world failed: the phone system failed or refused
        ├── HeaderRejected       a header carried CR, LF or NUL (AMI injection guard)
        └── ConnectionFailed     could not reach or log in to the phone system

Library code raises these, never a bare ``ValueError``: a caller catches ``UserError`` to report a
mistake and ``TelephonyError`` to wait for or report the phone system. ``InvalidInput`` is also a
``ValueError``, so code written against the standard contract (``except ValueError``) still works.
"""

from __future__ import annotations


class DialerError(Exception):
    """Base of every exception the product raises on purpose."""


class UserError(DialerError):
    """A mistake in what the user asked for; shown as one line, exit code 2."""


class NotFound(UserError):
    """No campaign, operator, list or number of that name."""


class InvalidInput(UserError, ValueError):
    """A value that cannot be used; the message names it and what is expected."""


class FieldRejected(InvalidInput):
    """One field of a row is unusable: not a dialable number, an unknown time zone, unclear consent."""


class TelephonyError(DialerError):
    """The phone system failed or refused what was asked."""


class HeaderRejected(TelephonyError):
    pass


class ConnectionFailed(TelephonyError):
    pass
