"""GSM-7 or UCS-2, and how many SMS segments a text takes (mirrored by static/sms_counter.js).

Segments are packed the way carriers split concatenated SMS: a GSM-7 extension character (two
septets) or a UCS-2 surrogate pair is never split between two segments, so a text of exactly
2 x 153 septets with a "€" on the boundary takes three segments, not two.
"""

from dataclasses import dataclass, field
from typing import Literal

# GSM 03.38 basic character set (without the ESC code itself).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each costs an escape plus the character, two septets.
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")

LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass
class SegmentInfo:
    """Encoding, length in its units (septets or UTF-16 code units) and segment count."""

    encoding: Literal["GSM-7", "UCS-2"]
    length: int
    segments: int
    non_gsm: list[str] = field(default_factory=list)


GSM_ALL = GSM_BASIC | GSM_EXTENSION


def non_gsm_chars(text: str) -> list[str]:
    """The distinct characters that GSM-7 cannot carry, in order of appearance."""
    return sorted(set(text) - GSM_ALL, key=text.index)


def _weights(text: str, encoding: str) -> list[int]:
    """The size of every character in septets (GSM-7) or UTF-16 code units (UCS-2)."""
    if encoding == "GSM-7":
        return [2 if char in GSM_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _count_segments(weights: list[int], single: int, multi: int) -> int:
    """Segments needed: one if it fits whole, else greedy packing that never splits a character."""
    total = sum(weights)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for weight in weights:
        if used + weight > multi:
            segments, used = segments + 1, 0
        used += weight
    return segments


def analyze(text: str) -> SegmentInfo:
    """Say whether the text goes as GSM-7 or UCS-2 and how many segments it takes."""
    text = text or ""
    non_gsm = non_gsm_chars(text)
    encoding = "UCS-2" if non_gsm else "GSM-7"
    # The common cases need no per-character walk: every character takes one unit, so the text
    # can never split a character across segments.
    if (not non_gsm and GSM_BASIC.issuperset(text)) or (non_gsm and max(text) <= "\uffff"):
        n, (single, multi) = len(text), LIMITS[encoding]
        segments = 0 if n == 0 else 1 if n <= single else -(-n // multi)
        return SegmentInfo(encoding, n, segments, non_gsm)
    weights = _weights(text, encoding)
    single, multi = LIMITS[encoding]
    return SegmentInfo(encoding, sum(weights), _count_segments(weights, single, multi), non_gsm)
