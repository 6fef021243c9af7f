"""Every table view and `show`, rendered at 60, 80 and 120 columns as a person sees
them: what is shown, what gives way, and that no row ever wraps. Pipes keep their
tab-separated shape (scripts read it).

The desk: "now" is Thu 2026-11-19 12:00 UTC. Case 1 (urgent, opened Mon 02 Nov 10:00)
never answered, was due to respond at 10:15 that day: 17d 1h 45m over. Case 2 (medium, business hours,
opened Thu 19 Nov 10:10) must be answered within 4 opening hours: in 2h 10m. Case 3 is
pending."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

NOW = "2026-11-19T12:00:00Z"
LONG_TITLE = "Checkout fails for every EU customer paying with SEPA direct debit since Monday"
LONG_NAME = "Roberta Bobbington-Smythe"
LONG_EMAIL = "roberta.bobbington@support.example.com"
WIDTHS = (60, 80, 120)


@pytest.fixture
def desk(esc):
    esc.ok("owner", "add", "bob", "--name", LONG_NAME, "--email", LONG_EMAIL, "--tier", "2",
           "--team", "billing", "--team", "network", "--team", "platform", "--capacity", "12")
    for handle in ("alice", "carmen", "dmitri", "emma", "farid"):
        esc.ok("owner", "add", handle, "--name", handle.title() + " Example",
               "--email", f"{handle}@support.example.com", "--tier", "1", "--team", "general")
    esc.ok("open", LONG_TITLE, "--customer", "Vandelay Industries International",
           "--priority", "urgent", "--team", "payments-emea", now="2026-11-02T10:00:00Z")
    esc.ok("escalate", "1", "--reason", "needs a specialist", "--owner", "bob",
           now="2026-11-02T10:05:00Z")
    esc.ok("open", "Invoice PDF shows the wrong VAT number for Austrian subsidiaries",
           "--customer", "Initech", "--priority", "medium", "--owner", "alice",
           now="2026-11-19T10:10:00Z")
    esc.ok("open", "Waiting on the customer's firewall logs", "--customer", "Globex",
           "--priority", "high", now="2026-11-19T09:00:00Z")
    esc.ok("ack", "3", now="2026-11-19T09:05:00Z")
    esc.ok("pending", "3", "--reason", "need logs", now="2026-11-19T09:10:00Z")
    return esc


def render(view, docs, width: int, *args, tz: str = "UTC", now: str = NOW, **kwargs) -> str:
    from rich.console import Console

    from esc_cli.render.output import Output, parse_iso

    env = SimpleNamespace(now=parse_iso(now), tz=tz, stdout_tty=True, no_color=True)
    out = Output(env, as_json=False)
    out._console = Console(width=width, record=True, file=io.StringIO(), no_color=True,
                           color_system=None)
    view(out, docs, *args, **kwargs)
    return out._console.export_text()


def table_lines(text: str, width: int, rows: int) -> list[str]:
    """The table's lines, checked to be one per row (plus the header) and to fit."""
    lines = text.rstrip("\n").split("\n")
    assert all(len(line) <= width for line in lines), text
    assert len(lines) == rows + 1, f"a row wrapped at {width} columns:\n{text}"
    return lines


def row_of(lines: list[str], case: int) -> str:
    return next(line for line in lines if line.split()[0] == f"#{case}")


@pytest.mark.parametrize("width", WIDTHS)
def test_queue_fits_and_keeps_the_title(desk, width):
    from esc_cli.render import views

    docs = desk.doc("queue", now=NOW)
    lines = table_lines(render(views.case_list, docs, width), width, 3)
    first, second, third = row_of(lines, 1), row_of(lines, 2), row_of(lines, 3)
    # due and status are compact: 17d 1h 45m over, 2h 10m to go, paused
    assert "17d over" in first and "in 2h 10m" in second and "paused" in third
    # the tier is a number: no tier name anywhere
    assert "Specialist" not in "\n".join(lines)
    tier = lines[0].split().index("tier")  # the columns before it are one word each
    assert first.split()[tier] == "2" and second.split()[tier] == "1"
    if width >= 80:
        assert LONG_TITLE[:30] in first          # at least 30 characters of the title
        assert "bob" in first and "alice" in second
    else:
        assert LONG_TITLE[:16] in first
    if width >= 120:
        # room for the customer and the clock; the team went first, the title keeps 40
        assert "Vandelay" in first and "response" in first and "payments" not in first
        assert LONG_TITLE[:40] in first          # 40 characters, then the ellipsis
    else:
        # customer and team give way first
        assert "Vandelay" not in first and "payments" not in first


@pytest.mark.parametrize("width", WIDTHS)
def test_overdue_fits(desk, width):
    from esc_cli.render import ops

    docs = desk.doc("overdue", "--within", "3h", now=NOW)
    assert [d["id"] for d in docs] == [1, 2]
    lines = table_lines(render(ops.overdue, docs, width, "3h"), width, 2)
    assert "17d over" in row_of(lines, 1) and "in 2h 10m" in row_of(lines, 2)
    if width >= 80:
        assert LONG_TITLE[:30] in row_of(lines, 1)
    if width >= 120:
        assert "Vandelay" in row_of(lines, 1)


