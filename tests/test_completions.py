"""Shell completion: the committed scripts match the CLI, and values come from the store."""

import importlib.util
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ESC, EscRunner

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("gen_completions", ROOT / "scripts" / "gen_completions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_scripts_match_the_cli():
    generated = _generator().generate()
    assert sorted(generated) == ["_esc", "esc.bash", "esc.fish"]
    for name, text in generated.items():
        committed = (ROOT / "completions" / name).read_text()
        assert committed == text, (
            f"completions/{name} is out of date with the CLI: run python scripts/gen_completions.py")


def test_scripts_hand_completion_back_to_esc():
    bash = (ROOT / "completions" / "esc.bash").read_text()
    zsh = (ROOT / "completions" / "_esc").read_text()
    fish = (ROOT / "completions" / "esc.fish").read_text()
    assert "_ESC_COMPLETE=complete_bash" in bash and "complete -o default -F _esc_completion esc" in bash
    assert zsh.startswith("#compdef esc\n") and "_ESC_COMPLETE=complete_zsh" in zsh
    assert "loadautofunc" in zsh
    assert "complete --command esc" in fish and "_ESC_COMPLETE=complete_fish" in fish
    for text in (bash, zsh, fish):
        assert "esc search TEXT... " in text and "esc doctor --repair --json" in text


def test_the_manifest_follows_the_cli():
    lines = _generator().manifest()
    assert "esc backup FILE --force --json" in lines
    assert any(line.startswith("esc queue ") and "--owner" in line for line in lines)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = tmp_path_factory.mktemp("completion") / "esc.db"
    esc = EscRunner(db)
    esc.ok("init")
    _fill(esc)
    return db


def _fill(esc: EscRunner) -> None:
    esc.ok("owner", "add", "alice", "--name", "Alice Liddell", "--team", "billing")
    esc.ok("owner", "add", "bob", "--name", "Bob")
    esc.ok("owner", "deactivate", "bob")
    esc.ok("owner", "add", "carol", "--name", "Carol $(rm -rf ~) `id` [bold]x[/bold] \"q\" 'a'")
    for number in range(1, 13):
        esc.ok("open", f"Case number {number}", "--customer", "Globex", "--priority", "high")
    esc.ok("open", "Evil $(touch /tmp/pwned) `id` \"x\" [red]r[/red] \x1b[31mansi", "--customer", "G",
           "--priority", "low", "--team", "key-accounts")
    esc.ok("set", "1", "--title", "Printer on fire")
    for resolved in ("2", "10"):
        esc.ok("resolve", resolved, "--resolution", "done")


def _complete(words: str, cword: int, db: Path | None = None, extra_env: dict | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    env.update({"_ESC_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)})
    if db is not None:
        env["ESC_DB"] = str(db)
    env.update(extra_env or {})
    proc = subprocess.run([ESC], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return [line for line in proc.stdout.splitlines() if line]


def test_case_ids_offer_unresolved_cases_newest_first(store):
    assert _complete("esc show ", 2, store) == [str(n) for n in (13, 12, 11, 9, 8, 7, 6, 5, 4, 3, 1)]


def test_a_typed_prefix_adds_resolved_cases_after_unresolved_ones(store):
    assert _complete("esc show 1", 2, store) == ["13", "12", "11", "1", "10"]
    assert _complete("esc resolve 2", 2, store) == ["2"]
    assert _complete("esc note #1", 2, store) == ["#13", "#12", "#11", "#1", "#10"]
    assert _complete("esc show x", 2, store) == []


def test_db_on_the_command_line_wins(store, tmp_path):
    other = tmp_path / "other.db"
    EscRunner(other).ok("init")
    assert _complete(f"esc --db {store} ack ", 4, other) == _complete("esc ack ", 2, store)
    assert _complete("esc ack ", 2, other) == []


def test_owners_tiers_and_teams_come_from_the_store(store):
    assert _complete("esc assign 1 ", 3, store) == ["alice", "carol"]
    assert _complete("esc queue --owner ", 3, store) == ["alice", "carol", "me"]
    assert _complete("esc escalate 1 --to ", 4, store) == ["1", "2", "3", "4"]
    assert _complete("esc queue --team ", 3, store) == ["billing", "key-accounts"]
    assert _complete("esc search x --priority ", 4, store) == ["urgent", "high", "medium", "low"]
    assert _complete("esc search x --category b", 4, store) == ["billing"]
    assert _complete("esc owner deactivate a", 3, store) == ["alice"]


def test_every_priority_category_and_state_option_completes(store):
    priorities = ["urgent", "high", "medium", "low"]
    assert _complete("esc queue --priority ", 3, store) == priorities
    assert _complete("esc queue -p ", 3, store) == priorities
    assert _complete("esc open x -c acme --priority ", 6, store) == priorities
    assert _complete("esc set 1 --priority ", 4, store) == priorities
    for line in ("esc queue --category b", "esc set 1 --category b", "esc open x --category b"):
        words = len(line.split()) - 1
        assert _complete(line, words, store) == ["billing"], line
    assert "pending" in _complete("esc queue --state ", 3, store)


def test_commands_and_options_complete_without_a_store(tmp_path):
    assert _complete("esc sea", 1, tmp_path / "absent.db") == ["search"]
    assert "--repair" in _complete("esc doctor --", 2, tmp_path / "absent.db")


def test_a_missing_or_foreign_store_completes_nothing_and_says_nothing(tmp_path):
    assert _complete("esc show ", 2, tmp_path / "absent.db") == []
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE cases (id)")
    assert _complete("esc show ", 2, foreign) == []
    text = tmp_path / "text.db"
    text.write_text("not a database at all" * 100)
    assert _complete("esc show ", 2, text) == []
    assert not (tmp_path / "absent.db").exists()


def test_completion_never_writes_to_the_store(store):
    before = store.read_bytes()
    _complete("esc show ", 2, store)
    assert store.read_bytes() == before


def test_a_postgresql_store_completes_as_a_sqlite_one(store, pg_store):
    from tests import stress

    pg = EscRunner(pg_store)
    _fill(pg)
    before = stress.dump(pg.db)
    for words, cword in (("esc show ", 2), ("esc show 1", 2), ("esc note #1", 2),
                         ("esc show x", 2), ("esc assign 1 ", 3), ("esc queue --owner ", 3),
                         ("esc escalate 1 --to ", 4), ("esc queue --team ", 3),
                         ("esc search x --category b", 4), ("esc owner deactivate a", 3)):
        assert _complete(words, cword, pg.db) == _complete(words, cword, store), words
    assert _complete("esc show ", 2, pg.db)  # (the SQLite store offers cases, so does this)
    assert stress.dump(pg.db) == before  # completion never writes


def test_an_unreachable_or_foreign_postgresql_completes_nothing_and_says_nothing(pg_database):
    from tests.pgserver import with_netloc

    assert _complete("esc show ", 2, with_netloc(pg_database, port=1)) == []
    assert _complete("esc show ", 2, pg_database) == []  # an empty database
    EscRunner(pg_database).sql("CREATE TABLE esc_store (application_id int, version int)")
    assert _complete("esc show ", 2, pg_database) == []
    assert _complete("esc sea", 1, with_netloc(pg_database, port=1)) == ["search"]


def _zsh(words: str, db: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    env.update({"_ESC_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": words, "ESC_DB": str(db)})
    proc = subprocess.run([ESC], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and proc.stderr == ""
    return proc.stdout


def test_zsh_shows_titles_and_owner_names_with_shell_syntax_removed(store):
    cases = _zsh("esc show ", store)
    assert '"1":"open' in cases or '"1":"new' in cases
    assert "Printer on fire" in cases
    evil = next(line for line in cases.splitlines() if '"13":' in line)
    assert "Evil" in evil
    for bad in ("$(", "`", "[red]", "\x1b"):
        assert bad not in evil
    owners = _zsh("esc assign 1 ", store)
    assert "Alice Liddell" in owners
    assert "$(" not in owners and "`" not in owners and "[bold]" not in owners


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_bash_script_completes_in_bash(store):
    script = ROOT / "completions" / "esc.bash"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    env["ESC_DB"] = str(store)
    env["PATH"] = f"{Path(ESC).parent}{os.pathsep}{env.get('PATH', '')}"
    program = (f"source {script}; COMP_WORDS=(esc assign 1 ''); COMP_CWORD=3; "
               "_esc_completion esc; printf '%s\\n' \"${COMPREPLY[@]}\"")
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["alice", "carol"]
