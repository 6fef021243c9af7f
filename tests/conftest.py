"""Shared fixtures: a fresh store per test and a way to run `esc` as a user would."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

ESC = str(Path(sys.executable).with_name("esc"))

# Property and state-machine budgets: "ci" (the default) is small and derandomized so a
# run is fast and repeatable; HYPOTHESIS_PROFILE=long explores far more, at random.
settings.register_profile("ci", max_examples=25, stateful_step_count=20, deadline=None,
                          derandomize=True, database=None)
settings.register_profile("long", max_examples=400, stateful_step_count=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


class EscRunner:
    """Runs esc in-process (fast) against one store, acting at a fixed `now`."""

    def __init__(self, db: Path, now: str = "2026-11-02T10:00:00Z", user: str = "alice"):
        self.db = db
        self.now = now
        self.user = user
        self.tz = "UTC"

    def __call__(self, *args: str, now: str | None = None, user: str | None = None,
                 env: dict | None = None) -> Result:
        from esc_cli.app import main

        argv = ["--db", str(self.db), "--now", now or self.now, "--as", user or self.user,
                "--tz", self.tz, *args]
        out, err = io.StringIO(), io.StringIO()
        old = sys.stdout, sys.stderr
        saved_env = {}
        for key, value in (env or {}).items():
            saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        sys.stdout, sys.stderr = out, err
        code = 0
        try:
            main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            sys.stdout, sys.stderr = old
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return Result(code, out.getvalue(), err.getvalue())

    def ok(self, *args: str, **kwargs) -> Result:
        result = self(*args, **kwargs)
        assert result.code == 0, f"esc {' '.join(args)} -> {result.code}: {result.err}"
        return result

    def doc(self, *args: str, **kwargs):
        return self.ok(*args, "--json", **kwargs).json()


@pytest.fixture
def esc(tmp_path) -> EscRunner:
    runner = EscRunner(tmp_path / "esc.db")
    runner.ok("init")
    return runner


@pytest.fixture
def bare_esc(tmp_path) -> EscRunner:
    """A runner whose store does not exist yet."""
    return EscRunner(tmp_path / "esc.db")


def run_process(*args: str, env: dict | None = None, input: str | None = None,
                timeout: float = 60) -> Result:
    """The installed `esc` as a real process (pipes, exit codes, concurrency)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    full_env.update(env or {})
    proc = subprocess.run([ESC, *args], capture_output=True, text=True, env=full_env,
                          input=input, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)
