"""`esc report`: the metrics dashboard, and the same figures as JSON, CSV, Markdown or HTML."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from esc_cli.commands.common import Json

WINDOW_HELP = (
    "ISO date or time, today, yesterday, this week, last week, this month, "
    "or a span back from now (7d, 4w)"
)


def register(app: typer.Typer) -> None:
    @app.command(
        help="The metrics dashboard: volumes, SLA, FCR, CSAT, backlog and trends "
        "over a window (default: the last 30 days)."
    )
    def report(
        ctx: typer.Context,
        since: Annotated[
            Optional[str], typer.Option(metavar="WHEN", help=f"Window start: {WINDOW_HELP}")
        ] = None,
        until: Annotated[
            Optional[str],
            typer.Option(
                metavar="WHEN", help=f"Window end (a date means the end of that day): {WINDOW_HELP}"
            ),
        ] = None,
        by: Annotated[
            Optional[str],
            typer.Option(
                metavar="FIELD", help="Break down by tier|priority|category|owner|team|customer"
            ),
        ] = None,
        format: Annotated[
            Optional[str],
            typer.Option(
                "--format",
                "-f",
                metavar="FORMAT",
                help="table|json|csv|markdown|html (default: table)",
            ),
        ] = None,
        output: Annotated[
            Optional[str],
            typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout"),
        ] = None,
        json: Json = False,
    ) -> None:
        from esc_cli.render.report_formats import check_format, emit
        from esc_cli.services.report import check_dimension, report as build

        chosen = check_format(format, json)
        dimension = check_dimension(by)
        if output is not None:
            output = _check_output(ctx.obj, output)
        document = build(ctx.obj, since, until, dimension)
        emit(ctx.obj, document, chosen, dimension, output)


def _check_output(env, output: str) -> str | None:
    """Refuse a file the report must not replace, before the figures are computed;
    None for `--output /dev/stdout`, written as stdout is (`>> file` appends)."""
    from pathlib import Path

    from esc_cli.outfile import is_stdout, refuse_target

    if is_stdout(Path(output)):
        return None
    refuse_target(output, env.db_path, "write the report to another file")
    return output
