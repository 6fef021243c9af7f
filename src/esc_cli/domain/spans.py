"""Spans as people type them in the policy and on the command line: `15m`, `1h30m`, `7d`."""

from __future__ import annotations

import re

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)([smhdw])")
_WHOLE = re.compile(r"(?:\d+[smhdw])+")


def parse_span(text: str, allowed_units: str = "smhdw") -> int:
    """Seconds in a span such as `1h30m`; ValueError with a reason a person can act on."""
    if not isinstance(text, str):
        raise ValueError(f"expected a span such as '4h' or '1h30m', got {text!r}")
    cleaned = text.strip().lower()
    if not cleaned or not _WHOLE.fullmatch(cleaned):
        raise ValueError(f"expected a span such as '4h' or '1h30m', got {text!r}")
    total = 0
    for amount, unit in _PART.findall(cleaned):
        if unit not in allowed_units:
            raise ValueError(
                f"unit '{unit}' is not allowed here (use {', '.join(allowed_units)}), got {text!r}"
            )
        total += int(amount) * UNIT_SECONDS[unit]
    if total > 100 * 366 * 86400:
        raise ValueError(f"span is longer than a century: {text!r}")
    return total


def format_span(seconds: int) -> str:
    """The canonical spelling of a span: `1h30m`, `7d`, `0s`."""
    if seconds == 0:
        return "0s"
    parts = []
    rest = int(seconds)
    for unit in ("d", "h", "m", "s"):
        size = UNIT_SECONDS[unit]
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts)
