"""A corpus of hostile and broken input (SPEC §1 limits, §4 ids and times, §5 errors and
untrusted text). Each item must either be refused with one `error:` line and the spec's
exit code, writing nothing (the whole store is compared before and after), or be stored
exactly as given and printed safely: on a terminal and in a pipe, Rich markup shows as
text and no escape sequence, control character or bidi override reaches the screen.
Never a traceback.
"""

from __future__ import annotations

import io
import json
import re
import sys
import tomllib

import pytest

import tomli_w

from esc_cli.domain.policy import DEFAULT_POLICY_TOML
from tests import stress
from tests.conftest import EscRunner, run_process

MIB = 1024 * 1024

# name -> text. Each is used as a title (when it fits in 500 characters), a customer, a
# description and a note.
TEXTS = {
    "rich_markup": "[bold red]ALERT[/] [link=http://evil.example]click[/link] [/] [[x]] \\[y]",
    "ansi_csi": "red \x1b[31mRED\x1b[0m clear \x1b[2J\x1b[H home \x1b[5mblink\x1b[0m end",
    "osc": "title \x1b]0;pwned\x07 link \x1b]8;;http://evil.example\x1b\\here\x1b]8;;\x1b\\ end",
    "c0_controls": "nul\x00 bel\x07 bs\x08 vt\x0b ff\x0c cr\r esc\x1b del\x7f end",
    "c1_controls": "csi\x9b31m nel\x85 dcs\x90 st\x9c osc\x9d end",
    "bidi": "invoice \u202egnp.exe\u202c \u2066isolate\u2069 \u200fmark\u200e end",
    "emoji_combining": "🧯🔥 👩‍👩‍👧‍👦 e\u0301 n\u0303 Z\u0324\u0354\u0367\u0311\u0313 ☃ 漢字 end",
    "html": "<script>alert('x')</script> & <b>bold</b> \"quoted\" | pipe | end",
    "multiline": "first line\nsecond\tline\n\n  indented end",
}
# what must still be visible after cleaning (a word of each text)
VISIBLE = {
    "rich_markup": "[bold red]ALERT[/]", "ansi_csi": "RED", "osc": "here",
    "c0_controls": "nul", "c1_controls": "nel", "bidi": "gnp.exe",
    "emoji_combining": "👩‍👩‍👧‍👦", "html": "<script>", "multiline": "second",
}
SGR = re.compile(r"\x1b\[[0-9;]*m")
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def on_terminal(esc: EscRunner, *args: str) -> tuple[int, str, str]:
    """esc in-process with stdout and stderr looking like a terminal (Rich output)."""
    from esc_cli.app import main

    out, err = Terminal(), Terminal()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    code = 0
    try:
        main(["--db", str(esc.db), "--now", esc.now, "--as", esc.user, "--tz", "UTC", *args])
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()


def assert_safe(text: str, visible: str | None = None, terminal: bool = False,
                json_text: bool = False) -> None:
    if terminal:
        text = SGR.sub("", text)  # Rich's own colours are fine; nothing else is
    assert "\x1b" not in text, repr(text[:400])
    assert not UNSAFE.search(text), repr(UNSAFE.search(text))
    if not json_text:  # (JSON carries the text as given, escaped)
        assert "pwned" not in text and "8;;" not in text  # OSC payloads go with their escape
    if visible is not None:
        assert visible in text, f"{visible!r} missing from {text[:400]!r}"


def refused(result, code: int, *words: str, lines: int | None = 1) -> None:
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    assert result.code == code, f"exit {result.code}, wanted {code}: {result.err}"
    errors = result.err.splitlines()
    assert errors and all(line.startswith("error: ") for line in errors), result.err
    if lines is not None:
        assert len(errors) == lines, result.err
    for word in words:
        assert word in result.err, f"{word!r} not in {result.err!r}"


# -- untrusted text: stored as given, printed as text ------------------------------------

