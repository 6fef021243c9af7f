"""Tables that fit the terminal: one line per row, whatever the width.

Every list screen (queue, search, overdue, the ladder, people) is drawn here. Each column
starts as wide as its widest cell; while the table is wider than the terminal, columns
give up width in the order the screen names (`stages`: (header, floor) pairs, floor 0
meaning the column goes altogether), and a cell that no longer fits is cut with an
ellipsis rather than wrapped: a row that wraps reads as two cases on a wallboard.
"""

from __future__ import annotations

GAP = 2  # cells between columns: box=None with padding (0, 1)


def widths_for(width: int, headers: list[str], natural: list[int], stages) -> list[int]:
    """Each column's width (0: dropped) for a table at most `width` cells wide."""
    widths = list(natural)

    def excess() -> int:
        shown = [w for w in widths if w > 0]
        return sum(shown) + GAP * (len(shown) - 1) - width

    index = {header: i for i, header in enumerate(headers)}
    shrunk: list[int] = []
    for header, floor in stages:
        over = excess()
        if over <= 0:
            break
        i = index.get(header)
        if i is None or widths[i] == 0:
            continue
        if floor == 0:
            widths[i] = 0
        elif widths[i] > floor:
            widths[i] -= min(over, widths[i] - floor)
            shrunk.append(i)
    # a column dropped late can leave room that a column shrunk before it needed: give
    # it back, the most recently shrunk (the one that gives way last) first
    for i in reversed(shrunk):
        spare = -excess()
        if spare <= 0:
            break
        if widths[i]:
            widths[i] += min(spare, natural[i] - widths[i])
    # a terminal narrower than the stages foresaw: take from the widest column, one
    # cell at a time, so the row still fits on one line
    while excess() > 0:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= 1:
            break
        widths[widest] -= 1
    return widths


def fitted(
    console,
    headers: list[str],
    rows: list[list],
    stages,
    right: tuple[str, ...] = ("id", "case"),
    row_styles: list[str] | None = None,
    width: int | None = None,
    lists: tuple[str, ...] = (),
):
    """A Rich table of `rows` (lists of Text, one per header) fitted to `console.width`
    (or `width`, inside a panel); `row_styles`: a style per row (the wallboard marks new
    breaches); `lists`: columns of comma-separated names, which a narrow column shows as
    the names that fit whole and how many more (`general +2`) rather than cut one."""
    from rich.table import Table

    natural = [max([len(h)] + [row[i].cell_len for row in rows]) for i, h in enumerate(headers)]
    widths = widths_for(width or console.width, headers, natural, stages)
    for i, header in enumerate(headers):
        if header in lists and 0 < widths[i] < natural[i]:
            rows = [[*row[:i], names_within(row[i], widths[i]), *row[i + 1 :]] for row in rows]
    table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold")
    keep = [i for i, w in enumerate(widths) if w > 0]
    for i in keep:
        table.add_column(
            headers[i],
            justify="right" if headers[i] in right else "left",
            no_wrap=True,
            overflow="ellipsis",
            width=widths[i],
        )
    for index, row in enumerate(rows):
        table.add_row(*[row[i] for i in keep], style=row_styles[index] if row_styles else None)
    return table


def names_within(cell, width: int):
    """`general, platform, network` in 16 cells: `general +2`. A cell whose first name
    alone does not fit stays as it is (the column cuts it)."""
    from rich.cells import cell_len

    names = cell.plain.split(", ")
    if cell.cell_len <= width or len(names) < 2:
        return cell
    for shown in range(len(names) - 1, 0, -1):
        text = f"{', '.join(names[:shown])} +{len(names) - shown}"
        if cell_len(text) <= width:
            return cell.__class__(text, style=cell.style)
    return cell


def column_widths(headers: list[str], rows: list[list]) -> list[int]:
    """Each column's width as printed on one line: its header's or its widest value's
    (None empty, control characters removed, wide characters counted twice)."""
    from rich.cells import cell_len

    from esc_cli.text import clean

    return [
        max(cell_len(clean("" if v is None else str(v))) for v in [h, *(row[i] for row in rows)])
        for i, h in enumerate(headers)
    ]


def natural_width(console, renderable) -> int:
    """Width the renderable wants with no terminal edge to squeeze it."""
    from rich.measure import Measurement

    return Measurement.get(console, console.options.update_width(10_000), renderable).maximum


def compact_due(instant: int, now: int) -> str:
    """`16d over`, `in 2h 10m`, `due now`: a due time as the queue's due column says it."""
    delta = instant - now
    if -60 < delta < 60:
        return "due now"
    words = compact_duration(abs(delta))
    return f"in {words}" if delta > 0 else f"{words} over"


def compact_duration(seconds: int) -> str:
    """`42m`, `2h 10m`, `3d 4h`, `16d`: precise while it matters, short once it is days."""
    minutes = abs(int(seconds)) // 60
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days >= 10:
        return f"{days}d"
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"
