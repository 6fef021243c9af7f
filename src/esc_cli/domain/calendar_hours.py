"""A calendar's opening hours as written ("09:00-17:00", or a list of such ranges) and
as minute intervals from local midnight, checked.

A business calendar (`calendar.py`) counts in these intervals; the policy checks its
hours with the same parser, without building a calendar.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_HOURS = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


def _minute(hour: str, minute: str, *, end: bool, text: str) -> int:
    h, m = int(hour), int(minute)
    if m > 59 or h > 24 or (h == 24 and (m != 0 or not end)):
        raise ValueError(f"bad time of day in opening hours {text!r}")
    return h * 60 + m


def check_hours(hours: Sequence[tuple[int, int]], shown: object) -> list[tuple[int, int]]:
    """Validate minute intervals: non-empty, each 0 <= start < end <= 1440, sorted, disjoint."""
    result = [(int(a), int(b)) for a, b in hours]
    if not result:
        raise ValueError(f"opening hours are empty: {shown!r}")
    previous_end = 0
    for a, b in result:
        if not 0 <= a < b <= 1440:
            raise ValueError(f"opening hours must run forwards within a day: {shown!r}")
        if a < previous_end:
            raise ValueError(f"opening hours overlap or are out of order: {shown!r}")
        previous_end = b
    return result


def hours_from_text(value: str | list[str]) -> list[tuple[int, int]]:
    """Parse "09:00-17:00" or ["09:00-12:00", "13:00-17:00"] into minute intervals.

    Minutes are counted from local midnight; "24:00" is allowed as an end.
    Raises ValueError naming the bad value for anything malformed, empty,
    overlapping or out of order.
    """
    if isinstance(value, str):
        items: list[object] = [value]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ValueError(
            f"opening hours must be text such as '09:00-17:00' or a list of them, got {value!r}"
        )
    if not items:
        raise ValueError(f"opening hours are empty: {value!r}")
    result = []
    for item in items:
        match = _HOURS.fullmatch(item) if isinstance(item, str) else None
        if match is None:
            raise ValueError(f"expected opening hours such as '09:00-17:00', got {item!r}")
        start = _minute(match[1], match[2], end=False, text=str(item))  # item: a str (it matched)
        end = _minute(match[3], match[4], end=True, text=str(item))
        if end <= start:
            raise ValueError(f"opening hours must end after they start: {item!r}")
        result.append((start, end))
    return check_hours(result, value)


def merged_hours(hours: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Touching intervals ("09:00-12:00", "12:00-17:00") as one."""
    merged: list[tuple[int, int]] = []
    for a, b in hours:
        if merged and merged[-1][1] == a:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return tuple(merged)


def hours_to_text(hours: Sequence[tuple[int, int]]) -> str | list[str]:
    """The inverse of `hours_from_text`: one string for one interval, else a list."""
    texts = [f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in hours]
    return texts[0] if len(texts) == 1 else texts
