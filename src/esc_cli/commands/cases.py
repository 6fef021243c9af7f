"""Agent commands: open a case and work it to closed."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from esc_cli.commands.common import (
    CaseId,
    Json,
    complete_category,
    complete_owner,
    complete_priority,
    complete_team,
    complete_tier,
    output,
)

Reason = Annotated[str, typer.Option("--reason", "-r", help="Why (required)")]


def register(app: typer.Typer) -> None:
    @app.command("open", help="Open a case.")
    def open_(
        ctx: typer.Context,
        title: Annotated[str, typer.Argument(help="One-line summary (max 500 characters)")],
        customer: Annotated[str, typer.Option("--customer", "-c", help="Customer account")],
        priority: Annotated[
            str,
            typer.Option(
                "--priority",
                "-p",
                help="urgent|high|medium|low (p1..p4)",
                autocompletion=complete_priority,
            ),
        ],
        category: Annotated[
            Optional[str],
            typer.Option(
                help="Category from the policy (default: other)", autocompletion=complete_category
            ),
        ] = None,
        description: Annotated[Optional[str], typer.Option("--description", "-d")] = None,
        channel: Annotated[Optional[str], typer.Option(help="email|phone|chat|web|other")] = None,
        owner: Annotated[
            Optional[str], typer.Option(help="Owner handle", autocompletion=complete_owner)
        ] = None,
        tier: Annotated[
            Optional[int],
            typer.Option(help="Start at this tier (default: 1)", autocompletion=complete_tier),
        ] = None,
        team: Annotated[
            Optional[str], typer.Option(help="Functional team", autocompletion=complete_team)
        ] = None,
        tag: Annotated[
            Optional[list[str]], typer.Option("--tag", "-t", help="Tag (repeatable)")
        ] = None,
        json: Json = False,
    ) -> None:
        from esc_cli import services
        from esc_cli.render import views

        doc = services.open_case(
            ctx.obj,
            title=title,
            customer=customer,
            priority=priority,
            category=category,
            description=description,
            channel=channel,
            owner=owner,
            tier=tier,
            team=team,
            tags=tag,
        )
        views.written(output(ctx, json), doc, "opened")

    @app.command(help="Acknowledge a case: the first response (new -> open).")
    def ack(ctx: typer.Context, case_id: CaseId, json: Json = False) -> None:
        from esc_cli import services
        from esc_cli.render import views

        views.written(output(ctx, json), services.acknowledge(ctx.obj, case_id), "acknowledged")

    @app.command(help="Assign a case to an owner.")
    def assign(
        ctx: typer.Context,
        case_id: CaseId,
        handle: Annotated[str, typer.Argument(help="Owner handle", autocompletion=complete_owner)],
        force: Annotated[
            bool, typer.Option("--force", help="Assign past the owner's capacity")
        ] = False,
        json: Json = False,
    ) -> None:
        from esc_cli import services
        from esc_cli.render import views

        doc = services.assign(ctx.obj, case_id, handle, force)
        views.written(output(ctx, json), doc, "assigned to", doc["owner"])

    @app.command(help="Assign a case to yourself (--as / ESC_USER).")
    def take(
        ctx: typer.Context,
        case_id: CaseId,
        force: Annotated[bool, typer.Option("--force", help="Take past your capacity")] = False,
        json: Json = False,
    ) -> None:
        from esc_cli import services
        from esc_cli.render import views

        doc = services.take(ctx.obj, case_id, force)
        views.written(output(ctx, json), doc, "taken by", doc["owner"])

    @app.command(help="Add an internal note, or with --customer a customer-visible update.")
    def note(
        ctx: typer.Context,
        case_id: CaseId,
        text: Annotated[str, typer.Argument(help="The note")],
        customer: Annotated[
            bool, typer.Option("--customer", help="Customer-visible update")
        ] = False,
        json: Json = False,
    ) -> None:
        from esc_cli import services
        from esc_cli.render import views

        doc = services.note(ctx.obj, case_id, text, customer)
        views.written(output(ctx, json), doc, "customer updated" if customer else "noted")

    @app.command(help="Escalate: up one tier by default, --to a tier, or --team to a team.")
    def escalate(
        ctx: typer.Context,
        case_id: CaseId,
        reason: Reason,
        to: Annotated[
            Optional[int], typer.Option("--to", help="Target tier", autocompletion=complete_tier)
        ] = None,
        team: Annotated[
            Optional[str],
            typer.Option(
                "--team", help="Functional escalation to a team", autocompletion=complete_team
            ),
        ] = None,
        owner: Annotated[
            Optional[str], typer.Option("--owner", help="New owner", autocompletion=complete_owner)
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", help="Give it to --owner past their capacity")
        ] = False,
        json: Json = False,
    ) -> None:
        from esc_cli import services
        from esc_cli.render import views

        doc = services.escalate(
            ctx.obj, case_id, reason=reason, to=to, team=team, owner=owner, force=force
        )
        where = f"to tier {doc['tier']} ({doc['tier_name']})"
        if team and to is None:
            where = f"to team {doc['team']}"
        views.written(output(ctx, json), doc, "escalated", where)

    @app.command(help="De-escalate: down one tier by default, or --to a tier.")
    def deescalate(
        ctx: typer.Context,
        case_id: CaseId,
        reason: Reason,
        to: Annotated[
            Optional[int], typer.Option("--to", help="Target tier", autocompletion=complete_tier)
        ] = None,
        json: Json = False,
    ) -> None:
        from esc_cli import services
        from esc_cli.render import views

        doc = services.deescalate(ctx.obj, case_id, reason=reason, to=to)
        views.written(
            output(ctx, json), doc, "de-escalated", f"to tier {doc['tier']} ({doc['tier_name']})"
        )

    @app.command(help="Wait on the customer: SLA clocks pause.")
    def pending(ctx: typer.Context, case_id: CaseId, reason: Reason, json: Json = False) -> None:
        from esc_cli import services
        from esc_cli.render import views

        views.written(output(ctx, json), services.pending(ctx.obj, case_id, reason), "pending")

    @app.command(help="Carry on after waiting on the customer.")
    def resume(ctx: typer.Context, case_id: CaseId, json: Json = False) -> None:
        from esc_cli import services
        from esc_cli.render import views

        views.written(output(ctx, json), services.resume(ctx.obj, case_id), "resumed")

    @app.command(help="Resolve a case.")
    def resolve(
        ctx: typer.Context,
        case_id: CaseId,
        resolution: Annotated[str, typer.Option("--resolution", "-r", help="How it was resolved")],
        json: Json = False,
    ) -> None:
        from esc_cli import services
        from esc_cli.render import views

        views.written(output(ctx, json), services.resolve(ctx.obj, case_id, resolution), "resolved")

    @app.command(help="Reopen a resolved case.")
    def reopen(ctx: typer.Context, case_id: CaseId, reason: Reason, json: Json = False) -> None:
        from esc_cli import services
        from esc_cli.render import views

        views.written(output(ctx, json), services.reopen(ctx.obj, case_id, reason), "reopened")

    @app.command(help="Close a resolved case.")
    def close(ctx: typer.Context, case_id: CaseId, json: Json = False) -> None:
        from esc_cli import services
        from esc_cli.render import views

        views.written(output(ctx, json), services.close(ctx.obj, case_id), "closed")

    @app.command(help="Record the customer's satisfaction (CSAT 1..5) after resolution.")
    def feedback(
        ctx: typer.Context,
        case_id: CaseId,
        csat: Annotated[int, typer.Option("--csat", help="1 (very unhappy) .. 5 (very happy)")],
        comment: Annotated[Optional[str], typer.Option("--comment")] = None,
        json: Json = False,
    ) -> None:
        from esc_cli import services
        from esc_cli.render import views

        views.written(
            output(ctx, json),
            services.feedback(ctx.obj, case_id, csat, comment),
            "feedback recorded",
        )

    @app.command("set", help="Triage: change a case's fields.")
    def set_(
        ctx: typer.Context,
        case_id: CaseId,
        priority: Annotated[
            Optional[str], typer.Option("--priority", "-p", autocompletion=complete_priority)
        ] = None,
        category: Annotated[Optional[str], typer.Option(autocompletion=complete_category)] = None,
        title: Annotated[Optional[str], typer.Option()] = None,
        customer: Annotated[Optional[str], typer.Option()] = None,
        channel: Annotated[Optional[str], typer.Option()] = None,
        team: Annotated[Optional[str], typer.Option(autocompletion=complete_team)] = None,
        tag: Annotated[
            Optional[list[str]], typer.Option("--tag", help="Add a tag (repeatable)")
        ] = None,
        untag: Annotated[
            Optional[list[str]], typer.Option("--untag", help="Remove a tag (repeatable)")
        ] = None,
        json: Json = False,
    ) -> None:
        from esc_cli import services
        from esc_cli.render import views

        changes = {
            "priority": priority,
            "category": category,
            "title": title,
            "customer": customer,
            "channel": channel,
            "team": team,
        }
        doc = services.set_fields(ctx.obj, case_id, changes, tag or [], untag or [])
        views.written(output(ctx, json), doc, "updated")

    @app.command(help="The case, its three SLA clocks and its timeline.")
    def show(
        ctx: typer.Context,
        case_id: CaseId,
        every: Annotated[
            bool,
            typer.Option(
                "--all",
                help="Every event of the timeline (a terminal shows the latest 20 otherwise)",
            ),
        ] = False,
        json: Json = False,
    ) -> None:
        from esc_cli import services
        from esc_cli.render import case_view

        case_view.case_detail(
            output(ctx, json),
            services.show(ctx.obj, case_id),
            latest=None if every else case_view.TIMELINE_LATEST,
        )
