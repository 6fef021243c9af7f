"""The resolution clock cycle by cycle (docs/sla.md, "Counted once per cycle").

A case's resolution clock runs from its opening to its resolution; a reopen starts a
new **cycle** that runs to the next resolution. The working time adds up across
cycles (time spent pending or resolved does not count), so a clock that used up its
target stays over it. Each cycle is decided once, at one instant:

- **missed** at the first instant in the cycle at which the clock runs with its
  working time at its target or beyond (its breach: the due time when it ran past it,
  or the reopen itself when the target was used up before), never an instant when it
  was paused;
- **met** at its resolution, when no such instant came.

A cycle that never ran (reopened and resolved, or paused, in the same second) after
the target was used up is missed, decided when the target was used up.
"""

from __future__ import annotations

from bisect import bisect_right


def running_intervals(opened_at: int, pauses) -> list[tuple[int, int | None]]:
    """The intervals a paused-and-resumed clock ran: from the opening to the first pause,
    from each pause's end to the next (end None: running still)."""
    intervals: list[tuple[int, int | None]] = []
    start: int | None = opened_at
    for pause_start, pause_end in pauses:
        if start is not None and pause_start > start:
            intervals.append((start, pause_start))
        start = pause_end
    if start is not None:
        intervals.append((start, None))
    return intervals


def resolution_cycles(
    calendar, target: int, opened_at: int, pauses, resolutions: tuple[int, ...], ongoing: bool
) -> list[tuple]:
    """[(decided_at, met)] per cycle, oldest first: one per resolution, plus the cycle
    still going when `ongoing` (the case is new, open or pending). The ongoing cycle's
    decided_at is its breach to come (maybe after now; None while it is frozen before
    it) and its `met` is None unless that breach has been computed (False)."""
    count = len(resolutions) + (1 if ongoing else 0)
    decided: list[int | None] = [None] * count
    worked = 0
    used_up = None  # the first instant it ran with the target used up
    for start, end in running_intervals(opened_at, pauses):
        if end is not None and end <= start:
            continue
        # no resolution falls inside a running interval (a resolution pauses the clock):
        # the resolutions up to its start are the cycles before it
        cycle = bisect_right(resolutions, start)
        if cycle >= count:
            break
        if used_up is not None or worked >= target:
            breach = start
        else:
            breach = calendar.add(start, target - worked)
        if end is None or breach < end:
            if decided[cycle] is None:
                decided[cycle] = breach
            if used_up is None:
                used_up = breach
            continue  # over its target from here on: the working time no longer matters
        worked += calendar.working(start, end)
    outcomes: list[tuple] = []
    for cycle in range(count):
        instant = decided[cycle]
        if instant is not None:
            outcomes.append((instant, False))
        elif cycle < len(resolutions):
            stop = resolutions[cycle]
            if used_up is not None and used_up < stop:
                outcomes.append((used_up, False))  # never ran again after its target went
            else:
                outcomes.append((stop, True))
        else:
            outcomes.append((None, None))  # the ongoing cycle, frozen before any breach
    return outcomes
