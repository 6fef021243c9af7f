"""Views of `esc doctor` and `esc backup`: Rich on a terminal, TSV in a pipe, JSON."""

from __future__ import annotations

from esc_cli.render.output import Output, clean


def doctor(out: Output, report: dict) -> None:
    document = {"ok": report["ok"], "checks": report["checks"]}
    if out.as_json:
        out.json(document)
        return
    if not out.tty:
        out.tsv(
            ["check", "ok", "detail", "cases"],
            [
                [
                    c["name"],
                    "yes" if c["ok"] else "no",
                    c["detail"],
                    " ".join(f"#{case}" for case in c["cases"]),
                ]
                for c in report["checks"]
            ],
        )
        return
    from rich.table import Table
    from rich.text import Text

    console = out.console()
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column()
    for check in report["_checks"]:
        mark = Text("ok", style="green") if check.ok else Text("FAIL", style="bold red")
        table.add_row(mark, Text(check.name, style="bold"), Text(clean(check.summary)))
        for case_id, problem in check.problems[:20]:
            label = f"#{case_id}" if case_id is not None else ""
            table.add_row("", Text(label, style="bold"), Text(clean(problem)))
        if len(check.problems) > 20:
            table.add_row(
                "",
                "",
                Text(
                    f"… and {len(check.problems) - 20} more (esc doctor --json lists every case)",
                    style="dim",
                ),
            )
        if not check.ok and check.hint:
            table.add_row("", "", Text(f"what to do: {clean(check.hint)}", style="yellow"))
    console.print(table)
    if report["ok"]:
        console.print(Text("all checks passed", style="green"))


def backup(out: Output, result: dict) -> None:
    if out.as_json:
        out.json(result)
    elif out.tty:
        from rich.text import Text

        size = _size(result["bytes"])
        out.console().print(
            Text(
                f"backed up {result['cases']:,} cases ({result['events']:,} events) to "
                f"{clean(result['file'])} ({size})"
            )
        )
    else:
        out.line(clean(result["file"]))


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"
