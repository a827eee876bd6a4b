"""How a dial engine runs (``EngineSettings``, built once and passed down) and what a run reports."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from dialer.core.errors import InvalidInput
from dialer.store.nodes import DEFAULT_LEASE_S


def default_node_id() -> str:
    """Stable across restarts of the same host, so a restart can reconcile its own attempts."""
    return (os.environ.get("DIALER_NODE") or socket.gethostname() or "node")[:64]


def _default_lead_variables() -> dict[str, str]:
    return {"DIALER_LEAD_NAME": "name"}


@dataclass(frozen=True)
class EngineSettings:
    """How the engine runs; built once (by the CLI or a test) and passed down."""

    node_id: str = field(default_factory=default_node_id)
    tick_s: float = 0.25
    operator_poll_s: float = 0.25
    operator_retry_s: float = 5.0  # after the phone system refused a queue action for an operator
    queue_wrapup_s: float = 0.0  # the queues' wrapuptime: no call offered to an operator this long after one
    campaign_reload_s: float = 2.0
    shutdown_deadline_s: float = 30.0
    expire_after_s: float = 60.0  # silence after which an unconnected call is presumed lost
    max_call_s: float = 4 * 3600.0  # a connected call longer than this is presumed lost
    hangup_grace_s: float = 3.0  # after hanging up at shutdown, wait this long for the hang-ups
    hangup_hold_s: float = 1.0  # how long a causeless pre-answer hang-up waits for the originate's verdict
    abandon_refresh_s: float = 5.0  # how often the abandon rate is re-read from the store (all nodes)
    pacing_save_s: float = 2.0  # how often the pacing explanation is written for `dialer status`
    heartbeat_s: float = 5.0  # how often this node records that it is alive
    node_lease_s: float = DEFAULT_LEASE_S  # another node silent this long is taken over
    takeover_check_s: float = 2.0  # how often to look for gone (PostgreSQL: unlocked) or silent nodes
    lead_variables: Mapping[str, str] = field(default_factory=_default_lead_variables)

    def __post_init__(self) -> None:
        if not self.node_id or len(self.node_id) > 64:
            raise InvalidInput("node_id must be 1 to 64 characters")
        if min(self.tick_s, self.operator_poll_s, self.campaign_reload_s, self.abandon_refresh_s) <= 0:
            raise InvalidInput("intervals must be positive")
        if self.queue_wrapup_s < 0:
            raise InvalidInput("queue_wrapup_s must not be negative")
        if min(self.heartbeat_s, self.takeover_check_s) <= 0 or self.node_lease_s < 3 * self.heartbeat_s:
            raise InvalidInput("heartbeats must be positive and the node lease at least three of them")


@dataclass(frozen=True)
class RunReport:
    started: int
    outcomes: dict[str, int]
    reconciled: int
    hung_up_at_shutdown: int
    left: str = ""  # with until_done: what is left for later, and when it becomes callable
