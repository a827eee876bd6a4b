"""``dialer pbx check``: log in to a PBX and name what the dialer would miss there."""

from __future__ import annotations

from collections.abc import Sequence

from dialer.ami.client import AmiTelephony
from dialer.ami.settings import AmiSettings
from dialer.core.errors import ConnectionFailed, TelephonyError
from dialer.pbx.config import ANSWERED_CONTEXT, DIRECT_CONTEXT

# For each write class the dialer needs, an action that the class allows and that is
# harmless: it lacks a required header, so Asterisk refuses it after the rights check.
_RIGHTS_PROBES: tuple[tuple[str, str, dict[str, str]], ...] = (
    (
        "originate",
        "Originate",
        {"Context": ANSWERED_CONTEXT, "Exten": "s", "Priority": "1", "Async": "false"},
    ),
    ("call", "Hangup", {}),
    ("agent", "QueuePause", {}),
    ("reporting", "ShowDialPlan", {"Context": ANSWERED_CONTEXT}),
)


async def check_pbx(target: AmiTelephony | AmiSettings | str, queues: Sequence[str]) -> list[str]:
    """Problems found, one line each; an empty list means the PBX is ready for these queues."""
    if isinstance(target, AmiTelephony):
        return await _check(target, queues)
    try:
        telephony = await AmiTelephony.connect(target)
    except ConnectionFailed as exc:
        return [str(exc)]
    try:
        return await _check(telephony, queues)
    finally:
        await telephony.close()


async def _check(telephony: AmiTelephony, queues: Sequence[str]) -> list[str]:
    problems: list[str] = []
    try:
        for right, action, headers in _RIGHTS_PROBES:
            reply = (await telephony.action(action, headers, as_list=False))[0]
            if "Permission denied" in str(reply.get("Message", "")):
                problems.append(f"the AMI user lacks write right '{right}' (needed for {action})")
        for context in (ANSWERED_CONTEXT, DIRECT_CONTEXT):
            dialplan = await telephony.action("ShowDialPlan", {"Context": context})
            if "Permission denied" in str(dialplan[0].get("Message", "")):
                break  # already reported as the missing 'reporting' right
            if not any(m.get("Context") == context for m in dialplan):
                problems.append(f"dialplan context '{context}' not found: #include extensions_dialer.conf")
        summary = await telephony.action("QueueSummary", as_list=True)
        present = {str(m.get("Queue")) for m in summary if m.get("Event") == "QueueSummary"}
        for queue in queues:
            if queue not in present:
                problems.append(
                    f"queue '{queue}' not found: #include queues_dialer.conf and reload app_queue"
                )
    except TelephonyError as exc:
        problems.append(str(exc))
    return problems
