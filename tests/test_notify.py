"""Notification delivery (SPEC §3): a real HTTP server on 127.0.0.1 for the webhook
channel, a real script for the command channel; `esc notify list` and `retry`.

An urgent case opened at 10:00 warns at 10:12 (0.8 x 15m) and breaches at 10:15."""

from __future__ import annotations

import json
import stat
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from esc_cli.domain.policy import DEFAULT_POLICY_TOML, dump_policy

PAYLOAD_KEYS = {"id", "kind", "at", "case", "title", "customer", "priority", "clock", "due",
                "from_tier", "to_tier", "team", "recipient", "text"}


class Hook:
    """What the webhook receiver saw, and how it answers: `statuses` are used in turn
    (200 once they run out); with `hang` set it answers only after `release`."""

    def __init__(self):
        self.requests: list[tuple[str, dict, dict]] = []
        self.statuses: list[int] = []
        self.hang = False
        self.release = threading.Event()
        self.url = ""


@pytest.fixture
def hook(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((self.path, dict(self.headers), json.loads(body)))
            if state.hang:
                state.release.wait(10)
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        block_on_close = False

        def handle_error(self, request, client_address):
            pass  # the client that timed out has gone: nothing to report

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/T0KEN"
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


def load_channels(esc, tmp_path, channels: list[dict]) -> None:
    policy = tomllib.loads(DEFAULT_POLICY_TOML)
    policy["channels"] = channels
    path = tmp_path / "policy.toml"
    path.write_text(dump_policy(policy))
    esc.ok("policy", "load", str(path))


def webhook(hook, timeout="5s") -> dict:
    return {"type": "webhook", "url": hook.url, "timeout": timeout,
            "headers": {"Authorization": "Bearer s3cr3t-t0ken"}}


def open_urgent(esc, now="2026-11-02T10:00:00Z") -> str:
    return str(esc.doc("open", "Checkout down", "--customer", "Globex", "--priority", "urgent",
                       now=now)["id"])


def deliveries(esc, now=None) -> list[dict]:
    return [d for n in esc.doc("notify", "list", now=now) for d in n["deliveries"]]


# -- webhook ------------------------------------------------------------------------------

def test_webhook_success_and_never_sent_twice(esc, tmp_path, hook):
    load_channels(esc, tmp_path, [webhook(hook)])
    case = open_urgent(esc)
    result = esc.ok("sweep", now="2026-11-02T10:12:00Z")
    assert result.out == "sweep: 1 warned, 0 breached, 0 escalated, 0 closed, 1 notified (0 failed)\n"
    assert result.err == ""
    [(path, headers, body)] = hook.requests
    assert path == "/hooks/T0KEN"
    assert headers["Authorization"] == "Bearer s3cr3t-t0ken"
    assert headers["Content-Type"].startswith("application/json")
    assert set(body) == PAYLOAD_KEYS
    assert (body["kind"], body["case"], body["clock"], body["due"]) == (
        "warning", int(case), "response", "2026-11-02T10:15:00Z")
    assert body["recipient"] == {"owner": None, "email": None, "team": None, "tier": 1}
    assert body["text"].startswith(f"[esc] #{case} ") and "response SLA at risk" in body["text"]

    listed = esc.doc("notify", "list")
    assert listed == [{
        "id": body["id"], "case": int(case), "kind": "warning", "recipient": "tier:1",
        "created_at": "2026-11-02T10:12:00Z",
        "deliveries": [{"channel": "webhook:1", "state": "delivered", "attempts": 1,
                        "last_error": None, "next_attempt_at": None}],
    }]
    # delivered is final: neither a later sweep nor a retry sends it again
    esc.ok("sweep", now="2026-11-02T10:12:30Z")
    assert esc.ok("notify", "retry", now="2026-11-02T10:13:00Z").out == "nothing to deliver\n"
    assert len(hook.requests) == 1


def test_webhook_500_then_success_on_retry(esc, tmp_path, hook):
    load_channels(esc, tmp_path, [webhook(hook)])
    open_urgent(esc)
    hook.statuses = [500]
    first = esc.ok("sweep", now="2026-11-02T10:12:00Z")
    assert first.out == "sweep: 1 warned, 0 breached, 0 escalated, 0 closed, 1 notified (1 failed)\n"
    assert first.err.startswith("sweep: webhook:1 failed: HTTP 500")
    assert "s3cr3t" not in first.err and "T0KEN" not in first.err
    [failed] = deliveries(esc)
    assert (failed["state"], failed["attempts"]) == ("failed", 1)
    assert failed["last_error"].startswith("HTTP 500")
    assert failed["next_attempt_at"] == "2026-11-02T10:13:00Z"  # backoff: 1 minute

    # within the backoff a sweep leaves it alone (and, with nothing else to do, is silent)
    assert esc.ok("sweep", now="2026-11-02T10:12:59Z").out == ""
    assert len(hook.requests) == 1
    retried = esc.ok("sweep", now="2026-11-02T10:13:00Z")
    assert retried.out == ("sweep: 0 warned, 0 breached, 0 escalated, 0 closed, 0 notified "
                           "(0 failed); 1 retried\n")
    assert len(hook.requests) == 2 and hook.requests[0][2] == hook.requests[1][2]
    [done] = deliveries(esc)
    assert (done["state"], done["attempts"], done["last_error"]) == ("delivered", 2, None)


def test_notify_retry_ignores_the_backoff(esc, tmp_path, hook):
    load_channels(esc, tmp_path, [webhook(hook)])
    case = open_urgent(esc)
    hook.statuses = [503, 502]
    esc.ok("sweep", now="2026-11-02T10:12:00Z")
    again = esc("notify", "retry", now="2026-11-02T10:12:10Z")
    assert again.code == 0 and again.out == "notify: 0 delivered, 1 failed\n"
    assert f"for #{case}" in again.err and "HTTP 502" in again.err
    [failed] = deliveries(esc)
    # two failures: the next try waits 2 minutes
    assert (failed["attempts"], failed["next_attempt_at"]) == (2, "2026-11-02T10:14:10Z")
    doc = esc.doc("notify", "retry", now="2026-11-02T10:12:20Z")
    assert (doc["delivered"], doc["failed"]) == (1, 0)
    assert doc["attempts"][0]["channel"] == "webhook:1" and doc["attempts"][0]["delivered"]
    assert len(hook.requests) == 3


def test_backoff_doubles_between_tries(esc, tmp_path, hook):
    load_channels(esc, tmp_path, [webhook(hook)])
    esc.ok("open", "Slow", "--customer", "Globex", "--priority", "high")
    hook.statuses = [500] * 10
    # high: respond 1h, so the warning comes at 10:48 and the breach only at 11:00
    expected = {"2026-11-02T10:48:00Z": "2026-11-02T10:49:00Z",   # 1st failure: +1m
                "2026-11-02T10:49:00Z": "2026-11-02T10:51:00Z",   # 2nd: +2m
                "2026-11-02T10:51:00Z": "2026-11-02T10:55:00Z"}   # 3rd: +4m
    for now, retry_at in expected.items():
        esc.ok("sweep", now=now)
        [failed] = deliveries(esc)
        assert failed["next_attempt_at"] == retry_at
    assert esc.ok("sweep", now="2026-11-02T10:54:59Z").out == ""
    assert len(hook.requests) == 3 and deliveries(esc)[0]["attempts"] == 3


def test_backoff_is_capped_at_an_hour():
    from esc_cli.services.notify import backoff

    assert [backoff(n) // 60 for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_a_dead_channel_costs_one_attempt_per_run(esc, tmp_path, hook):
    load_channels(esc, tmp_path, [webhook(hook)])
    open_urgent(esc)
    open_urgent(esc)
    hook.statuses = [500] * 10
    result = esc.ok("sweep", now="2026-11-02T10:12:00Z")  # two warnings, one attempt
    assert len(hook.requests) == 1
    # the second was never tried: it is not counted as a failure, but said to be waiting
    assert result.out.endswith("2 notified (1 failed, 1 not tried: webhook:1 down)\n")
    assert len(result.err.splitlines()) == 1  # one line per failing channel, not per notification
    assert [(d["state"], d["attempts"]) for d in deliveries(esc)] == [("failed", 1), ("pending", 0)]
    # the one never tried is still due (the other backs off until 10:13): tried next run
    doc = esc.doc("sweep", now="2026-11-02T10:12:30Z")
    assert (doc["failed"], doc["not_tried"], len(doc["retried"])) == (1, 0, 1)
    assert len(hook.requests) == 2


def test_a_timeout_is_one_failure_and_what_waits_is_not_tried(esc, tmp_path, hook):
    load_channels(esc, tmp_path, [webhook(hook, timeout="1s")])
    for _ in range(3):
        open_urgent(esc)
    hook.hang = True
    doc = esc.doc("sweep", now="2026-11-02T10:12:00Z")
    hook.release.set()
    assert len(hook.requests) == 1
    assert (len(doc["notified"]), doc["failed"], doc["not_tried"]) == (3, 1, 2)
    assert doc["failures"] == [{"channel": "webhook:1", "case": None,
                                "error": "timed out after 1s",
                                "next_attempt_at": "2026-11-02T10:13:00Z"}]


def test_webhook_url_with_userinfo_is_sent_with_basic_auth(esc, tmp_path, hook):
    import base64

    port = hook.url.split("/")[2].rpartition(":")[2]
    # percent-encoded: "@", ":" and a space in the user and password
    url = f"http://esc%40desk:p%3Ass%20w0rd@127.0.0.1:{port}/hooks/T0KEN"
    load_channels(esc, tmp_path, [{"type": "webhook", "url": url}])
    open_urgent(esc)
    result = esc.ok("sweep", now="2026-11-02T10:12:00Z")
    assert (result.out, result.err) == (
        "sweep: 1 warned, 0 breached, 0 escalated, 0 closed, 1 notified (0 failed)\n", "")
    [(path, headers, _)] = hook.requests
    assert path == "/hooks/T0KEN"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"esc@desk:p:ss w0rd").decode()
    assert headers["Host"] == f"127.0.0.1:{port}"  # the userinfo is not part of the host
    assert deliveries(esc)[0]["state"] == "delivered"
    shown = esc.ok("policy", "show").out + esc.ok("notify", "list").out
    assert "p%3Ass" not in shown and "esc%40desk" not in shown


def test_webhook_userinfo_is_masked_in_a_failure(esc, tmp_path):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://esc:pa55word@127.0.0.1:{port}/hooks/T0KEN"
    load_channels(esc, tmp_path, [{"type": "webhook", "url": url}])
    open_urgent(esc)
    result = esc.ok("sweep", now="2026-11-02T10:12:00Z")
    [failed] = deliveries(esc)
    # refused by 127.0.0.1, not a name lookup of "esc:pa55word@127.0.0.1"
    assert failed["last_error"].startswith(f"cannot reach http://****@127.0.0.1:{port}/****: ")
    assert "Name or service not known" not in failed["last_error"]
    for text in (result.out, result.err, failed["last_error"],
                 esc.ok("notify", "list").out, esc.ok("doctor").out):
        assert "pa55word" not in text and "esc:" not in text


def test_an_explicit_authorization_header_wins_over_the_userinfo(esc, tmp_path, hook):
    port = hook.url.split("/")[2].rpartition(":")[2]
    load_channels(esc, tmp_path, [{"type": "webhook", "url": f"http://u:pw@127.0.0.1:{port}/x",
                                   "headers": {"authorization": "Bearer s3cr3t-t0ken"}}])
    open_urgent(esc)
    esc.ok("sweep", now="2026-11-02T10:12:00Z")
    [(_, headers, _)] = hook.requests
    assert headers["Authorization"] == "Bearer s3cr3t-t0ken"


def test_webhook_timeout(esc, tmp_path, hook):
    load_channels(esc, tmp_path, [webhook(hook, timeout="1s")])
    open_urgent(esc)
    hook.hang = True
    result = esc.ok("sweep", now="2026-11-02T10:12:00Z")
    hook.release.set()
    assert "(1 failed)" in result.out
    assert "webhook:1 failed: timed out after 1s" in result.err
    [failed] = deliveries(esc)
    assert failed["state"] == "failed" and failed["last_error"] == "timed out after 1s"


def test_a_sweep_killed_while_sending_is_finished_by_the_next(esc, tmp_path, hook):
    load_channels(esc, tmp_path, [webhook(hook)])
    open_urgent(esc)
    esc.ok("sweep", "--dry-run", now="2026-11-02T10:12:00Z")
    # what a sweep killed mid-send leaves behind: the notification, claimed until 10:13:05
    hook.hang = False
    esc.sql("UPDATE deliveries SET state = 'sending', "
            "next_attempt_at = 1793614385")  # 2026-11-02T10:13:05Z
    esc.ok("sweep", now="2026-11-02T10:12:00Z")  # writes the warning, delivers it
    assert len(hook.requests) == 1
    [delivered] = deliveries(esc)
    assert delivered["state"] == "delivered"


def test_a_claim_in_progress_is_left_alone_until_its_lease_runs_out(esc, tmp_path, hook):
    load_channels(esc, tmp_path, [webhook(hook)])
    open_urgent(esc)
    hook.statuses = [500]
    esc.ok("sweep", now="2026-11-02T10:12:00Z")
    # another sweep has it: claimed until 10:14:00
    esc.sql("UPDATE deliveries SET state = 'sending', next_attempt_at = 1793614440")
    assert esc.ok("notify", "retry", now="2026-11-02T10:13:00Z").out == "nothing to deliver\n"
    assert deliveries(esc, now="2026-11-02T10:13:00Z")[0]["state"] == "failed"  # not "sending"
    assert esc.ok("sweep", now="2026-11-02T10:13:59Z").out == ""
    assert len(hook.requests) == 1
    # the claimant died: once the lease is over the next sweep sends it
    assert "1 retried" in esc.ok("sweep", now="2026-11-02T10:14:00Z").out
    assert len(hook.requests) == 2


# -- command -------------------------------------------------------------------------------

SCRIPT = """#!{python}
import sys
data = sys.stdin.read()
with open(sys.argv[1], "a", encoding="utf-8") as out:
    out.write(data + "\\n")
if len(sys.argv) > 2:
    sys.stderr.write("refused with key " + sys.argv[2] + "\\n")
    sys.exit(3)
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "notify-oncall"
    path.write_text(SCRIPT.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_command_channel_gets_the_json_on_stdin(esc, tmp_path, script):
    inbox = tmp_path / "inbox.jsonl"
    esc.ok("owner", "add", "bob", "--email", "bob@example.com", "--tier", "2", "--team", "web")
    load_channels(esc, tmp_path, [{"type": "command", "argv": [str(script), str(inbox)]}])
    case = str(esc.doc("open", "Checkout down", "--customer", "Globex", "--priority", "urgent",
                       "--owner", "bob", "--team", "web")["id"])
    esc.ok("sweep", now="2026-11-02T10:15:00Z")
    [line] = inbox.read_text().splitlines()
    payload = json.loads(line)
    assert set(payload) == PAYLOAD_KEYS
    assert (payload["kind"], payload["case"], payload["clock"], payload["from_tier"],
            payload["to_tier"], payload["team"]) == ("escalation", int(case), "response", 1, 2, "web")
    # bob works at tier 2, so he keeps the case and is the one told
    assert payload["recipient"] == {"owner": "bob", "email": "bob@example.com", "team": "web",
                                    "tier": 2}
    assert payload["text"] == (f"[esc] #{case} 'Checkout down' (urgent, Globex) escalated "
                               "tier 1 -> 2: response SLA breached")
    [note] = esc.doc("notify", "list")
    assert note["recipient"] == "owner:bob" and note["deliveries"][0]["state"] == "delivered"
    assert note["id"] == payload["id"]


def test_command_failure_is_recorded_with_secrets_masked(esc, tmp_path, script):
    inbox = tmp_path / "inbox.jsonl"
    load_channels(esc, tmp_path, [{"type": "command",
                                   "argv": [str(script), str(inbox), "sup3rs3cret"]}])
    open_urgent(esc)
    result = esc.ok("sweep", now="2026-11-02T10:12:00Z")
    assert "(1 failed)" in result.out and "sup3rs3cret" not in result.err
    [failed] = deliveries(esc)
    assert failed["state"] == "failed"
    assert failed["last_error"] == f"{script}: exit status 3: refused with key ****"
    assert len(inbox.read_text().splitlines()) == 1  # it ran, with the JSON


def test_command_that_cannot_run(esc, tmp_path):
    load_channels(esc, tmp_path, [{"type": "command", "argv": [str(tmp_path / "missing")]}])
    open_urgent(esc)
    esc.ok("sweep", now="2026-11-02T10:12:00Z")
    [failed] = deliveries(esc)
    assert failed["last_error"].startswith(f"cannot run {tmp_path / 'missing'}")


def test_every_channel_gets_every_notification(esc, tmp_path, hook, script):
    inbox = tmp_path / "inbox.jsonl"
    load_channels(esc, tmp_path, [webhook(hook), {"type": "command",
                                                  "argv": [str(script), str(inbox)]}])
    open_urgent(esc)
    esc.ok("sweep", now="2026-11-02T10:12:00Z")
    esc.ok("sweep", now="2026-11-02T10:15:00Z")
    assert len(hook.requests) == 2 and len(inbox.read_text().splitlines()) == 2
    listed = esc.doc("notify", "list")
    assert [n["kind"] for n in listed] == ["warning", "escalation"]
    assert [[d["channel"] for d in n["deliveries"]] for n in listed] == [
        ["command:2", "webhook:1"]] * 2


# -- one notification per event -------------------------------------------------------------

def test_each_escalation_at_the_same_instant_gets_its_own_notification(esc, new_store):
    """Up, down and up again within one minute: two `escalated` events alike in every field
    but their reason and place in the history, so two notifications, with ids that the same
    history gives again in another store (stable: a receiver drops repeats by them)."""

    def play(store) -> list[dict]:
        case = open_urgent(store)
        for verb, reason in (("escalate", "one"), ("deescalate", "back"), ("escalate", "two")):
            store.ok(verb, case, "--reason", reason, now="2026-11-02T10:01:00Z")
        store.ok("sweep", now="2026-11-02T10:01:00Z")
        store.ok("sweep", now="2026-11-02T10:01:00Z")
        return store.doc("notify", "list")

    notes = play(esc)
    assert [(n["kind"], n["recipient"], n["created_at"]) for n in notes] == [
        ("escalation", "tier:2", "2026-11-02T10:01:00Z")] * 2
    assert len({n["id"] for n in notes}) == 2
    events = [e for e in esc.doc("show", "1")["events"] if e["kind"] == "escalated"]
    assert [e["reason"] for e in events] == ["one", "two"]
    assert [n["id"] for n in play(new_store())] == [n["id"] for n in notes]


def test_notification_ids_follow_the_events_place_in_the_history():
    from esc_cli.domain import notices
    from esc_cli.domain.model import Case, Event

    case = Case(id=7, title="T", customer="C", priority="urgent", category="other",
                channel="other", opened_at=900, policy_version=1, tier=2)
    up = Event(1000, "alice", "escalated", "tier", "1", "2", "again")
    first = notices.notifications_for(case, [up], None, earlier=1)
    assert notices.notifications_for(case, [up], None, earlier=1) == first
    later = notices.notifications_for(case, [up], None, earlier=3)
    assert first[0]["id"] != later[0]["id"]
    assert first[0]["id"].startswith("n") and len(first[0]["id"]) == 21


# -- the outbox without channels, and its listing ------------------------------------------------

def test_without_channels_notifications_are_recorded_with_nothing_to_deliver(esc):
    case = open_urgent(esc)
    esc.ok("escalate", case, "--reason", "VIP", now="2026-11-02T10:01:00Z")
    result = esc.ok("sweep", now="2026-11-02T10:12:00Z")
    assert result.out.endswith("1 notified (0 failed)\n")
    listed = esc.doc("notify", "list")
    assert [(n["kind"], n["recipient"], n["deliveries"]) for n in listed] == [
        ("escalation", "tier:2", []), ("warning", "tier:2", [])]
    assert esc.ok("notify", "retry").out == (
        "no notification channel configured; nothing to deliver\n")


def test_notify_list_filters_and_plain_output(esc, tmp_path, hook):
    load_channels(esc, tmp_path, [webhook(hook)])
    first = open_urgent(esc)
    second = open_urgent(esc)
    hook.statuses = [200, 500]
    esc.ok("sweep", now="2026-11-02T10:12:00Z")
    assert [n["case"] for n in esc.doc("notify", "list", "--pending")] == [int(second)]
    assert [n["case"] for n in esc.doc("notify", "list", "--case", f"#{first}")] == [int(first)]
    assert len(esc.doc("notify", "list", "--limit", "1")) == 1
    plain = esc.ok("notify", "list").out.splitlines()
    assert plain[0].split("\t") == ["id", "case", "kind", "recipient", "created_at", "channel",
                                    "state", "attempts", "last_error", "next_attempt_at"]
    assert [row.split("\t")[6] for row in plain[1:]] == ["delivered", "failed"]
    assert esc("notify", "list", "--case", "x").code == 2


def test_terminal_outbox_reads_like_a_mail_log(esc, tmp_path, hook):
    import io
    from dataclasses import dataclass

    from rich.console import Console

    from esc_cli.render import ops
    from esc_cli.render.output import Output, parse_iso

    @dataclass
    class Env:
        now: int
        tz: str = "UTC"
        stdout_tty: bool = True
        no_color: bool = True

    load_channels(esc, tmp_path, [webhook(hook)])
    case = open_urgent(esc)
    hook.statuses = [500]
    esc.ok("sweep", now="2026-11-02T10:12:00Z")
    out = Output(Env(parse_iso("2026-11-02T10:12:30Z")))
    buffer = io.StringIO()
    out._console = Console(file=buffer, width=120, no_color=True)
    ops.outbox(out, esc.doc("notify", "list"))
    lines = buffer.getvalue().splitlines()
    assert lines[0].startswith(f"Mon 02 Nov 2026 10:12  #{case} warning to tier:1  n")
    assert lines[1] == ("    webhook:1  failed after 1 attempt, next try Mon 02 Nov 2026 10:13: "
                        "HTTP 500 Internal Server Error")


def test_notify_list_of_a_case_that_does_not_exist_is_not_found(esc):
    """As `show 99999`: exit 3, one line; a case with no notifications lists none."""
    case = esc.doc("open", "Quiet", "--customer", "Acme", "--priority", "low")["id"]
    assert esc.doc("notify", "list", "--case", str(case)) == []
    result = esc("notify", "list", "--case", "99999")
    assert (result.code, result.err) == (3, "error: no case #99999\n")
