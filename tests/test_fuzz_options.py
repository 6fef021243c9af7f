"""Fuzzing every option and argument that takes text (issue 20): case ids, priorities,
categories, channels, states, sorts, formats, handles, tiers and other numbers, times
(`--now`, `--since`, `--until`), spans (`--within`, `--stale-after`), zones (`--tz`), the
acting user (`--as`) and free text (titles, notes, reasons, search terms).

Each value comes from one of four pools: what a user means to type (`high`, `#7`,
`2h`), that value slightly wrong (spaces around it, another script's digits, a sign,
an underscore, letters swapped), blank (a script's unset variable: exit 2, never the
default), and anything at all (control characters, bidi overrides, lone surrogates as
a shell hands over bytes that are not UTF-8, 1 MiB and more). Times include the ends
of the calendar (`9999-12-31`, `0001-01-01`), which must be refused, not overflow. The property (tests/fuzzkit.py): exit code in {0, 2, 3, 4, 5}, one `error:` line
on a failure, and the store byte for byte as it was."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzkit import budget, run_checked


MEANT = {
    "id": ["1", "#1", "2", "#2", "99", "9223372036854775807", "9223372036854775808", "0"],
    "priority": ["urgent", "high", "medium", "low", "p1", "P4", "High"],
    "category": ["technical", "billing", "Billing", "other"],
    "channel": ["email", "phone", "chat", "web", "other"],
    "state": ["new", "open", "pending", "resolved", "closed", "open,pending"],
    "sort": ["urgency", "due", "age", "id"],
    "by": ["tier", "priority", "category", "owner", "team", "customer"],
    "format": ["table", "json", "csv", "markdown", "html", "md"],
    "try_by": ["priority", "tier", "team", "category"],
    "try_format": ["table", "json", "markdown"],
    "export_format": ["json", "csv"],
    "handle": ["alice", "bob", "me", "carol"],
    "number": ["0", "1", "2", "3", "4", "5", "50", "-1", "9223372036854775807", "9223372036854775808"],
    "time": ["2026-11-02T10:00:00Z", "2026-11-02T11:00:00+01:00", "2026-11-02", "2026-11-02T10:00",
             "today", "yesterday", "this week", "last week", "this month", "7d", "4w",
             "2026-03-29T02:30:00", "now", "9999-12-31", "0001-01-01", "8999-12-31", "1970-01-01",
             "9999-12", "9999-W52"],
    "span": ["15m", "1h30m", "7d", "2h", "10s", "2w", "none", "0m"],
    "zone": ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"],
    "text": ["Checkout down", "[bold]markup[/]", "two\nlines", "tab\there", "ünïcödé"],
}


def nearly(value: str):
    """`value` as a slip of the hand or of a script makes it."""
    return st.sampled_from([
        f" {value}", f"{value} ", f"\t{value}", f"{value}\n", value.upper(), value.swapcase(),
        f"+{value}", f"{value}_0", value.replace("1", "١").replace("2", "٢"),
        value.replace("1", "１"), f"{value},", f"{value}\x00"[:-1] + "\u200b", value * 3,
        value[:-1], f"#{value}", f"-{value}", f"{value}.0", f"{value}e3",
    ])


# anything a shell can hand over: no NUL (argv cannot hold one), lone surrogates in the
# range Python uses for bytes that are not UTF-8
ANY_TEXT = st.text(st.one_of(
    st.characters(exclude_characters="\x00"),
    st.sampled_from(list("\x1b\x07\x9b\u202e\u2066\r\n\t\x7f;,#%[]{}'\"\\")),
    st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF),
), max_size=30)
HUGE = st.sampled_from([(1 << 20) + 1, 501, 10_000]).map(lambda n: "x" * n)


# `--priority "$UNSET"`: a value a script's empty variable makes (exit 2, never a default)
BLANK = st.sampled_from(["", " ", "\t"])


def value(kind: str):
    meant = st.sampled_from(MEANT[kind])
    return st.one_of(meant, meant, meant.flatmap(nearly), ANY_TEXT, BLANK,
                     HUGE if kind == "text" else ANY_TEXT)


def optional(flag: str, kind: str):
    return st.one_of(st.just([]), value(kind).map(lambda v: [flag, v]))


# stands for the policy file _seed writes (policy try's argument)
POLICY = "<policy.toml>"


def command(*parts):
    """argv from fixed words and strategies (lists of args for optional flags)."""
    def build(drawn):
        argv = []
        for part in drawn:
            argv.extend(part if isinstance(part, list) else [part])
        return argv
    return st.tuples(*[p if isinstance(p, st.SearchStrategy) else st.just(p) for p in parts]).map(build)


COMMANDS = st.one_of(
    command("show", value("id")),
    command("explain", value("id")),
    command("ack", value("id")),
    command("take", value("id")),
    command("close", value("id")),
    command("resume", value("id")),
    command("note", value("id"), value("text"), st.sampled_from([[], ["--customer"]])),
    command("assign", value("id"), value("handle"), st.sampled_from([[], ["--force"]])),
    command("open", value("text"), "--customer", value("text"), "--priority", value("priority"),
            optional("--category", "category"), optional("--channel", "channel"),
            optional("--tier", "number"), optional("--team", "text"), optional("--tag", "text"),
            optional("--owner", "handle"), optional("--description", "text")),
    command("escalate", value("id"), "--reason", value("text"), optional("--to", "number"),
            optional("--team", "text"), optional("--owner", "handle")),
    command("deescalate", value("id"), "--reason", value("text"), optional("--to", "number")),
    command("pending", value("id"), "--reason", value("text")),
    command("resolve", value("id"), "--resolution", value("text")),
    command("reopen", value("id"), "--reason", value("text")),
    command("feedback", value("id"), "--csat", value("number"), optional("--comment", "text")),
    command("set", value("id"), optional("--priority", "priority"), optional("--category", "category"),
            optional("--title", "text"), optional("--customer", "text"), optional("--channel", "channel"),
            optional("--team", "text"), optional("--tag", "text"), optional("--untag", "text")),
    command("queue", optional("--tier", "number"), optional("--owner", "handle"),
            optional("--team", "text"), optional("--priority", "priority"),
            optional("--category", "category"), optional("--state", "state"),
            optional("--sort", "sort"), optional("--limit", "number"), "--json"),
    command("overdue", optional("--within", "span"), optional("--tier", "number"),
            optional("--team", "text")),
    command("search", value("text"), optional("--priority", "priority"), optional("--state", "state"),
            optional("--tier", "number"), optional("--owner", "handle"), optional("--team", "text"),
            optional("--category", "category"), optional("--limit", "number")),
    command("report", optional("--since", "time"), optional("--until", "time"),
            optional("--by", "by"), optional("--format", "format")),
    command("policy", "try", POLICY, optional("--since", "time"), optional("--until", "time"),
            optional("--by", "try_by"), optional("--format", "try_format")),
    command("oncall", optional("--at", "time")),
    command("owner", "away", value("handle"), "--until", value("time"), optional("--reason", "text")),
    command("tier", "add", value("number"), value("text"), optional("--stale-after", "span")),
    command("owner", "add", value("handle"), optional("--name", "text"), optional("--email", "text"),
            optional("--tier", "number"), optional("--team", "text"), optional("--capacity", "number")),
    command("owner", "deactivate", value("handle")),
    command("export", optional("--format", "export_format")),
    command("notify", "list", optional("--limit", "number"), optional("--case", "id")),
)


def _seed(esc, tmp_path) -> None:
    """Two cases and an owner, once per store, so ids and handles can name something; the
    default policy in a file for policy try."""
    if not getattr(esc, "_fuzz_seeded", False):
        from esc_cli.domain.policy import DEFAULT_POLICY_TOML

        esc.policy_file = tmp_path / "policy.toml"
        esc.policy_file.write_text(DEFAULT_POLICY_TOML)
        esc.ok("owner", "add", "alice", "--tier", "2", "--team", "billing")
        esc.ok("open", "First", "--customer", "Acme", "--priority", "high")
        esc.ok("open", "Second", "--customer", "Globex", "--priority", "low", "--owner", "alice")
        esc._fuzz_seeded = True


def _blank_option(argv: list[str]) -> bool:
    """Whether `argv` gives an option a blank value, other than one whose blank the docs
    give a meaning (commands.common.BLANK_MEANS_NONE)."""
    from esc_cli.commands.common import BLANK_MEANS_NONE

    path = " ".join(argv[:2] if argv[0] in ("policy", "owner") else argv[:1])
    return any(arg.startswith("--") and not nxt.strip() and f"{path} {arg}" not in BLANK_MEANS_NONE
               for arg, nxt in zip(argv, argv[1:]))


# Each test runs once per store backend (the `esc` fixture), with that backend's budget
# (fuzzkit.budget); hypothesis drives the inner function.

def test_fuzz_every_option_that_takes_text(esc, backend, tmp_path):
    _seed(esc, tmp_path)

    @budget(backend)
    @given(argv=COMMANDS)
    def run(argv):
        result = run_checked(esc, *[str(esc.policy_file) if a == POLICY else a for a in argv])
        if _blank_option(argv):  # exit 2, for the blank or an earlier bad value
            assert result.code == 2, (argv, result)

    run()


def test_fuzz_global_options(esc, backend, tmp_path):
    """--now, --tz and --as: every command reads them first."""
    _seed(esc, tmp_path)

    @budget(backend)
    @given(now=value("time"), zone=value("zone"), user=value("handle"),
           argv=st.sampled_from([["queue"], ["show", "1"], ["ack", "1"], ["report", "--json"],
                                 ["note", "2", "hello"], ["overdue"]]))
    def run(now, zone, user, argv):
        saved = esc.tz
        esc.tz = zone
        try:
            run_checked(esc, *argv, now=now, user=user)
        finally:
            esc.tz = saved

    run()


# Slips that never make a valid value (SPEC §4: ids and enumerated values are exact):
# space around it, a sign, an underscore, another script's digits, a zero-width space.
SLIPS = st.sampled_from([" {}", "{} ", "\t{}", "{}\n", "\u00a0{}", "{}\u200b", "+{}"])
EXACT = {  # kind -> (its valid values, argv with the value in it)
    "id": (["1", "#1", "2"], lambda v: ["show", v]),
    "priority": (["high", "p1", "Low"], lambda v: ["open", "t", "--customer", "c", "--priority", v]),
    "channel": (["email", "chat"], lambda v: ["set", "1", "--channel", v]),
    "category": (["billing", "other"], lambda v: ["set", "1", "--category", v]),
    "state": (["open", "new"], lambda v: ["queue", "--state", v]),
    "sort": (["due", "age"], lambda v: ["queue", "--sort", v]),
    "by": (["owner", "tier"], lambda v: ["report", "--by", v]),
    "format": (["csv", "json"], lambda v: ["report", "--format", v]),
    "tier": (["1", "2"], lambda v: ["queue", "--tier", v]),
    "limit": (["5", "0"], lambda v: ["queue", "--limit", v]),
    "csat": (["4"], lambda v: ["feedback", "1", "--csat", v]),
}


def test_fuzz_inexact_ids_and_values_are_refused(esc, backend, tmp_path):
    _seed(esc, tmp_path)

    @budget(backend)
    @given(kind=st.sampled_from(sorted(EXACT)), data=st.data())
    def run(kind, data):
        values, argv = EXACT[kind]
        good = data.draw(st.sampled_from(values))
        slip = data.draw(SLIPS if not good[-1].isdigit() else st.one_of(
            SLIPS, st.sampled_from(["{}_0", "{}\u0660", "\uff11{}"])))
        result = run_checked(esc, *argv(slip.format(good)))
        assert result.code == 2, (kind, slip.format(good), result)

    run()
