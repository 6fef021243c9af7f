"""`esc sweep` through the CLI: timelines replayed with --now, cron manners, idempotency,
--dry-run. Default policy (see test_sweep_domain.py); 2026-11-02 is a Monday."""

from __future__ import annotations

import re
import sqlite3

from tests.conftest import EscRunner, run_process

SUMMARY = re.compile(
    r"^sweep: (\d+) warned, (\d+) breached, (\d+) escalated, (\d+) closed, "
    r"(\d+) notified \((\d+) failed\)$")


def open_case(esc, priority="urgent", now="2026-11-02T10:00:00Z", *extra) -> str:
    return str(esc.doc("open", "VPN down", "--customer", "Initech", "--priority", priority,
                       *extra, now=now)["id"])


def snapshot(db) -> dict:
    """Every row the sweep could touch, to prove that a run changed nothing."""
    store = EscRunner(db)
    return {table: store.rows(f"SELECT * FROM {table} ORDER BY 1, 2")
            for table in ("cases", "events", "notifications", "deliveries")}


def sweep(esc, now, *flags):
    return esc.ok("sweep", *flags, now=now)


def test_timeline_warn_breach_escalate(esc):
    case = open_case(esc)
    # urgent respond 15m: nothing to do at 10:11, warning at 0.8 x 15m = 10:12
    assert sweep(esc, "2026-11-02T10:11:00Z").out == ""
    result = sweep(esc, "2026-11-02T10:12:00Z")
    assert result.out == "sweep: 1 warned, 0 breached, 0 escalated, 0 closed, 1 notified (0 failed)\n"
    assert result.err == ""
    doc = esc.doc("sweep", now="2026-11-02T10:15:00Z")
    assert doc["now"] == "2026-11-02T10:15:00Z" and doc["checked"] == 1
    assert doc["warned"] == [] and doc["closed"] == []
    assert doc["breached"] == [{"case": int(case), "clock": "response"}]
    assert doc["escalated"] == [{"case": int(case), "from": 1, "to": 2,
                                 "reason": "response SLA breached"}]
    # the breach rides on the escalation's notification: one, to the new tier's queue
    assert doc["notified"] == [{"case": int(case), "kind": "escalation", "recipient": "tier:2",
                                "delivered": False}]
    shown = esc.doc("show", case, now="2026-11-02T10:15:00Z")
    assert shown["tier"] == 2 and shown["escalations"] == 1
    assert shown["breached"] == ["response"]
    swept = [(e["kind"], e["field"], e["from"], e["to"], e["reason"])
             for e in shown["events"] if e["actor"] == "sweep"]
    assert swept == [
        ("warned", "response", None, "2026-11-02T10:15:00Z", "response SLA at risk"),
        ("breached", "response", None, "2026-11-02T10:15:00Z", "response SLA breached"),
        ("escalated", "tier", "1", "2", "response SLA breached"),
    ]
    assert all(e["at"] == "2026-11-02T10:15:00Z" for e in shown["events"][-2:])


def test_same_now_twice_changes_nothing_and_is_silent(esc):
    for priority in ("urgent", "high", "medium"):
        open_case(esc, priority)
    first = sweep(esc, "2026-11-02T15:00:00Z")
    counts = SUMMARY.match(first.out.strip()).groups()
    # urgent: response + resolution breached (one escalation); high: response breached;
    # medium: response (4h business, due 14:00) breached
    assert counts == ("0", "4", "3", "0", "3", "0")
    before = snapshot(esc.db)
    again = sweep(esc, "2026-11-02T15:00:00Z")
    assert (again.out, again.err) == ("", "")
    assert snapshot(esc.db) == before
    doc = esc.doc("sweep", now="2026-11-02T15:00:00Z")
    assert doc["checked"] == 0 and doc["escalated"] == [] and doc["notified"] == []
    assert snapshot(esc.db) == before


def test_json_is_printed_even_when_nothing_happened(esc):
    doc = esc.doc("sweep")
    assert doc == {"now": "2026-11-02T10:00:00Z", "dry_run": False, "checked": 0, "warned": [],
                   "breached": [], "escalated": [], "closed": [], "routed": [], "notified": [],
                   "retried": [], "failed": 0, "not_tried": 0, "channels": 0, "failures": []}


