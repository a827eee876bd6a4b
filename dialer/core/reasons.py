"""Why a number, a row or a call was refused: stable English texts, shown in the reader's language.

A reason is produced, stored, counted and compared in English, as written here: a rejects
file's reason column is read back by people and scripts alike, the importer counts numbers
left out by reason, and the engine stores why it placed no call. ``shown`` gives a reason in
the language of the moment, where it is displayed. A fixed reason is looked up as it is; one
made from a template below is matched against it and shown with its values, each of which is
shown in turn (the parser's "no digits" in "not a phone number: no digits"). A text that is
neither is shown as it is.
"""

from __future__ import annotations

import re
import string
from functools import cache

from dialer.core.i18n import N_, gettext

NO_PHONE = N_("no phone number")
NOT_A_NUMBER = N_("not a phone number: {why}")
NOT_VALID = N_("not a valid number")
SCIENTIFIC = N_("scientific notation {text}: digits were lost, the number cannot be recovered")
PREMIUM = N_("a premium-rate number: calling it costs money, and it reaches a service, not a person")
EMERGENCY = N_("short number {digits}: an emergency number, never dialled")
SERVICE = N_("short number {digits}: a service number, not a subscriber's")
LOOKALIKE = N_(
    "the letter '{letters}' stands among the digits where '{digits}' would be "
    "(a look-alike letter): correct the number"
)
PARSE_ERRORS = (N_("unknown country code"), N_("no digits"), N_("too short"), N_("too long"))
CANNOT_READ = N_("cannot read it")
ON_DNC = N_("on the do-not-call list")
DUPLICATE = N_("duplicate of row {row}")
IN_CAMPAIGN = N_("already in the campaign")
ANOTHER_LEADS = N_("another lead's number")
NO_USABLE = N_("no usable number: {reasons}")
CONSENT = N_("consent {value}: expected yes or no")
NO_COMMON_TIME = N_("no common calling time across their candidate zones")
NO_ZONE = N_("no time zone is known for this number")
UNKNOWN_ZONE = N_("unknown time zone {zones}")
NEVER_OPENS = N_(
    "the calling window {window} never opens in all {count} candidate zones at once "
    "({span} around {date}); set the lead's own time zone or region"
)
# Why a pacer placed no call (its explanation, which ``dialer status`` shows).
NO_READY = N_("no ready operator")
NOBODY_LOGGED_IN = N_("no operator logged in")
AT_CEILING = N_("at the ceiling")
HALTED = N_("campaign {state}: no new calls")
HALTED_AS = (  # the states a campaign is halted in, each worded on its own
    N_("campaign paused: no new calls"),
    N_("campaign stopped: no new calls"),
    N_("campaign archived: no new calls"),
)
# Why a call may not be placed now, or a callback not set for a time (the gate's and the callback
# check's verdicts: the console shows them at the operator's field).
ON_A_DNC = N_("on a do-not-call list")
OUTSIDE_WINDOW = N_("outside the calling window")
NO_CALLABLE_WEEK = N_("no callable time in the coming week")
ATTEMPTS_MADE = N_("{attempts} attempts made")
EVERY_NUMBER_DNC = N_("every number is on a do-not-call list")
CONTACT_LIMITS = N_("contact limits: next call from {at} UTC")
NOT_ALLOWED = N_("not allowed now: {why}")
# In the zone the operator entered the time in (the lead's), named.
CALLBACK_OUTSIDE = N_("outside the calling window; the next allowed time is {at} ({zone})")
CALLBACK_LIMITS = N_("the campaign's contact limits allow the next call from {at} ({zone})")
IN_THE_PAST = N_("the time is in the past")
TOO_FAR_AHEAD = N_("at most 60 days ahead")
# What the console answers a form with (each value shown at its field).
AT_MOST = N_("at most {limit} characters")
UNKNOWN_CODE = N_("unknown disposition code {code}")
DISPOSED = N_("this call already has the disposition {code}")
NOTE_TOO_LONG = N_("the note is longer than {limit} characters")

TEMPLATES = (
    NOT_A_NUMBER,
    SCIENTIFIC,
    EMERGENCY,
    SERVICE,
    LOOKALIKE,
    DUPLICATE,
    NO_USABLE,
    CONSENT,
    UNKNOWN_ZONE,
    NEVER_OPENS,
    HALTED,
    ATTEMPTS_MADE,
    CONTACT_LIMITS,
    NOT_ALLOWED,
    CALLBACK_OUTSIDE,  # before the reasons joined by "; " below: it is one reason
    CALLBACK_LIMITS,
    AT_MOST,
    UNKNOWN_CODE,
    DISPOSED,
    NOTE_TOO_LONG,
    # Reasons joined into one (a cell's numbers, each with its own): each part shown alike.
    "{first}; {rest}",
    "{number}: {why}",
)


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each template as a pattern that matches the reasons made from it."""
    found = []
    for template in TEMPLATES:
        regex = "".join(
            re.escape(literal) + (f"(?P<{name}>.+?)" if name else "")
            for literal, name, _spec, _conv in string.Formatter().parse(template)
        )
        found.append((re.compile(regex, re.DOTALL), template))
    return tuple(found)


def shown(reason: str, lang: str | None = None) -> str:
    """``reason`` in ``lang`` (default: the language of the moment)."""
    exact = gettext(reason, lang)
    if exact != reason:
        return exact
    for pattern, template in _patterns():
        match = pattern.fullmatch(reason)
        if match is not None:
            values = {name: shown(value, lang) for name, value in match.groupdict().items()}
            return gettext(template, lang).format(**values)
    return reason
