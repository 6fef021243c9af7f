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

    desk.ok("owner", "away", "carmen", "--until", "3d", now=NOW)
    rows = desk.doc("owner", "list")
    lines = table_lines(render(views.owner_list, rows, width), width, 6)
    bob = next(line for line in lines if line.startswith("bob "))
    assert "1/12" in bob  # load/capacity share a column on a terminal
    carmen = next(line for line in lines if line.startswith("carmen "))
    # away until Sun 22 Nov 12:00; where the date would be cut, `away` alone
    assert carmen.rstrip().endswith("away to 22 Nov" if width >= 80 else "away"), carmen
    if width >= 80:
        # the name gives way before the email, which a person copies from here
        assert LONG_EMAIL in bob and "alice@support.example.com" in "\n".join(lines)
        assert "…" not in "\n".join(lines)
    else:
        # the teams leave before an address is cut (alice's was `alice@support.example.c…`
        # at 60); only one longer than the room left is cut
        assert all(f"{handle}@support.example.com" in "\n".join(lines)
                   for handle in ("alice", "carmen", "dmitri", "emma", "farid"))
    if width >= 120:
        # a team's name is not cut (`billing, network, pl…`): the names that fit, and
        # how many more
        assert LONG_NAME in bob and "billing +2" in bob


def test_owner_list_never_cuts_a_team_name(desk):
    # between 62 and 79 columns `general` showed as `gener…` and `platform, network` as
    # `platform,…`: a team shows whole, as the first one and how many more, or not at all
    import re

    from esc_cli.render import views

    rows = desk.doc("owner", "list")
    for width in range(60, 121):
        text = render(views.owner_list, rows, width)
        table_lines(text, width, 6)
        cells = [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()]
        header = cells[0]
        if "teams" not in header:
            continue
        column = header.index("teams") - len(header)  # counted from the right: load, active
        for line in cells[1:]:
            teams = line[column] if len(line) == len(header) else ""
            assert "…" not in teams and re.fullmatch(r"(\w+(, \w+)*( \+\d)?)?", teams), (width, text)


@pytest.mark.parametrize("width", WIDTHS)
def test_tier_list_cuts_no_name(desk, width):
    # at 80 columns the ladder showed `Senior ma…` and `billing, gene…`: one line per
    # tier where every row fits whole, else a few lines per tier, nothing cut
    from esc_cli.render import views

    rows = desk.doc("tier", "list")
    text = render(views.tier_list, rows, width)
    lines = [line.rstrip() for line in text.rstrip("\n").split("\n")]
    assert all(len(line) <= width for line in lines) and "…" not in text, text
    owners = "alice, carmen, dmitri, emma, farid"
    if width >= 120:  # the widest row is 108 columns
        lines = table_lines(text, width, 4)
        assert [line.split()[0] for line in lines[1:]] == ["1", "2", "3", "4"]
        assert owners in lines[1] and "Senior management" in lines[4]
        return
    assert [line for line in lines if not line.startswith("  ")] == [
        "tier 1  Frontline  stale_after 4h",
        "tier 2  Specialist  stale_after 4h",
        "tier 3  Manager  stale_after 4h",
        "tier 4  Senior management  stale_after none",
    ]
    first = lines.index("tier 1  Frontline  stale_after 4h")
    assert lines[first + 1].split() == ["owners", *owners.split()]
    assert lines[first + 2].split() == ["teams", "general"]
    specialist = lines.index("tier 2  Specialist  stale_after 4h")
    assert lines[specialist + 1:specialist + 3] == [
        "  owners  bob", "  teams   billing, network, platform"]


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


# -- policy try -----------------------------------------------------------------------

def _side(cases, response, resolution, breaches=(11, 75, 26), warnings=(13, 516, 51, 9),
          escalations=(37, 2), rules=None):
    return {"cases": cases, "response_sla_met": response, "resolution_sla_met": resolution,
            "breaches": dict(zip(("response", "update", "resolution"), breaches)),
            "warnings": dict(zip(("response", "update", "resolution", "owner"), warnings)),
            "escalations": {"breach": escalations[0], "stale": escalations[1]},
            "rule_firings": rules or {}}


def _entry(value, cases, old, new, **sides):
    """A group (or all): `old`/`new` as (response met, resolution met)."""
    current, candidate = _side(cases, *old, **sides), _side(cases, *new, **sides)
    difference = {key: (None if current[key] is None or candidate[key] is None
                        else candidate[key] - current[key])
                  for key in ("response_sla_met", "resolution_sla_met")}
    return {"value": value, "current": current, "candidate": candidate, "difference": difference}


RULE = "billing-to-the-billing-team-on-invoice-words"