@pytest.mark.parametrize("name", sorted(TEXTS))
def test_hostile_text_is_stored_as_given_and_printed_safely(esc, backend, new_store, tmp_path, name):
    text = TEXTS[name]
    if backend == "postgres":  # PostgreSQL text cannot hold NUL: the next test refuses it
        text = text.replace("\x00", "")
    esc.ok("owner", "add", "mallory", "--name", text, "--tier", "2")
    doc = esc.doc("open", text, "--customer", text, "--priority", "urgent",
                  "--description", text, "--tag", "x", now="2026-11-02T09:00:00Z")
    case = str(doc["id"])
    esc.ok("note", case, text, now="2026-11-02T09:01:00Z")
    esc.ok("escalate", case, "--reason", text, "--owner", "mallory", now="2026-11-02T09:02:00Z")
    esc.ok("set", case, "--team", "billing", now="2026-11-02T09:03:00Z")

    # stored as given, and JSON carries it as given
    shown = esc.doc("show", case)
    assert (shown["title"], shown["customer"], shown["description"]) == (text, text, text)
    assert [e["reason"] for e in shown["events"] if e["kind"] in ("note", "escalated")] == [text, text]
    assert esc.rows("SELECT title, customer, description FROM cases") == [(text,) * 3]
    raw = esc.ok("show", case, "--json").out
    assert "\x1b" not in raw and not UNSAFE.search(raw.replace("\n", ""))

    # and it survives export and import into an empty store
    exported = tmp_path / "export.json"
    esc.ok("export", "--output", str(exported))
    other = new_store()
    other.ok("import", str(exported))
    again = other.doc("show", case)
    assert [again[k] for k in ("title", "customer", "description")] == [text] * 3
    assert again["events"] == shown["events"]

    # printed safely wherever it shows up, in a pipe and on a terminal
    word = VISIBLE[name]
    reads = [("show", case), ("queue",), ("overdue", "--within", "30d"), ("explain", case),
             ("search", "escalated" if name == "osc" else "end"), ("owner", "list"),
             ("notify", "list"), ("report", "--by", "customer", "--since", "2026-11-01")]
    for args in reads:
        piped = esc(*args, now="2026-11-02T12:00:00Z")
        assert piped.code == 0 and piped.err == "", (args, piped.err)
        assert_safe(piped.out)
        code, out, err = on_terminal(esc, *args)
        assert code == 0 and "Traceback" not in err, (args, err)
        assert_safe(out, terminal=True)
    assert_safe(esc.ok("show", case).out, word)
    assert_safe(on_terminal(esc, "show", case)[1], word, terminal=True)

    # the report's files: HTML escapes it; none carries a control character
    html = esc.ok("report", "--by", "customer", "--format", "html").out
    assert "<script>" not in html and "<b>bold" not in html
    for fmt in ("markdown", "csv", "json", "html"):
        assert_safe(esc.ok("report", "--by", "customer", "--format", fmt).out,
                    json_text=fmt == "json")
    # a JSON export escapes what a terminal would act on, and still holds the text as given
    dumped = esc.ok("export").out
    assert "\x1b" not in dumped and not UNSAFE.search(dumped.replace("\n", ""))
    assert json.loads(dumped)["cases"][0]["title"] == text


NUL_ARGUMENTS = [
    (("owner", "add", "mallory", "--name", "Mal\x00lory"), "--name"),
    (("open", "nul\x00 title", "--customer", "Acme", "--priority", "high"), "argument"),
    (("open", "t", "--customer=Ac\x00me", "--priority", "high"), "--customer"),
]


def test_a_nul_argument_is_exit_2_on_postgresql_and_stored_as_given_on_sqlite(esc, backend):
    """PostgreSQL text cannot hold NUL (U+0000): there an argument holding one is a bad
    value, one line naming it, and nothing is written; SQLite stores it as given
    (docs/postgres.md, what differs per backend). Imports: test_fuzz_import."""
    before = stress.dump(esc.db)
    for args, name in NUL_ARGUMENTS:
        result = esc(*args)
        if backend == "sqlite":
            assert result.code == 0, (args, result.err)
            continue
        refused(result, 2, name, "NUL", "PostgreSQL")
    if backend == "postgres":
        assert stress.dump(esc.db) == before
        return
    assert {o["handle"]: o["name"] for o in esc.doc("owner", "list")}["mallory"] == "Mal\x00lory"
    assert [esc.doc("show", n)[f] for n, f in (("1", "title"), ("2", "customer"))] == [
        "nul\x00 title", "Ac\x00me"]


