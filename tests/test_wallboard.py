"""The wallboard: `esc queue --watch` and `esc overdue --watch`.

The loop is driven frame by frame with an injected clock and sleeper (no sleeping);
one test runs the installed `esc` in a pseudo-terminal as a team screen would, with a
second process writing to the store while it watches."""

from __future__ import annotations

import io
import os
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ESC

NOW = "2026-11-19T12:00:00Z"


def _desk(esc) -> None:
    # 1: urgent, unanswered: response due 12:15, warns at 12:12
    esc.ok("open", "Checkout down", "--customer", "Globex", "--priority", "urgent", now=NOW)
    # 2: breached long ago (response due Mon 02 Nov 10:15), owned by alice
    esc.ok("owner", "add", "alice", "--tier", "1")
    esc.ok("open", "VPN flaps", "--customer", "Initech", "--priority", "urgent",
           "--owner", "alice", now="2026-11-02T10:00:00Z")


class Frames:
    """A sleeper that ends the board after `count` frames, running `between[i]` (if
    any) after frame i, as another writer or the passing of time would."""

    def __init__(self, count: int, between: dict | None = None):
        self.count = count
        self.between = between or {}
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        action = self.between.get(len(self.slept))
        if action is not None:
            action()
        if len(self.slept) >= self.count:
            raise KeyboardInterrupt


def _board(esc, title: str = "esc queue"):
    from rich.console import Console

    from esc_cli.env import Env
    from esc_cli.render import views
    from esc_cli.render.wallboard import Board

    env = Env.build(str(esc.db), "lead", NOW, "UTC")
    console = Console(width=100, record=True, file=io.StringIO(), force_terminal=True,
                      color_system=None)
    return env, console, Board(title, 30, "UTC", views.case_table, "the queue is empty")


def test_frames_count_mark_new_breaches_and_never_write(esc):
    from esc_cli.render.wallboard import watch
    from esc_cli.services.watch import queue_frame

    _desk(esc)
    events_before = [len(esc.doc("show", str(i))["events"]) for i in (1, 2)]
    env, console, board = _board(esc)
    instants = iter([NOW, "2026-11-19T12:12:30Z", "2026-11-19T12:15:30Z"])
    from esc_cli.render.output import parse_iso

    sleeper = Frames(3)
    watch(console, board, lambda now: queue_frame(env, {}, "urgency", 50, now), 30,
          clock=lambda: parse_iso(next(instants)), sleep=sleeper, screen=False)
    assert sleeper.slept == [30, 30, 30]  # the interval, asked of the injected sleeper
    text = console.export_text()
    # three frames (Live draws the last once more as it stops)
    frames = text.split("esc queue  every 30s")[1:4]
    assert "last refresh Thu 19 Nov 12:00:00 UTC" in frames[0]
    assert "1 breached  ·  0 at risk  ·  1 unassigned  ·  2 cases" in frames[0]
    # 12:12:30: #1's response clock is at risk
    assert "1 breached  ·  1 at risk  ·  1 unassigned" in frames[1]
    assert "new breaches" not in frames[1]
    # 12:15:30: #1 breached while the board was up: counted and named
    assert "2 breached  ·  0 at risk" in frames[2]
    assert "new breaches since the board started: #1" in frames[2]
    assert "last refresh Thu 19 Nov 12:15:30 UTC" in frames[2]
    first_row = next(line for line in frames[2].splitlines() if line.startswith("#1 "))
    assert "due now" in first_row  # 30s past due
    # reads only: no warning or breach was recorded by watching past the due times
    assert [len(esc.doc("show", str(i))["events"]) for i in (1, 2)] == events_before
    assert esc.doc("notify", "list") == []


def test_a_failed_refresh_keeps_the_last_frame(esc):
    from esc_cli.errors import StoreError
    from esc_cli.render.output import parse_iso
    from esc_cli.render.wallboard import watch
    from esc_cli.services.watch import queue_frame

    _desk(esc)
    env, console, board = _board(esc)
    calls = []

    def fetch(now):
        calls.append(now)
        if len(calls) == 2:
            raise StoreError("the store is locked by another process")
        return queue_frame(env, {}, "urgency", 50, now)

    watch(console, board, fetch, 30, clock=lambda: parse_iso(NOW), sleep=Frames(3),
          screen=False)
    frames = console.export_text().split("esc queue  every 30s")[1:4]
    assert "could not refresh: the store is locked by another process" in frames[1]
    assert "Checkout down" in frames[1]  # the last good frame stays up
    assert "could not refresh" not in frames[2] and "Checkout down" in frames[2]


