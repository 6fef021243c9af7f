"""Option types and helpers every command module shares."""

from __future__ import annotations

from typing import Annotated

import typer


def _completer(kind: str):
    """A shell-completion callback that reads candidates from the store (lazily: the
    store code is imported only when a shell asks)."""

    def complete(ctx: typer.Context, incomplete: str):
        from esc_cli.services.maint import completions

        return completions(ctx, kind, incomplete)

    complete.__name__ = f"complete_{kind}"
    return complete


complete_case_id = _completer("case")
complete_owner = _completer("owner")
complete_owner_or_me = _completer("owner_or_me")
complete_tier = _completer("tier")
complete_team = _completer("team")
complete_priority = _completer("priority")
complete_category = _completer("category")
complete_state = _completer("state")

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document")]
CaseId = Annotated[str, typer.Argument(metavar="ID", help="Case id (42 or #42)",
                                       autocompletion=complete_case_id)]


def output(ctx: typer.Context, as_json: bool):
    from esc_cli.render.output import Output

    return Output(ctx.obj, as_json)


def case_filters(*, tier, owner, unassigned, team, priority, category, state, at_risk,
                 breached) -> dict:
    """The filters `queue` and `search` share, with `--state` taken repeatable or
    comma-separated."""
    states = [s.strip().lower() for item in (state or []) for s in item.split(",") if s.strip()]
    return {"tier": tier, "owner": owner, "unassigned": unassigned, "team": team,
            "priority": priority, "category": category, "state": states,
            "at_risk": at_risk, "breached": breached}