def test_a_megabyte_of_text(esc):
    esc.ok("open", "t", "--customer", "c", "--priority", "high")
    big = "[b]x[/b]  " + "é" * (MIB // 2 - 5)  # exactly 1 MiB of UTF-8
    assert len(big.encode()) == MIB
    esc.ok("note", "1", big)
    esc.ok("set", "1", "--customer", big)
    doc = esc.doc("show", "1")
    assert doc["events"][-2]["reason"] == big and doc["customer"] == big
    assert_safe(esc.ok("show", "1").out, "[b]x[/b]")
    assert_safe(on_terminal(esc, "show", "1")[1], "[b]x[/b]", terminal=True)

    before = stress.dump(esc.db)
    over = big + "x"
    for args in (("note", "1", over), ("open", "t", "--customer", over, "--priority", "low"),
                 ("open", "t", "--customer", "c", "--priority", "low", "--description", over),
                 ("resolve", "1", "--resolution", over), ("escalate", "1", "--reason", over),
                 ("open", "x" * 501, "--customer", "c", "--priority", "low"),
                 ("set", "1", "--title", "y" * 501)):
        refused(esc(*args), 2)
    assert stress.dump(esc.db) == before


def test_a_bad_value_is_exit_2_whatever_the_state(esc):
    esc.ok("open", "t", "--customer", "c", "--priority", "high")
    esc.ok("resolve", "1", "--resolution", "done")
    esc.ok("close", "1")
    before = stress.dump(esc.db)
    for args in (("note", "1", " "), ("note", "1", "", "--customer"),
                 ("escalate", "1", "--reason", ""), ("escalate", "1", "--reason", "x", "--to", "9"),
                 ("deescalate", "1", "--reason", "x", "--to", "0"), ("feedback", "1", "--csat", "0"),
                 ("set", "1", "--priority", "p9"), ("pending", "1", "--reason", ""),
                 ("reopen", "1", "--reason", ""), ("resolve", "1", "--resolution", "")):
        refused(esc(*args), 2)
    # and an earlier --now does not change that: the value is checked first
    for args in (("note", "1", ""), ("set", "1", "--priority", "p9")):
        refused(esc(*args, now="2026-11-01T00:00:00Z"), 2)
    assert stress.dump(esc.db) == before


@pytest.mark.parametrize("args", [
    ("open", "t", "-c", "c", "-p", "high", "--category", ""),
    ("open", "t", "-c", "c", "-p", "high", "--channel", " "),
    ("open", "t", "-c", "c", "-p", "high", "--owner", ""),
    ("set", "1", "--category", ""),
    ("escalate", "1", "--reason", "r", "--owner", ""),
    ("escalate", "1", "--reason", "r", "--team", ""),
])
def test_an_option_given_empty_is_exit_2_not_left_out(esc, args):
    # `open --owner ""` opened the case unowned and `--category ""` as other, while
    # `set --category ""` exited 2: an empty value is never read as the option left out
    esc.ok("open", "t", "--customer", "c", "--priority", "high")
    before = stress.dump(esc.db)
    refused(esc(*args), 2)
    assert stress.dump(esc.db) == before


def _valued_options() -> list[tuple[str, str]]:
    """(command path, option) for every option of every command that takes a value, the
    global ones under `queue`: what the walk in commands.common.refuse_blank covers."""
    from esc_cli.app import _click_command

    found, stack = [], [("", _click_command(None))]
    while stack:
        path, command = stack.pop()
        for param in command.params:
            if param.param_type_name == "option" and not param.is_flag and not param.count:
                name = next(o for o in param.opts if o.startswith("--"))
                found.append((path or "queue", name))
        stack.extend((f"{path} {sub}".strip(), child)
                     for sub, child in getattr(command, "commands", {}).items())
    return sorted(found)


def test_every_option_given_blank_is_exit_2_naming_it(esc):
    # `queue --priority ""` listed nothing, `overdue --team ""` ignored the filter,
    # `queue --state ""` and `report --format ""` took their defaults, `export --output
    # " "` wrote a file named " ": on every command, an option given "" or blanks is
    # one line naming it and exit 2, before anything reads or writes the store
    from esc_cli.commands.common import BLANK_MEANS_NONE

    options = _valued_options()
    reported = {("queue", "--priority"), ("search", "--priority"), ("overdue", "--team"),
                ("queue", "--team"), ("queue", "--state"), ("search", "--state"),
                ("report", "--format"), ("policy try", "--by"), ("queue", "--now")}
    assert reported <= set(options)
    before = stress.dump(esc.db)
    checked = 0
    for path, option in options:
        if f"{path} {option}" in BLANK_MEANS_NONE:
            continue
        for blank in ("", " ", "\t"):
            result = esc(*path.split(), option, blank)
            assert (result.code, result.out, result.err) == (
                2, "", f"error: {option} must not be empty\n"), (path, option, blank)
            checked += 1
        assert esc(*path.split(), f"{option}=").err == f"error: {option} must not be empty\n"
    assert checked > 150  # the walk found the commands' options, not just a few
    assert stress.dump(esc.db) == before


def test_a_short_option_given_blank_is_named_by_its_long_name(esc):
    for args in (("queue", "-p", ""), ("report", "-f", " "), ("open", "t", "-c", "")):
        result = esc(*args)
        long = {"-p": "--priority", "-f": "--format", "-c": "--customer"}[args[-2]]
        assert (result.code, result.err) == (2, f"error: {long} must not be empty\n")


def test_what_the_docs_say_a_blank_means_still_holds(esc):
    # docs/agents.md: `open --team ""` and `set --team ""` mean no team; a blank --tag
    # is dropped (tags are trimmed)
    case = esc.doc("open", "t", "-c", "c", "-p", "high", "--team", "", "--tag", " ")
    assert (case["team"], case["tags"]) == (None, [])
    esc.ok("set", str(case["id"]), "--team", "billing")
    assert esc.doc("set", str(case["id"]), "--team", " ", "--tag", "")["team"] is None


def test_state_that_names_no_state_is_refused(esc):
    # `--state ,` split into nothing and listed the default states
    for args in (("queue", "--state", ","), ("search", "x", "--state", ",,")):
        result = esc(*args)
        assert (result.code, result.err) == (2, f"error: --state {args[-1]!r} names no state\n")


def test_an_empty_variable_is_unset_and_a_blank_one_refused(esc, monkeypatch):
    # ESC_NOW= in a crontab means no --now; ESC_DB=" " would be a store file named " "
    from esc_cli.app import main

    def run(*args):
        import io
        out, err, saved = io.StringIO(), io.StringIO(), (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = out, err
        try:
            main(list(args))
        except SystemExit as exit_:
            return exit_.code, err.getvalue()
        finally:
            sys.stdout, sys.stderr = saved
        return 0, err.getvalue()

    for variable in ("ESC_NOW", "ESC_USER", "ESC_TZ", "ESC_DB"):
        monkeypatch.setenv(variable, "")
    assert run("--db", str(esc.db), "queue", "--json") == (0, "")
    for variable in ("ESC_NOW", "ESC_USER", "ESC_TZ", "ESC_DB"):
        monkeypatch.setenv(variable, " ")
        assert run(*(() if variable == "ESC_DB" else ("--db", str(esc.db))), "queue") == (
            2, f"error: {variable} is blank: give it a value or leave it empty\n")
        monkeypatch.setenv(variable, "")


def test_text_that_is_not_unicode_is_refused(esc):
    esc.ok("open", "t", "--customer", "c", "--priority", "high")
    before = stress.dump(esc.db)
    for args in (("note", "1", "bad \udcff byte"), ("open", "\ud800", "--customer", "c",
                                                      "--priority", "low")):
        refused(esc(*args), 2, "UTF-8")
    assert stress.dump(esc.db) == before


# -- the policy file -----------------------------------------------------------------------

def _policy(**changes) -> str:
    doc = tomllib.loads(DEFAULT_POLICY_TOML)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = doc
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return tomli_w.dumps(doc)  # not dump_policy: that one refuses what these test


BAD_POLICIES = [
    ("unknown_top", _policy(colour="blue"), "colour"),
    ("unknown_nested", _policy(priorities__high__respnd="1h"), "priorities.high.respnd"),
    ("unknown_tier_key", _policy(tiers__2__colour="x"), "tiers.2.colour"),
    ("wrong_type_float", _policy(warn_at="soon"), "warn_at"),
    ("wrong_type_int_span", _policy(priorities__high__respond=15), "priorities.high.respond"),
    ("bad_span", _policy(priorities__high__respond="15 minutes"), "priorities.high.respond"),
    ("days_on_business", _policy(priorities__medium__resolve="2d"), "priorities.medium.resolve"),
    ("table_for_string", _policy(priorities__low__calendar={"x": 1}), "priorities.low.calendar"),
    ("string_for_table", _policy(priorities="fast"), "priorities"),
    ("list_for_table", _policy(tiers=[1, 2]), "tiers"),
    ("zone", _policy(timezone="Mars/Olympus"), "timezone"),
    ("calendar_zone", _policy(calendars__business__timezone="Mars/Olympus"),
     "calendars.business.timezone"),
    ("hours", _policy(calendars__business__hours="25:00-26:00"), "calendars.business.hours"),
    ("days", _policy(calendars__business__days="mon"), "calendars.business.days"),
    ("holiday", _policy(calendars__business__holidays=["2026-02-30"]),
     "calendars.business.holidays"),
    ("stale_after", _policy(tiers__1__stale_after="soon"), "tiers.1.stale_after"),
    ("close_after", _policy(close_after=-1), "close_after"),
    ("warn_at_range", _policy(warn_at=1.5), "warn_at"),
    ("categories", _policy(categories="billing"), "categories"),
]


@pytest.mark.parametrize("name, text, key", BAD_POLICIES, ids=[b[0] for b in BAD_POLICIES])
def test_a_bad_policy_is_refused_naming_its_key(esc, new_place, tmp_path, name, text, key):
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    before = stress.dump(esc.db)
    refused(esc("policy", "load", str(path)), 2, key)
    refused(esc("policy", "load", str(path), "--recompute"), 2, key)
    assert stress.dump(esc.db) == before
    # a refused policy never creates a store either
    fresh = EscRunner(new_place())
    refused(fresh("init", "--policy", str(path)), 2, key)
    assert not fresh.exists()


@pytest.mark.parametrize("content", [
    b"[priorities.high\nrespond = '1h'\n",       # TOML syntax
    b"warn_at = 0.8\nwarn_at = 0.9\n",            # a key twice
    b"timezone = \"UTC\xff\"\n",                   # not UTF-8
    b"timezone = \"U\x00TC\"\n",                   # a NUL byte
    b"\xef\xbb\xbf\x00\x00\x00",                   # binary
], ids=["syntax", "duplicate", "not_utf8", "nul", "binary"])
def test_a_policy_file_that_is_not_toml(esc, tmp_path, content):
    path = tmp_path / "policy.toml"
    path.write_bytes(content)
    before = stress.dump(esc.db)
    refused(esc("policy", "load", str(path)), 2)
    assert stress.dump(esc.db) == before


# -- import files ------------------------------------------------------------------------

HEADER = "id,title,customer,priority,opened_at,acknowledged_at,resolved_at\n"
GOOD = "1,Fine,Globex,high,2026-11-01T10:00:00Z,,\n"
BAD_IMPORTS = [
    ("utf16.csv", (HEADER + GOOD).encode("utf-16"), ["UTF-8"]),
    ("latin1.csv", (HEADER + "2,Caf\xe9,Globex,low,,,\n").encode("latin-1"), ["line 2", "UTF-8"]),
    ("missing_column.csv", "title,customer\nA,Globex\n", ["line 1", "priority"]),
    ("unknown_column.csv", "title,customer,priority,colour\nA,G,low,red\n", ["colour"]),
    ("duplicate_ids.csv", HEADER + GOOD + GOOD.replace("Fine", "Again"), ["line 3", "duplicate id 1"]),
    ("impossible_date.csv", HEADER + "2,A,G,low,2026-02-30T10:00:00Z,,\n", ["line 2", "2026-02-30"]),
    ("impossible_hour.csv", HEADER + "2,A,G,low,2026-11-01T25:00:00Z,,\n", ["line 2"]),
    ("ancient_date.csv", HEADER + "2,A,G,low,0001-01-01T00:00:00,,\n", ["line 2", "out of range"]),
    ("backwards.csv", HEADER + "2,A,G,low,2026-11-01T10:00:00Z,2026-11-01T09:00:00Z,"
     "2026-10-31T10:00:00Z\n", ["line 2", "resolved_at"]),
    ("bad_id.csv", HEADER + "abc,A,G,low,,,\n-1,B,G,low,,,\n99999999999999999999,C,G,low,,,\n",
     ["line 2", "line 3", "line 4"]),
    ("one_bad_row.csv", HEADER + GOOD + "2,B,G,p9,,,\n", ["line 3", "p9"]),
    ("broken.json", '[{"title": "A", "customer": "G", "priority": "low"', ["not valid JSON"]),
    ("wrong_types.json", json.dumps([{"title": None, "customer": ["G"], "priority": 5,
                                      "tags": 7, "csat": "five"}]), ["record 1"]),
    ("not_a_list.json", json.dumps({"cases": 5}), ["cases"]),
    ("nan.json", '[{"title": "A", "customer": "G", "priority": "low", "csat": NaN}]', ["record 1"]),
    ("deep.json", "[" * 50_000 + "]" * 50_000, ["nested"]),
    ("deep_field.json", '[{"title": "A", "customer": "G", "priority": "low", "tags": '
     + "[" * 20_000 + "]" * 20_000 + "}]", ["record 1"]),
    ("numeric_time.json", json.dumps([{"title": "A", "customer": "G", "priority": "low",
                                       "opened_at": 1793613600}]), ["opened_at"]),
    ("bad_events.json", json.dumps([{"title": "A", "customer": "G", "priority": "low",
                                     "events": [{"at": "2026-11-01T10:00:00Z", "actor": "x",
                                                 "kind": "teleported"}]}]), ["record 1"]),
    ("empty.csv", "", ["empty"]),
    ("dup_key_document.json", '{"cases": [], "cases": []}', []),
]


@pytest.mark.parametrize("name, content, words", BAD_IMPORTS, ids=[b[0] for b in BAD_IMPORTS])
def test_a_bad_import_file_imports_nothing(esc, tmp_path, name, content, words):
    esc.ok("open", "Existing", "--customer", "Globex", "--priority", "low")
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    before = stress.dump(esc.db)
    for dry in ([], ["--dry-run"]):
        result = esc("import", str(path), *dry)
        refused(result, 2, *words, lines=None)
        assert result.out == ""
    assert stress.dump(esc.db) == before


# -- ids, zones, times, numbers --------------------------------------------------------------

BAD_IDS = ["0", "-1", "1e9", "abc", "#", "#0", "1.0", "4 2", "٣", "0x10", "99999999999999999999999"]


@pytest.mark.parametrize("case_id", BAD_IDS)
def test_an_id_that_is_not_a_positive_integer_exits_2(esc, case_id):
    esc.ok("open", "t", "--customer", "c", "--priority", "high")
    before = stress.dump(esc.db)
    for args in (("show", case_id), ("ack", case_id), ("note", case_id, "x"),
                 ("escalate", case_id, "--reason", "x"), ("resolve", case_id, "--resolution", "x"),
                 ("explain", case_id), ("notify", "list", "--case", case_id)):
        if case_id.startswith("-"):
            args = (*args[:-1], "--", args[-1]) if args[-1] == case_id else (args[0], "--", *args[1:])
        refused(esc(*args), 2)
    assert stress.dump(esc.db) == before


def test_ids_that_do_not_exist_exit_3(esc):
    esc.ok("open", "t", "--customer", "c", "--priority", "high")
    for case_id in ("2", "#2", "4611686018427387904"):
        refused(esc("ack", case_id), 3, "#")
        refused(esc("show", case_id), 3)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe/Berln", "+05:00", "UTC+5",
                                  "../../../etc/passwd", "/etc/localtime", "Europe/\x1b[31mRed"])
