"""The lead's lists: the queue."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from esc_cli.commands.common import (
    Json, case_filters, complete_owner_or_me, complete_team, complete_tier, output,
)


def register(app: typer.Typer) -> None:
    @app.command(help="The work list: unresolved cases, most urgent first.")
    def queue(
        ctx: typer.Context,
        tier: Annotated[Optional[int], typer.Option(help="Only this tier", autocompletion=complete_tier)] = None,
        owner: Annotated[Optional[str], typer.Option(help="Only this owner ('me' for yourself)",
                                                     autocompletion=complete_owner_or_me)] = None,
        unassigned: Annotated[bool, typer.Option("--unassigned", help="Only cases with no owner")] = False,
        team: Annotated[Optional[str], typer.Option(help="Only this team", autocompletion=complete_team)] = None,
        priority: Annotated[Optional[str], typer.Option("--priority", "-p", help="Only this priority")] = None,
        category: Annotated[Optional[str], typer.Option(help="Only this category")] = None,
        state: Annotated[Optional[list[str]], typer.Option(help="States to list (repeatable or comma-separated) (default: new,open,pending)")] = None,
        at_risk: Annotated[bool, typer.Option("--at-risk", help="Only cases with a clock at risk")] = False,
        breached: Annotated[bool, typer.Option("--breached", help="Only cases with a clock breached")] = False,
        sort: Annotated[str, typer.Option(help="urgency|due|age|id")] = "urgency",
        limit: Annotated[int, typer.Option(help="At most N cases (0: all)")] = 50,
        json: Json = False,
    ) -> None:
        from esc_cli import services
        from esc_cli.render import views

        filters = case_filters(tier=tier, owner=owner, unassigned=unassigned, team=team,
                               priority=priority, category=category, state=state,
                               at_risk=at_risk, breached=breached)
        docs = services.queue(ctx.obj, filters, sort.strip().lower(), limit)
        views.case_list(output(ctx, json), docs, empty="the queue is empty")
