"""Random sessions on both stores: a seeded stream of writes, sweeps and reads (cases
opened, worked, escalated, paused, resolved, reopened, triaged; the clock moving on
between them) run on a SQLite store and on a PostgreSQL one, every command's exit code,
stdout and stderr compared as it runs, and the exports at the end. A script written
by hand tests what its author thought of; this one finds the orderings, ties and
refusals nobody listed (test_pg_parity holds the sample data's reads).

Two desks: esc's default policy, and the sample one (office-hours calendars with
holidays, trigger rules) with routing added (least-loaded and round-robin tiers, a
team's round-robin, capacity, people away), whose owner picks must agree too.

Bounded for CI (ESC_DIFF_SEEDS sessions of ESC_DIFF_STEPS commands; more locally)."""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import EscRunner

SEEDS = int(os.environ.get("ESC_DIFF_SEEDS", "6"))
STEPS = int(os.environ.get("ESC_DIFF_STEPS", "120"))
START = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)

SAMPLE_POLICY = Path(__file__).resolve().parents[1] / "sample_data" / "policy.toml"
ROUTING = """
[teams.billing]
assign = "round-robin"
"""
OWNERS = ["alice", "bob", "carol", "dave", "erin"]
WORDS = ["vpn", "login", "invoice", "timeout", "export", "printer", "sso", "refund",
         "crash", "slow", "café", "naïve", "東京", "ÉTÉ", "x86", "v2.1", "o'neil"]
PRIORITIES = ["urgent", "high", "medium", "low", "p2", "P3"]
CATEGORIES = ["billing", "technical", "other"]
CUSTOMERS = ["Acme", "Initech", "Globex", "Hooli"]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _bad_now_and_then(rng: random.Random, good: list[str], bad: str) -> str:
    return bad if rng.random() < 0.05 else rng.choice(good)


def _case(rng: random.Random, opened: int) -> str:
    # now and then a case that does not exist, or not a case id at all
    if opened == 0 or rng.random() < 0.05:
        return rng.choice(["999", "#0", "abc"])
    return str(rng.randint(1, opened))


def _routed_policy(folder: Path) -> Path:
    text = SAMPLE_POLICY.read_text(encoding="utf-8")
    text = text[: text.index("[[channels]]")]  # no command to run: the sweep only records
    text = text.replace('[tiers.2]\nname = "Specialist"', '[tiers.2]\nname = "Specialist"\nassign = "least-loaded"')
    text = text.replace('[tiers.3]\nname = "Manager"', '[tiers.3]\nname = "Manager"\nassign = "round-robin"')
    assert text.count("assign =") == 2, "the sample policy's tiers changed: update ROUTING"
    path = folder / "routed.toml"
    path.write_text(text + ROUTING, encoding="utf-8")
    return path