def test_unknown_time_zones_exit_2(esc, tmp_path, zone):
    esc.tz = zone
    refused(esc("queue"), 2)
    assert "\x1b" not in esc("queue").err
    esc.tz = "UTC"
    result = run_process("--db", str(esc.db), "queue", env={"ESC_TZ": zone})
    refused(result, 2)


@pytest.mark.parametrize("zone, now", [
    ("Europe/Berlin", "2026-03-29T02:30"), ("America/New_York", "2026-03-08T02:00:00"),
    ("Australia/Lord_Howe", "2026-10-04T02:15"),  # a half-hour DST shift
    ("Pacific/Apia", "2011-12-30T12:00"),          # the day Samoa skipped
])
def test_now_in_a_dst_gap_exits_2(esc, zone, now):
    esc.tz = zone
    before = stress.dump(esc.db)
    refused(esc("open", "t", "--customer", "c", "--priority", "high", now=now), 2, "does not exist")
    result = run_process("--db", str(esc.db), "--tz", zone, "queue", env={"ESC_NOW": now})
    refused(result, 2)
    assert stress.dump(esc.db) == before


@pytest.mark.parametrize("now", ["9999-12-31T23:00:00Z", "0001-01-01T00:00:00Z",
                                 "1969-12-31T23:59:59Z", "2026-11-02T10:00:00+25:00", "now",
                                 "2026-11-02T10:00:00Z\x1b[2J"])
