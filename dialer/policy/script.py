"""A call script with ``{column}`` placeholders, filled from a lead. Pure.

Deliberately not a template engine: the only syntax is ``{name}`` (a lead column or one of the
built-in names) and ``{{`` / ``}}`` for literal braces. Nothing in a script or a lead is ever
evaluated. The result is a list of parts, literal text and filled values, so the page escapes
every part as text and can mark the filled ones; an unknown name stays visible as ``{name}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]{1,64})\}")


@dataclass(frozen=True)
class ScriptPart:
    text: str
    filled: bool = False  # a value from the lead
    missing: bool = False  # a placeholder the lead has no value for


def fill(script: str, values: Mapping[str, object]) -> list[ScriptPart]:
    """Split ``script`` into literal text and values looked up in ``values`` (case-insensitive)."""
    lookup = {str(k).strip().casefold(): v for k, v in values.items()}
    parts: list[ScriptPart] = []
    at = 0
    for match in _TOKEN.finditer(script):
        if match.start() > at:
            parts.append(ScriptPart(script[at : match.start()]))
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append(ScriptPart(token[0]))
        else:
            key = match.group(1).strip().casefold()
            value = lookup.get(key)
            if value is None or str(value) == "":
                parts.append(ScriptPart(token, missing=True))
            else:
                parts.append(ScriptPart(str(value), filled=True))
        at = match.end()
    if at < len(script):
        parts.append(ScriptPart(script[at:]))
    return _merge(parts)


def _merge(parts: list[ScriptPart]) -> list[ScriptPart]:
    merged: list[ScriptPart] = []
    for part in parts:
        plain = not part.filled and not part.missing
        last = merged[-1] if merged else None
        if plain and last is not None and not last.filled and not last.missing:
            merged[-1] = ScriptPart(last.text + part.text)
        else:
            merged.append(part)
    return merged


def placeholders(script: str) -> list[str]:
    """The names a script asks for, in order of first use."""
    seen: dict[str, None] = {}
    for match in _TOKEN.finditer(script):
        if match.group(1) is not None:
            seen.setdefault(match.group(1).strip(), None)
    return list(seen)