def _try_doc(changes: int = 25) -> dict:
    """policy try's document as the demo desk's gives it (widest figures: 100.0%, -100.0
    points, 516 warnings, four-digit ids), with a rule name and titles longer than a line
    of 80."""
    all_ = _entry(None, 190, (0.926, 0.822), (0.770, 0.803))
    old, new = all_["current"], all_["candidate"]
    new["breaches"] = {"response": 34, "update": 75, "resolution": 29}
    new["warnings"] = {"response": 47, "update": 516, "resolution": 53, "owner": 12}
    new["escalations"] = {"breach": 63, "stale": 3}
    old["rule_firings"] = {RULE: 29, "outage": 1}
    new["rule_firings"] = {RULE: 29, "outage": 4}
    all_["difference"].update(
        breaches={k: new["breaches"][k] - old["breaches"][k] for k in old["breaches"]},
        warnings={k: new["warnings"][k] - old["warnings"][k] for k in old["warnings"]},
        escalations={k: new["escalations"][k] - old["escalations"][k] for k in old["escalations"]},
        rule_firings={RULE: 0, "outage": 3})
    del all_["value"]
    changed = []
    for n in range(changes):
        breached = n % 5 != 4
        changed.append({
            "case": 1260 + n, "title": LONG_TITLE if n % 2 else f"Need invoices in EUR {n}",
            "clock": "resolution" if n % 3 else "response",
            "current": "met" if breached else "breached",
            "candidate": "breached" if breached else "met",
            "current_due": f"2026-10-{10 + n % 20:02d}T13:22:00Z",
            "candidate_due": f"2026-10-{9 + n % 20:02d}T21:22:00Z",
            "decided_at": f"2026-10-{9 + n % 20:02d}T21:22:00Z"})
    return {
        "since": "2026-10-03T15:00:00Z", "until": "2026-11-02T15:00:00Z", "file": "try1.toml",
        "current_policy_version": 1, "by": "category", "cases": 190, "all": all_,
        "groups": [_entry("urgent", 15, (0.75, 0.667), (0.75, 0.462)),
                   _entry("product-quality", 60, (1.0, 0.74), (0.0, 0.74)),
                   _entry("low", 44, (1.0, None), (1.0, None))],
        "changed": changed}


@pytest.mark.parametrize("width", WIDTHS)
def test_policy_try_cuts_no_figure_id_clock_outcome_or_time(width):
    # at 80 columns case ids showed as `#12…`, clocks `respon…`, outcomes `m…`, due times
    # `13:…`, the title had no room and `±0.0 pts` broke over two lines
    from esc_cli.render import policy_try

    doc = _try_doc()
    text = render(policy_try.render, doc, width, None, now="2026-11-02T15:00:00Z")
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), text
    words = text.split()
    # every figure whole
    for figure in ("92.6%", "77.0%", "82.2%", "80.3%", "-15.6", "-100.0", "100.0%", "0.0%",
                   "-20.5", "±0.0", "516", "+23", "+3", "63", "+26"):
        assert figure in words, (figure, text)
    for line in lines:
        # nothing but a name or a title is ever cut
        if "…" in line and not line.startswith("… and"):
            assert "Need invoices" in line or LONG_TITLE[:20] in line or RULE[:12] in line, line
    shown = doc["changed"][:policy_try.SHOWN_CHANGES]
    for change in shown:
        assert f"#{change['case']}" in words, text
    assert words.count("breached") >= len(shown) and "resolution" in words
    for change in shown:
        day = int(change["current_due"][8:10])
        assert f"{day:02d} Oct 13:22" in text and f"{day - 1:02d} Oct 21:22" in text
    assert "… and 5 more (--json lists them all)" in lines
    if width >= 80:
        assert f"rule {RULE}" in text                      # the rule's name whole
        assert LONG_TITLE[:30] in text                     # a title keeps 30 characters
    assert "product-quality" in words


@pytest.mark.parametrize("width", WIDTHS)
def test_policy_try_sla_rows_never_wrap(width):
    from esc_cli.render import policy_try

    text = render(policy_try.render, _try_doc(), width, None, now="2026-11-02T15:00:00Z")
    lines = text.splitlines()
    urgent = [line for line in lines if line.split()[:1] == ["urgent"]]
    assert len(urgent) == 1, text
    row = urgent[0].split()
    if width >= 80:
        # a row per group, its six figures on it
        assert ["75.0%", "75.0%", "±0.0"] == row[2:5] and "66.7%" in row and "-20.5" in row
    else:
        # stacked: response on the group's line, resolution on the next
        following = lines[lines.index(urgent[0]) + 1].split()
        assert row[1:] == ["15", "response", "75.0%", "75.0%", "±0.0"], text
        assert following == ["resolution", "66.7%", "46.2%", "-20.5"], text
    # a difference in points says so in each cell where there is room, else in its heading
    assert ("±0.0 pts" in text) == (width >= 120) and ("Δ pts" in text) == (width < 120)


@pytest.mark.parametrize("width, lines_per_case", [(120, 1), (80, 2), (60, 3)])
def test_policy_try_changes_take_more_lines_before_they_cut(width, lines_per_case):
    from esc_cli.render import policy_try

    doc = _try_doc(changes=2)
    text = render(policy_try.render, doc, width, None, now="2026-11-02T15:00:00Z")
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("Outcomes that change"))
    block = lines[head + 2:]
    assert len(block) == 2 * lines_per_case, text
    first, second = block[:lines_per_case], block[lines_per_case:]
    assert first[0].split()[:2] == ["#1260", "response"]
    assert second[0].split()[:2] == ["#1261", "resolution"]
    if lines_per_case == 1:
        assert "Need invoices in EUR 0" in first[0]
    else:
        # the title has a line of its own, under the clock; a long one is cut there
        assert first[-1].strip() == "Need invoices in EUR 0"
        assert second[-1].strip().startswith(LONG_TITLE[:width - 10])
    if lines_per_case == 3:
        assert first[1].split() == ["due", "Sat", "10", "Oct", "13:22", "→",
                                    "Fri", "09", "Oct", "21:22"]


def test_a_list_of_names_keeps_whole_names_and_counts_the_rest():
    from rich.text import Text

    from esc_cli.render.tables import names_within

    teams = Text("general, platform, network", style="bold")
    assert names_within(teams, 26) is teams
    assert names_within(teams, 20).plain == "general, platform +1"
    assert names_within(teams, 19).plain == "general +2"
    assert names_within(teams, 10).plain == "general +2"
    assert names_within(teams, 10).style == "bold"
    assert names_within(teams, 9) is teams          # not even one: the column cuts it
    assert names_within(Text("platform-engineering"), 10).plain == "platform-engineering"
