"""Search, backup and doctor: finding cases and keeping the store healthy."""

from __future__ import annotations

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
    @app.command(
        help="Full-text search over titles, descriptions and notes, best match "
        "first. Every word must occur; word* matches a prefix. All states "
        "are searched unless --state says otherwise."
    )
    def search(
        ctx: typer.Context,
        text: Annotated[list[str], typer.Argument(metavar="TEXT...", help="Words to look for")],
        tier: TierFilter = None,
        owner: OwnerFilter = None,
        unassigned: UnassignedFilter = False,
        team: TeamFilter = None,
        priority: PriorityFilter = None,
        category: CategoryFilter = None,
        state: Annotated[
            Optional[list[str]],
            typer.Option(
                help="States to search (repeatable or comma-separated) (default: all)",
                autocompletion=complete_state,
            ),
        ] = None,
        at_risk: AtRiskFilter = False,
        breached: BreachedFilter = False,
        limit: Limit = 50,
        json: Json = False,
    ) -> None:
        from esc_cli.render import views
        from esc_cli.services import search as service

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
        docs = service.search(ctx.obj, " ".join(text), filters, limit)
        views.case_list(output(ctx, json), docs, empty="no cases match")

    @app.command(
        help="Copy the store to FILE while esc keeps running (SQLite online backup). "
        "FILE may be a directory: the copy is named esc-<UTC time>.db."
    )
    def backup(
        ctx: typer.Context,
        file: Annotated[str, typer.Argument(metavar="FILE", help="Backup file or directory")],
        force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists")] = False,
        json: Json = False,
    ) -> None:
        from esc_cli.render import maint as view
        from esc_cli.services import backup as service

        view.backup(output(ctx, json), service.backup(ctx.obj, file, force))

    @app.command(
        help="Check the store: integrity, schema, policy, every case's hash chain "
        "and the stored due times of unresolved cases. Exits 5 on damage."
    )
    def doctor(
        ctx: typer.Context,
        repair: Annotated[
            bool,
            typer.Option(
                "--repair",
                help="Recompute wrong due times and rebuild the search index "
                "(a broken history cannot be repaired)",
            ),
        ] = False,
        json: Json = False,
    ) -> None:
        from esc_cli.errors import StoreError
        from esc_cli.render import maint as view
        from esc_cli.services import doctor as service

        env = ctx.obj
        with _progress(env) as progress:
            report = service.doctor(env, repair=repair, progress=progress)
        view.doctor(output(ctx, json), report)
        failed = [c["name"] for c in report["checks"] if not c["ok"]]
        if failed:
            raise StoreError(
                f"doctor found damage: {len(failed)} check"
                f"{'s' if len(failed) != 1 else ''} failed ({', '.join(failed)})"
            )


class _progress:
    """A progress bar on stderr while doctor reads a large store, on a terminal only."""

    LABELS = {"hash_chain": "verifying histories", "due_times": "recomputing due times"}

    def __init__(self, env):
        self.env = env
        self.bar = None
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        return self.update if self.env.stderr_tty else None

    def update(self, stage: str, done: int, total: int) -> None:
        # Only worth drawing past a few thousand items, and not on every one.
        if total < 5000 or (done % 1000 and done != total):
            return
        if self.bar is None:
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(
                console=Console(stderr=True, no_color=self.env.no_color), transient=True
            )
            self.bar.start()
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(self.LABELS.get(stage, stage), total=total)
        self.bar.update(self.tasks[stage], completed=done)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
