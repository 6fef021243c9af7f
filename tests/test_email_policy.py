"""The email channel's keys in the policy (SPEC §3 channels): defaults, the validated
document, every refusal naming its key, and who a notification is addressed to."""

from __future__ import annotations

import tomllib

import pytest

from esc_cli.domain.email_settings import EmailSettings, addresses
from esc_cli.domain.policy import DEFAULT_POLICY_TOML, PolicyError, policy_from_dict


def parsed(**channel):
    doc = tomllib.loads(DEFAULT_POLICY_TOML)
    doc["channels"] = [{"type": "email", **channel}]
    return policy_from_dict(doc)


MINIMAL = {"host": "smtp.example.com", "from": "esc@example.com", "to": "recipient"}


def test_defaults_fill_the_document():
    policy = parsed(**MINIMAL)
    [channel] = policy.channels
    assert channel.name == "email:1" and channel.type == "email"
    assert channel.timeout == 10
    assert channel.email == EmailSettings("smtp.example.com", 587, "starttls", "esc@example.com",
                                          ("recipient",), {}, None, None, None)
    assert policy.raw()["channels"] == [{"type": "email", "host": "smtp.example.com",
                                         "port": 587, "security": "starttls",
                                         "from": "esc@example.com", "to": "recipient",
                                         "timeout": "10s"}]


@pytest.mark.parametrize(("security", "port"), [("starttls", 587), ("ssl", 465), ("none", 25)])
def test_the_port_follows_security(security, port):
    assert parsed(**MINIMAL, security=security).channels[0].email.port == port


def test_every_key():
    policy = parsed(host="10.0.0.5", port=2525, security="ssl", timeout="30s",
                    **{"from": "Support desk <esc@example.com>"},
                    to=["recipient", "lead@example.com"],
                    fallback={"team:billing": "billing@example.com", "tier:2": "t2@example.com",
                              "default": "leads@example.com"},
                    username="esc", password_env="ESC_SMTP_PASSWORD", cafile="/etc/ca.pem")
    email = policy.channels[0].email
    assert email.sender_address == "esc@example.com"
    assert email.to == ("recipient", "lead@example.com")
    assert policy.channels[0].timeout == 30
    # the document reloads as it was written
    again = policy_from_dict({**tomllib.loads(DEFAULT_POLICY_TOML), "channels": policy.raw()["channels"]})
    assert again.channels == policy.channels


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"host": None}, "channels[1].host"),
        ({"host": "smtp://example.com"}, "channels[1].host"),
        ({"host": "example.com:25"}, "channels[1].host"),
        ({"port": 0}, "channels[1].port"),
        ({"port": "25"}, "channels[1].port"),
        ({"security": "tls"}, "channels[1].security"),
        ({"from": None}, "channels[1].from"),
        ({"from": "not an address"}, "channels[1].from"),
        ({"from": "esc@example.com\r\nBcc: x@y.z"}, "channels[1].from"),
        ({"to": None}, "channels[1].to"),
        ({"to": []}, "channels[1].to"),
        ({"to": ["a@example.com", "b"]}, "channels[1].to[2]"),
        ({"to": "a@example.com, b@example.com"}, "channels[1].to[1]"),
        ({"to": "a@example.com", "fallback": {"default": "x@example.com"}}, "channels[1].fallback"),
        ({"fallback": {"owner:bob": "x@example.com"}}, "channels[1].fallback.owner:bob"),
        ({"fallback": {"default": "nobody"}}, "channels[1].fallback.default"),
        ({"username": "esc"}, "channels[1].password_env"),
        ({"password_env": "ESC_PW"}, "channels[1].password_env"),
        ({"username": "esc", "password_env": "NOT-A-NAME"}, "channels[1].password_env"),
        ({"username": "esc", "password_env": "PW", "security": "none"}, "channels[1].security"),
        ({"cafile": "/ca.pem", "security": "none"}, "channels[1].cafile"),
        ({"timeout": "2h"}, "channels[1].timeout"),
        ({"url": "https://x.org"}, "channels[1].url"),
    ],
)
def test_bad_email_channels(change, key):
    channel = {**MINIMAL, **change}
    channel = {k: v for k, v in channel.items() if v is not None}
    with pytest.raises(PolicyError) as caught:
        parsed(**channel)
    assert caught.value.key == key


def test_a_password_in_the_policy_is_refused_without_echoing_it():
    with pytest.raises(PolicyError) as caught:
        parsed(**MINIMAL, username="esc", password="Hunter2-Secret")
    assert caught.value.key == "channels[1].password"
    assert "Hunter2-Secret" not in str(caught.value)
    assert "password_env" in str(caught.value)


# -- who it goes to --------------------------------------------------------------------------

FALLBACK = {"team:billing": "billing@example.com", "tier:2": "t2@example.com",
            "default": "leads@example.com"}


def settings(to=("recipient",), fallback=FALLBACK) -> EmailSettings:
    return EmailSettings("h", 25, "none", "esc@example.com", tuple(to), dict(fallback),
                         None, None, None)


@pytest.mark.parametrize(
    ("recipient", "expected"),
    [
        ({"owner": "bob", "email": "bob@example.com", "team": "billing", "tier": 2},
         ["bob@example.com"]),
        # an owner without a (usable) address: the team's, then the tier's, then the default
        ({"owner": "eve", "email": None, "team": "billing", "tier": 2}, ["billing@example.com"]),
        ({"owner": "eve", "email": "eve at example", "team": "sales", "tier": 2},
         ["t2@example.com"]),
        ({"owner": None, "email": None, "team": None, "tier": 3}, ["leads@example.com"]),
    ],
)
def test_recipient_resolution(recipient, expected):
    assert addresses(settings(), recipient) == (expected, None)


def test_fixed_addresses_ride_along_without_repeats():
    got = addresses(settings(to=("lead@example.com", "recipient", "bob@example.com")),
                    {"owner": "bob", "email": "bob@example.com", "team": None, "tier": 1})
    assert got == (["lead@example.com", "bob@example.com"], None)


def test_nobody_to_send_to_says_why():
    got = addresses(settings(fallback={}), {"owner": "eve", "email": None, "team": None, "tier": 1})
    assert got == ([], "owner eve has no email address and no fallback matches (tier:1, "
                       "default); add one under the channel's `fallback`")


def test_policy_load_refuses_a_password_in_one_line_without_it(esc, tmp_path):
    import tomli_w

    doc = tomllib.loads(DEFAULT_POLICY_TOML)
    doc["channels"] = [{"type": "email", **MINIMAL, "username": "esc",
                        "password": "Hunter2-Secret"}]
    path = tmp_path / "policy.toml"
    path.write_text(tomli_w.dumps(doc))
    result = esc("policy", "load", str(path))
    assert result.code == 2
    assert result.err.startswith("error: policy: channels[1].password: a password is never kept")
    assert "Hunter2-Secret" not in result.out + result.err
    assert "Traceback" not in result.err
