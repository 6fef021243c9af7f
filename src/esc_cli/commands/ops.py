"""The lead's and cron's commands: sweep, overdue, explain, and the notification outbox."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from esc_cli.commands.common import CaseId, Json, output
from esc_cli.commands.lists import Watch, wallboard

notify_app = typer.Typer(help="The notification outbox.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    @app.command(
        help="The cron job: warn, record breaches, escalate, close, notify. "
        "Quiet unless something happened."
    )
    def sweep(
        ctx: typer.Context,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Report what would happen; write nothing")
        ] = False,
        json: Json = False,
    ) -> None:
        from esc_cli.render import ops as views
        from esc_cli.services import sweep as service

        out = output(ctx, json)
        bar = views.ProgressBar(ctx.obj)
        try:
            result = service.sweep(ctx.obj, dry_run=dry_run, progress=bar.start)
        finally:
            bar.close()
        views.sweep_result(out, result)

    @app.command(help="Breached and at-risk cases, worst first.")
    def overdue(
        ctx: typer.Context,
        tier: Annotated[Optional[int], typer.Option(help="Only this tier")] = None,
        team: Annotated[Optional[str], typer.Option(help="Only this team")] = None,
        within: Annotated[
            Optional[str],
            typer.Option(metavar="SPAN", help="Also what falls due within SPAN (e.g. 2h)"),
        ] = None,
        watch: Watch = None,
        json: Json = False,
    ) -> None:
        from esc_cli.render import ops as views
        from esc_cli.services import sweep as service

        if watch is not None:
            from esc_cli.services.watch import overdue_frame

            empty = "nothing breached or at risk" + (f" or due within {within}" if within else "")
            wallboard(
                ctx,
                json,
                watch,
                "esc overdue",
                views.overdue_table,
                empty,
                lambda now: overdue_frame(ctx.obj, tier, team, within, now),
            )
            return
        docs = service.overdue(ctx.obj, tier=tier, team=team, within=within, documents=json)
        views.overdue(output(ctx, json), docs, within)

    @app.command(help="How each due time was computed, and what the sweep does next.")
    def explain(ctx: typer.Context, case_id: CaseId, json: Json = False) -> None:
        from esc_cli.render import explain as views
        from esc_cli.services import sweep as service

        views.explain(output(ctx, json), service.explain(ctx.obj, case_id))

    app.add_typer(notify_app, name="notify")


@notify_app.command("list", help="Notifications and each channel's delivery state.")
def notify_list(
    ctx: typer.Context,
    pending: Annotated[
        bool, typer.Option("--pending", help="Only notifications not yet delivered everywhere")
    ] = False,
    case: Annotated[
        Optional[str], typer.Option("--case", metavar="ID", help="Only this case's")
    ] = None,
    limit: Annotated[int, typer.Option(help="Only the newest N (0: all)")] = 0,
    json: Json = False,
) -> None:
    from esc_cli.render import ops as views
    from esc_cli.services import notify

    views.outbox(output(ctx, json), notify.outbox_list(ctx.obj, pending, case, limit))


@notify_app.command(
    "retry", help="Deliver every undelivered notification now, ignoring the backoff."
)
def notify_retry(ctx: typer.Context, json: Json = False) -> None:
    from esc_cli.render import ops as views
    from esc_cli.services import notify

    views.retried(output(ctx, json), notify.retry(ctx.obj))
