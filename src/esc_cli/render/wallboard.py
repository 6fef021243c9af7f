"""The wallboard: a list redrawn in place (Rich Live) on a team screen.

Each frame: what is shown and how often, the time of the last refresh, the counts a
lead looks at first (breached / at risk / unassigned), then the table. Cases that
breached while the board was up are marked (reverse video) and named in the header,
so a breach that happened while nobody looked is not just one more red row.

The loop takes its clock and its sleeper as arguments: tests drive it frame by frame
without sleeping, and the command passes `--now` plus the time elapsed since start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from esc_cli.render.output import clean


def breached_ids(docs: list[dict]) -> set[int]:
    """Cases breached in a frame: queue documents list breached clocks, overdue rows
    name their worst clock's status."""
    return {d["id"] for d in docs if d.get("breached") or d.get("clock_status") == "breached"}


class Board:
    """What one wallboard remembers between frames: the breaches it saw first."""

    def __init__(self, title: str, every: int, zone: str, table: Callable, empty: str):
        self.title = title
        self.every = every
        self.zone = zone
        self.table = table  # (console, docs, now, marked) -> a Rich renderable
        self.empty = empty
        self.first: set[int] | None = None  # breached when the board started
        self.fresh: list[int] = []  # breached since, in the order seen

    def frame(self, console, data: dict | None, now: int, error: str | None = None):
        from rich.console import Group
        from rich.text import Text

        if data is not None and error is None:
            breached = breached_ids(data["docs"])
            if self.first is None:
                self.first = breached
            else:
                self.fresh = [i for i in self.fresh if i in breached]
                self.fresh += sorted(breached - self.first - set(self.fresh))
        moment = datetime.fromtimestamp(now, ZoneInfo(self.zone))
        head = Text()
        head.append(self.title, style="bold")
        head.append(
            f"  every {_every(self.every)} · last refresh "
            f"{moment:%a %d %b %H:%M:%S} {moment.tzname()} · Ctrl-C quits",
            style="dim",
        )
        parts = [head]
        if error is not None:
            parts.append(
                Text(
                    f"could not refresh: {clean(error)}; showing the last frame, "
                    f"trying again in {_every(self.every)}",
                    style="bold yellow",
                )
            )
        if data is not None:
            counts = data["counts"]
            line = Text()
            line.append(
                f"{counts['breached']} breached", style="bold red" if counts["breached"] else ""
            )
            line.append("  ·  ")
            line.append(f"{counts['at_risk']} at risk", style="yellow" if counts["at_risk"] else "")
            line.append("  ·  ")
            line.append(
                f"{counts['unassigned']} unassigned", style="bold" if counts["unassigned"] else ""
            )
            line.append(f"  ·  {counts['cases']} cases", style="dim")
            parts.append(line)
            if self.fresh:
                ids = " ".join(f"#{i}" for i in self.fresh)
                parts.append(Text(f"new breaches since the board started: {ids}", style="bold red"))
            parts.append(Text(""))
            docs = data["docs"]
            # as many rows as the screen holds (below the lines above and the table's
            # header), and a line saying what did not fit, rather than a silent crop
            room = console.size.height - len(parts) - 1
            hidden = max(0, len(docs) - room) if room > 1 else 0
            if hidden:
                docs = docs[: room - 1]
                hidden = len(data["docs"]) - len(docs)
            if docs:
                parts.append(self.table(console, docs, now, frozenset(self.fresh)))
            else:
                parts.append(Text(self.empty, style="dim"))
            if hidden:
                parts.append(
                    Text(
                        f"… and {hidden} more below; a taller terminal or a filter shows them",
                        style="dim",
                    )
                )
        for part in parts:
            if isinstance(part, Text):
                part.no_wrap, part.overflow = True, "ellipsis"  # one line each, always
        return Group(*parts)


def _every(seconds: int) -> str:
    from esc_cli.domain.spans import format_span

    return format_span(seconds)


def watch(
    console,
    board: Board,
    fetch: Callable[[int], dict],
    every: int,
    clock: Callable[[], int],
    sleep: Callable[[float], None],
    screen: bool = True,
) -> None:
    """Redraw `board` every `every` seconds until Ctrl-C. `fetch(now)` reads one frame;
    the first read's errors go up (a bad filter is the user's to fix), a later one's
    are shown above the last good frame (a store being restored or locked by another
    process should not take a team screen down)."""
    from rich.live import Live

    from esc_cli.errors import EscError

    try:
        now = clock()
        data = fetch(now)
        with Live(
            console=console,
            auto_refresh=False,
            screen=screen,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
            vertical_overflow="crop",
        ) as live:
            error = None
            while True:
                live.update(board.frame(console, data, now, error), refresh=True)
                sleep(every)
                now = clock()
                try:
                    data, error = fetch(now), None
                except EscError as err:
                    error = err.line()
    except KeyboardInterrupt:
        return  # Ctrl-C is how a wallboard is closed: a clean exit, not an interruption
