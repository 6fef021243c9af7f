"""Secrets in the policy's channels (SPEC §5): every header value, a URL's userinfo,
path and query, and every argv element after the first are never printed, by `policy
show` (terminal, pipe, --json), by a failed delivery (sweep's stderr and --json, `notify
list`'s last_error, `notify retry`, doctor) or by any `error:` line; `policy export`
keeps them so the file reloads.

Each secret is a distinct word, so "never printed" is checked word by word on every byte
esc wrote.
"""

from __future__ import annotations

import io
import socket
import sys
import tomllib

import pytest
import tomli_w

from esc_cli.domain.policy import DEFAULT_POLICY_TOML
from tests.conftest import EscRunner, run_process

SECRETS = ("UserSecret1", "PassSecret2", "PathSecret3", "QuerySecret4", "HeaderSecret5",
           "ApiKeySecret6", "ArgvSecret7", "ArgvSecret8", "FragmentSecret9")


def _closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _channels(port: int) -> list[dict]:
    return [
        {"type": "webhook", "timeout": "2s",
         "url": f"http://UserSecret1:PassSecret2@127.0.0.1:{port}/hooks/PathSecret3"
                "?token=QuerySecret4#FragmentSecret9",
         "headers": {"Authorization": "Bearer HeaderSecret5", "X-Api-Key": "ApiKeySecret6"}},
        # a command that fails and says why on stderr, naming its secret arguments
        {"type": "command", "timeout": "5s",
         "argv": ["/bin/sh", "-c", 'echo "denied for $1 $2" >&2; exit 3', "ArgvSecret7",
                  "ArgvSecret8"]},
    ]