@pytest.mark.parametrize("width", WIDTHS)
def test_owner_list_fits_and_keeps_emails_whole(desk, width):
    from esc_cli.render import views

    rows = desk.doc("owner", "list")
    lines = table_lines(render(views.owner_list, rows, width), width, 6)
    bob = next(line for line in lines if line.startswith("bob "))
    assert "1/12" in bob  # load/capacity share a column on a terminal
    if width >= 80:
        # the name gives way before the email, which a person copies from here
        assert LONG_EMAIL in bob and "alice@support.example.com" in "\n".join(lines)
    if width >= 120:
        assert LONG_NAME in bob and "billing, network" in bob


@pytest.mark.parametrize("width", WIDTHS)
def test_tier_list_is_one_line_per_tier(desk, width):
    from esc_cli.render import views

    rows = desk.doc("tier", "list")
    lines = table_lines(render(views.tier_list, rows, width), width, 4)
    assert [line.split()[0] for line in lines[1:]] == ["1", "2", "3", "4"]
    assert "alice, car" in lines[1]
    if width >= 80:
        assert "Specialist" in lines[2] and "4h" in lines[2]


@pytest.mark.parametrize("width", WIDTHS)
def test_search_results_fit(desk, width):
    from esc_cli.render import views

    docs = desk.doc("search", "checkout", now=NOW)
    lines = table_lines(render(views.case_list, docs, width), width, 1)
    assert "17d over" in lines[1]


def test_pipes_keep_their_columns(desk):
    """Scripts read these headers: the terminal's changes never reach a pipe."""
    heads = {
        ("queue",): "id\tpriority\tstate\ttier\towner\tteam\tdue_at\tdue_clock\tstatus\tcustomer\ttitle",
        ("overdue",): "id\tpriority\tstate\ttier\towner\tteam\tclock\tstatus\tdue_at\toverdue_by\tcustomer\ttitle",
        ("owner", "list"): "handle\tname\temail\ttier\tteams\tcapacity\tload\tactive\taway_until",
        ("tier", "list"): "level\tname\tstale_after\towners\tteams\trules",
    }
    for args, head in heads.items():
        lines = desk.ok(*args, now=NOW).out.splitlines()
        assert lines[0] == head
    queue = desk.ok("queue", now=NOW).out.splitlines()
    assert queue[1].split("\t")[:4] == ["1", "urgent", "new", "2"]
    assert queue[1].split("\t")[-1] == LONG_TITLE
    bob = next(line for line in desk.ok("owner", "list").out.splitlines() if line.startswith("bob"))
    assert bob.split("\t")[5:7] == ["12", "1"]


# -- show ---------------------------------------------------------------------------

@pytest.fixture
def long_case(esc):
    """An urgent case answered at 10:05 with 30 customer updates, then left alone: the
    update clock (1h) warns at 0.8h and breaches."""
    esc.ok("open", LONG_TITLE, "--customer", "Globex", "--priority", "urgent",
           now="2026-11-02T10:00:00Z")
    esc.ok("ack", "1", now="2026-11-02T10:05:00Z")
    for minute in range(30):
        esc.ok("note", "1", f"update number {minute + 1}", "--customer",
               now=f"2026-11-02T10:{10 + minute:02d}:00Z")
    # the last update at 10:39: update due 11:39, warned at 11:27
    esc.ok("sweep", now="2026-11-02T11:27:00Z")
    return esc


def test_timeline_says_due_times_in_the_display_zone(long_case):
    from esc_cli.render import case_view

    doc = long_case.doc("show", "1", now="2026-11-02T11:30:00Z")
    for width in (80, 120):
        text = render(case_view.case_detail, doc, width, tz="Europe/Berlin",
                      now="2026-11-02T11:30:00Z", latest=case_view.TIMELINE_LATEST)
        assert all(len(line) <= width for line in text.splitlines())
        lines = text.splitlines()
        warned = next(line for line in lines if " warned " in line)
        # 11:39 UTC is 12:39 in Berlin; the whole sentence on one line
        assert warned.split() == ["02", "Nov", "12:27", "sweep", "warned", "update", "due",
                                  "Mon", "02", "Nov", "12:39", "—", "at", "risk"]
        assert "2026-11-02T" not in text