def test_now_out_of_range_or_malformed_exits_2(esc, now):
    before = stress.dump(esc.db)
    result = esc("open", "t", "--customer", "c", "--priority", "urgent", now=now)
    refused(result, 2)
    assert "\x1b" not in result.err
    assert stress.dump(esc.db) == before


@pytest.mark.parametrize("args", [
    ("queue", "--limit", "99999999999999999999"), ("queue", "--limit", "-1"),
    ("search", "x", "--limit", "99999999999999999999"),
    ("notify", "list", "--limit", "99999999999999999999"),
    ("owner", "add", "zed", "--capacity", "99999999999999999999"),
    ("owner", "add", "zed", "--capacity", "-1"), ("owner", "add", "zed", "--tier", "9"),
    ("owner", "add", "a b"), ("queue", "--tier", "99999999999999999999"),
    ("feedback", "1", "--csat", "99999999999999999999"), ("open", "t", "--customer", "c",
                                                          "--priority", "high", "--tier", "0"),
    ("overdue", "--within", "99999999999w"), ("overdue", "--within", "soon"),
    ("tier", "add", "99999999999999999999", "X"), ("tier", "add", "5", "X", "--stale-after", "-1h"),
    ("report", "--since", "99999999d"), ("report", "--since", "2026-02-30"),
    ("report", "--since", "tomorrow"), ("queue", "--limit", "ten"),
])
def test_numbers_and_spans_out_of_range_exit_2(esc, args):
    esc.ok("open", "t", "--customer", "c", "--priority", "high")
    esc.ok("resolve", "1", "--resolution", "done")
    before = stress.dump(esc.db)
    refused(esc(*args), 2)
    assert stress.dump(esc.db) == before


