"""Help that teaches (issue 16): `esc --help` in panels, every command's help ending with
examples that really parse, `esc completion SHELL`, and the global options taken after
the command as well as before it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from esc_cli import app as app_module
from esc_cli.commands import help as help_table
from tests.conftest import ESC, EscRunner, run_process

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def full():
    return app_module._build(None)


def _walk(command, path=()):
    """(path, click command) for the root and every command and group under it."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


def _help(*args: str, env: dict | None = None) -> str:
    result = run_process(*args, "--help", env={"COLUMNS": "200", **(env or {})})
    assert result.code == 0, result.err
    return ANSI.sub("", result.out)


def _examples(command) -> list[str]:
    epilog = command.epilog or ""
    return [line.strip()[2:] for line in epilog.splitlines() if line.strip().startswith("$ ")]


def _argv(example: str) -> list[str]:
    """An example as the shell hands it to esc: words, without a trailing comment or
    what a redirection or a pipe takes."""
    words = shlex.split(example, comments=True)
    assert words[0] == "esc", example
    for stop in (">", ">>", "|"):
        if stop in words:
            words = words[:words.index(stop)]
    return words[1:]


# -- panels ------------------------------------------------------------------------------

def test_every_top_level_command_is_in_a_panel(full):
    missing = [name for name, command in full.commands.items()
               if getattr(command, "rich_help_panel", None) not in help_table.PANELS]
    assert not missing, (f"no help panel for: {', '.join(missing)}; give each an entry in "
                         "COMMANDS in src/esc_cli/commands/help.py")


def test_the_root_help_lists_the_panels_in_order_and_each_command_in_its_own(full):
    text = _help()
    titles = [re.search(rf"╭─ {re.escape(panel)} ─", text) for panel in help_table.PANELS]
    assert all(titles), text
    starts = [match.start() for match in titles]
    assert starts == sorted(starts)
    assert "╭─ Commands ─" not in text  # no command fell through to the default panel
    for name, command in full.commands.items():
        panel = help_table.PANELS.index(command.rich_help_panel)
        end = starts[panel + 1] if panel + 1 < len(starts) else len(text)
        assert re.search(rf"│ {name} ", text[starts[panel]:end]), (name, command.rich_help_panel)
    # one line each: the list is for scanning
    for name in help_table.SHORT:
        assert re.search(rf"│ {name} +{re.escape(help_table.SHORT[name])} *│", text), name


def test_the_completion_options_left_the_root_help():
    text = _help()
    assert "--install-completion" not in text and "--show-completion" not in text
    assert "completion" in text and "--db" in text


# -- examples ----------------------------------------------------------------------------

def test_every_command_ends_its_help_with_two_or_three_examples(full):
    lacking = [" ".join(path) or "(root)" for path, command in _walk(full)
               if not 2 <= len(_examples(command)) <= 3]
    assert not lacking, (f"commands without 2-3 examples: {', '.join(lacking)}; add them to "
                         "COMMANDS in src/esc_cli/commands/help.py")


def test_the_table_names_only_commands_that_exist(full):
    paths = {" ".join(path) for path, _ in _walk(full)}
    assert set(help_table.COMMANDS) <= paths, set(help_table.COMMANDS) - paths


def _parse(root, argv: list[str]):
    """Parse `argv` as esc would, without running anything: the global options moved as
    main() moves them, then each group resolving its command down to the one that runs.
    Unknown options, missing arguments and values of the wrong type raise here."""
    at = app_module._command_position(argv)
    if at is not None:
        argv = app_module._globals_first(root, argv) if app_module._invoked(argv) else argv
    context = root.make_context("esc", list(argv), resilient_parsing=False)
    command, path = root, []
    while hasattr(command, "commands"):
        rest = [*context._protected_args, *context.args]
        name, command, rest = command.resolve_command(context, rest)
        path.append(name)
        context = command.make_context(name, rest, parent=context)
    return path, context


@pytest.mark.parametrize("path", sorted(help_table.COMMANDS))
def test_each_example_parses_as_the_command_it_illustrates(full, path):
    command = full
    for name in path.split():
        command = command.commands[name]
    examples = _examples(command)
    assert examples
    for example in examples:
        argv = _argv(example)
        if not path:  # the root's examples show several commands
            _parse(full, argv)
            continue
        parsed, _ = _parse(full, argv)
        # a group's examples run its commands
        assert parsed[:len(path.split())] == path.split(), (example, parsed)


def _help_in_process(argv: list[str], columns: int) -> str:
    """`esc ARGV --help` as a terminal `columns` wide shows it (Rich reads COLUMNS)."""
    import io
    import sys

    out = io.StringIO()
    saved = sys.stdout, os.environ.get("COLUMNS")
    sys.stdout, os.environ["COLUMNS"] = out, str(columns)
    try:
        app_module.main([*argv, "--help"])
    except SystemExit as exit_:
        assert not exit_.code, (argv, exit_.code)
    finally:
        sys.stdout = saved[0]
        if saved[1] is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved[1]
    return ANSI.sub("", out.getvalue())


