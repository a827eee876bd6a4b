"""The logger handed to panoramisk, with the AMI secret blanked out of everything it prints."""

from __future__ import annotations

import logging
from typing import Any


class RedactingLog:
    """The logger handed to panoramisk: it may print whole actions, and the Login action holds the secret."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._log = logging.getLogger("dialer.ami.wire")

    def _emit(self, level: int, msg: str, *args: Any, exc_info: bool = False) -> None:
        if self._log.isEnabledFor(level):
            text = (msg % args) if args else msg
            self._log.log(
                level, text.replace(self._secret, "***") if self._secret else text, exc_info=exc_info
            )

    def debug(self, msg: str, *args: Any) -> None:
        self._emit(logging.DEBUG, msg, *args)

    def info(self, msg: str, *args: Any) -> None:
        self._emit(logging.INFO, msg, *args)

    def warning(self, msg: str, *args: Any) -> None:
        self._emit(logging.WARNING, msg, *args)

    def error(self, msg: str, *args: Any) -> None:
        self._emit(logging.ERROR, msg, *args)

    def exception(self, msg: str, *args: Any) -> None:
        self._emit(logging.ERROR, msg, *args, exc_info=True)
