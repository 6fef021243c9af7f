"""The lead's lists: the queue."""

from __future__ import annotations

import re
from typing import Annotated, Optional

import typer

from esc_cli.commands.common import (
    AtRiskFilter,
    BreachedFilter,
    CategoryFilter,
    Json,
    Limit,
    OwnerFilter,
    PriorityFilter,
    TeamFilter,
    TierFilter,
    UnassignedFilter,
    case_filters,
    complete_state,
    output,
)


def register(app: typer.Typer) -> None:
    @app.command(help="The work list: unresolved cases, most urgent first.")
    def queue(
        ctx: typer.Context,
        tier: TierFilter = None,
        owner: OwnerFilter = None,
        unassigned: UnassignedFilter = False,
        team: TeamFilter = None,
        priority: PriorityFilter = None,
        category: CategoryFilter = None,
        state: Annotated[
            Optional[list[str]],
            typer.Option(
                help="States to list (repeatable or comma-separated) (default: new,open,pending)",
                autocompletion=complete_state,
            ),
        ] = None,
        at_risk: AtRiskFilter = False,
        breached: BreachedFilter = False,
        sort: Annotated[str, typer.Option(help="urgency|due|age|id")] = "urgency",
        limit: Limit = 50,
        watch: Watch = None,
        json: Json = False,
    ) -> None:
        from esc_cli import services
        from esc_cli.render import views

        filters = case_filters(
            tier=tier,
            owner=owner,
            unassigned=unassigned,
            team=team,
            priority=priority,
            category=category,
            state=state,
            at_risk=at_risk,
            breached=breached,
        )
        if watch is not None:
            from esc_cli.services.watch import queue_frame

            order = sort.lower()
            wallboard(
                ctx,
                json,
                watch,
                "esc queue",
                views.case_table,
                "the queue is empty",
                lambda now: queue_frame(ctx.obj, filters, order, limit, now),
            )
            return
        docs = services.queue(ctx.obj, filters, sort.lower(), limit)
        views.case_list(output(ctx, json), docs, empty="the queue is empty")


Watch = Annotated[
    Optional[str],
    typer.Option(
        "--watch",
        metavar="[EVERY]",
        help="A wallboard: redraw in place every EVERY (default 30s) until Ctrl-C; reads only",
    ),
]


# `--watch -5s` is a (bad) interval, not an option named -5: parse_every says why
_NEGATIVE = re.compile(r"-[0-9]")


def with_watch_default(args: list[str]) -> list[str]:
    """`--watch` alone means every 30s. Typer 0.28 has no option whose value is
    optional, so a bare `--watch` (last, or followed by another option) is given its
    default here, before parsing."""
    if "--watch" not in args:
        return args
    from esc_cli.services.watch import DEFAULT_EVERY

    result: list[str] = []
    for index, arg in enumerate(args):
        if arg == "--":
            return result + args[index:]
        result.append(arg)
        if arg == "--watch" and (
            index + 1 == len(args)
            or (args[index + 1].startswith("-") and not _NEGATIVE.match(args[index + 1]))
        ):
            result.append(DEFAULT_EVERY)
    return result


def wallboard(
    ctx: typer.Context, as_json: bool, every_text: str, title: str, table, empty: str, fetch
) -> None:
    """Run a list as a wallboard on this terminal (render/wallboard.py): refused with
    --json or when stdout is not a terminal, since a live screen in a pipe or a file
    is a stream of escape codes."""
    import time

    from esc_cli.errors import UsageError
    from esc_cli.render.wallboard import Board, watch
    from esc_cli.services.watch import parse_every

    env = ctx.obj
    every = parse_every(every_text)
    if as_json:
        raise UsageError("--watch draws a live screen and cannot be combined with --json")
    out = output(ctx, False)
    if not out.tty:
        raise UsageError(
            "--watch needs a terminal: stdout is not one", "drop --watch to print the list once"
        )
    # the first frame is at --now (or the real time), however long the start took;
    # each later one that much later as time passes: the clock is read in one place, here
    start = env.now
    began: list[float] = []  # when the first frame was read

    def clock() -> int:
        now = time.monotonic()
        if not began:
            began.append(now)
        return start + int(now - began[0])

    board = Board(title, every, env.tz, table, empty)
    watch(out.console(), board, fetch, every, clock=clock, sleep=time.sleep)