def test_every_example_is_one_line_of_the_help_at_80_columns(full):
    # `open --help` at 80 columns broke `--category` / `technical` and `--json` onto lines
    # of their own: a command broken mid-line is copied broken
    broken = []
    for path, command in _walk(full):
        examples = _examples(command)
        text = _help_in_process(list(path), 80)
        lines = text.splitlines()
        assert all(len(line) <= 80 for line in lines), (path, text)
        shown = [line.strip() for line in lines]
        tail = shown[shown.index("Examples:") + 1:]
        if tail[:len(examples)] != [f"$ {example}" for example in examples]:
            broken.append(" ".join(path) or "(root)")
    assert not broken, (f"examples wrapped at 80 columns in the help of: {', '.join(broken)}; "
                        "keep each within 74 characters (src/esc_cli/commands/help.py)")


def test_a_wrong_example_would_be_caught(full):
    from typer._click import exceptions

    for bad in ("esc escalate 42", "esc queue --tier two", "esc show 42 --bogus", "esc tier lst"):
        with pytest.raises(exceptions.UsageError):
            _parse(full, _argv(bad))


@pytest.mark.parametrize("path", ["open", "note", "tier add", "policy export", "queue"])
def test_examples_read_the_same_in_rich_and_in_plain_text(full, path):
    command = full
    for name in path.split():
        command = command.commands[name]
    examples = _examples(command)
    for env in ({"FORCE_COLOR": "1"}, {"TERM": "dumb", "NO_COLOR": "1"}, {"TYPER_USE_RICH": "0"}):
        text = _help(*path.split(), env=env)
        lines = [line.strip() for line in text.splitlines()]
        assert "Examples:" in lines, (env, text)
        tail = lines[lines.index("Examples:") + 1:]
        assert tail[:len(examples)] == [f"$ {example}" for example in examples], (env, text)
        assert not any(tail[len(examples):]), "the examples end the help"


# -- esc completion ----------------------------------------------------------------------

@pytest.mark.parametrize("shell, committed", [("bash", "esc.bash"), ("zsh", "_esc"), ("fish", "esc.fish")])
def test_completion_prints_the_committed_script(shell, committed):
    result = run_process("completion", shell)
    assert result.code == 0 and result.err == ""
    mine = result.out.split("\n\n", 1)[1]
    theirs = (ROOT / "completions" / committed).read_text().split("\n\n", 1)[1]
    assert mine == theirs
    assert f"_ESC_COMPLETE=complete_{shell}" in result.out
    assert f"esc completion {shell} >" in result.out  # says how to install itself
    if shell == "zsh":
        assert result.out.startswith("#compdef esc\n")


def test_completion_scripts_are_what_the_shell_protocol_prints():
    for shell in ("bash", "zsh", "fish"):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
        env["_ESC_COMPLETE"] = f"source_{shell}"
        protocol = subprocess.run([ESC], env=env, capture_output=True, text=True, timeout=30).stdout
        printed = run_process("completion", shell).out
        if shell == "zsh":  # the one change: work from $fpath as well as sourced
            protocol = protocol.replace("compdef _esc_completion esc\n", "")
            assert "loadautofunc" in printed
        for line in protocol.strip("\n").splitlines():
            if line.strip():
                assert line in printed, (shell, line)


def test_completion_refuses_an_unknown_shell():
    result = run_process("completion", "tcsh")
    assert result.code == 2 and result.out == ""
    assert result.err == "error: unknown shell 'tcsh' (use bash, zsh or fish)\n"


@pytest.mark.parametrize("name", [" bash", "zsh ", ""])
def test_completion_shell_names_are_exact(name):
    result = run_process("completion", name)
    assert result.code == 2 and result.out == ""
    assert result.err == f"error: unknown shell '{name}' (use bash, zsh or fish)\n"


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_printed_bash_script_completes_in_bash(tmp_path):
    EscRunner(tmp_path / "esc.db").ok("init")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    env.update({"ESC_DB": str(tmp_path / "esc.db"),
                "PATH": f"{Path(ESC).parent}{os.pathsep}{env.get('PATH', '')}"})
    program = ('eval "$(esc completion bash)"; COMP_WORDS=(esc comp); COMP_CWORD=1; '
               "_esc_completion esc; printf '%s\\n' \"${COMPREPLY[@]}\"; "
               "COMP_WORDS=(esc completion z); COMP_CWORD=2; "
               "_esc_completion esc; printf '%s\\n' \"${COMPREPLY[@]}\"")
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["completion", "zsh"]


# -- global options after the command ----------------------------------------------------

@pytest.fixture
def desk(tmp_path):
    db = tmp_path / "team.db"
    runner = EscRunner(db)
    runner.ok("init")
    runner.ok("open", "VPN drops", "--customer", "Acme", "--priority", "high")
    return db