def _policy_text(channels: list[dict]) -> str:
    doc = tomllib.loads(DEFAULT_POLICY_TOML)
    doc["channels"] = channels
    return tomli_w.dumps(doc)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _terminal(esc: EscRunner, *args: str) -> str:
    from esc_cli.app import main

    out, err = Terminal(), Terminal()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        main(["--db", str(esc.db), "--now", esc.now, "--tz", "UTC", *args])
    except SystemExit:
        pass
    finally:
        sys.stdout, sys.stderr = old
    return out.getvalue() + err.getvalue()


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@pytest.fixture
def secret_store(esc, tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(_policy_text(_channels(_closed_port())))
    result = esc("policy", "load", str(path))
    assert result.code == 0, result.err
    assert _leaks(result.out + result.err) == []
    return esc


def test_policy_show_masks_and_export_keeps(secret_store, tmp_path):
    esc = secret_store
    for output in (esc.ok("policy", "show").out, esc.ok("policy", "show", "--json").out,
                   _terminal(esc, "policy", "show")):
        assert _leaks(output) == [], output
        assert "127.0.0.1" in output and "/bin/sh" in output  # masked, not dropped
    exported = esc.ok("policy", "export").out
    assert sorted(_leaks(exported)) == sorted(SECRETS)
    # and the export reloads as it was
    again = tmp_path / "again.toml"
    again.write_text(exported)
    esc.ok("policy", "load", str(again))
    assert esc.ok("policy", "export").out == exported
    # --json (every read command takes it): the same policy as one document, secrets kept
    import json
    import tomllib

    raw = esc.ok("policy", "export", "--json").out
    document, shown = json.loads(raw), esc.doc("policy", "show")
    assert sorted(_leaks(raw)) == sorted(SECRETS)
    assert document["version"] == shown["version"]
    assert sorted(document["policy"]) == sorted(shown["policy"])
    assert document["policy"]["timezone"] == tomllib.loads(exported)["timezone"]


def test_failed_deliveries_never_print_a_secret(secret_store):
    esc = secret_store
    esc.ok("open", "Outage", "--customer", "Globex", "--priority", "urgent",
           now="2026-11-02T09:00:00Z")
    env = {"ESC_DB": str(esc.db), "ESC_NOW": "2026-11-02T10:00:00Z", "ESC_TZ": "UTC"}
    seen = []
    sweep = run_process("sweep", env=env)
    assert sweep.code == 0
    assert "failed" in sweep.out + sweep.err
    seen.append(sweep.out + sweep.err)
    doc = run_process("sweep", "--json", env={**env, "ESC_NOW": "2026-11-02T11:00:00Z"})
    seen.append(doc.out + doc.err)

    listing = esc.doc("notify", "list")
    errors = [d["last_error"] for n in listing for d in n["deliveries"]]
    assert errors and all(errors), listing  # both channels failed, and said why
    assert any("denied for" in e for e in errors)
    seen += [esc.ok("notify", "list").out, _terminal(esc, "notify", "list"), str(errors)]
    retry = run_process("notify", "retry", env=env)
    seen.append(retry.out + retry.err)
    seen.append(run_process("notify", "retry", "--json", env=env).out)
    doctor = run_process("doctor", env=env)
    seen.append(doctor.out + doctor.err)
    for text in seen:
        assert _leaks(text) == [], text


@pytest.mark.parametrize("broken, key", [
    ({"url": "ftp://UserSecret1:PassSecret2@example.com/PathSecret3?QuerySecret4"}, "url"),
    ({"url": "http://UserSecret1:PassSecret2@exa mple.com/PathSecret3"}, "url"),
    ({"timeout": "soon"}, "timeout"),
    ({"headers": {"Authorization": 5, "X-Api-Key": "ApiKeySecret6"}}, "headers"),
    ({"headers": {"Authorization": "Bearer HeaderSecret5\nX-Evil: 1"}}, "headers"),
    ({"colour": "PathSecret3"}, "colour"),
])
def test_errors_about_a_channel_never_print_its_secrets(esc, new_place, tmp_path, broken, key):
    channel = dict(_channels(1)[0], **broken)
    path = tmp_path / "policy.toml"
    path.write_text(_policy_text([channel, _channels(1)[1]]))
    result = esc("policy", "load", str(path))
    assert result.code == 2 and result.err.startswith("error:") and key in result.err, result.err
    assert _leaks(result.err + result.out) == [], result.err
    fresh = EscRunner(new_place())
    result = fresh("init", "--policy", str(path))
    assert result.code == 2 and _leaks(result.err) == [], result.err
    assert not fresh.exists()


def test_a_bad_command_channel_never_prints_its_arguments(esc, tmp_path):
    channel = {"type": "command", "argv": ["/bin/sh", "ArgvSecret7"], "timeout": "-1s"}
    path = tmp_path / "policy.toml"
    path.write_text(_policy_text([channel]))
    result = esc("policy", "load", str(path))
    assert result.code == 2 and _leaks(result.err) == [], result.err


@pytest.mark.parametrize("args", [
    ("backup", "{uri}"),
    ("export", "-o", "{uri}"),
    ("import", "{uri}"),
    ("policy", "load", "{uri}"),
    ("report", "-o", "{uri}/r.html"),
])
def test_a_uri_given_where_a_file_goes_is_quoted_without_its_password(esc, args):
    # issue 18: a URI is never printed with its password. Given as a file, it came back
    # as a path (`cannot write postgresql:/esc:Sekr1t@...`)
    uri = "postgresql://esc:UserSecret1@127.0.0.1:1/db?sslpassword=QuerySecret4"
    result = esc(*[a.format(uri=uri) for a in args])
    assert result.code in (2, 3, 5) and result.err.startswith("error:"), result
    assert "UserSecret1" not in result.err and "QuerySecret4" not in result.err, result.err
    assert "esc:***@" in result.err


def test_hide_passwords_leaves_other_text_as_it_is():
    from esc_cli.store.pg_location import hide_passwords

    for text in ("cannot write /tmp/a@b:c/x", "case #3: owner bob@example.com", "no such file x"):
        assert hide_passwords(text) == text
    assert hide_passwords("postgres:/u:p#w?x@h/d?password=Q&sslmode=require") == (
        "postgres:/u:***@h/d?password=***&sslmode=require")