def test_search_syntax_is_text_not_a_query_language(esc):
    esc.ok("open", "Printer on fire", "--customer", "c", "--priority", "high")
    for text in ('"unbalanced', "NEAR(a b", "a AND", "OR", "^x", "col:title", "title:fire",
                 "fire*", "-fire", "(fire", "fire)", "'; DROP TABLE cases; --", "\x00fire"):
        result = esc("search", text)
        assert result.code in (0, 2) and "Traceback" not in result.err, (text, result.err)
        if result.code == 2:
            refused(result, 2)
    assert [d["id"] for d in esc.doc("search", "fire*")] in ([1], [])
    assert [d["id"] for d in esc.doc("search", '"fire')] == [1]


@pytest.mark.parametrize("handle", ["ali\x1bce", "al ice", "bob\u202e", "x\ty"])
def test_a_handle_that_cannot_name_anyone_exits_2(esc, handle):
    # handles are exact (issue 20): `queue --owner $'ali\x1bce'` listed nothing, and
    # `assign 1 $'ali\x1bce'` said "no owner 'alice'" (the control character cleaned from
    # the message) while alice exists
    esc.ok("owner", "add", "alice")
    esc.ok("open", "Printer", "-c", "acme", "-p", "high", "--owner", "alice")
    for command in (("queue", "--owner", handle), ("assign", "1", handle),
                    ("search", "printer", "--owner", handle), ("owner", "deactivate", handle),
                    ("escalate", "1", "--owner", handle, "--reason", "x")):
        result = esc(*command)
        assert result.code == 2, (command, result)
        assert "is not a valid handle" in result.err and "\x1b" not in result.err
    assert esc.doc("show", "1")["owner"] == "alice"