def _run(*args: str):
    """esc in-process with nothing pinned but what the arguments say."""
    import io
    import sys

    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        app_module.main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.stdout, sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


def _last_event(db: Path) -> dict:
    return EscRunner(db, now="2026-12-01T00:00:00Z").doc("show", "1", "--all")["events"][-1]


@pytest.mark.parametrize("form", ["spaced", "equals"])
def test_global_options_after_the_command(desk, form):
    import json

    def opt(name, value):
        return [f"{name}={value}"] if form == "equals" else [name, value]

    code, out, err = _run("queue", "--json", *opt("--db", str(desk)), *opt("--now", "2026-11-02T10:30"),
                          *opt("--tz", "UTC"), *opt("--as", "carol"))
    assert code == 0, err
    assert [case["id"] for case in json.loads(out)] == [1]
    code, out, err = _run("sweep", *opt("--now", "2026-11-05T10:00:00Z"), "--json", *opt("--db", str(desk)))
    assert code == 0, err
    swept = json.loads(out)
    assert swept["now"] == "2026-11-05T10:00:00Z" and swept["breached"]
    code, out, err = _run("note", "1", "on it", *opt("--as", "carol"), *opt("--db", str(desk)),
                          "--json", *opt("--now", "2026-11-05T11:00:00Z"))
    assert code == 0, err
    event = _last_event(desk)
    assert (event["actor"], event["at"], event["reason"]) == ("carol", "2026-11-05T11:00:00Z", "on it")


def test_global_options_inside_a_group_and_before_and_after(desk, tmp_path):
    import json

    code, out, err = _run("tier", "--db", str(desk), "list", "--json")
    assert code == 0 and len(json.loads(out)) == 4, err
    code, out, err = _run("owner", "list", "--json", "--db", str(desk))
    assert code == 0 and json.loads(out) == [], err
    # given twice, the one after the command wins, as a repeated option does in click
    code, out, err = _run("--db", str(tmp_path / "absent.db"), "show", "1", "--json", "--db", str(desk),
                          "--now", "2026-11-02T10:00:00Z")
    assert code == 0 and json.loads(out)["id"] == 1, err


def test_arguments_that_look_like_global_options_stay_arguments(desk):
    import json

    base = ["--db", str(desk), "--now", "2026-11-02T10:00:00Z"]
    # after --, a note that reads like an option is the note
    code, out, err = _run(*base, "note", "1", "--json", "--", "--now")
    assert code == 0, err
    assert _last_event(desk)["reason"] == "--now"
    code, out, err = _run("note", "1", "--db", str(desk), "--json", "--now", "2026-11-02T10:00:00Z",
                          "--", "--db /tmp/elsewhere.db")
    assert code == 0, err
    assert _last_event(desk)["reason"] == "--db /tmp/elsewhere.db"
    # an option's value is its value, whatever it looks like (as click reads it)
    code, out, err = _run(*base, "open", "Strange customer", "--customer", "--tz", "-p", "low", "--json")
    assert code == 0, err
    assert json.loads(out)["customer"] == "--tz"
    code, out, err = _run("search", "VPN", "--owner", "--as", "--db", str(desk), "--json")
    # --owner took "--as" (no such owner: exit 3, docs/leads.md); --db moved (the store
    # was found)
    assert (code, out, err) == (3, "", "error: no owner '--as' (esc owner list shows them)\n")


def test_a_global_option_after_the_command_without_its_value(desk):
    code, out, err = _run("queue", "--db")
    assert code == 2 and out == "" and err == "error: --db needs a value\n"
    code, _, err = _run("queue", "--db", str(desk), "--now", "soon")
    assert code == 2 and err.startswith("error: --now: 'soon' is not an ISO-8601 time")


def test_moving_global_options_keeps_building_only_the_invoked_command():
    argv = ["queue", "--db", "x.db", "--limit", "3"]
    command = app_module._click_command(argv)
    assert list(command.commands) == ["queue"]
    assert app_module._globals_first(command, argv) == ["--db", "x.db", "queue", "--limit", "3"]
    assert app_module._globals_first(command, ["queue", "--limit", "3"]) == ["queue", "--limit", "3"]


def test_completion_reads_global_options_after_the_command(desk, tmp_path):
    EscRunner(desk).ok("owner", "add", "alice")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    env["ESC_DB"] = str(tmp_path / "absent.db")  # the store on the line must win

    def complete(words: str) -> list[str]:
        env.update({"_ESC_COMPLETE": "complete_bash", "COMP_WORDS": words,
                    "COMP_CWORD": str(len(words.split(" ")) - 1)})
        proc = subprocess.run([ESC], env=env, capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        return proc.stdout.split()

    assert complete(f"esc assign 1 --db {desk} ") == ["alice"]
    assert complete(f"esc queue --db={desk} --owner ") == ["alice", "me"]
    assert complete(f"esc --db {desk} assign 1 ") == ["alice"]
    assert complete("esc queue --db ") == []  # a path is being typed: nothing from a store