@pytest.mark.parametrize("width", WIDTHS)
def test_long_timeline_shows_the_latest_20(long_case, width):
    from esc_cli.render import case_view

    doc = long_case.doc("show", "1", now="2026-11-02T11:30:00Z")
    assert len(doc["events"]) == 33  # opened, ack, 30 notes, the update clock's warning
    text = render(case_view.case_detail, doc, width, now="2026-11-02T11:30:00Z",
                  latest=case_view.TIMELINE_LATEST)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), text
    assert "13 earlier events hidden: esc show 1 --all" in lines
    shown = [line for line in lines if line.startswith("02 Nov ")]
    assert len(shown) == 20
    assert "update number 11" not in text and "update number 12" in text
    assert LONG_TITLE[:40] in text
    # each clock on one line of the panel, its due time and status whole
    for name, status in (("response", "met, 10m to spare"), ("update", "at risk, in 9m"),
                         ("resolution", "in 2h 30m")):
        rows = [line for line in lines if line.startswith(f"│ {name} ")]
        assert len(rows) == 1 and "02 Nov" in rows[0] and status in rows[0], text
    everything = render(case_view.case_detail, doc, width, now="2026-11-02T11:30:00Z", latest=None)
    assert "hidden" not in everything and "update number 1 " in everything + " "
    assert len([line for line in everything.splitlines() if line.startswith("02 Nov ")]) == 33


def test_show_all_flag_and_pipe(long_case):
    plain = long_case.ok("show", "1", now="2026-11-02T11:30:00Z").out
    # a pipe has every event, as before, with or without --all
    assert plain == long_case.ok("show", "1", "--all", now="2026-11-02T11:30:00Z").out
    assert plain.count("\tcustomer_update\t") == 30
    assert len(long_case.doc("show", "1", now="2026-11-02T11:30:00Z")["events"]) == 33


@pytest.mark.parametrize("width", WIDTHS)
def test_a_pasted_log_a_long_title_and_the_tallies_stay_readable(esc, width):
    # a 300-line note took 300+ lines of the terminal (8,000 for a 120 KB one); a title
    # past the border was cut with no sign; "reopened 1x" broke onto a line of its own
    from esc_cli.render import case_view

    log = "".join(f"worker {n}: connection reset by peer\n" for n in range(300))
    esc.ok("open", LONG_TITLE + " and then some more words", "-c", "acme", "-p", "high")
    esc.ok("note", "1", log)
    esc.ok("resolve", "1", "--resolution", "done")
    esc.ok("feedback", "1", "--csat", "4")
    esc.ok("reopen", "1", "--reason", "again")
    esc.ok("escalate", "1", "--reason", "specialist")
    doc = esc.doc("show", "1")
    text = render(case_view.case_detail, doc, width, latest=case_view.TIMELINE_LATEST)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), text
    assert lines[0].startswith("╭─ #1 Checkout fails")
    assert ("…" in lines[0]) == (len(doc["title"]) + 3 > width - 6)
    assert any(line.split("│")[1].strip() == "CSAT 4/5 · 1 escalation(s) · reopened 1x"
               for line in lines if line.startswith("│")), text
    assert "worker 23: connection" in text and "worker 24:" not in text
    assert "more characters: esc show 1 --json)" in " ".join(text.split())
    assert len(lines) < 100  # 24 lines of the note, each wrapped at most twice
    assert doc["events"][1]["reason"] == log  # the document keeps it whole
    assert esc.ok("show", "1").out.count("connection reset by peer") == 300  # and the pipe


@pytest.mark.parametrize("width", WIDTHS)
def test_outbox_lines_never_wrap(width):
    from esc_cli.render import ops

    rows = [{"id": "n0123456789abcdef0123", "case": 42, "kind": "escalation",
             "recipient": "team:payments-emea-escalations", "created_at": "2026-11-19T11:00:00Z",
             "deliveries": [{"channel": "webhook:1", "state": "failed", "attempts": 3,
                             "last_error": "HTTP 503 from https://chat.example.com/hooks/*** "
                                           "Service Unavailable: the upstream is overloaded",
                             "next_attempt_at": "2026-11-19T12:04:00Z"}]}]
    text = render(ops.outbox, rows, width)
    lines = text.rstrip("\n").split("\n")
    assert len(lines) == 2 and all(len(line) <= width for line in lines), text
    assert lines[0].startswith("Thu 19 Nov 2026 11:00  #42 escalation to team:payments")
    assert lines[1].startswith("    webhook:1  failed after 3 attempts")


def test_fitted_widths_use_the_whole_line_and_never_more():
    from hypothesis import given
    from hypothesis import strategies as st

    from esc_cli.render.ops import OVERDUE_SHRINK
    from esc_cli.render.tables import GAP, widths_for

    headers = ["id", "pri", "tier", "owner", "clock", "status", "team", "customer", "title"]

    @given(st.lists(st.integers(1, 120), min_size=9, max_size=9), st.integers(30, 200))
    def check(natural, width):
        widths = widths_for(width, headers, natural, OVERDUE_SHRINK)
        shown = [w for w in widths if w]
        used = sum(shown) + GAP * (len(shown) - 1)
        assert used <= width
        assert all(0 <= w <= n for w, n in zip(widths, natural))
        if used < width:  # room left over only when no column shown was cut
            assert all(w == n for w, n in zip(widths, natural) if w)

    check()
