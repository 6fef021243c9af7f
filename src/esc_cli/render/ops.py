"""Views of the sweep's result, the overdue list and the notification outbox (explain's in
render/explain.py)."""

from __future__ import annotations

import sys

from esc_cli.render.output import (
    Output,
    clean,
    duration,
    local_time,
    parse_iso,
)

PRIORITY_STYLE = {
    "urgent": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
}


def _text(value, style: str = ""):
    from rich.text import Text

    return Text(clean(value), style=style)


# Which overdue columns give way on a narrow terminal, in order (0: the column goes):
# team and customer first; the title keeps 30 characters at 80 columns; the status never
# shrinks.
OVERDUE_SHRINK = (
    ("team", 10),
    ("customer", 14),
    ("title", 41),
    ("team", 0),
    ("customer", 0),
    ("title", 31),
    ("owner", 6),
    ("clock", 0),
    ("title", 20),
    ("owner", 0),
    ("title", 12),
)


# -- sweep ----------------------------------------------------------------------------


def summary_line(doc: dict) -> str:
    """`sweep: 2 warned, 1 breached, 1 escalated, 0 closed, 3 notified (1 failed)`, and
    `; 2 retried` when notifications of earlier runs were sent again. `failed` counts what
    was tried and failed; what waited on a channel that went down is `not tried`."""
    counts = (
        f"{len(doc['warned'])} warned, {len(doc['breached'])} breached, "
        f"{len(doc['escalated'])} escalated, {len(doc['closed'])} closed, "
        f"{len(doc['notified'])} notified"
    )
    if doc.get("dry_run"):
        due = f"; {len(doc['retried'])} to retry" if doc.get("retried") else ""
        return f"sweep --dry-run: {counts}{due}; nothing written"
    down = [f["channel"] for f in doc.get("failures", []) if f.get("case") is None]
    line = f"sweep: {counts} ({doc['failed']} failed{_not_tried(doc.get('not_tried'), down)})"
    if doc.get("retried"):
        line += f"; {len(doc['retried'])} retried"
    return line


def _not_tried(count: int | None, down: list[str]) -> str:
    """`, 2 not tried: webhook:1 down` (nothing when everything due was tried)."""
    if not count:
        return ""
    return f", {count} not tried" + (f": {', '.join(clean(c) for c in down)} down" if down else "")


def _happened(doc: dict) -> bool:
    return any(
        doc.get(key) for key in ("warned", "breached", "escalated", "closed", "notified", "retried")
    )


# A notification that fails alone (no address for its recipient) gets a line of its own,
# up to this many per channel in one run; the rest are counted in one more line.
FAILURE_LINES = 5


def sweep_result(out: Output, doc: dict) -> None:
    """Cron manners: nothing at all when nothing happened, else one line (cron mails
    it); on stderr, one line per channel that failed and one per notification that
    failed alone."""
    if out.as_json:
        out.json(doc)
        return
    alone: dict[str, int] = {}
    for failure in doc.get("failures", []):
        channel = clean(failure["channel"])
        if failure.get("case") is not None:
            alone[channel] = alone.get(channel, 0) + 1
            if alone[channel] > FAILURE_LINES:
                continue
            channel += f" failed for #{failure['case']}"
        else:
            channel += " failed"
        retry_at = parse_iso(failure["next_attempt_at"])
        wait = f"next try in {duration(retry_at - out.env.now)}" if retry_at else "will retry"
        sys.stderr.write(
            f"sweep: {channel}: {clean(failure['error'])} ({wait}; esc notify retry sends now)\n"
        )
    for channel, count in alone.items():
        if count > FAILURE_LINES:
            sys.stderr.write(
                f"sweep: {channel} failed for {count - FAILURE_LINES} more notifications "
                "(esc notify list --pending)\n"
            )
    if doc.get("dry_run"):
        # a person reads a dry run at a terminal: fit its width there; a pipe keeps one
        # line per action for grep
        width = out.console().width if out.tty else 0
        for line in _dry_run_lines(doc):
            out.line(_fit(line, width))
        if not _happened(doc):
            out.line(_fit(f"sweep --dry-run: nothing to do ({doc['checked']} checked)", width))
            return
        out.line(_fit(summary_line(doc), width))
        return
    if not _happened(doc):
        return
    out.line(summary_line(doc))


