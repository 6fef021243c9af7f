"""ruff and mypy on src/ stay clean (issue 17), and ruff on the tests and benchmarks: `make test`, CI and the land script all
run this, so a finding fails the suite with the tool's own report. Both tools come with
the `test` extra and are configured in pyproject.toml; a missing tool fails here, never
skips."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    # from the repository root: both read their settings from pyproject.toml there, and
    # mypy keeps its cache in .mypy_cache (ignored by git): ~0.5 s warm, ~5 s cold
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=240)


def test_ruff_finds_nothing_in_src():
    result = _run("ruff", "check", "--no-fix", "src")
    assert result.returncode == 0, f"ruff check src:\n{result.stdout}{result.stderr}"


def test_ruff_finds_nothing_in_the_tests_and_benchmarks():
    # unused imports and shadowed fixtures there had piled up unseen (seven at once)
    result = _run("ruff", "check", "--no-fix", "tests", "benchmarks")
    assert result.returncode == 0, f"ruff check tests benchmarks:\n{result.stdout}{result.stderr}"


def test_src_is_as_ruff_format_leaves_it():
    result = _run("ruff", "format", "--check", "src")
    assert result.returncode == 0, f"ruff format --check src (run `ruff format src`):\n{result.stdout}{result.stderr}"


def test_mypy_finds_nothing_in_src():
    result = _run("mypy", "src/esc_cli")
    assert result.returncode == 0, f"mypy src/esc_cli:\n{result.stdout}{result.stderr}"
    assert "Success: no issues found" in result.stdout, result.stdout