def test_dry_run_reports_and_writes_nothing(esc):
    urgent = open_case(esc)
    open_case(esc, "medium")
    before = snapshot(esc.db)
    dry = sweep(esc, "2026-11-02T13:30:00Z", "--dry-run")
    assert snapshot(esc.db) == before
    lines = dry.out.splitlines()
    # urgent: response breached (escalate 1 -> 2), resolution at risk (warn 13:12);
    # medium: response warns at 0.8 x 4h = 3h12m -> 13:12
    # where it would land: the default ladder assigns by hand (routing: test_routing_service)
    assert (f"would escalate #{urgent} from tier 1 to 2: response SLA breached; unassigned in "
            "tier 2's queue (tier 2 assigns by hand)") in lines
    assert lines[-1] == ("sweep --dry-run: 2 warned, 1 breached, 1 escalated, 0 closed, "
                         "3 notified; nothing written")
    predicted = esc.doc("sweep", "--dry-run", now="2026-11-02T13:30:00Z")
    assert snapshot(esc.db) == before and predicted["dry_run"] is True
    done = esc.doc("sweep", now="2026-11-02T13:30:00Z")
    for key in ("checked", "warned", "breached", "escalated", "closed", "routed"):
        assert done[key] == predicted[key], key
    assert [(n["case"], n["kind"], n["recipient"]) for n in done["notified"]] == [
        (n["case"], n["kind"], n["recipient"]) for n in predicted["notified"]]
    assert sweep(esc, "2026-11-02T13:30:00Z", "--dry-run").out == (
        "sweep --dry-run: nothing to do (0 checked)\n")


def test_dry_run_mentions_the_deliveries_due(esc, tmp_path):
    """Nothing to sweep, but a delivery waiting for its retry: the dry run says so rather
    than "nothing to do" (the real sweep would send it)."""
    import tomllib

    from esc_cli.domain.policy import DEFAULT_POLICY_TOML, dump_policy

    policy = tomllib.loads(DEFAULT_POLICY_TOML)
    policy["channels"] = [{"type": "command", "argv": ["/bin/false"]}]
    (tmp_path / "policy.toml").write_text(dump_policy(policy))
    esc.ok("policy", "load", str(tmp_path / "policy.toml"))
    case = open_case(esc)
    assert "(1 failed)" in sweep(esc, "2026-11-02T10:12:00Z").out  # next try at 10:13
    assert sweep(esc, "2026-11-02T10:12:30Z", "--dry-run").out == (
        "sweep --dry-run: nothing to do (0 checked)\n")
    before = snapshot(esc.db)
    dry = sweep(esc, "2026-11-02T10:13:00Z", "--dry-run")
    assert dry.out == (f"would retry tier:1 about #{case} (warning)\n"
                       "sweep --dry-run: 0 warned, 0 breached, 0 escalated, 0 closed, "
                       "0 notified; 1 to retry; nothing written\n")
    doc = esc.doc("sweep", "--dry-run", now="2026-11-02T10:13:00Z")
    assert doc["retried"] == [{"case": int(case), "kind": "warning", "recipient": "tier:1",
                               "delivered": False}]
    assert snapshot(esc.db) == before
    # and the sweep then does retry it
    assert len(esc.doc("sweep", now="2026-11-02T10:13:00Z")["retried"]) == 1


