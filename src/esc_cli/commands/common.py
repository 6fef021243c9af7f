"""Option types and helpers every command module shares."""

from __future__ import annotations

from typing import Annotated

import typer

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document")]
CaseId = Annotated[str, typer.Argument(metavar="ID", help="Case id (42 or #42)")]


def output(ctx: typer.Context, as_json: bool):
    from esc_cli.render.output import Output

    return Output(ctx.obj, as_json)
