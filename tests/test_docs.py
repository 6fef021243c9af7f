"""The docs cannot rot: every `$ esc …` line in a fenced ```console block of README.md
and docs/*.md runs, in the order a reader meets it, against a demo store built at a
fixed --now, and must exit 0.

Conventions for writers (also in CONTRIBUTING.md):
- ```console blocks are run; ```sh blocks are shown only (installs, crontab, --watch,
  anything that needs a terminal, a network or the wall clock).
- A line starting `$ ` is a command; other lines are its output, shown, not compared.
- `# exit N` at the end of a command line documents an intentional failure: the
  command must exit N.
- `VAR=value` before `esc` sets an environment variable for that command only.
- `> FILE` writes the command's stdout to FILE in the doc's scratch directory; in a
  pipeline (`esc … | jq …`) the esc command is run and checked, the rest is not.
- Each doc file gets its own copy of the demo store (ESC_DB), its own scratch
  directory as the working directory, ESC_NOW = NOW, ESC_TZ = ZONE and
  ESC_USER = alice (a tier-1 owner in the demo), so one file reads as one story.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NOW = "2026-12-07T10:30:00"
ZONE = "America/New_York"
FENCE = re.compile(r"^```console[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")
ASSIGN = re.compile(r"^[A-Z_][A-Z0-9_]*=")


def commands(text: str) -> list[tuple[int, str]]:
    """(line number, command) for every `$ ` line of every console block, in order;
    a trailing backslash continues a command on the next line."""
    found = []
    for block in FENCE.finditer(text):
        first = text.count("\n", 0, block.start(1)) + 1
        pending, start = None, 0
        for offset, line in enumerate(block.group(1).splitlines()):
            if pending is not None:
                pending += " " + line.strip()
            elif line.startswith("$ "):
                pending, start = line[2:].strip(), first + offset
            else:
                continue
            if pending.endswith("\\"):
                pending = pending[:-1].rstrip()
                continue
            found.append((start, pending))
            pending = None
    return found


def parse(command: str) -> tuple[dict, list[str], str | None, int]:
    """Split one documented command into (env, esc argv, stdout file, expected exit)."""
    expected = 0
    match = EXIT.search(command)
    if match:
        expected, command = int(match.group(1)), command[:match.start()]
    words = shlex.split(command.split(" | ")[0], comments=True)
    env = {}
    while words and ASSIGN.match(words[0]):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    target = None
    if ">" in words:
        at = words.index(">")
        target, words = words[at + 1], words[:at]
    assert words and words[0] == "esc", f"a console block runs esc commands only: {command!r}"
    return env, words[1:], target, expected


def run(argv: list[str], env: dict) -> tuple[int, str, str]:
    from esc_cli.app import main

    out, err = io.StringIO(), io.StringIO()
    saved_io = sys.stdout, sys.stderr
    saved_env = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    sys.stdout, sys.stderr = out, err
    code = 0
    try:
        main(argv)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.stdout, sys.stderr = saved_io
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """One demo store for the module; each doc file works on a copy of it."""
    db = tmp_path_factory.mktemp("docs-demo") / "demo.db"
    code, _, err = run(["--now", NOW, "--tz", ZONE, "demo", "--into", str(db), "--json"], {})
    assert code == 0, err
    return db


def test_the_docs_have_console_blocks():
    # The doc-test must not pass by finding nothing: the docs teach by example.
    total = sum(len(commands(path.read_text())) for path in DOCS)
    assert total >= 40, f"only {total} runnable commands in README.md and docs/*.md"


def test_parse_understands_the_conventions():
    assert parse("esc queue --json | jq '.[].id'") == ({}, ["queue", "--json"], None, 0)
    assert parse("ESC_USER=bob esc take 12") == ({"ESC_USER": "bob"}, ["take", "12"], None, 0)
    assert parse("esc policy export > policy.toml") == ({}, ["policy", "export"], "policy.toml", 0)
    assert parse("esc show 999999   # exit 3") == ({}, ["show", "999999"], None, 3)
    assert parse('esc note 7 "a # b"  # internal') == ({}, ["note", "7", "a # b"], None, 0)
    text = "x\n```console\n$ esc queue \\\n    --tier 2\nid  pri\n$ esc show 1\n```\n```sh\n$ esc no\n```\n"
    assert commands(text) == [(3, "esc queue --tier 2"), (6, "esc show 1")]


def _merged(base: dict, part: dict) -> dict:
    out = dict(base)
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def test_every_policy_example_loads():
    """A ```toml block in the docs is a piece of a policy: added to the default policy
    it must load, so no example teaches a key or a form esc refuses."""
    import tomllib

    from esc_cli.domain.policy import DEFAULT_POLICY_TOML, policy_from_dict

    base = tomllib.loads(DEFAULT_POLICY_TOML)
    seen, failures = 0, []
    for path in DOCS:
        text = path.read_text()
        for block in re.finditer(r"^```toml[ \t]*\n(.*?)^```[ \t]*$", text, re.S | re.M):
            line = text.count("\n", 0, block.start(1)) + 1
            seen += 1
            try:
                policy_from_dict(_merged(base, tomllib.loads(block.group(1))))
            except Exception as err:  # TOML errors and PolicyError alike name the problem
                failures.append(f"{path.name}:{line}: {err}")
    assert seen >= 5, f"only {seen} toml examples found"
    assert not failures, "policy examples esc refuses:\n" + "\n".join(failures)


# the files that show commands (design.md and the like may have none)
RUNNABLE = [path for path in DOCS if commands(path.read_text())]


@pytest.mark.parametrize("path", RUNNABLE, ids=[p.relative_to(ROOT).as_posix() for p in RUNNABLE])
def test_every_documented_command_runs(path, demo_store, tmp_path, monkeypatch):
    found = commands(path.read_text())
    db = tmp_path / "store" / "esc.db"
    db.parent.mkdir()
    for part in demo_store.parent.glob(demo_store.name + "*"):  # the store and any -wal
        shutil.copy(part, db.parent / part.name.replace(demo_store.name, db.name))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    base = {"ESC_DB": str(db), "ESC_NOW": NOW, "ESC_TZ": ZONE, "ESC_USER": "alice"}
    for key, value in base.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("NO_COLOR", raising=False)
    failures = []
    for line, command in found:
        env, argv, target, expected = parse(command)
        code, out, err = run(argv, env)
        if target is not None:
            (work / target).write_text(out)
        if code != expected:
            failures.append(f"{path.name}:{line}: $ {command}\n    exit {code}, expected "
                            f"{expected}: {err.strip()[:300]}")
    assert not failures, "documented commands that no longer work:\n" + "\n".join(failures)


def _anchor(heading: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_link_between_the_docs_resolves():
    """A relative link names a file that exists and, with #anchor, a heading in it."""
    failures = []
    for path in [*DOCS, ROOT / "CONTRIBUTING.md"]:
        text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # http(s):, mailto:
            file, _, anchor = target.partition("#")
            dest = (path.parent / file).resolve() if file else path
            if not dest.exists():
                failures.append(f"{path.name}: {target} (no such file)")
            elif anchor and dest.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", re.sub(r"^```.*?^```", "", dest.read_text(),
                                                           flags=re.S | re.M), re.M)
                if anchor not in {_anchor(h) for h in headings}:
                    failures.append(f"{path.name}: {target} (no such heading)")
    assert not failures, "broken links:\n" + "\n".join(failures)
