"""Hang-up cause codes (ITU-T Q.850, as Asterisk reports them in ``Hangup`` events) and their names."""

from __future__ import annotations

CAUSES: dict[int, str] = {
    0: "Not defined",
    1: "Unallocated number",
    2: "No route to transit network",
    3: "No route to destination",
    6: "Channel unacceptable",
    7: "Call awarded, delivered in established channel",
    16: "Normal clearing",
    17: "User busy",
    18: "No user responding",
    19: "No answer",
    20: "Subscriber absent",
    21: "Call rejected",
    22: "Number changed",
    23: "Redirected to new destination",
    26: "Non-selected user clearing",
    27: "Destination out of order",
    28: "Invalid number format",
    29: "Facility rejected",
    30: "Response to status enquiry",
    31: "Normal, unspecified",
    34: "No circuit available",
    38: "Network out of order",
    41: "Temporary failure",
    42: "Switching equipment congestion",
    43: "Access information discarded",
    44: "Requested channel not available",
    47: "Resource unavailable",
    49: "Quality of service not available",
    50: "Facility not subscribed",
    53: "Outgoing calls barred within closed user group",
    55: "Incoming calls barred within closed user group",
    57: "Bearer capability not authorised",
    58: "Bearer capability not available",
    63: "Service or option not available",
    65: "Bearer capability not implemented",
    66: "Channel type not implemented",
    69: "Facility not implemented",
    79: "Service or option not implemented",
    81: "Invalid call reference",
    87: "User not member of closed user group",
    88: "Incompatible destination",
    91: "Invalid transit network",
    95: "Invalid message",
    96: "Mandatory information element missing",
    97: "Message type not implemented",
    98: "Message not compatible with call state",
    99: "Information element not implemented",
    100: "Invalid information element contents",
    101: "Message not compatible with call state",
    102: "Recovery on timer expiry",
    103: "Parameter not implemented",
    111: "Protocol error",
    127: "Interworking, unspecified",
}


def cause_name(code: int | None) -> str:
    """The cause's name; ``cause N`` for a code outside the table, empty for none."""
    if code is None:
        return ""
    return CAUSES.get(code, f"cause {code}")
