"""The rejects CSV of an import: every row not imported, with its 1-based row number and why.

The reason is written in the language of the moment (``dialer.core.reasons``): the file is
for the person who fixes the rows.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from dialer.core.reasons import shown
from lists.safe_write import OutputRules, SafeOutput


class RejectsWriter:
    """The rejects CSV, written beside its final path and moved there only if the import succeeds."""

    def __init__(self, path: Path, headers: list[str], rules: OutputRules) -> None:
        self.path = path
        self._headers = headers
        self._output = SafeOutput(path, rules)
        self._writer: Any = None

    def write(self, row: int, reason: str, values: list[str]) -> None:
        if self._writer is None:
            self._writer = csv.writer(self._output.open())
            self._writer.writerow(["row", "reason", *self._headers])
        self._writer.writerow([row, shown(reason), *values])

    def commit(self) -> Path:
        self._output.commit()
        return self.path

    def discard(self) -> None:
        self._output.discard()
        self._writer = None
