"""Building the Originate for one attempt, with every lead-supplied value made safe.

Lead data comes from imported files: anyone who can get a row into a list
controls it. Asterisk treats a bare LF as a line end and a blank line as the end
of an action, so a CR or LF in a variable would let a lead inject AMI actions;
a comma would split one ``Variable`` into two and could overwrite the queue.
Values are cleaned here; the AMI adapter also refuses any header with CR, LF or
NUL, so a slip in one layer is caught by the other.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from campaigns.settings import DEFAULT_SAFE_HARBOUR_SOUND
from dialer.core.telephony import OriginateRequest
from dialer.policy.caller_id import caller_name, caller_number
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.direct import DIRECT_CONTEXT, check_interface

ANSWERED_CONTEXT = "dialer-answered"
MAX_VALUE_CHARS = 200
# Characters with a meaning inside Asterisk variable and application arguments.
_SPECIAL = frozenset(",|;\\\"'`$[]{}")


def safe_value(value: object, limit: int = MAX_VALUE_CHARS) -> str:
    """``value`` as one harmless line: control and separator characters become spaces."""
    text = "" if value is None else str(value)
    cleaned = "".join(" " if _unsafe(ch) else ch for ch in text)
    return " ".join(cleaned.split())[:limit]


def _unsafe(ch: str) -> bool:
    # Cc: controls (CR, LF, NUL, ...); Cf: invisible formats; Zl/Zp: line and paragraph separators.
    return ch in _SPECIAL or unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"}


def build_request(
    rules: CampaignRules,
    attempt_id: str,
    lead_id: int,
    phone: str,
    lead_data: Mapping[str, Any],
    lead_variables: Mapping[str, str],
) -> OriginateRequest:
    """The Originate for one attempt; ``lead_variables`` maps channel variable -> lead data key."""
    variables = {
        "DIALER_ATTEMPT": attempt_id,
        "DIALER_QUEUE": rules.queue,
        "DIALER_CONNECT_TIMEOUT": rules.connect_timeout_arg,
        "DIALER_AMD": "1" if rules.amd else "0",
        # The rules require a message on every abandoned call: an unset sound gets the default one.
        "DIALER_SAFE_HARBOUR": safe_value(rules.safe_harbour_sound or DEFAULT_SAFE_HARBOUR_SOUND),
        "DIALER_LEAD_ID": str(lead_id),
        # Shown on the operator's desk phone (dialer.policy.caller_id makes them safe).
        "DIALER_CUSTOMER_NUM": caller_number(phone),
        "DIALER_CUSTOMER_NAME": caller_name(lead_data, rules.callerid_name_column),
    }
    if rules.machine_message:
        variables["DIALER_MACHINE_MESSAGE"] = safe_value(rules.machine_message)
    for variable, key in lead_variables.items():
        if key in lead_data:
            variables[variable] = safe_value(lead_data[key])
    return OriginateRequest(
        attempt_id=attempt_id,
        channel=rules.channel_for(phone),
        context=ANSWERED_CONTEXT,
        exten="s",
        caller_id=safe_value(rules.caller_id),
        ring_timeout_s=rules.ring_timeout_s,
        variables=variables,
    )


def build_direct_request(
    rules: CampaignRules,
    attempt_id: str,
    lead_id: int,
    phone: str,
    lead_data: Mapping[str, Any],
    lead_variables: Mapping[str, str],
    interface: str,
) -> OriginateRequest:
    """The Originate of a call that, once answered, dials ``interface`` only (``dialer-direct``)."""
    queued = build_request(rules, attempt_id, lead_id, phone, lead_data, lead_variables)
    variables = dict(queued.variables) | {"DIALER_OPERATOR": check_interface(interface)}
    return replace(queued, context=DIRECT_CONTEXT, variables=variables)