def test_overdue_board(esc):
    from esc_cli.render import ops
    from esc_cli.render.output import parse_iso
    from esc_cli.render.wallboard import Board, watch
    from esc_cli.services.watch import overdue_frame

    _desk(esc)
    env, console, _ = _board(esc)
    board = Board("esc overdue", 30, "UTC", ops.overdue_table, "nothing breached or at risk")
    watch(console, board, lambda now: overdue_frame(env, None, None, None, now), 30,
          clock=lambda: parse_iso(NOW), sleep=Frames(1), screen=False)
    text = console.export_text()
    assert "esc overdue  every 30s" in text and "1 breached  ·  0 at risk" in text
    assert "VPN flaps" in text and "Checkout down" not in text


def test_refusals_are_one_line(esc):
    _desk(esc)
    result = esc("queue", "--watch")
    assert result.code == 2 and result.out == ""
    assert result.err == ("error: --watch needs a terminal: stdout is not one "
                          "(drop --watch to print the list once)\n")
    assert esc("overdue", "--watch", "10s").code == 2
    assert esc("queue", "--watch", "--json").err.startswith("error: --watch draws a live screen")
    bad = esc("queue", "--watch", "soon")
    assert bad.code == 2 and bad.err.startswith("error: --watch:") and len(bad.err.splitlines()) == 1
    assert esc("queue", "--watch", "0s").code == 2
    # a negative interval is the interval's error, not "No such option: -5"
    for command in ("queue", "overdue"):
        negative = esc(command, "--watch", "-5s", "--tier", "1")
        assert (negative.code, negative.err) == (2, "error: --watch: the interval must be a "
                                                 "positive span, got '-5s' (e.g. --watch 10s "
                                                 "or --watch 1m)\n")


def test_bare_watch_means_every_30s():
    from esc_cli.commands.lists import with_watch_default

    assert with_watch_default(["queue", "--watch"]) == ["queue", "--watch", "30s"]
    assert with_watch_default(["queue", "--watch", "--tier", "2"]) == [
        "queue", "--watch", "30s", "--tier", "2"]
    assert with_watch_default(["queue", "--watch", "10s"]) == ["queue", "--watch", "10s"]
    assert with_watch_default(["note", "1", "--", "--watch"]) == ["note", "1", "--", "--watch"]
    assert with_watch_default(["queue"]) == ["queue"]
    assert with_watch_default(["queue", "--watch", "-5s"]) == ["queue", "--watch", "-5s"]


# -- a real terminal --------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")


