"""Sound files the dialer ships, generated as 8 kHz mono 16-bit WAV (what Asterisk plays natively).

Tones rather than recorded speech: the product has no voice talent and no
text-to-speech dependency. A user replaces the safe-harbour file with a recording
that names the company and the reason for the call, as the regulator expects.
"""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from lists.safe_write import write_bytes

RATE = 8000
_AMPLITUDE = 9000


def _tone(freqs: Sequence[float], ms: int) -> bytes:
    """Samples of ``freqs`` summed, with 10 ms fades so the segment edges do not click."""
    count = RATE * ms // 1000
    fade = min(RATE // 100, count // 2)
    out = bytearray()
    for i in range(count):
        envelope = min(1.0, i / fade, (count - i) / fade) if fade else 1.0
        value = sum(math.sin(2 * math.pi * f * i / RATE) for f in freqs) / max(1, len(freqs))
        out += struct.pack("<h", int(_AMPLITUDE * envelope * value))
    return bytes(out)


def write_wav(path: Path, segments: Iterable[tuple[Sequence[float], int]]) -> Path:
    """Write ``segments`` of (frequencies, milliseconds) to ``path``; an empty frequency list is silence."""
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(out: BinaryIO) -> None:
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            for freqs, ms in segments:
                wav.writeframes(_tone(freqs, ms) if freqs else b"\0\0" * (RATE * ms // 1000))

    write_bytes(path, write)
    return path


def write_safe_harbour_sound(path: Path) -> Path:
    """A short three-note chime: the default message for a call no operator could take."""
    notes = [((660.0,), 300), ((), 80), ((880.0,), 300), ((), 80), ((990.0,), 500), ((), 400)]
    return write_wav(path, notes * 2)


def write_machine_greeting(path: Path, seconds: int = 6) -> Path:
    """A long, never-silent greeting: AMD classes it as MACHINE (greeting longer than allowed)."""
    steps = [((300.0, 900.0), 250), ((400.0, 1100.0), 250)] * (seconds * 2)
    return write_wav(path, steps)
