"""A case from open to closed through the CLI, as an agent works it."""

from tests.conftest import run_process


def test_a_case_from_open_to_closed(esc):
    opened = esc.doc("open", "Printer on fire", "--customer", "Globex", "--priority", "high")
    case = str(opened["id"])
    assert opened["state"] == "new"
    assert esc.doc("ack", case)["state"] == "open"
    assert esc.doc("pending", case, "--reason", "waiting for logs")["state"] == "pending"
    assert esc.doc("resume", case)["state"] == "open"
    resolved = esc.doc("resolve", case, "--resolution", "replaced toner")
    assert resolved["state"] == "resolved" and resolved["resolved_at"] == "2026-11-02T10:00:00Z"
    assert esc.doc("close", case)["state"] == "closed"
    shown = esc.doc("show", case)
    assert [e["kind"] for e in shown["events"]] == [
        "opened", "acknowledged", "pending", "resumed", "resolved", "closed"]


def test_missing_store_exits_5_with_hint(bare_esc):
    # never initialised: no file, or an empty database
    result = run_process("--db", str(bare_esc.db), "queue")
    assert result.code == 5
    assert result.err.startswith("error:") and "esc init" in result.err
    assert "Traceback" not in result.err
    assert not bare_esc.exists()