def _fit(line: str, width: int) -> str:
    """`line` wrapped at `width` (0: as it is), its continuation lines indented."""
    if width <= 0 or len(line) <= width:
        return line
    import textwrap

    return textwrap.fill(
        line,
        width=max(width, 20),
        subsequent_indent="    ",
        break_on_hyphens=False,
        break_long_words=True,
    )


def _dry_run_lines(doc: dict) -> list[str]:
    lines = [f"would warn #{w['case']}: {w['clock']} SLA at risk" for w in doc["warned"]]
    lines += [f"would record #{b['case']}: {b['clock']} SLA breached" for b in doc["breached"]]
    lands = {r["case"]: r for r in doc.get("routed", [])}
    lines += [
        f"would escalate #{e['case']} from tier {e['from']} to {e['to']}: "
        f"{clean(e['reason'])}{_lands(lands.get(e['case']))}"
        for e in doc["escalated"]
    ]
    lines += [f"would close #{c['case']}" for c in doc["closed"]]
    lines += [
        f"would notify {clean(n['recipient'])} about #{n['case']} ({n['kind']})"
        for n in doc["notified"]
    ]
    lines += [
        f"would retry {clean(n['recipient'])} about #{n['case']} ({n['kind']})"
        for n in doc.get("retried", [])
    ]
    return lines


def _lands(where: dict | None) -> str:
    """`; to bob (least-loaded in tier 2: bob (1 of 8))`, or the queue it would wait in."""
    if where is None:
        return ""
    if where["owner"] is not None:
        return f"; to {clean(where['owner'])} ({clean(where['reason'])})"
    queue = f"team {clean(where['team'])}" if where["team"] else f"tier {where['tier']}"
    return f"; unassigned in {queue}'s queue ({clean(where['reason'])})"


class ProgressBar:
    """A progress bar for a large sweep: on stderr, and only when stderr is a terminal."""

    def __init__(self, env):
        self.env = env
        self._progress = None

    def start(self, total: int):
        if not self.env.stderr_tty:
            return None
        from rich.console import Console
        from rich.progress import Progress

        console = Console(file=sys.stderr, no_color=self.env.no_color)
        self._progress = Progress(console=console, transient=True)
        self._progress.start()
        task = self._progress.add_task("sweeping", total=total)
        return lambda: self._progress.advance(task)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


# -- overdue ----------------------------------------------------------------------------


def _clock_words(doc: dict, now: int) -> str:
    """`16d over`, `2h 10m left` (at risk), `in 2h 10m` (due soon): short enough for a
    wallboard at 80 columns."""
    from esc_cli.render.tables import compact_duration

    status = doc["clock_status"]
    if status == "breached":
        return f"{compact_duration(doc['overdue_by'])} over"
    if status == "at_risk":
        return f"{compact_duration(doc['due_in'])} left"
    if status == "unowned":  # no owner past own_within (issue 21)
        return f"{compact_duration(doc['overdue_by'])} unowned"
    return f"in {compact_duration(doc['due_in'])}"


def overdue(out: Output, docs: list[dict], within: str | None) -> None:
    now = out.env.now
    if out.as_json:
        out.json(docs)
        return
    if not out.tty:
        from esc_cli.render.views import plain_cases

        plain_cases(
            out,
            docs,
            ["clock", "status", "due_at", "overdue_by"],
            # (the pipe writes a missing overdue_by as an empty cell)
            lambda d: [d["clock"], d["clock_status"], d["clock_due"], d["overdue_by"]],
        )
        return
    from rich.text import Text

    console = out.console()
    if not docs:
        extra = f" or due within {clean(within)}" if within else ""
        console.print(Text(f"nothing breached or at risk{extra}", style="dim"))
        return
    console.print(overdue_table(console, docs, now))


