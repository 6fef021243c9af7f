"""Bulk in and out, and the demo: `esc import`, `esc export`, `esc demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from esc_cli.commands.common import Json, output


def register(app: typer.Typer) -> None:
    @app.command(
        "import",
        help="Import cases, owners, or a whole export (CSV or JSON, by the "
        "file's extension). Any bad row: nothing is imported.",
    )
    def import_(
        ctx: typer.Context,
        file: Annotated[
            Optional[Path],
            typer.Argument(
                metavar="[FILE]",
                help="A .csv or .json file, or - to read a pipe (the default when "
                "standard input is a pipe)",
                show_default=False,
            ),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Check every row; write nothing")
        ] = False,
        json: Json = False,
    ) -> None:
        import sys

        from esc_cli.render.output import clean
        from esc_cli.services import importing

        def bad_row(label: str, reasons: list[str]) -> None:
            sys.stderr.write(f"error: {clean(label)}: {clean('; '.join(reasons))}\n")

        env = ctx.obj
        if file is None or str(file) == "-":
            # `esc export --db OLD | esc import --db NEW` (issue 18's move) reads the pipe
            if sys.stdin.isatty():
                from esc_cli.errors import UsageError

                if file is None:
                    raise UsageError(
                        "esc import needs a FILE (a .csv or .json file) or a pipe",
                        hint="esc import cases.csv, or esc export --db OLD | esc import --db NEW",
                    )
                raise UsageError(
                    "esc import - reads a pipe, and standard input is a terminal",
                    hint="esc export --db OLD | esc import --db NEW -",
                )
            summary = importing.import_stream(
                env, sys.stdin.buffer, dry_run=dry_run, on_error=bad_row, progress=_progress(env)
            )
        else:
            summary = importing.import_file(
                env, file, dry_run=dry_run, on_error=bad_row, progress=_progress(env)
            )
        out = output(ctx, json)
        if out.as_json:
            out.json(summary)
        else:
            out.line(_import_line(summary))

    @app.command(
        help="Write the whole store out: JSON (policy versions, owners, cases with "
        "their events; re-imports into an empty store) or CSV (case fields)."
    )
    def export(
        ctx: typer.Context,
        format: Annotated[
            str, typer.Option("--format", "-f", metavar="FORMAT", help="json|csv")
        ] = "json",
        output_file: Annotated[
            Optional[Path],
            typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout"),
        ] = None,
        json: Json = False,
    ) -> None:
        import sys

        from esc_cli.errors import UsageError
        from esc_cli.outfile import is_stdout
        from esc_cli.services import export as service
        from esc_cli.services.sources import Progress

        env = ctx.obj
        fmt = format.lower()
        if fmt not in ("json", "csv"):
            raise UsageError(f"unknown format '{format}' (use json or csv)")
        # every read command takes --json (SPEC 4): here it is the default format, said
        if json and fmt != "json":
            raise UsageError("--json is --format json: give one format")
        if output_file is not None and is_stdout(output_file):
            # `--output /dev/stdout`: written as stdout is, so `>> file` appends and no
            # "exported ..." line lands in the document
            output_file = None
        if output_file is None:
            if env.stdout_tty:
                # The export is a backup format: a file or a pipe gets its exact bytes. A
                # terminal gets every control character shown as \xNN / \uXXXX instead
                # of acted on (docs/reliability.md).
                from esc_cli.render.output import VisibleWriter

                service.export(env, fmt, VisibleWriter(sys.stdout), Progress())
                return
            service.export(env, fmt, sys.stdout, _progress(env))
            return
        counts = _export_to_file(env, fmt, output_file)
        if json:
            # the document went to FILE; --json makes what is said of it one JSON
            # document too, as backup --json does
            from esc_cli.render.output import Output

            Output(env, as_json=True).json({"file": str(output_file), "format": fmt, **counts})
            return
        from esc_cli.render.output import clean

        detail = f" ({_plural(counts['events'], 'event')})" if fmt == "json" else ""
        sys.stdout.write(
            f"exported {_plural(counts['cases'], 'case')}{detail} to {clean(str(output_file))}\n"
        )

    @app.command(
        help="Load a sample support desk into a new store, its timeline moved to "
        "end now, and show its queue, overdue cases and report (never touches "
        "ESC_DB or --db)."
    )
    def demo(
        ctx: typer.Context,
        into: Annotated[
            Optional[str],
            typer.Option(
                "--into",
                metavar="PATH",
                help="Create the demo store here (must not exist; "
                "default: a new temporary directory)",
            ),
        ] = None,
        json: Json = False,
    ) -> None:
        from esc_cli.services import demo as service

        env = ctx.obj
        result = service.demo(env, into, _progress(env))
        _show_demo(output(ctx, json), result)


# -- progress ----------------------------------------------------------------------------


def _progress(env):
    """A Rich bar on stderr when stderr is a terminal; silent otherwise."""
    from esc_cli.services.sources import Progress

    if not env.stderr_tty:
        return Progress()

    class Bar(Progress):
        # Rich's advance takes a lock; rows arrive far faster than a bar can show them,
        # so amounts are handed over in steps of half a percent.
        def __init__(self):
            self.bar = None
            self.pending = 0
            self.step = 1

        def start(self, description, total):
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress as RichProgress,
                TaskProgressColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True, no_color=env.no_color),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(description, total=total)
            self.pending = 0
            self.step = max(1, (total or 0) // 200)

        def advance(self, amount):
            self.pending += amount
            if self.bar is not None and self.pending >= self.step:
                self.bar.advance(self.task, self.pending)
                self.pending = 0

        def stop(self):
            if self.bar is not None:
                self.bar.stop()
                self.bar = None

    return Bar()


# -- import and export -------------------------------------------------------------------


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _import_line(summary: dict) -> str:
    parts = []
    if summary["policy_versions"]:
        parts.append(_plural(summary["policy_versions"], "policy version"))
    if summary["owners"] or summary["kind"] == "owners":
        parts.append(_plural(summary["owners"], "owner"))
    if summary["kind"] != "owners":
        cases = _plural(summary["cases"], "case")
        if not summary["dry_run"]:
            cases += f" ({_plural(summary['events'], 'event')})"
        parts.append(cases)
    what = ", ".join(parts)
    if summary["dry_run"]:
        return f"checked {what}: no problems (dry run: nothing imported)"
    line = f"imported {what}"
    if summary["rules_fired"]:
        line += f"; trigger rules changed {_plural(summary['rules_fired'], 'case')}"
    return line


def _export_to_file(env, fmt: str, target: Path) -> dict:
    """Write next to the target and rename over it, so a failed export leaves no half
    file; created 0600 like the store, since it holds the same customer data. A path
    that is not a regular file is written into instead: renaming over a symlink would
    leave its target as it was, and over a FIFO or a device (/dev/stdout) would put a
    file where the reader or the device was."""
    import os

    from esc_cli import outfile
    from esc_cli.services import export as service

    target = target.expanduser()
    outfile.refuse_target(target, env.db_path, "export to another file")
    if outfile.writes_in_place(target):
        fd = outfile.open_in_place(target)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                return service.export(env, fmt, handle, _progress(env))
        except BrokenPipeError:
            raise  # `--output /dev/stdout | head`: quiet, as a pipe on stdout is
        except OSError as err:
            raise outfile.cannot_write(target, err) from None
    from esc_cli.services import leftovers

    leftovers.remove_stale(target, "tmp")  # of exports to this file that were killed
    temporary = leftovers.temporary(target, "tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as err:
        raise outfile.cannot_write(target, err) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            counts = service.export(env, fmt, handle, _progress(env))
        os.replace(temporary, target)
    except BaseException as failure:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(failure, OSError):
            raise outfile.cannot_write(target, failure) from None
        raise
    return counts


# -- the demo ----------------------------------------------------------------------------


def _show_demo(out, result: dict) -> None:
    import dataclasses

    from esc_cli.render import views
    from esc_cli.render.output import local_time, parse_iso

    if out.as_json:
        out.json(result)
        return
    # The views read "now" from the env: show the demo at the instant it was built for.
    env = dataclasses.replace(out.env, now=parse_iso(result["now"]), _store=None)
    out.env = env
    when = local_time(env.now, env.tz, with_zone=True)
    cases = sum(i.get("cases", 0) for i in result["imported"].values())
    owners = sum(i.get("owners", 0) for i in result["imported"].values())
    intro = f"esc demo: {cases} sample cases and {owners} owners as of {when}"

    def heading(text: str) -> None:
        if out.tty:
            out.console().print()
            out.console().rule(text, align="left", style="bold")
        else:
            out.line("")
            out.line(f"# {text}")

    if out.tty:
        # a sentence that would wrap mid-word at this width breaks before "as of" instead
        lines = [intro] if len(intro) <= out.console().width else intro.split(" as of ", 1)
        for index, part in enumerate(lines):
            out.console().print(
                part if index == 0 else f"as of {part}", style="bold", markup=False, highlight=False
            )
    else:
        out.line(f"# {intro}")
    sweep = result["sweep"]
    if sweep is not None:
        line = (
            f"sweep just now: {len(sweep['warned'])} warned, "
            f"{len(sweep['breached'])} breached, {len(sweep['escalated'])} escalated, "
            f"{len(sweep['closed'])} closed, {len(sweep['notified'])} notified"
        )
        out.console().print(line, style="dim", markup=False) if out.tty else out.line(f"# {line}")

    shown = len(result["queue"])
    heading(f"queue: the {shown} most urgent of {result['unresolved']} unresolved cases")
    views.case_list(out, result["queue"], empty="the queue is empty")

    if result["overdue"] is not None:
        heading(f"overdue: {len(result['overdue'])} cases breached or at risk")
        try:
            from esc_cli.render.ops import overdue as show_overdue
        except ImportError:
            views.case_list(out, result["overdue"], empty="nothing is overdue")
        else:
            show_overdue(out, result["overdue"], None)

    if result["report"] is not None:
        heading("report: the last 30 days")
        _show_report(env, result["report"])

    heading("open this store again")
    command = result["command"]
    if out.tty:
        out.console().print(f"  {command}", style="bold", markup=False, highlight=False)
        # two lines that fit 80 columns, not one that wraps
        for line in (
            "  (the sample's timeline was moved to end now: its cases age in real",
            "  time from here on, and a sweep picks up what falls due)",
        ):
            out.console().print(line, style="dim", markup=False, highlight=False)
    else:
        out.line(command)


def _show_report(env, document: dict) -> None:
    try:
        from esc_cli.render.report_formats import emit
    except ImportError:
        import json
        import sys

        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    emit(env, document, "table", None, None)