class Terminal:
    """The installed esc in a pseudo-terminal of a fixed size; reads what it draws."""

    def __init__(self, args: list[str], env: dict, columns: int = 100, rows: int = 30):
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        full = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
        # PYTHONFAULTHANDLER: a hung esc shows its Python stack when state() aborts it
        full.update(env, TERM="xterm-256color", COLUMNS=str(columns), LINES=str(rows),
                    PYTHONFAULTHANDLER="1")
        self.proc = subprocess.Popen([ESC, *args], stdin=slave, stdout=slave, stderr=slave,
                                     env=full, close_fds=True)
        os.close(slave)
        self.seen = ""

    # Waits are generous for a loaded machine (the suite shares two cores with others):
    # each returns as soon as what it waits for arrives, so a quiet run is no slower.
    WAIT = 90

    def wait_for(self, text: str, timeout: float = WAIT) -> str:
        """Read until `text` appears in what was drawn since the last call."""
        deadline = time.monotonic() + timeout
        buffer = ""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:
                    break
                buffer += chunk
                if text in ANSI.sub("", buffer):
                    return ANSI.sub("", buffer)
            elif self.proc.poll() is not None:
                break
        raise AssertionError(f"{text!r} never appeared; drawn: {ANSI.sub('', buffer)[-2000:]!r}")

    def exit_code(self, timeout: float = WAIT) -> int:
        """Wait for the process to end while draining what it draws: a pseudo-terminal
        nobody reads fills up, and a wallboard leaving the alternate screen would block
        on its last write (seen under load as a Ctrl-C that never exited)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    os.read(self.master, 65536)
                except OSError:
                    pass
            code = self.proc.poll()
            if code is not None:
                return code
        raise AssertionError(f"esc did not exit within {timeout} s; {self.state()}")

    def state(self) -> str:
        """What the process is doing, for a failure message: its signal masks (is SIGINT
        blocked, ignored, pending?), where the kernel has it waiting, and what it drew."""
        found = []
        for name in ("status", "wchan", "stack"):
            try:
                text = Path(f"/proc/{self.proc.pid}/{name}").read_text(errors="replace")
            except OSError as err:
                text = f"unreadable ({err.strerror})"
            if name == "status":
                text = " ".join(line for line in text.splitlines()
                                if line.startswith(("State", "Sig", "Shd")))
            found.append(f"{name}: {' | '.join(text.split(chr(10)))}")
        self.proc.send_signal(signal.SIGABRT)  # the fault handler prints each thread's stack
        drawn, deadline = "", time.monotonic() + 5
        while time.monotonic() < deadline and self.proc.poll() is None:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    drawn += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        found.append(f"python: {ANSI.sub('', drawn)[-3000:]!r}")
        return "; ".join(found)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@pytest.mark.timeout(4 * Terminal.WAIT)  # the three waits below, and the desk
def test_wallboard_in_a_pseudo_terminal(esc):
    _desk(esc)
    term = Terminal(["--db", str(esc.db), "--now", NOW, "--tz", "UTC", "queue", "--watch", "1s"],
                    {"NO_COLOR": "1"})
    try:
        first = term.wait_for("Checkout down")
        assert "last refresh Thu 19 Nov 12:00:00 UTC" in first
        assert "1 breached  ·  0 at risk  ·  1 unassigned  ·  2 cases" in first
        # another process writes: the next refresh shows it
        esc.ok("open", "Printer on fire in the Leeds office", "--customer", "Initech",
               "--priority", "high", now=NOW)
        later = term.wait_for("Printer on fire")
        assert "3 cases" in later
        term.proc.send_signal(signal.SIGINT)
        assert term.exit_code() == 0
    finally:
        term.close()


def test_the_first_frame_is_at_now_however_long_the_start_took(esc, monkeypatch):
    """Under load esc may take seconds between reading its options and reading the first
    frame: that frame is still at --now, and each later one is as much later as the
    time that passed since it (the board itself is stubbed: only its clock is read)."""
    import sys
    import time as clock_module

    from esc_cli.app import main
    from esc_cli.render import wallboard

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    seen = []

    def board(console, board, fetch, every, clock, sleep):
        for monotonic in (5000.0, 5031.7):  # the first read long after the start
            monkeypatch.setattr(clock_module, "monotonic", lambda: monotonic)
            seen.append(clock())

    monkeypatch.setattr(wallboard, "watch", board)
    monkeypatch.setattr(sys, "stdout", Terminal())
    with pytest.raises(SystemExit) as done:
        main(["--db", str(esc.db), "--now", NOW, "--tz", "UTC", "queue", "--watch", "30s"])
    monkeypatch.undo()
    assert done.value.code in (0, None)
    from esc_cli.render.output import parse_iso

    assert seen == [parse_iso(NOW), parse_iso(NOW) + 31]


def test_a_short_screen_says_what_did_not_fit(esc):
    from rich.console import Console

    from esc_cli.env import Env
    from esc_cli.render import views
    from esc_cli.render.output import parse_iso
    from esc_cli.render.wallboard import Board
    from esc_cli.services.watch import queue_frame

    for number in range(12):
        esc.ok("open", f"case {number}", "--customer", "c", "--priority", "high", now=NOW)
    env = Env.build(str(esc.db), "lead", NOW, "UTC")
    console = Console(width=60, height=10, record=True, file=io.StringIO(),
                      force_terminal=True, color_system=None)
    board = Board("esc queue", 30, "UTC", views.case_table, "the queue is empty")
    console.print(board.frame(console, queue_frame(env, {}, "urgency", 50, parse_iso(NOW)),
                              parse_iso(NOW)))
    lines = console.export_text().rstrip("\n").split("\n")
    # header, counts, blank, table header, 5 rows, the line saying what is hidden
    assert len(lines) == 10 and all(len(line) <= 60 for line in lines)
    assert lines[0].startswith("esc queue  every 30s · last refresh") and lines[0].endswith("…")
    assert "12 cases" in lines[1]
    assert lines[-1] == "… and 7 more below; a taller terminal or a filter shows them"


def test_ctrl_c_before_the_first_frame_is_still_a_clean_exit(esc):
    from esc_cli.render.wallboard import watch

    env, console, board = _board(esc)

    def fetch(now):
        raise KeyboardInterrupt

    watch(console, board, fetch, 30, clock=lambda: 0, sleep=Frames(1), screen=False)
    assert console.export_text() == ""


def test_processes_the_tests_start_get_ctrl_c_at_its_default():
    """conftest.pytest_configure: even when the suite runs as a background job (SIGINT
    ignored, and inherited), an esc the tests start must see Ctrl-C as at a terminal."""
    import sys

    probe = subprocess.run([sys.executable, "-c", "import signal; print(signal.getsignal("
                            "signal.SIGINT) is signal.default_int_handler)"],
                           capture_output=True, text=True, timeout=60)
    assert probe.stdout.strip() == "True"