def _session(rng: random.Random):
    """(args, minutes to move the clock on first) for each command of a session."""
    yield ("owner", "add", "alice", "--tier", "1", "--email", "alice@example.com"), 0
    yield ("owner", "add", "bob", "--tier", "2", "--team", "billing", "--capacity", "3"), 0
    yield ("owner", "add", "carol", "--tier", "2"), 0
    yield ("owner", "add", "dave", "--tier", "3"), 0
    yield ("owner", "add", "erin", "--tier", "3", "--team", "billing"), 0
    opened = 0
    for _ in range(STEPS):
        pick = rng.random()
        minutes = rng.choice([0, 0, 1, 5, 17, 45, 120, 600])
        case = _case(rng, opened)
        if pick < 0.18 or opened == 0:
            args = ["open", _text(rng, rng.randint(1, 4)), "-c", rng.choice(CUSTOMERS),
                    "-p", _bad_now_and_then(rng, PRIORITIES, "bogus")]
            if rng.random() < 0.4:
                args += ["--category", _bad_now_and_then(rng, CATEGORIES, "nope")]
            if rng.random() < 0.1:
                args += ["--team", "billing"]
            if rng.random() < 0.3:
                args += ["-d", _text(rng, 6)]
            if rng.random() < 0.2:
                args += ["--owner", rng.choice(OWNERS)]
            if rng.random() < 0.2:
                args += ["-t", rng.choice(["vip", "beta", "outage"])]
            opened += 1
            yield tuple(args), minutes
        elif pick < 0.26:
            yield ("ack", case), minutes
        elif pick < 0.34:
            extra = ("--customer",) if rng.random() < 0.4 else ()
            yield ("note", case, _text(rng, 3), *extra), minutes
        elif pick < 0.40:
            yield ("assign", case, rng.choice(OWNERS)), minutes
        elif pick < 0.47:
            how = rng.choice([(), ("--to", "3"), ("--team", "billing"), ("--to", "9")])
            yield ("escalate", case, "--reason", _text(rng, 2), *how), minutes
        elif pick < 0.50:
            yield ("deescalate", case, "--reason", "back down"), minutes
        elif pick < 0.55:
            yield ("pending", case, "--reason", "waiting"), minutes
        elif pick < 0.59:
            yield ("resume", case), minutes
        elif pick < 0.65:
            yield ("resolve", case, "--resolution", _text(rng, 2)), minutes
        elif pick < 0.68:
            yield ("reopen", case, "--reason", "back again"), minutes
        elif pick < 0.70:
            yield ("close", case), minutes
        elif pick < 0.72:
            yield ("feedback", case, "--csat", str(rng.randint(0, 6))), minutes
        elif pick < 0.76:
            yield ("set", case, "--priority", _bad_now_and_then(rng, PRIORITIES, "p9")), minutes
        elif pick < 0.78:
            who = rng.choice(OWNERS)
            if rng.random() < 0.6:
                yield ("owner", "away", who, "--until", rng.choice(["2h", "1d", "3d"])), minutes
            else:
                yield ("owner", "back", who), minutes
        elif pick < 0.84:
            yield ("sweep", "--json"), rng.choice([30, 90, 240, 1440])
        else:
            yield rng.choice([
                ("queue", "--json"), ("queue", "--state", "new,open,pending,resolved", "--sort", "due"), ("overdue", "--json"),
                ("show", case, "--json"), ("explain", case, "--json"),
                ("search", rng.choice(WORDS), "--json"), ("search", "vp*", "--state", "resolved,closed"),
                ("report", "--json"), ("report", "--by", "owner", "--json"),
                ("queue", "--owner", rng.choice(OWNERS), "--json"), ("owner", "list", "--json"),
                ("report", "--format", "markdown"), ("report", "--by", "team", "--format", "csv"),
                ("oncall",), ("tier", "list", "--json"), ("notify", "list", "--json"),
                ("export", "--format", "csv"),
                ("policy", "try", str(SAMPLE_POLICY), "--since", "7d", "--json"),
            ]), minutes


@pytest.mark.timeout(600)
@pytest.mark.parametrize("desk", ["default", "routed"])
@pytest.mark.parametrize("seed", range(SEEDS))
def test_a_random_session_reads_and_writes_the_same_on_both_stores(seed, desk, pg_fresh,
                                                                   tmp_path):
    lite = EscRunner(tmp_path / "esc.db")
    pg = EscRunner(pg_fresh())
    rng = random.Random(seed)
    at = START
    init = ("init",) if desk == "default" else ("init", "--policy", str(_routed_policy(tmp_path)))
    for runner in (lite, pg):
        runner.ok(*init, now=at.strftime("%Y-%m-%dT%H:%M:%SZ"))
    for step, (args, minutes) in enumerate(_session(rng)):
        at += timedelta(minutes=minutes)
        now = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        a, b = lite(*args, now=now), pg(*args, now=now)
        assert (b.code, b.out, b.err) == (a.code, a.out, a.err), (step, now, args)
    assert pg.ok("export").out == lite.ok("export").out
