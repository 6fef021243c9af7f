"""Setting up: the store, the tier ladder, people and the SLA policy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from esc_cli.commands.common import Json, complete_owner, complete_team, complete_tier, output

tier_app = typer.Typer(help="The escalation ladder.", no_args_is_help=True)
owner_app = typer.Typer(help="People cases are assigned to.", no_args_is_help=True)
policy_app = typer.Typer(help="The SLA policy.", no_args_is_help=True)


def _read_file(path: Path, what: str) -> str:
    from esc_cli.errors import NotFound, UsageError

    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"no such {what} file: {path}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None


def register(app: typer.Typer) -> None:
    @app.command(help="Create the store with the default tiers and policy.")
    def init(
        ctx: typer.Context,
        policy: Annotated[
            Optional[Path], typer.Option("--policy", help="Start with this policy TOML")
        ] = None,
        json: Json = False,
    ) -> None:
        from esc_cli import services
        from esc_cli.render.output import clean

        text = _read_file(policy, "policy") if policy else None
        created, path = services.init_store(ctx.obj, text)
        out = output(ctx, json)
        if out.as_json:
            out.json({"created": created, "db": path})
        elif created:
            out.line(f"initialised esc store at {clean(path)}")
        else:
            out.line(f"esc store at {clean(path)} is already initialised; nothing changed")

    @app.command(help="Who is on call now for each tier and team, and the next handoffs.")
    def oncall(
        ctx: typer.Context,
        at: Annotated[
            Optional[str], typer.Option("--at", help="Another instant (ISO-8601, read in --tz)")
        ] = None,
        json: Json = False,
    ) -> None:
        from esc_cli.render import routing as view
        from esc_cli.services import routing

        view.oncall(output(ctx, json), routing.oncall(ctx.obj, at))

    app.add_typer(tier_app, name="tier")
    app.add_typer(owner_app, name="owner")
    app.add_typer(policy_app, name="policy")


@tier_app.command("list", help="The escalation matrix: tiers, people, teams, stale times, rules.")
def tier_list(ctx: typer.Context, json: Json = False) -> None:
    from esc_cli import services
    from esc_cli.render import views

    views.tier_list(output(ctx, json), services.tier_list(ctx.obj))


@tier_app.command(
    "add", help="Add a tier at the top of the ladder, or rename/edit an existing one."
)
def tier_add(
    ctx: typer.Context,
    level: Annotated[
        int, typer.Argument(help="Tier level (1 is frontline)", autocompletion=complete_tier)
    ],
    name: Annotated[str, typer.Argument(help="Tier name")],
    stale_after: Annotated[
        Optional[str], typer.Option("--stale-after", help="SPAN or none")
    ] = None,
    json: Json = False,
) -> None:
    from esc_cli import services
    from esc_cli.render import views

    views.tier_list(output(ctx, json), services.tier_add(ctx.obj, level, name, stale_after))


@owner_app.command("add", help="Add an owner, or update and reactivate an existing one.")
def owner_add(
    ctx: typer.Context,
    handle: Annotated[
        str, typer.Argument(help="Handle, e.g. alice", autocompletion=complete_owner)
    ],
    name: Annotated[Optional[str], typer.Option()] = None,
    email: Annotated[
        Optional[str], typer.Option(help="Where the email channel writes (none: remove it)")
    ] = None,
    tier: Annotated[
        Optional[int],
        typer.Option(help="Tier the owner works at (default: 1)", autocompletion=complete_tier),
    ] = None,
    team: Annotated[
        Optional[list[str]],
        typer.Option("--team", help="Team (repeatable)", autocompletion=complete_team),
    ] = None,
    capacity: Annotated[Optional[int], typer.Option(help="Max cases in new/open/pending")] = None,
    json: Json = False,
) -> None:
    from esc_cli import services
    from esc_cli.render import views

    doc = services.owner_add(ctx.obj, handle, name, email, tier, team, capacity)
    views.owner_written(output(ctx, json), doc, "saved")


@owner_app.command("list", help="Owners with their load.")
def owner_list(ctx: typer.Context, json: Json = False) -> None:
    from esc_cli import services
    from esc_cli.render import views

    views.owner_list(output(ctx, json), services.owner_list(ctx.obj))


@owner_app.command("deactivate", help="Deactivate an owner and unassign their unresolved cases.")
def owner_deactivate(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument(help="Owner handle", autocompletion=complete_owner)],
    json: Json = False,
) -> None:
    from esc_cli import services
    from esc_cli.render import views

    views.owner_written(
        output(ctx, json), services.owner_deactivate(ctx.obj, handle), "deactivated"
    )


@owner_app.command(
    "away", help="Mark an owner away: routing skips them until then (their cases stay theirs)."
)
def owner_away(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument(help="Owner handle", autocompletion=complete_owner)],
    until: Annotated[
        str,
        typer.Option("--until", help="When they are back: an ISO time, or a span from now (3d)"),
    ],
    reason: Annotated[
        Optional[str], typer.Option("--reason", help="Why (shown in owner list --json)")
    ] = None,
    json: Json = False,
) -> None:
    from esc_cli.render import views
    from esc_cli.services import routing

    views.owner_written(
        output(ctx, json), routing.owner_away(ctx.obj, handle, until, reason), "away"
    )


@owner_app.command("back", help="Mark an owner back: routing may pick them again.")
def owner_back(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument(help="Owner handle", autocompletion=complete_owner)],
    json: Json = False,
) -> None:
    from esc_cli.render import views
    from esc_cli.services import routing

    views.owner_written(output(ctx, json), routing.owner_back(ctx.obj, handle), "back")


@policy_app.command("show", help="The current policy, secrets masked.")
def policy_show(ctx: typer.Context, json: Json = False) -> None:
    from esc_cli import services
    from esc_cli.domain.policy import dump_policy, masked
    from esc_cli.render import views

    version, text, policy = services.policy_current(ctx.obj)
    # policy_current's third item is the Policy (typed object there)
    document = masked(policy.raw())  # type: ignore[attr-defined]
    shown = text if document == policy.raw() else dump_policy(document)  # type: ignore[attr-defined]
    views.policy_text(output(ctx, json), version, shown, document)


@policy_app.command("export", help="The current policy as TOML (secrets kept, so it reloads).")
def policy_export(ctx: typer.Context, json: Json = False) -> None:
    import sys

    from esc_cli import services

    version, text, policy = services.policy_current(ctx.obj)
    if json:  # `policy show --json`'s shape, the secrets kept as the TOML keeps them
        output(ctx, True).json({"version": version, "policy": policy.raw()})  # type: ignore[attr-defined]
        return
    text = text if text.endswith("\n") else text + "\n"
    if ctx.obj.stdout_tty:  # exact to a file or pipe; never control bytes to a terminal
        from esc_cli.render.output import visible

        text = visible(text)
    sys.stdout.write(text)


@policy_app.command(
    "load", help="Replace the policy (validated first); --recompute moves open cases."
)
def policy_load(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Policy TOML file")],
    recompute: Annotated[
        bool, typer.Option("--recompute", help="Recompute due times of unresolved cases")
    ] = False,
    json: Json = False,
) -> None:
    from esc_cli import services

    result = services.policy_load(ctx.obj, _read_file(file, "policy"), recompute)
    out = output(ctx, json)
    if out.as_json:
        out.json(result)
        return
    line = f"policy version {result['version']} loaded"
    if recompute:
        line += (
            f"; {result['due_times_moved']} due time(s) moved on {result['cases_moved']} case(s)"
        )
    out.line(line)


@policy_app.command(
    "try",
    help="Replay the window's cases under FILE and the current policy, side by side (writes nothing).",
)
def policy_try(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Policy TOML file to try")],
    since: Annotated[
        Optional[str], typer.Option(metavar="WHEN", help="Window start (default: 30 days back)")
    ] = None,
    until: Annotated[
        Optional[str],
        typer.Option(metavar="WHEN", help="Window end (a date means the end of that day)"),
    ] = None,
    by: Annotated[
        Optional[str],
        typer.Option(
            metavar="FIELD", help="Group by priority|tier|team|category (default: priority)"
        ),
    ] = None,
    format: Annotated[
        Optional[str],
        typer.Option(
            "--format", "-f", metavar="FORMAT", help="table|json|markdown (default: table)"
        ),
    ] = None,
    json: Json = False,
) -> None:
    from esc_cli.errors import UsageError
    from esc_cli.render import policy_try as view
    from esc_cli.services.policy_try import check_dimension, try_policy

    if format is not None and format not in ("table", "json", "markdown"):
        raise UsageError(f"unknown --format '{format}' (use table, json or markdown)")
    check_dimension(by)
    text = _read_file(file, "policy")
    with _TryProgress(ctx.obj) as progress:
        document = try_policy(ctx.obj, str(file), text, since, until, by, progress)
    view.render(output(ctx, json), document, format)


class _TryProgress:
    """A bar on stderr while a large window replays, on a terminal only."""

    def __init__(self, env):
        self.env = env
        self.bar = None
        self.task = None

    def __enter__(self):
        return self.update if self.env.stderr_tty else None

    def update(self, done: int, total: int) -> None:
        if total < 5000:
            return
        if self.bar is None:
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(
                console=Console(stderr=True, no_color=self.env.no_color), transient=True
            )
            self.bar.start()
            self.task = self.bar.add_task("replaying cases", total=total)
        self.bar.update(self.task, completed=done)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
