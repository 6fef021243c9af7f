"""Start-up work (issue 8): a run builds only the command it invokes, the root help an
outline of every command, and read paths in a pipe import no Rich or OpenSSL. The CLI
must look exactly the same either way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from esc_cli import app as app_module

SRC = Path(__file__).resolve().parents[1] / "src"


def _names(group) -> list[str]:
    return sorted(group.commands)


def _param_shape(param) -> tuple:
    return (type(param).__name__, param.name, tuple(param.opts), tuple(param.secondary_opts),
            getattr(param.type, "name", None), param.required, repr(param.default),
            param.multiple, param.nargs, getattr(param, "is_flag", None),
            getattr(param, "help", None), param.metavar, repr(param.envvar),
            getattr(param, "hidden", None))


def _shape(command) -> tuple:
    inner = tuple((name, _shape(sub)) for name, sub in sorted(getattr(command, "commands", {}).items()))
    return (type(command).__name__, command.name, command.help, command.short_help,
            command.hidden, command.no_args_is_help,
            tuple(_param_shape(p) for p in command.params), inner)


@pytest.fixture(scope="module")
def full():
    return app_module._build(None)


def test_each_command_alone_is_the_command_of_the_whole_app(full):
    assert len(full.commands) > 20
    for name, command in full.commands.items():
        alone = app_module._build(name)
        assert _names(alone) == [name]
        assert _shape(alone.commands[name]) == _shape(command), name
        # the root's own options (--db, --as, ... and the completion options) are all there
        assert [_param_shape(p) for p in alone.params] == [_param_shape(p) for p in full.params]


def test_the_root_help_from_the_outline_is_the_full_apps(full, capsys):
    outline = app_module._build("")
    assert _names(outline) == _names(full)
    texts = []
    for command in (full, outline):
        try:
            command.main(args=["--help"], prog_name="esc", standalone_mode=False)
        except SystemExit:
            pass
        texts.append(capsys.readouterr().out)
    assert texts[0] == texts[1]
    assert "Usage: esc [OPTIONS] COMMAND [ARGS]..." in texts[0]


@pytest.mark.parametrize("args, expected", [
    (["show", "1"], "show"),
    (["--db", "x.db", "--as", "bob", "--now", "2026-01-01", "--tz", "UTC", "queue"], "queue"),
    (["--db=x.db", "tier", "list"], "tier"),
    (["--help"], ""), (["-h"], ""), ([], ""), (["--db", "x.db", "--help", "show"], ""),
    (["--version"], None), (["--db"], None), (["-x", "show"], None), (["--", "show"], None),
    (["--install-completion"], None), (["--db", "x", "--bogus", "show"], None),
])
def test_the_invoked_command_is_found_past_the_global_options(args, expected):
    assert app_module._invoked(args) == expected


def test_an_unknown_command_gets_the_whole_app(full):
    assert app_module._click_command(["no-such-command"]) is app_module._click_command(None)


def _modules_after(args: list[str], tmp_path) -> set[str]:
    code = ("import atexit, sys\n"
            "atexit.register(lambda: open(sys.argv[1], 'w').write('\\n'.join(sys.modules)))\n"
            "from esc_cli.app import main\n"
            "main(sys.argv[2:])\n")
    listing = tmp_path / "modules.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", code, str(listing), *args], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(listing.read_text().split())


def test_hot_reads_in_a_pipe_import_no_rich_and_no_openssl(tmp_path):
    db = tmp_path / "esc.db"
    base = ["--db", str(db), "--now", "2026-11-02T10:00:00Z", "--as", "alice", "--tz", "UTC"]
    subprocess.run([sys.executable, "-m", "esc_cli", *base, "init"], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(SRC)})
    subprocess.run([sys.executable, "-m", "esc_cli", *base, "open", "VPN down", "--customer", "Acme",
                    "--priority", "high"], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(SRC)})
    for args in (["show", "1"], ["queue"], ["overdue"], ["explain", "1"], ["show", "1", "--json"],
                 ["report", "--since", "2000-01-01"]):
        loaded = _modules_after(base + args, tmp_path)
        heavy = {m for m in loaded if m.split(".")[0] in ("rich", "hashlib", "_hashlib", "sqlite_utils",
                                                            "pendulum", "tomllib")}
        assert not heavy, (args, sorted(heavy))
        # the PostgreSQL driver (and store/pg*.py) only when a postgresql:// URI is used
        assert not {m for m in loaded if m.split(".")[0] == "psycopg2" or m.startswith("esc_cli.store.pg")}, args


def test_single_case_writes_hash_without_loading_openssl(tmp_path):
    db = tmp_path / "esc.db"
    base = ["--db", str(db), "--now", "2026-11-02T10:00:00Z", "--as", "alice", "--tz", "UTC"]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    subprocess.run([sys.executable, "-m", "esc_cli", *base, "init"], check=True, capture_output=True, env=env)
    for args in (["open", "VPN down", "--customer", "Acme", "--priority", "high"],
                 ["note", "1", "checked the logs"], ["escalate", "1", "--reason", "needs a specialist"]):
        loaded = _modules_after(base + args, tmp_path)
        assert not {m for m in loaded if m in ("hashlib", "_hashlib")}, args
        assert not {m for m in loaded if m.split(".")[0] == "psycopg2"}, args
    events = subprocess.run([sys.executable, "-m", "esc_cli", *base, "doctor"], capture_output=True,
                            text=True, env=env)
    assert events.returncode == 0, events.stdout  # the chain those writes made verifies


def test_the_services_face_imports_a_use_case_module_when_a_name_is_first_used(tmp_path):
    code = ("import sys\n"
            "from esc_cli import services\n"
            "def loaded():\n"
            "    return sorted(m for m in sys.modules if m.startswith('esc_cli.services.'))\n"
            "print(loaded())\n"
            "services.note\n"
            "print(loaded())\n")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    before, after = result.stdout.splitlines()
    assert before == "[]"
    assert after == str(["esc_cli.services.cases", "esc_cli.services.policies",
                         "esc_cli.services.write_path"])


def test_every_name_of_the_services_face_is_its_modules_own():
    import importlib

    from esc_cli import services

    for name, home in services._HOMES.items():
        module = importlib.import_module(f"esc_cli.services.{home}")
        assert getattr(services, name) is getattr(module, name), name
    with pytest.raises(AttributeError):
        services.no_such_use_case
    from esc_cli.services import sweep  # a module of the package is still found by its name

    assert sweep.__name__ == "esc_cli.services.sweep"