def test_dry_run_fits_an_80_column_terminal(esc, capsys):
    """On a terminal the dry run's lines wrap at its width, continuation lines indented;
    a pipe keeps one line per action (scripts grep it)."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from esc_cli.render import ops
    from esc_cli.render.output import Output, parse_iso

    for _ in range(2):
        open_case(esc)
    doc = esc.doc("sweep", "--dry-run", now="2026-11-02T14:30:00Z")
    piped = sweep(esc, "2026-11-02T14:30:00Z", "--dry-run").out.splitlines()
    assert max(len(line) for line in piped) > 100  # what a terminal got before
    for width in (60, 80):
        env = SimpleNamespace(now=parse_iso("2026-11-02T14:30:00Z"), tz="UTC",
                              stdout_tty=True, no_color=True)
        out = Output(env)
        out._console = Console(width=width, file=io.StringIO(), no_color=True)
        capsys.readouterr()
        ops.sweep_result(out, doc)
        lines = capsys.readouterr().out.splitlines()
        assert all(len(line) <= width for line in lines), "\n".join(lines)
        # every action starts a line, its continuation lines are indented
        starts = [line for line in lines if not line.startswith(" ")]
        assert [line.split()[:2] for line in starts] == [line.split()[:2] for line in piped]
        assert " ".join(" ".join(lines).split()) == " ".join(" ".join(piped).split())


def test_close_after_seven_days(esc):
    case = open_case(esc, "high")
    esc.ok("resolve", case, "--resolution", "rebooted", now="2026-11-02T11:00:00Z")
    assert sweep(esc, "2026-11-09T10:59:00Z").out == ""
    result = sweep(esc, "2026-11-09T11:00:00Z")
    assert result.out == "sweep: 0 warned, 0 breached, 0 escalated, 1 closed, 0 notified (0 failed)\n"
    shown = esc.doc("show", case, now="2026-11-09T11:00:00Z")
    assert shown["state"] == "closed" and shown["closed_at"] == "2026-11-09T11:00:00Z"
    assert (shown["events"][-1]["kind"], shown["events"][-1]["actor"]) == ("closed", "sweep")


def test_pending_case_never_breaches_while_paused(esc):
    case = open_case(esc, "high")
    esc.ok("ack", case, now="2026-11-02T10:10:00Z")
    esc.ok("pending", case, "--reason", "waiting for logs", now="2026-11-02T10:20:00Z")
    for now in ("2026-11-03T10:00:00Z", "2026-11-10T10:00:00Z", "2026-12-01T10:00:00Z"):
        assert esc.doc("sweep", now=now)["checked"] == 0
    assert esc.doc("overdue", now="2026-12-01T10:00:00Z") == []
    shown = esc.doc("show", case, now="2026-12-01T10:00:00Z")
    assert shown["breached"] == [] and shown["tier"] == 1
    assert not [e for e in shown["events"] if e["actor"] == "sweep"]


def test_business_hours_case_does_not_breach_overnight(esc):
    # medium opened Mon 16:00: respond 4h = Mon 16-17 + Tue 09-12 -> due Tue 12:00
    case = open_case(esc, "medium", "2026-11-02T16:00:00Z")
    for night in ("2026-11-02T18:00:00Z", "2026-11-03T02:00:00Z", "2026-11-03T08:59:00Z"):
        assert sweep(esc, night).out == "", night
    assert esc.doc("sweep", now="2026-11-03T11:12:00Z")["warned"] == [
        {"case": int(case), "clock": "response"}]
    assert esc.doc("sweep", now="2026-11-03T12:00:00Z")["escalated"][0]["to"] == 2


def test_replaying_a_window_before_a_cases_history_skips_it(esc):
    case = open_case(esc, "urgent", "2026-11-02T10:00:00Z")
    esc.ok("note", case, "looking", now="2026-11-02T12:00:00Z")
    # a missed window replayed at 11:00: the case has history at 12:00, so it is skipped
    doc = esc.doc("sweep", now="2026-11-02T11:00:00Z")
    assert doc["checked"] == 1 and doc["breached"] == [] and doc["escalated"] == []
    shown = esc.doc("show", case, now="2026-11-02T12:00:00Z")
    assert [e["kind"] for e in shown["events"]] == ["opened", "note"]
    # at 12:00 the sweep catches up in time order
    assert esc.doc("sweep", now="2026-11-02T12:00:00Z")["escalated"][0]["to"] == 2


def test_escalation_owner_handling(esc):
    esc.ok("owner", "add", "bob", "--tier", "1", "--email", "bob@example.com")
    esc.ok("owner", "add", "carol", "--tier", "3")
    low = open_case(esc, "urgent", "2026-11-02T10:00:00Z", "--owner", "bob")
    high = open_case(esc, "urgent", "2026-11-02T10:00:00Z", "--owner", "carol")
    doc = esc.doc("sweep", now="2026-11-02T10:15:00Z")
    assert sorted((n["case"], n["recipient"]) for n in doc["notified"]) == [
        (int(low), "tier:2"), (int(high), "owner:carol")]
    assert esc.doc("show", low)["owner"] is None
    assert esc.doc("show", high)["owner"] == "carol"
    unassigned = esc.doc("show", low)["events"][-1]
    assert (unassigned["kind"], unassigned["actor"], unassigned["from"], unassigned["to"]) == (
        "assigned", "sweep", "bob", None)


def test_a_ladder_change_gets_cases_rescheduled_once(esc):
    case = open_case(esc, "high")
    esc.ok("resolve", case, "--resolution", "done", now="2026-11-02T11:00:00Z")
    # a new ladder asks the sweep to look at resolved cases again
    esc.ok("tier", "add", "5", "Board", now="2026-11-02T12:00:00Z")
    first = esc.doc("sweep", now="2026-11-02T12:00:00Z")
    assert first["checked"] == 1 and first["closed"] == []
    assert sweep(esc, "2026-11-02T12:00:00Z").out == ""  # nothing happened: silent
    assert esc.doc("sweep", now="2026-11-02T12:01:00Z")["checked"] == 0
    assert esc.doc("sweep", now="2026-11-09T11:00:00Z")["closed"] == [{"case": int(case)}]


def test_a_policy_change_never_delays_work_already_due(esc, tmp_path):
    # warned at 10:12, breached at 10:15; the ladder (tier add) and the same policy
    # loaded again at 11:00 set sweep_at to 11:00: doctor called it damage, and a cron
    # catching up with --now 10:20 found nothing to do
    case = open_case(esc)
    esc.ok("tier", "add", "5", "Board", now="2026-11-02T11:00:00Z")
    policy = tmp_path / "same.toml"
    policy.write_text(esc.ok("policy", "export", now="2026-11-02T11:00:00Z").out)
    esc.ok("policy", "load", str(policy), now="2026-11-02T11:00:00Z")
    esc.ok("policy", "load", str(policy), "--recompute", now="2026-11-02T11:00:00Z")
    assert esc("doctor", now="2026-11-02T11:00:00Z").code == 0
    doc = esc.doc("sweep", now="2026-11-02T10:20:00Z")
    assert doc["breached"] == [{"case": int(case), "clock": "response"}]
    assert [(e["from"], e["to"]) for e in doc["escalated"]] == [(1, 2)]


def test_store_problems_exit_5(bare_esc, backend, tmp_path):
    # a store never initialised: no file, or an empty database
    missing = run_process("--db", str(bare_esc.db), "sweep")
    assert missing.code == 5 and missing.err.startswith("error:")
    assert not bare_esc.exists()
    # a store esc did not make: a SQLite file, or a database, holding someone else's table
    if backend == "postgres":
        foreign = bare_esc.db
        bare_esc.sql("CREATE TABLE x (y INTEGER)")
    else:
        foreign = tmp_path / "foreign.db"
        conn = sqlite3.connect(foreign)
        conn.execute("CREATE TABLE x (y)")
        conn.close()
    result = run_process("--db", str(foreign), "sweep", "--json")
    assert result.code == 5 and result.out == "" and "Traceback" not in result.err
    assert "not an esc store" in result.err


def test_sweep_as_cron_runs_it(bare_esc):
    """The real program, as cron starts it: silent, exit 0, then one line."""
    env = {"ESC_DB": str(bare_esc.db), "ESC_USER": "cron"}
    assert run_process("init", env=env).code == 0
    assert run_process("--now", "2026-11-02T10:00:00Z", "open", "Down", "--customer", "Acme",
                       "--priority", "urgent", env=env).code == 0
    quiet = run_process("--now", "2026-11-02T10:05:00Z", "sweep", env=env)
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "")
    loud = run_process("--now", "2026-11-02T10:20:00Z", "sweep", env=env)
    assert loud.code == 0 and loud.err == ""
    assert loud.out == "sweep: 0 warned, 1 breached, 1 escalated, 0 closed, 1 notified (0 failed)\n"
