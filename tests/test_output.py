"""Output of SPEC §4 and §5: JSON shapes, terminal vs pipe, NO_COLOR, untrusted text."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest

from tests.conftest import ESC, run_process

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
CASE_KEYS = {
    "id", "title", "description", "customer", "category", "priority", "channel", "state",
    "tier", "tier_name", "team", "owner", "tags", "opened_at", "acknowledged_at",
    "resolved_at", "closed_at", "respond_by", "update_by", "resolve_by", "at_risk",
    "breached", "missed", "paused_since", "escalations", "reopened", "csat",
}
TIME_KEYS = ("opened_at", "acknowledged_at", "resolved_at", "closed_at", "respond_by",
             "update_by", "resolve_by", "paused_since")
EVENT_KEYS = {"at", "actor", "kind", "field", "from", "to", "reason"}
# Rich markup, a CSI colour, an OSC 8 hyperlink, NUL, a C1 CSI, a bidi override.
NASTY = ("[bold]x[/bold] \x1b[5;31mBLINK\x1b[0m \x1b]8;;http://evil.example\x07link"
         "\x1b]8;;\x07 nul\x00 c1\x9b5m bidi\u202eevil\u202c end")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def on_terminal(esc, *args, env=None, now=None):
    """Run esc in-process with stdout looking like a terminal."""
    from esc_cli.app import main

    out, err = Terminal(), io.StringIO()
    old = sys.stdout, sys.stderr
    argv = ["--db", str(esc.db), "--now", now or esc.now, "--as", esc.user, "--tz", "UTC", *args]
    import os

    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    sys.stdout, sys.stderr = out, err
    try:
        main(argv)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.stdout, sys.stderr = old
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return code, out.getvalue(), err.getvalue()


def strip_sgr(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


# -- JSON shapes ------------------------------------------------------------------

def test_case_object_and_events(esc):
    doc = esc.doc("open", "Printer on fire", "--customer", "Globex", "--priority", "p1",
                  "--tag", "vip", "--team", "hardware", "--channel", "phone",
                  "--category", "technical", "--description", "smoke")
    assert CASE_KEYS <= set(doc)
    assert doc["id"] == 1 and isinstance(doc["tier"], int) and doc["tier_name"] == "Frontline"
    assert doc["tags"] == ["vip"] and doc["priority"] == "urgent" and doc["channel"] == "phone"
    for key in ("at_risk", "breached", "missed"):
        assert doc[key] == []
    assert (doc["escalations"], doc["reopened"], doc["csat"]) == (0, 0, None)
    assert doc["opened_at"] == "2026-11-02T10:00:00Z"
    esc.ok("ack", "1")
    esc.ok("pending", "1", "--reason", "logs")
    shown = esc.doc("show", "1")
    assert CASE_KEYS | {"events"} <= set(shown)
    assert shown["paused_since"] == "2026-11-02T10:00:00Z"
    for key in TIME_KEYS:
        assert shown[key] is None or ISO.match(shown[key]), (key, shown[key])
    assert [set(e) for e in shown["events"]] == [EVENT_KEYS] * 3
    assert shown["events"][2] == {"at": "2026-11-02T10:00:00Z", "actor": "alice",
                                  "kind": "pending", "field": "state", "from": "open",
                                  "to": "pending", "reason": "logs"}
    queue = esc.doc("queue")
    assert isinstance(queue, list) and CASE_KEYS <= set(queue[0]) and "events" not in queue[0]


def test_times_are_utc_whatever_the_display_zone(esc):
    esc.tz = "America/New_York"
    doc = esc.doc("open", "t", "--customer", "c", "--priority", "high", now="2026-11-02T05:00")
    assert doc["opened_at"] == "2026-11-02T10:00:00Z"  # 05:00 EST


def test_list_shapes(esc):
    esc.ok("owner", "add", "bob", "--name", "Bob", "--tier", "2", "--team", "billing",
           "--capacity", "5", "--email", "bob@example.com")
    esc.ok("open", "t", "--customer", "c", "--priority", "high", "--owner", "bob")
    tiers = esc.doc("tier", "list")
    assert [set(t) for t in tiers] == [{"level", "name", "stale_after", "owners", "teams", "rules"}] * 4
    assert tiers[0] == {"level": 1, "name": "Frontline", "stale_after": "4h", "owners": [],
                        "teams": [], "rules": []}
    assert tiers[1]["owners"] == ["bob"] and tiers[1]["teams"] == ["billing"]
    assert tiers[3]["stale_after"] is None
    owners = esc.doc("owner", "list")
    assert owners == [{"handle": "bob", "name": "Bob", "email": "bob@example.com", "tier": 2,
                       "teams": ["billing"], "capacity": 5, "active": True, "load": 1,
                       "away_until": None, "away_reason": None}]


def test_json_is_one_document_and_nothing_else(esc):
    result = esc("open", "t", "--customer", "c", "--priority", "high", "--json")
    assert result.err == ""
    json.loads(result.out)
    for args in (("queue",), ("show", "1"), ("tier", "list"), ("owner", "list"), ("ack", "1")):
        result = esc(*args, "--json")
        assert result.code == 0 and result.err == ""
        json.loads(result.out)


# -- terminal, pipe, JSON for a write ----------------------------------------------

def test_write_commands_terminal_pipe_json(esc):
    code, out, err = on_terminal(esc, "open", "t", "--customer", "c", "--priority", "high")
    assert code == 0 and strip_sgr(out).strip() == "#1 opened"
    assert esc.ok("ack", "1").out == "1\n"
    code, out, _ = on_terminal(esc, "note", "1", "hello")
    assert strip_sgr(out).strip() == "#1 noted"
    assert esc.doc("note", "#1", "again")["id"] == 1


def test_pipe_output_is_tab_separated_with_a_header(esc):
    esc.ok("open", "Printer on fire", "--customer", "Globex", "--priority", "high")
    esc.ok("owner", "add", "bob")
    for args, header in ((("queue",), "id\tpriority\tstate"), (("tier", "list"), "level\tname"),
                         (("owner", "list"), "handle\tname")):
        out = esc.ok(*args).out
        assert "\x1b" not in out
        lines = out.splitlines()
        assert lines[0].startswith(header), out
        assert len({line.count("\t") for line in lines}) == 1
    rows = esc.ok("queue").out.splitlines()
    assert rows[1].split("\t")[0] == "1" and rows[1].endswith("\tGlobex\tPrinter on fire")


def test_real_pipe_has_no_ansi(bare_esc):
    env = {"ESC_DB": str(bare_esc.db), "ESC_NOW": "2026-11-02T10:00:00Z", "ESC_USER": "alice",
           "ESC_TZ": "UTC", "FORCE_COLOR": "", "TERM": "xterm-256color"}
    assert run_process("init", env=env).code == 0
    opened = run_process("open", "Printer", "--customer", "Globex", "--priority", "high", env=env)
    assert (opened.code, opened.out) == (0, "1\n")
    shown = run_process("show", "1", env=env)
    assert shown.code == 0 and "\x1b" not in shown.out
    assert shown.out.startswith("field\tvalue\nid\t1\ntitle\tPrinter\n")
    sections = shown.out.split("\n\n")
    assert [s.split("\n")[0] for s in sections] == [
        "field\tvalue", "clock\ttarget\tcalendar\tzone\tdue_at\tstate\tstatus",
        "at\tactor\tkind\tfield\tfrom\tto\treason"]


def test_no_color_on_a_terminal(esc):
    esc.ok("open", "t", "--customer", "c", "--priority", "urgent")
    code, out, _ = on_terminal(esc, "queue")
    assert "\x1b[" in out  # a terminal gets colour...
    for value in ("1", "yes"):
        code, out, _ = on_terminal(esc, "queue", env={"NO_COLOR": value})
        assert code == 0 and "\x1b" not in out and "#1" in out  # ...unless NO_COLOR is set
        code, out, _ = on_terminal(esc, "show", "1", env={"NO_COLOR": value})
        assert code == 0 and "\x1b" not in out and "SLA clocks" in out
    code, out, _ = on_terminal(esc, "queue", env={"NO_COLOR": ""})
    assert "\x1b[" in out  # an empty NO_COLOR does not count (no-color.org)


# -- untrusted text -------------------------------------------------------------------

def _nasty(backend: str) -> str:
    # PostgreSQL text cannot hold NUL (test_bad_input: refused there, exit 2)
    return NASTY.replace("\x00", "") if backend == "postgres" else NASTY


def assert_clean(text: str, whole: bool = True):
    assert "[bold]x[/bold]" in text  # markup printed as text, not interpreted
    assert "\x1b[5;31m" not in text and "\x1b]8" not in text
    assert not CONTROL.search(strip_sgr(text).replace("\x1b", "")), repr(text)
    if whole:  # the text around the removed controls survives
        assert "BLINK" in text and "evil" in text and "http://evil.example" not in text


def test_untrusted_text_is_printed_as_text(esc, backend):
    nasty = _nasty(backend)
    doc = esc.doc("open", nasty, "--customer", nasty, "--priority", "urgent",
                  "--description", "line one\n" + nasty + "\n\tindented")
    # stored and JSON-ed as given
    assert doc["title"] == nasty and doc["customer"] == nasty
    assert esc.rows("SELECT title, customer FROM cases") == [(nasty, nasty)]
    esc.ok("note", "1", nasty)
    assert esc.doc("show", "1")["events"][-1]["reason"] == nasty
    raw = esc.ok("show", "1", "--json").out
    assert "\x1b" not in raw and "\x00" not in raw and "\x9b" not in raw and "\u202e" not in raw
    assert json.loads(raw)["title"] == nasty  # JSON escapes it, the value is as given

    assert_clean(esc.ok("show", "1").out)
    assert_clean(on_terminal(esc, "show", "1")[1])
    assert_clean(esc.ok("queue").out)
    assert_clean(on_terminal(esc, "queue")[1], whole=False)  # the title is cut to fit
    # pipe rows stay one line per record: embedded newlines and tabs do not split fields
    lines = esc.ok("queue").out.splitlines()
    assert len(lines) == 2 and lines[1].count("\t") == lines[0].count("\t")
    code, out, _ = on_terminal(esc, "note", "1", nasty)
    assert code == 0


def test_untrusted_text_in_errors(esc):
    result = esc("assign", "1", "\x1b]0;pwned\x07bob\u202e")
    assert result.code == 2  # no handle holds a control character (issue 20: exact)
    assert "\x1b" not in result.err and "\u202e" not in result.err and "\x07" not in result.err
    result = esc("show", "[red]1\x1b[2J")
    assert result.code == 2 and "\x1b" not in result.err and "[red]1" in result.err


def test_owner_and_tier_names_are_untrusted_too(esc, backend):
    esc.ok("owner", "add", "mallory", "--name", _nasty(backend))
    # the policy refuses control characters in tier names; markup is allowed and shown as is
    assert esc("tier", "add", "2", "Spec\x1b[2Jialist").code == 2
    esc.ok("tier", "add", "2", "[blink]Specialist")
    for args in (("owner", "list"), ("tier", "list")):
        for output in (esc.ok(*args).out, on_terminal(esc, *args)[1]):
            assert "\x1b[2J" not in output and "\x1b]8" not in output
            assert not CONTROL.search(strip_sgr(output).replace("\x1b", "")), repr(output)
    assert "[blink]Specialist" in on_terminal(esc, "tier", "list")[1]


# -- the show screen on an 80-column terminal -----------------------------------------

def render_show(esc, case: str, now: str) -> str:
    from rich.console import Console

    from esc_cli.render import case_view
    from esc_cli.render.output import Output, parse_iso

    doc = esc.doc("show", case, now=now)
    env = SimpleNamespace(now=parse_iso(now), tz="UTC", stdout_tty=True, no_color=False)
    out = Output(env, as_json=False)
    out._console = Console(width=80, record=True, file=io.StringIO(), color_system="standard")
    case_view.case_detail(out, doc)
    return out._console.export_text()


def test_show_screen_has_clocks_with_relative_times(esc):
    # urgent, opened 09:00: respond by 09:15, resolve by 13:00; never answered
    esc.ok("open", "Checkout down for all EU customers", "--customer", "Globex",
           "--priority", "urgent", now="2026-11-02T09:00:00Z")
    esc.ok("note", "1", "looking at the load balancer", now="2026-11-02T09:05:00Z")
    text = render_show(esc, "1", "2026-11-02T12:20:00Z")
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "#1 Checkout down for all EU customers" in text
    lines = {line.strip("│ ").split()[0]: line for line in text.splitlines()
             if line.strip("│ ").startswith(("response ", "update ", "resolution "))}
    assert "3h 5m overdue" in lines["response"]        # 12:20 - 09:15
    assert "in 40m" in lines["resolution"]              # 13:00 - 12:20
    assert "looking at the load balancer" in text and "opened" in text
    text = render_show(esc, "1", "2026-11-02T12:48:00Z")
    assert "in 12m" in text


def test_show_screen_for_paused_met_and_missed_clocks(esc):
    esc.ok("open", "t", "--customer", "c", "--priority", "urgent", now="2026-11-02T09:00:00Z")
    esc.ok("ack", "1", now="2026-11-02T09:20:00Z")          # 5m late
    esc.ok("pending", "1", "--reason", "r", now="2026-11-02T09:30:00Z")
    text = render_show(esc, "1", "2026-11-02T12:00:00Z")
    assert "missed by 5m" in text and "paused" in text
    esc.ok("resume", "1", now="2026-11-02T12:00:00Z")
    esc.ok("resolve", "1", "--resolution", "done", now="2026-11-02T12:10:00Z")
    text = render_show(esc, "1", "2026-11-02T12:30:00Z")
    # resolve_by 13:00 + 2h30m paused = 15:30; resolved 12:10 -> 3h 20m to spare
    assert "met, 3h 20m to spare" in text


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("unbuffered", ("1", ""))
@pytest.mark.parametrize("command", (("export",), ("queue", "--json"),
                                     ("report", "--format", "csv"), ("show", "1")))
def test_output_that_cannot_be_written_exits_5(esc, command, unbuffered):
    """Standard output on a full disk (/dev/full fails every write with ENOSPC, and is
    only ever opened here): one line, exit 5, whether Python buffers stdout or not."""
    esc.ok("open", "Printer", "--customer", "Globex", "--priority", "high")
    env = {"ESC_DB": str(esc.db), "ESC_NOW": esc.now, "ESC_TZ": "UTC",
           "PYTHONUNBUFFERED": unbuffered}
    with open("/dev/full", "w") as full:
        result = run_process(*command, env=env, stdout=full)
    assert (result.code, result.err) == (5, "error: cannot write the output: No space left on device\n")


def test_a_reader_gone_away_is_still_no_error(esc, tmp_path):
    # more than a pipe holds (64 KiB), so the export is still writing when the reader goes
    rows = "".join(f"Case {n},Globex,high\n" for n in range(400))
    (tmp_path / "cases.csv").write_text("title,customer,priority\n" + rows)
    esc.ok("import", str(tmp_path / "cases.csv"))
    env = {"ESC_DB": str(esc.db), "ESC_NOW": esc.now, "ESC_TZ": "UTC"}
    process = subprocess.Popen([ESC, "export"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**{k: v for k, v in os.environ.items()
                                       if not k.startswith("ESC_")}, **env})
    assert process.stdout.read(10) == b'{"format":'
    process.stdout.close()
    assert process.wait(60) == 0 and process.stderr.read() == b""