def overdue_table(console, docs: list[dict], now: int, marked: frozenset = frozenset()):
    """The overdue table fitted to `console`; rows of the ids in `marked` stand out."""
    from rich.text import Text

    from esc_cli.render.tables import fitted
    from esc_cli.render.views import NEW_BREACH_STYLE

    rows = []
    for d in docs:
        style = {"breached": "bold red", "at_risk": "yellow", "unowned": "bold red"}.get(
            d["clock_status"], ""
        )
        unowned = d.get("unowned_overdue")
        rows.append(
            [
                Text(f"#{d['id']}"),
                Text(d["priority"], style=PRIORITY_STYLE.get(d["priority"], "")),
                Text(str(d["tier"])),
                # as the queue marks it: nobody took it within own_within
                _text(
                    d["owner"] or ("-!" if unowned else "-"),
                    "" if d["owner"] else ("bold red" if unowned else "dim"),
                ),
                Text(d["clock"]),
                Text(_clock_words(d, now), style=style),
                _text(d["team"] or "-", "" if d["team"] else "dim"),
                _text(d["customer"]),
                _text(d["title"]),
            ]
        )
    styles = [NEW_BREACH_STYLE if d["id"] in marked else "" for d in docs]
    return fitted(
        console,
        ["id", "pri", "tier", "owner", "clock", "status", "team", "customer", "title"],
        rows,
        OVERDUE_SHRINK,
        row_styles=styles,
    )


# -- the outbox -------------------------------------------------------------------------------


def _delivery_words(delivery: dict, now: int, zone: str) -> str:
    state = delivery["state"]
    if state == "delivered":
        return "delivered"
    text = state
    if delivery["attempts"]:
        text += f" after {delivery['attempts']} attempt{'s' if delivery['attempts'] > 1 else ''}"
        retry_at = parse_iso(delivery["next_attempt_at"])
        if retry_at is not None:
            text += (
                f", next try {local_time(retry_at, zone)}"
                if retry_at > now
                else ", retried at the next sweep"
            )
    if delivery["last_error"]:
        text += f": {delivery['last_error']}"
    return text


def outbox(out: Output, rows_in: list[dict]) -> None:
    if out.as_json:
        out.json(rows_in)
        return
    if not out.tty:
        data = []
        for r in rows_in:
            deliveries = r["deliveries"] or [None]
            for d in deliveries:
                data.append(
                    [
                        r["id"],
                        r["case"],
                        r["kind"],
                        r["recipient"],
                        r["created_at"],
                        d and d["channel"],
                        d and d["state"],
                        d and d["attempts"],
                        d and d["last_error"],
                        d and d["next_attempt_at"],
                    ]
                )
        out.tsv(
            [
                "id",
                "case",
                "kind",
                "recipient",
                "created_at",
                "channel",
                "state",
                "attempts",
                "last_error",
                "next_attempt_at",
            ],
            data,
        )
        return
    from rich.text import Text

    console = out.console()
    if not rows_in:
        console.print(Text("the outbox is empty", style="dim"))
        return
    # like a mail log: one heading line per notification, one line per channel under it
    now, zone = out.env.now, out.env.tz
    for r in rows_in:
        head = Text()
        head.append(local_time(parse_iso(r["created_at"]), zone), style="dim")
        head.append(f"  #{r['case']} {r['kind']} to ")
        head.append(clean(r["recipient"]), style="bold")
        head.append(f"  {r['id']}", style="dim")
        # one line each, cut rather than wrapped (a long error would read as a new entry)
        console.print(head, no_wrap=True, overflow="ellipsis")
        if not r["deliveries"]:
            console.print(Text("    no channel configured", style="dim"))
        for d in r["deliveries"]:
            style = {"delivered": "green", "failed": "red"}.get(d["state"], "yellow")
            line = Text(f"    {clean(d['channel'])}  ")
            line.append(clean(_delivery_words(d, now, zone)), style=style)
            console.print(line, no_wrap=True, overflow="ellipsis")


def retried(out: Output, doc: dict) -> None:
    if out.as_json:
        out.json(doc)
        return
    for attempt in doc["attempts"]:
        if not attempt["delivered"]:
            sys.stderr.write(
                f"notify: {clean(attempt['channel'])} failed for #{attempt['case']} "
                f"({attempt['id']}): {clean(attempt['error'])}\n"
            )
    if not doc["attempts"]:
        out.line(
            "nothing to deliver"
            if doc["channels"]
            else "no notification channel configured; nothing to deliver"
        )
        return
    out.line(
        f"notify: {doc['delivered']} delivered, {doc['failed']} failed"
        + _not_tried(doc.get("not_tried"), doc.get("down", []))
    )
