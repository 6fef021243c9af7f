"""`esc import` defects from the black-box audit (issue imp9): what esc itself prints
imports again, and an import file's values are held to the commands' rules."""

from __future__ import annotations

import json

from tests.test_import import write


def _worked(esc) -> None:
    esc.ok("owner", "add", "bob", "--tier", "1")
    esc.ok("open", "Printer on fire", "--customer", "Globex", "--priority", "high",
           "--owner", "bob", now="2026-10-30T09:00:00Z")
    esc.ok("open", "Refund", "--customer", "Initech", "--priority", "urgent",
           now="2026-10-31T09:00:00Z")
    esc.ok("ack", "1", now="2026-10-30T09:30:00Z")


# -- 1: queue / overdue / show --json import -----------------------------------------


def test_queue_overdue_and_show_json_import(esc, new_store, tmp_path):
    _worked(esc)
    for args in (("queue",), ("overdue",), ("show", "1")):
        text = esc.ok(*args, "--json").out
        path = write(tmp_path, f"{args[0]}.json", text)
        target = new_store()
        target.ok("owner", "add", "bob", "--tier", "1")
        result = target("import", path)
        assert result.code == 0, (args, result.err)
        documents = json.loads(text)
        documents = documents if isinstance(documents, list) else [documents]
        got = target.doc("queue", "--limit", "0")
        assert sorted(d["id"] for d in got) == sorted(d["id"] for d in documents)
