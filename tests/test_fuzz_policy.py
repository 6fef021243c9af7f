"""Fuzzing `esc policy load`, `policy try` and `init --policy` (issue 20): policies built from the default one and the
spec's examples, then changed the ways hand-edited TOML goes wrong (a value of the wrong
kind, a key too many or missing, spans and zones that are not, nesting, truncation,
bytes that are not UTF-8). The property (tests/fuzzkit.py): exit code in {0, 2, 3, 4, 5},
one `error:` line, the store byte for byte as it was after a failure; and a policy that
loads exports as TOML that loads again."""

from __future__ import annotations

import datetime as dt
import tomllib

import tomli_w
from hypothesis import event, given
from hypothesis import strategies as st

from esc_cli.domain.policy import DEFAULT_POLICY_TOML
from tests.fuzzkit import budget, run_checked


EXTRAS = """
[[rules]]
name = "key-accounts"
when = { customer = ["Globex", "Initech"], priority = ["p3", "low"] }
then = { priority = "high", tier = 2 }

[[rules]]
name = "unhappy"
when = { csat_at_most = 2 }
then = { reopen = true, tier = 3 }

[[channels]]
type = "command"
argv = ["/bin/true", "--json"]
timeout = "10s"

[[channels]]
type = "webhook"
url = "https://chat.example.com/hooks/T0KEN"
headers = { Authorization = "Bearer T0KEN" }
timeout = "5s"
"""
BASE = tomllib.loads(DEFAULT_POLICY_TOML + EXTRAS)

SPANS = ["15m", "1h30m", "7d", "10s", "2w", "0m", "-1h", "1.5h", "h", "99999999999999999999d",
         "1h 30m", " 1h", "1H", "none", "24x7", ""]
WORDS = ["UTC", "Europe/Berlin", "Mars/Olympus", "../../etc/passwd", "business", "24x7",
         "09:00-17:00", "17:00-09:00", "25:00-26:00", "mon", "funday", "2026-12-25",
         "2026-02-30", "DE", "XX", "high", "p1", "command", "webhook", "email"]
SCALAR = st.one_of(
    st.sampled_from(SPANS + WORDS), st.text(max_size=20), st.integers(),
    st.integers(min_value=2**63 - 2), st.floats(allow_nan=True), st.booleans(),
    st.datetimes(timezones=st.just(dt.timezone.utc)), st.dates())
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(WORDS + ["x"]), inner, max_size=3)),
    max_leaves=6)


def _paths(node, prefix=()):
    """Every (path, container) in a TOML document, to pick one to change."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append(prefix + (key,))
            found.extend(_paths(value, prefix + (key,)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.append(prefix + (index,))
            found.extend(_paths(value, prefix + (index,)))
    return found


@st.composite
def policy_text(draw) -> bytes:
    import copy

    doc = copy.deepcopy(BASE)
    # none or one change half the time, so the loading path is reached too
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 1, 2, 3]))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["set", "set", "delete", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(WORDS + ["extra", "warn_at "]))] = draw(VALUE)
        else:
            old = parent[path[-1]]
            # a value of the same kind as the one it replaces, or anything at all
            same = {str: st.sampled_from(SPANS + WORDS), int: st.integers(-5, 5),
                    float: st.floats(-1, 2), bool: st.booleans()}.get(type(old))
            parent[path[-1]] = draw(st.one_of(same, VALUE) if same is not None else VALUE)
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):  # a value TOML cannot hold (NaN keys and the like)
        text = DEFAULT_POLICY_TOML
    kind = draw(st.sampled_from(["as is"] * 6 + ["cut", "deep", "junk", "bytes"]))
    if kind == "cut":
        text = text[:draw(st.integers(0, len(text)))]
    elif kind == "deep":
        depth = draw(st.sampled_from([10, 500, 2000, 50_000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a = ", "}")]))
        text += f"\nz = {opener * depth}1{closer * depth}\n"
    elif kind == "junk":
        text += draw(st.text(max_size=30))
    data = text.encode("utf-8", "surrogatepass")
    if kind == "bytes":
        data += draw(st.binary(max_size=20))
    return data


# Each test runs once per store backend (the `esc` fixture), with that backend's budget
# (fuzzkit.budget); hypothesis drives the inner function.

def test_fuzz_policy_load(esc, backend, tmp_path):
    @budget(backend)
    @given(data=policy_text())
    def run(data):
        path = tmp_path / "policy.toml"
        path.write_bytes(data)
        result = run_checked(esc, "policy", "load", str(path))
        if result.code == 0:
            # what loaded exports as TOML that loads again
            exported = esc.ok("policy", "export").out
            path.write_text(exported, encoding="utf-8")
            assert run_checked(esc, "policy", "load", str(path)).code == 0
            assert esc.ok("policy", "export").out == exported

    run()


def test_fuzz_policy_try(esc, backend, tmp_path):
    """`esc policy try FILE`: the same door, and it writes nothing, whatever the file or
    the options say (a few cases to replay, so its work is reached)."""
    from tests.fuzzkit import snapshot

    esc.ok("open", "First", "--customer", "Acme", "--priority", "urgent", now="2026-10-30T09:00:00Z")
    esc.ok("open", "Second", "--customer", "Globex", "--priority", "low", now="2026-10-31T09:00:00Z")
    esc.ok("ack", "2", now="2026-10-31T10:00:00Z")
    options = st.lists(st.sampled_from([
        ["--since", "90d"], ["--since", " 7d"], ["--until", "2026-11-01"], ["--until", "yesterday "],
        ["--by", "team"], ["--by", " tier"], ["--by", "owner"], ["--format", "markdown"],
        ["--format", "csv"], ["--json"], ["--since", "2026-11-03"]]), max_size=3)

    @budget(backend)
    @given(data=policy_text(), extra=options)
    def run(data, extra):
        path = tmp_path / "try.toml"
        path.write_bytes(data)
        before = snapshot(esc)
        run_checked(esc, "policy", "try", str(path), *[a for pair in extra for a in pair])
        assert snapshot(esc) == before  # a try reads only, accepted or refused

    run()


def test_fuzz_init_with_a_policy(new_place, backend, tmp_path):
    """`esc init --policy FILE`: the same door, before there is a store (a file not
    there yet, or an empty database; a new one after each init that made a store)."""
    from tests.conftest import EscRunner

    place = [new_place()]

    @budget(backend)
    @given(data=policy_text())
    def run(data):
        path = tmp_path / "policy.toml"
        path.write_bytes(data)
        runner = EscRunner(place[0])
        # a refused policy leaves no store behind: run_checked compares the (absent)
        # file, or every table of the database (none)
        result = run_checked(runner, "init", "--policy", str(path))
        event(f"exit {result.code}")
        if result.code == 0:
            assert runner("doctor").code == 0
            place[0] = new_place()
        else:
            assert not runner.exists()

    run()
