"""The seven faults of issue 20, each reproduced as the probe found it, and the class of
input or crash behind each one (every line ending, every decode path, every parser
that recurses, every temporary file, every id and enumerated value).

The store in every test is made with `esc init` and acts at 2026-11-02T10:00:00Z."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from esc_cli.domain.policy import DEFAULT_POLICY_TOML, dump_policy
from tests.conftest import ESC, run_process
from tests.fuzzkit import store_state

NOW = "2026-11-02T10:00:00Z"


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "internal error" not in err
    return lines[0]


def import_error_lines(err: str) -> list[str]:
    """import names each bad row on its own `error:` line, then one summing up."""
    lines = err.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), err
    assert "internal error" not in err
    return lines


def titles(esc) -> list[str]:
    return [c["title"] for c in esc.doc("queue", "--limit", "0")]


# -- 1. CSV line endings ---------------------------------------------------------------------

@pytest.mark.parametrize("ending", ["\r", "\n", "\r\n"], ids=["cr", "lf", "crlf"])
def test_csv_with_any_line_ending_imports_in_both_modes(esc, tmp_path, ending):
    path = tmp_path / "cases.csv"
    path.write_bytes(ending.join(["title,customer,priority", "x,y,high", "z,w,low", ""]).encode())
    checked = esc("import", "--dry-run", str(path))
    assert (checked.code, checked.err) == (0, ""), checked.err
    assert "checked 2 cases" in checked.out
    assert esc.ok("import", str(path)).out.startswith("imported 2 cases")
    assert sorted(titles(esc)) == ["x", "z"]


def test_csv_mixed_line_endings_and_a_quoted_cr_keep_line_numbers(esc, tmp_path):
    # header (1), a good row (2) with a CR inside quotes that runs onto line 3, a bad
    # priority on line 4: the error names line 4, as a text editor counts it
    path = tmp_path / "mixed.csv"
    path.write_bytes(b'title,customer,priority\r\n"two\rlines",y,high\rz,w,nope\n')
    before = store_state(esc.db)
    result = esc("import", str(path))
    assert result.code == 2
    assert result.err.splitlines()[0].startswith("error: line 4: unknown priority 'nope'")
    assert store_state(esc.db) == before
    path.write_bytes(b'title,customer,priority\r\n"two\rlines",y,high\rz,w,low\n')
    esc.ok("import", str(path))
    assert sorted(titles(esc)) == ["two\rlines", "z"]


@pytest.mark.parametrize("content", [
    b"title,customer,priority\r\"x,y,high\r",          # an unterminated quote
    b"title,customer,priority\rx,\"y\"z,high\r",       # a quote in the middle of a field
    b"title,customer,\x00priority\nx,y,high\n",          # a NUL byte in the header
    b"\"title\r,customer,priority",                    # the header itself runs off the end
])
def test_malformed_csv_is_exit_2_in_both_modes(esc, tmp_path, content):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    before = store_state(esc.db)
    for args in (("import", "--dry-run", str(path)), ("import", str(path))):
        result = esc(*args)
        assert result.code == 2, result
        import_error_lines(result.err)
    assert store_state(esc.db) == before


# -- 2. lone surrogates in JSON -------------------------------------------------------------------

def test_a_lone_surrogate_in_json_is_a_bad_row_in_both_modes(esc, tmp_path):
    path = tmp_path / "sur.json"
    path.write_text('[{"title":"ok","customer":"Acme","priority":"high"},'
                    '{"title":"sur\\ud800","customer":"Acme","priority":"high"}]')
    before = store_state(esc.db)
    for args in (("import", "--dry-run", str(path)), ("import", str(path))):
        result = esc(*args)
        assert result.code == 2, result
        first, last = result.err.splitlines()
        assert first.startswith("error: record 2: title ") and "surrogate" in first
        assert last.startswith("error: 1 bad row in")
    assert store_state(esc.db) == before


@pytest.mark.parametrize("where", ["key", "events", "owner", "policy", "tags", "pair"])
def test_lone_surrogates_anywhere_in_an_export_document(esc, tmp_path, where):
    case = {"title": "t", "customer": "c", "priority": "high"}
    document = {"policy": [{"version": 1, "toml": DEFAULT_POLICY_TOML}], "owners": [],
                "cases": [case]}
    if where == "key":
        case["ti\udc00tle"] = "x"
    elif where == "events":
        case["events"] = [{"at": NOW, "actor": "a\udfff", "kind": "opened", "field": "state",
                           "from": None, "to": "new", "reason": None}]
    elif where == "owner":
        document["owners"] = [{"handle": "bob\ud801"}]
    elif where == "policy":
        document["policy"][0]["toml"] = DEFAULT_POLICY_TOML + '\n# \ud800\n'
    elif where == "tags":
        case["tags"] = ["fine", "\udbff"]
    else:  # a proper pair is text (one astral character), not a fault
        case["title"] = "pair \U0001f600"
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document))  # ensure_ascii: surrogates as \\uXXXX escapes
    before = store_state(esc.db)
    checked, real = esc("import", "--dry-run", str(path)), esc("import", str(path))
    assert checked.code == real.code
    if where == "pair":
        assert real.code == 0, real.err
        assert titles(esc) == ["pair \U0001f600"]
        return
    assert real.code == 2, real
    assert "internal error" not in real.err and "surrogate" in real.err
    assert store_state(esc.db) == before


# -- 3. deep nesting ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "a = " + "[" * 900 + "]" * 900,
    "a = " + "{b = " * 900 + "1" + "}" * 900,
    "a = " + "[" * 100_000,
])
def test_deeply_nested_toml_is_exit_2(esc, tmp_path, text):
    path = tmp_path / "deep.toml"
    path.write_text(text + "\n")
    before = store_state(esc.db)
    result = esc("policy", "load", str(path))
    assert result.code == 2
    one_error_line(result.err)
    assert store_state(esc.db) == before


def test_deeply_nested_json_anywhere_in_an_import_is_exit_2(esc, tmp_path):
    deep = "[" * 5000 + "]" * 5000
    for text in (deep,
                 '[{"title":"t","customer":"c","priority":"high","tags":' + deep + "}]",
                 '{"policy":' + deep + ',"owners":[],"cases":[]}',
                 '{"cases":[{"title":"t","customer":"c","priority":"high","events":' + deep + "}]}"):
        path = tmp_path / "deep.json"
        path.write_text(text)
        for args in (("import", "--dry-run", str(path)), ("import", str(path))):
            result = esc(*args)
            assert result.code == 2, (text[:60], result)
            assert "internal error" not in result.err


def test_deeply_nested_policy_inside_an_export_document_is_a_bad_record(esc, tmp_path):
    document = {"policy": [{"version": 1, "toml": "a = " + "[" * 900 + "]" * 900}],
                "owners": [], "cases": []}
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document))
    result = esc("import", str(path))
    assert result.code == 2
    assert result.err.startswith("error: policy record 1: ")
    assert "internal error" not in result.err


# -- 4. control bytes never reach a terminal --------------------------------------------------------

HOSTILE = "clear\x1b[2J\x1b]0;owned\x07bell\x07csi\x9b31m rtl\u202e end"


def _run_on_a_tty(db: Path, *args: str) -> tuple[int, bytes]:
    """esc with stdout on a pseudo-terminal: (exit code, the bytes the terminal got)."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    env.update({"ESC_DB": str(db), "ESC_NOW": NOW, "ESC_TZ": "UTC", "ESC_USER": "alice"})
    proc = subprocess.Popen([ESC, *args], stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    received = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other side closed: Linux says EIO
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    proc.wait(timeout=30)
    proc.stderr.close()
    return proc.returncode, received


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_on_a_terminal_escapes_control_bytes_and_stays_exact_elsewhere(esc, tmp_path, fmt):
    esc.ok("open", HOSTILE, "--customer", "Acme\x1b[31m", "--priority", "high",
           "--description", "line one\nline two\r\x07")
    code, screen = _run_on_a_tty(esc.db, "export", "--format", fmt)
    assert code == 0
    text = screen.decode("utf-8")
    for raw in ("\x1b", "\x07", "\x9b", "\u202e", "\r\x07"):
        assert raw not in text.replace("\r\n", "\n"), repr(raw)
    assert "clear" in text and "rtl" in text  # the text is shown, made harmless
    # a pipe and a file get the exact bytes: the export is a backup format
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    piped = subprocess.run([ESC, "--db", str(esc.db), "--now", NOW, "export", "--format", fmt],
                           capture_output=True, env=env)  # bytes: no newline translation
    assert piped.returncode == 0
    target = tmp_path / f"out.{fmt}"
    esc.ok("export", "--format", fmt, "--output", str(target))
    assert target.read_bytes() == piped.stdout
    if fmt == "csv":
        text = piped.stdout.decode("utf-8")
        assert HOSTILE in text and "line one\nline two\r\x07" in text
    else:
        [case] = json.loads(piped.stdout)["cases"]
        assert case["title"] == HOSTILE


# -- 5. a delivery stranded in `sending` -------------------------------------------------------------

def _killing_channel(tmp_path: Path) -> tuple[dict, Path, Path]:
    """A command channel that kills the esc process running it (SIGKILL, mid-send) while
    `armed` exists, and otherwise records what it was sent in `received`."""
    armed, received = tmp_path / "armed", tmp_path / "received"
    script = (f'if [ -e "{armed}" ]; then rm -f "{armed}"; kill -9 "$PPID"; sleep 5; exit 1; fi; '
              f'cat >> "{received}"; echo >> "{received}"')
    return {"type": "command", "argv": ["/bin/sh", "-c", script], "timeout": "10s"}, armed, received


def _strand_a_delivery(esc, tmp_path) -> Path:
    channel, armed, received = _killing_channel(tmp_path)
    policy = tomllib.loads(DEFAULT_POLICY_TOML)
    policy["channels"] = [channel]
    (tmp_path / "policy.toml").write_text(dump_policy(policy))
    esc.ok("policy", "load", str(tmp_path / "policy.toml"))
    esc.ok("open", "Checkout down", "--customer", "Globex", "--priority", "urgent")
    armed.touch()
    killed = run_process("--db", str(esc.db), "--now", "2026-11-02T10:12:00Z", "sweep")
    assert killed.code == -signal.SIGKILL
    assert esc.rows("SELECT state FROM deliveries") == [("sending",)]
    return received


@pytest.mark.parametrize("taker", ["notify retry", "sweep"])
def test_a_delivery_stranded_by_a_killed_sweep_is_taken_back(esc, tmp_path, taker):
    received = _strand_a_delivery(esc, tmp_path)
    # at the same "now" the killed sweep acted at: its claim is abandoned (its process is
    # gone), so the delivery is sent at once, not after a later sweep
    result = esc.ok(*taker.split(), now="2026-11-02T10:12:00Z")
    assert "nothing to deliver" not in result.out
    [payload] = [json.loads(line) for line in received.read_text().splitlines()]
    assert payload["kind"] == "warning"
    [delivery] = [d for n in esc.doc("notify", "list") for d in n["deliveries"]]
    assert (delivery["state"], delivery["attempts"]) == ("delivered", 1)
    assert "nothing to deliver" in esc.ok("notify", "retry").out


def test_a_live_claim_is_left_alone_and_an_expired_one_is_taken(esc, tmp_path):

    _strand_a_delivery(esc, tmp_path)
    lease_ends = int(__import__("time").time()) + 600
    # as a sender still at work on another host
    esc.sql(f"UPDATE deliveries SET lease_until = {lease_ends}, leased_by = 'elsewhere:1'")
    assert "nothing to deliver" in esc.ok("notify", "retry").out
    # that sender's lease has run out: it is abandoned
    esc.sql(f"UPDATE deliveries SET lease_until = {lease_ends - 601}")
    assert esc.doc("notify", "retry")["delivered"] == 1


# -- 6. temporaries of killed commands ------------------------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("command", ["backup", "export"])
def test_the_next_run_removes_temporaries_of_killed_runs(esc, tmp_path, command):
    target = tmp_path / "out" / ("b.db" if command == "backup" else "e.json")
    target.parent.mkdir()
    dead, alive = _dead_pid(), os.getppid()
    suffix = "partial" if command == "backup" else "tmp"
    stale = [target.with_name(f".{target.name}.{dead}.{suffix}")]
    if command == "backup":
        stale += [Path(f"{stale[0]}-wal"), Path(f"{stale[0]}-shm"), Path(f"{stale[0]}-journal")]
    live = target.with_name(f".{target.name}.{alive}.{suffix}")  # a run still going
    stale.append(target.with_name(f".{target.name}.{os.getpid()}.{suffix}"))  # ours: a dead run's
    others = [target.with_name(f".{target.name}.x{dead}.{suffix}"),  # not ours
              target.with_name(f".other.db.{dead}.{suffix}"),  # another target
              target.with_name(f"{target.name}.{dead}.{suffix}")]  # not hidden
    for path in [*stale, live, *others]:
        path.write_bytes(b"half")
    if command == "backup":
        esc.ok("backup", str(target))
    else:
        esc.ok("export", "--output", str(target))
    assert target.exists()
    assert [p for p in stale if p.exists()] == []
    assert live.exists() and all(p.exists() for p in others)


_KILLED_AT_PUBLISH = """
import os, signal, sys
import esc_cli.services.backup as backup
def die(*args, **kwargs):  # the temporary is complete: die before it is moved into place
    os.kill(os.getpid(), signal.SIGKILL)
backup._publish = die
os.replace = die
from esc_cli.app import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("command", ["backup", "export"])
def test_a_run_killed_before_publishing_leaves_nothing_after_the_next_run(esc, tmp_path, command):
    target = tmp_path / ("b.db" if command == "backup" else "e.json")
    for _ in range(20):
        esc.ok("open", "x" * 400, "--customer", "c", "--priority", "low")
    args = ["--db", str(esc.db), "--now", NOW,
            *(["backup", str(target)] if command == "backup" else ["export", "--output", str(target)])]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    killed = subprocess.run([sys.executable, "-c", _KILLED_AT_PUBLISH, *args], env=env,
                            capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(f".{target.name}.")]
    assert leftovers and not target.exists()  # what the probe found: a hidden temporary
    result = run_process(*args)
    assert result.code == 0, result.err
    assert target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(f".{target.name}.")] == []


# -- 7. ids and enumerated values are exact -------------------------------------------------------------

@pytest.mark.parametrize("text", [" 7", "7 ", "+7", "7_0", "٧", "0x7", "7.0", "#", "##7",
                                  "# 7", "0", "-1", "", "\t7", "7\n"])
def test_case_ids_are_exact(esc, text):
    esc.ok("open", "t", "--customer", "c", "--priority", "high")
    result = esc("show", text)
    assert result.code == 2, (text, result)
    one_error_line(result.err)


def test_case_id_sizes():
    from esc_cli.errors import UsageError
    from esc_cli.services import parse_case_id

    assert parse_case_id("#7") == 7 and parse_case_id("007") == 7
    assert parse_case_id(str(2**63 - 1)) == 2**63 - 1
    for text in (str(2**63), str(2**64), "9" * 400):
        with pytest.raises(UsageError, match="too large"):
            parse_case_id(text)


@pytest.mark.parametrize("text", [str(2**62 + 1), str(2**63 - 1), "99"])
def test_an_id_that_fits_and_does_not_exist_is_exit_3(esc, text):
    for args in (("show", text), ("ack", text), ("note", text, "hi"), ("explain", text)):
        result = esc(*args)
        assert result.code == 3, (args, result)
        one_error_line(result.err)


@pytest.mark.parametrize("args", [
    ("open", "t", "--customer", "c", "--priority", " high"),
    ("open", "t", "--customer", "c", "--priority", "high "),
    ("open", "t", "--customer", "c", "--priority", "high", "--channel", " email"),
    ("open", "t", "--customer", "c", "--priority", "high", "--category", "billing "),
    ("open", "t", "--customer", "c", "--priority", "high", "--tier", " 2"),
    ("open", "t", "--customer", "c", "--priority", "high", "--tier", "2_0"),
    ("open", "t", "--customer", "c", "--priority", "high", "--tier", str(2**63)),
    ("queue", "--priority", " high"),
    ("queue", "--state", " open"),
    ("queue", "--sort", "due "),
    ("queue", "--limit", " 5"),
    ("queue", "--limit", "+5"),
    ("report", "--by", " owner"),
    ("report", "--format", "json "),
    ("export", "--format", " csv"),
    ("tier", "add", " 2", "Specialist"),
    ("tier", "add", "2", "Specialist", "--stale-after", " none"),
    ("owner", "add", "bob", "--capacity", "1e3"),
    ("owner", "add", " ann"),
    ("owner", "add", "ann "),
    ("owner", "add", "ann\x1b[31m"),
    ("owner", "add", "an\u202en"),
])
def test_enumerated_values_and_numbers_are_exact(esc, args):
    before = store_state(esc.db)
    result = esc(*args)
    assert result.code == 2, (args, result)
    one_error_line(result.err)
    assert store_state(esc.db) == before


def test_exact_values_still_accept_aliases_and_any_letter_case(esc):
    assert esc.doc("open", "t", "--customer", "c", "--priority", "P2")["priority"] == "high"
    assert esc.doc("open", "t", "--customer", "c", "--priority", "Urgent",
                   "--channel", "EMAIL")["channel"] == "email"


def test_import_values_are_exact_too(esc, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("title,customer,priority,channel,tier\n"
                    "a,c, high,email,1\nb,c,high,email ,1\nc,c,high,email, 2\nd,c,HIGH,Email,1\n")
    result = esc("import", str(path))
    assert result.code == 2
    assert [line.split(":")[1].strip() for line in result.err.splitlines()[:-1]] == [
        "line 2", "line 3", "line 4"]


def test_import_handles_are_exact_too(esc, tmp_path):
    owners = tmp_path / "owners.json"
    owners.write_text(json.dumps([{"handle": "bob"}, {"handle": " ann"}, {"handle": "d\x1bx"},
                                  {"handle": "e\u200bve"}]))
    before = store_state(esc.db)
    for args in (("import", "--dry-run", str(owners)), ("import", str(owners))):
        result = esc(*args)
        assert result.code == 2, result
        assert [line.split(":")[1].strip() for line in result.err.splitlines()[:-1]] == [
            "record 2", "record 3", "record 4"]
    assert store_state(esc.db) == before
    esc.ok("owner", "add", "bob")
    cases = tmp_path / "cases.csv"
    cases.write_text("title,customer,priority,owner\na,c,high,bob\nb,c,high, bob\nc,c,high,bob \n")
    result = esc("import", str(cases))
    assert result.code == 2
    assert [line.split(":")[1].strip() for line in result.err.splitlines()[:-1]] == [
        "line 3", "line 4"]


# -- found by the fuzzers ----------------------------------------------------------------------------

@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\r", "\x0b", "\x0c", "\x1c"])
def test_an_error_naming_untrusted_text_stays_one_line(esc, separator):
    # every character str.splitlines (and some terminals and log readers) end a line at
    for args in (("show", separator), ("open", "t", "--customer", "c", "--priority", f"hi{separator}gh"),
                 ("queue", "--sort", f"due{separator}x")):
        result = esc(*args)
        assert result.code == 2
        one_error_line(result.err)
