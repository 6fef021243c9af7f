"""The policy file (SPEC §2, §3, §5): defaults, validation naming dotted keys, masking, tiers."""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc_cli.domain.policy import (
    DEFAULT_POLICY_TOML,
    PRIORITIES,
    PRIORITY_ALIASES,
    Channel,
    PolicyError,
    Rule,
    Tier,
    dump_policy,
    mask_text,
    masked,
    normalise_priority,
    parse_policy,
    policy_from_dict,
    with_tier,
)

H = 3600
D = 86400

# The smallest valid policy: the four priorities, everything else defaulted.
MINIMAL = """
[priorities.urgent]
respond = "15m"
resolve = "4h"
calendar = "24x7"
[priorities.high]
respond = "1h"
resolve = "2d"
calendar = "24x7"
[priorities.medium]
respond = "4h"
resolve = "1w"
calendar = "24x7"
[priorities.low]
respond = "8h"
resolve = "80h"
calendar = "24x7"
"""

RULES_AND_CHANNELS = """
[[rules]]
name = "billing-to-billing-team"
when = { category = "billing" }
then = { team = "billing" }

[[rules]]
name = "key-accounts"
when = { customer = ["Globex", "Initech"], priority = ["P3", "low"] }
then = { priority = "p2", tier = 2 }

[[rules]]
name = "unhappy-customer"
when = { csat_at_most = 2, tag = "Dissatisfied" }
then = { reopen = true, tier = 3, owner = "alice" }

[[channels]]
type = "command"
argv = ["/usr/local/bin/notify-oncall", "--json", "--token=s3cr3t-arg"]

[[channels]]
type = "webhook"
url = "https://hookuser:hookpass@chat.example.com:8443/hooks/T0KEN?sig=abc123#frag"
headers = { Authorization = "Bearer T0KEN-HEADER", X-Team = "support" }
timeout = "3s"
"""


def default_doc() -> dict:
    return tomllib.loads(DEFAULT_POLICY_TOML)


def full_doc() -> dict:
    return tomllib.loads(DEFAULT_POLICY_TOML + RULES_AND_CHANNELS)


def error_for(doc_or_text) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        if isinstance(doc_or_text, str):
            parse_policy(doc_or_text)
        else:
            policy_from_dict(doc_or_text)
    return info.value


def edited(path: str, value, doc: dict | None = None) -> dict:
    """The default document with `a.b.c` set to value (the key deleted when value is DELETE)."""
    doc = copy.deepcopy(doc if doc is not None else default_doc())
    *parents, last = path.split(".")
    node = doc
    for part in parents:
        node = node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return doc


DELETE = object()


# ------------------------------------------------------------------ the default


def test_default_policy_parses_to_the_spec_values():
    policy = parse_policy(DEFAULT_POLICY_TOML)
    assert policy.timezone == "UTC"
    assert policy.warn_at == 0.8
    assert policy.close_after == 7 * D
    assert policy.categories == ("technical", "billing", "service-delay", "policy", "product-quality", "other")
    urgent = policy.priorities["urgent"]
    assert (urgent.respond, urgent.update, urgent.resolve, urgent.calendar) == (15 * 60, H, 4 * H, "24x7")
    high = policy.priorities["high"]
    assert (high.respond, high.update, high.resolve) == (H, 24 * H, 48 * H)
    medium = policy.priorities["medium"]
    assert (medium.respond, medium.update, medium.resolve, medium.calendar) == (4 * H, 16 * H, 40 * H, "business")
    low = policy.priorities["low"]
    assert (low.update, low.resolve, low.calendar) == (None, 80 * H, "business")
    assert policy.tiers == {
        1: Tier(1, "Frontline", 4 * H),
        2: Tier(2, "Specialist", 4 * H),
        3: Tier(3, "Manager", 4 * H),
        4: Tier(4, "Senior management", None),
    }
    assert policy.top_tier == 4
    assert policy.rules == () and policy.channels == ()
    assert policy.calendar_specs == {
        "business": {
            "timezone": "UTC",
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "hours": "09:00-17:00",
            "holidays": [],
        }
    }


def test_default_text_documents_channels_and_rules_as_comments():
    commented = [line for line in DEFAULT_POLICY_TOML.splitlines() if line.startswith("# ")]
    assert "# [[channels]]" in commented
    assert "# [[rules]]" in commented
    assert '# type = "webhook"' in commented
    # uncommented, the examples are a valid policy too
    example = re.compile(r"# (\[\[\w+\]\]|(type|argv|url|headers|timeout|name|when|then"
                         r"|host|security|from|to|fallback|username|password_env) = )")
    uncommented = "\n".join(
        line[2:] if example.match(line) else line for line in DEFAULT_POLICY_TOML.splitlines()
    )
    policy = parse_policy(uncommented)
    assert [c.name for c in policy.channels] == ["command:1", "webhook:2", "email:3"]
    assert [r.name for r in policy.rules] == ["key-accounts"]


def test_default_round_trips_through_dump_policy():
    policy = parse_policy(DEFAULT_POLICY_TOML)
    text = dump_policy(policy.raw())
    again = parse_policy(text)
    assert again == policy
    assert again.raw() == policy.raw()
    assert dump_policy(again.raw()) == text


def test_rules_channels_and_dates_round_trip_through_dump_policy():
    doc = full_doc()
    doc["calendars"]["business"]["holidays"] = [dt.date(2026, 12, 25), "2026-12-26"]
    policy = policy_from_dict(doc)
    text = dump_policy(doc)
    again = parse_policy(text)
    assert again == policy
    assert again.raw()["calendars"]["business"]["holidays"] == ["2026-12-25", "2026-12-26"]
    # export keeps the secrets so the file reloads
    assert "hookpass" in text and "Bearer T0KEN-HEADER" in text and "--token=s3cr3t-arg" in text


def test_missing_optional_keys_take_the_defaults():
    policy = parse_policy(MINIMAL)
    assert policy.timezone == "UTC"
    assert policy.warn_at == 0.8
    assert policy.close_after == 7 * D
    assert policy.categories[0] == "technical" and len(policy.categories) == 6
    assert [t.name for t in policy.tiers.values()] == ["Frontline", "Specialist", "Manager", "Senior management"]
    assert policy.tiers[4].stale_after is None
    assert policy.calendar_specs == {}
    # on 24x7 a day is exactly 24 hours and a week 7 of them
    assert policy.priorities["high"].resolve == 2 * D
    assert policy.priorities["medium"].resolve == 7 * D
    # the raw document is explicit about every default
    raw = policy.raw()
    assert raw["close_after"] == "7d" and raw["tiers"]["4"] == {"name": "Senior management", "stale_after": "none"}
    assert parse_policy(dump_policy(raw)) == policy


def test_raw_is_a_copy():
    policy = parse_policy(DEFAULT_POLICY_TOML)
    raw = policy.raw()
    raw["tiers"]["1"]["name"] = "changed"
    assert policy.raw()["tiers"]["1"]["name"] == "Frontline"


def test_calendars_are_built_once_and_zones_default_to_the_policy_zone():
    text = DEFAULT_POLICY_TOML.replace('timezone = "UTC"            # zone', 'timezone = "Europe/Berlin"  # zone')
    text = text.replace('timezone = "UTC"\ndays', "days")
    policy = parse_policy(text)
    assert policy.calendar_specs["business"]["timezone"] == "Europe/Berlin"
    business = policy.calendar("business")
    assert business is policy.calendar("business")
    assert business.zone == "Europe/Berlin"
    assert policy.calendar_for("P3") is business
    assert policy.calendar_for("urgent").name == "24x7"
    with pytest.raises(ValueError):
        policy.calendar("weekend")


def test_calendar_settings_are_normalised():
    doc = edited("calendars.business.days", ["Mon", "TUE"])
    doc["calendars"]["business"]["hours"] = ["09:00-12:00", "13:00-17:00"]
    doc["calendars"]["business"]["holidays"] = ["2026-12-25", dt.date(2026, 12, 25), "2027-01-01"]
    policy = policy_from_dict(doc)
    spec = policy.calendar_specs["business"]
    assert spec["days"] == ["mon", "tue"]
    assert spec["holidays"] == ["2026-12-25", "2027-01-01"]
    cal = policy.calendar("business")
    assert cal.hours == ((9 * 60, 12 * 60), (13 * 60, 17 * 60))
    assert cal.holidays == (dt.date(2026, 12, 25), dt.date(2027, 1, 1))


def test_public_holidays_by_country():
    doc = edited("calendars.business.country", "DE")
    doc["calendars"]["business"]["subdivision"] = "BY"
    policy = policy_from_dict(doc)
    cal = policy.calendar("business")
    assert cal.is_holiday(dt.date(2026, 1, 6))  # Epiphany: a holiday in Bavaria


def test_rules_are_normalised():
    policy = policy_from_dict(full_doc())
    assert policy.rules == (
        Rule("billing-to-billing-team", {"category": ("billing",)}, {"team": "billing"}),
        Rule(
            "key-accounts",
            {"customer": ("globex", "initech"), "priority": ("medium", "low")},
            {"priority": "high", "tier": 2},
        ),
        Rule(
            "unhappy-customer",
            {"csat_at_most": 2, "tag": ("dissatisfied",)},
            {"reopen": True, "tier": 3, "owner": "alice"},
        ),
    )
    # the raw document keeps what the user wrote
    assert policy.raw()["rules"][1]["then"] == {"priority": "p2", "tier": 2}


def test_channels_are_numbered_and_timeouts_default():
    policy = policy_from_dict(full_doc())
    command, webhook = policy.channels
    assert command == Channel(
        "command", ("/usr/local/bin/notify-oncall", "--json", "--token=s3cr3t-arg"), None, {}, 10, "command:1"
    )
    assert webhook.name == "webhook:2" and webhook.timeout == 3 and webhook.argv is None
    assert webhook.headers == {"Authorization": "Bearer T0KEN-HEADER", "X-Team": "support"}
    only_webhook = edited("channels", [{"type": "webhook", "url": "http://localhost/x"}])
    assert policy_from_dict(only_webhook).channels[0].timeout == 5


def test_normalise_priority():
    assert [normalise_priority(t) for t in ("urgent", "P1", "High", "p3", "LOW")] == [
        "urgent", "urgent", "high", "medium", "low",
    ]
    assert set(PRIORITY_ALIASES.values()) == set(PRIORITIES)
    # exact but for letter case (issue 20): surrounding space is not a priority
    for bad in ("p5", "", "critical", None, 1, " High ", "high\n", "p 1"):
        with pytest.raises(ValueError):
            normalise_priority(bad)


def test_importing_the_module_is_cheap():
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])}
    code = (
        "import sys, esc_cli.domain.policy\n"
        "heavy = [m for m in ('tomli_w', 'holidays', 'esc_cli.domain.calendar', 'typer', 'rich', 'sqlite3')"
        " if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ errors


def test_error_text_is_key_then_message():
    err = PolicyError("priorities.high.respond", "expected a span")
    assert str(err) == "priorities.high.respond: expected a span"
    assert isinstance(err, ValueError)
    assert str(PolicyError("", "not valid TOML")) == "not valid TOML"


def test_toml_syntax_error_has_no_key():
    err = error_for("timezone = \n")
    assert err.key == ""
    assert "not valid TOML" in err.message


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("colour", "colour"),
        ("priorities.high.respnd", "priorities.high.respnd"),
        ("calendars.business.weekend", "calendars.business.weekend"),
        ("tiers.1.colour", "tiers.1.colour"),
    ],
)
def test_unknown_keys_are_named(path, key):
    err = error_for(edited(path, "x"))
    assert err.key == key
    assert "unknown key" in err.message


def test_unknown_keys_in_rules_and_channels_are_named():
    doc = full_doc()
    doc["rules"][1]["when"]["region"] = "emea"
    assert error_for(doc).key == "rules[2].when.region"
    doc = full_doc()
    doc["rules"][0]["then"]["notify"] = True
    assert error_for(doc).key == "rules[1].then.notify"
    doc = full_doc()
    doc["rules"][2]["comment"] = "x"
    assert error_for(doc).key == "rules[3].comment"
    doc = full_doc()
    doc["channels"][0]["url"] = "https://example.com"  # a command channel has no url
    assert error_for(doc).key == "channels[1].url"
    doc = full_doc()
    doc["channels"][1]["secret"] = "x"
    assert error_for(doc).key == "channels[2].secret"


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        ("priorities.high.respond", "soon", "priorities.high.respond"),
        ("priorities.high.respond", "0m", "priorities.high.respond"),
        ("priorities.high.respond", 60, "priorities.high.respond"),
        ("priorities.urgent.update", "1x", "priorities.urgent.update"),
        ("priorities.low.resolve", "", "priorities.low.resolve"),
        ("close_after", "a week", "close_after"),
        ("close_after", "0d", "close_after"),
        ("tiers.2.stale_after", "4 hours", "tiers.2.stale_after"),
        ("tiers.2.stale_after", "1d", "tiers.2.stale_after"),
    ],
)
def test_bad_spans_name_their_key(path, value, key):
    assert error_for(edited(path, value)).key == key


def test_business_target_may_not_use_days():
    err = error_for(edited("priorities.medium.resolve", "5d"))
    assert err.key == "priorities.medium.resolve"
    assert "opening hours" in err.message
    assert error_for(edited("priorities.low.respond", "1w")).key == "priorities.low.respond"
    assert error_for(edited("priorities.medium.update", "30s")).key == "priorities.medium.update"
    # the same span is fine on 24x7: exactly 5 * 24 hours
    assert policy_from_dict(edited("priorities.high.resolve", "5d")).priorities["high"].resolve == 5 * D


def test_unknown_calendar():
    err = error_for(edited("priorities.low.calendar", "weekend"))
    assert err.key == "priorities.low.calendar"
    assert "weekend" in err.message and "business" in err.message
    assert error_for(edited("priorities.low.calendar", DELETE)).key == "priorities.low.calendar"
    assert error_for(edited("calendars", {})).key == "priorities.medium.calendar"


def test_24x7_cannot_be_redefined():
    doc = default_doc()
    doc["calendars"]["24x7"] = doc["calendars"]["business"]
    assert error_for(doc).key == "calendars.24x7"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("timezone", "Mars/Olympus_Mons"),
        ("timezone", ""),
        ("timezone", 1),
        ("timezone", "../../etc/passwd"),
        ("calendars.business.timezone", "Europe/Nowhere"),
    ],
)
def test_bad_zone(path, value):
    assert error_for(edited(path, value)).key == path


@pytest.mark.parametrize("value", [0, 1, 0.0, 1.0, 1.5, -0.2, "0.8", True, float("nan")])
def test_bad_warn_at(value):
    assert error_for(edited("warn_at", value)).key == "warn_at"


def test_warn_at_accepts_numbers_between_0_and_1():
    assert policy_from_dict(edited("warn_at", 0.5)).warn_at == 0.5


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        ("calendars.business.days", [], "calendars.business.days"),
        ("calendars.business.days", ["mon", "funday"], "calendars.business.days"),
        ("calendars.business.days", ["mon", "mon"], "calendars.business.days"),
        ("calendars.business.days", DELETE, "calendars.business.days"),
        ("calendars.business.hours", "9-5", "calendars.business.hours"),
        ("calendars.business.hours", ["13:00-17:00", "09:00-14:00"], "calendars.business.hours"),
        ("calendars.business.hours", 9, "calendars.business.hours"),
        ("calendars.business.holidays", ["2026-02-30"], "calendars.business.holidays"),
        ("calendars.business.holidays", ["25.12.2026"], "calendars.business.holidays"),
        ("calendars.business.holidays", "2026-12-25", "calendars.business.holidays"),
        ("calendars.business.country", "XX", "calendars.business.country"),
        ("calendars.business.subdivision", "BY", "calendars.business.subdivision"),
        ("calendars.business", "9-5", "calendars.business"),
    ],
)
def test_bad_calendar(path, value, key):
    assert error_for(edited(path, value)).key == key


def test_unknown_subdivision_of_a_known_country():
    doc = edited("calendars.business.country", "DE")
    doc["calendars"]["business"]["subdivision"] = "ZZ"
    assert error_for(doc).key == "calendars.business.subdivision"


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ([], "categories"),
        ("technical", "categories"),
        (["billing", "Billing"], "categories"),
        (["billing", ""], "categories"),
        (["billing", 3], "categories"),
    ],
)
def test_bad_categories(value, key):
    assert error_for(edited("categories", value)).key == key


def test_priorities_must_be_exactly_the_four():
    assert error_for(edited("priorities", DELETE)).key == "priorities"
    assert error_for(edited("priorities.low", DELETE)).key == "priorities.low"
    doc = default_doc()
    doc["priorities"]["p1"] = doc["priorities"]["urgent"]
    assert error_for(doc).key == "priorities.p1"
    assert error_for(edited("priorities.high.respond", DELETE)).key == "priorities.high.respond"
    assert error_for(edited("priorities.high.resolve", DELETE)).key == "priorities.high.resolve"
    assert policy_from_dict(edited("priorities.high.update", DELETE)).priorities["high"].update is None


def test_bad_tier_ladder():
    tiers = default_doc()["tiers"]
    gap = {"1": tiers["1"], "2": tiers["2"], "4": tiers["4"]}
    err = error_for(edited("tiers", gap))
    assert err.key == "tiers.3"
    assert "without gaps" in err.message
    assert error_for(edited("tiers", {"2": tiers["2"]})).key == "tiers.1"
    assert error_for(edited("tiers", {})).key == "tiers"
    assert error_for(edited("tiers", {"1": tiers["1"], "two": tiers["2"]})).key == "tiers.two"
    assert error_for(edited("tiers", {"0": tiers["1"]})).key == "tiers.0"
    assert error_for(edited("tiers.2.name", DELETE)).key == "tiers.2.name"
    assert error_for(edited("tiers.2.name", " ")).key == "tiers.2.name"
    assert error_for(edited("tiers.2", "Specialist")).key == "tiers.2"


def test_a_tier_without_stale_after_never_goes_stale():
    policy = policy_from_dict(edited("tiers.2.stale_after", DELETE))
    assert policy.tiers[2].stale_after is None
    assert policy.tiers[1].stale_after == 4 * H


def test_tier_levels_written_as_integers_are_accepted():
    doc = edited("tiers", {1: {"name": "One"}, 2: {"name": "Two", "stale_after": "1h30m"}})
    policy = policy_from_dict(doc)
    assert policy.tiers[2] == Tier(2, "Two", 90 * 60)
    assert set(policy.raw()["tiers"]) == {"1", "2"}


def rule_error(index: int, rule: dict) -> PolicyError:
    doc = full_doc()
    doc["rules"][index - 1] = rule
    return error_for(doc)


@pytest.mark.parametrize(
    ("rule", "key"),
    [
        ({"when": {"tag": "x"}, "then": {"tier": 2}}, "rules[2].name"),
        ({"name": "has space", "when": {"tag": "x"}, "then": {"tier": 2}}, "rules[2].name"),
        ({"name": "billing-to-billing-team", "when": {"tag": "x"}, "then": {"tier": 2}}, "rules[2].name"),
        ({"name": "r", "then": {"tier": 2}}, "rules[2].when"),
        ({"name": "r", "when": {}, "then": {"tier": 2}}, "rules[2].when"),
        ({"name": "r", "when": {"tag": "x"}}, "rules[2].then"),
        ({"name": "r", "when": {"tag": "x"}, "then": {}}, "rules[2].then"),
        ({"name": "r", "when": {"tag": "x"}, "then": {"tier": 5}}, "rules[2].then.tier"),
        ({"name": "r", "when": {"tag": "x"}, "then": {"tier": 0}}, "rules[2].then.tier"),
        ({"name": "r", "when": {"tag": "x"}, "then": {"tier": "2"}}, "rules[2].then.tier"),
        ({"name": "r", "when": {"tag": "x"}, "then": {"priority": "critical"}}, "rules[2].then.priority"),
        ({"name": "r", "when": {"tag": "x"}, "then": {"reopen": False}}, "rules[2].then.reopen"),
        ({"name": "r", "when": {"tag": "x"}, "then": {"team": ""}}, "rules[2].then.team"),
        ({"name": "r", "when": {"tag": "x"}, "then": {"owner": 7}}, "rules[2].then.owner"),
        ({"name": "r", "when": {"csat_at_most": 6}, "then": {"tier": 2}}, "rules[2].when.csat_at_most"),
        ({"name": "r", "when": {"csat_at_most": True}, "then": {"tier": 2}}, "rules[2].when.csat_at_most"),
        ({"name": "r", "when": {"reopened_at_least": 0}, "then": {"tier": 2}}, "rules[2].when.reopened_at_least"),
        ({"name": "r", "when": {"tag": []}, "then": {"tier": 2}}, "rules[2].when.tag"),
        ({"name": "r", "when": {"tag": ["a", 1]}, "then": {"tier": 2}}, "rules[2].when.tag"),
        ({"name": "r", "when": {"priority": "p9"}, "then": {"tier": 2}}, "rules[2].when.priority"),
        ({"name": "r", "when": {"channel": "fax"}, "then": {"tier": 2}}, "rules[2].when.channel"),
        ({"name": "r", "when": {"category": "hardware"}, "then": {"tier": 2}}, "rules[2].when.category"),
        ("not a table", "rules[2]"),
    ],
)
def test_bad_rules(rule, key):
    assert rule_error(2, rule).key == key


def test_rules_must_be_a_list():
    assert error_for(edited("rules", {"name": "x"})).key == "rules"


def test_rule_tier_is_checked_against_the_policys_own_ladder():
    doc = full_doc()
    doc["tiers"] = {"1": {"name": "Only"}, "2": {"name": "Two"}}
    assert error_for(doc).key == "rules[3].then.tier"  # unhappy-customer sends to tier 3


def channel_error(channel: dict, index: int = 2) -> PolicyError:
    doc = full_doc()
    doc["channels"][index - 1] = channel
    return error_for(doc)


@pytest.mark.parametrize(
    ("channel", "key"),
    [
        ({"argv": ["x"]}, "channels[2].type"),
        ({"type": "sms", "to": "x"}, "channels[2].type"),
        ({"type": "command"}, "channels[2].argv"),
        ({"type": "command", "argv": []}, "channels[2].argv"),
        ({"type": "command", "argv": "notify --json"}, "channels[2].argv"),
        ({"type": "command", "argv": ["", "x"]}, "channels[2].argv"),
        ({"type": "command", "argv": ["notify", 3]}, "channels[2].argv"),
        ({"type": "command", "argv": ["notify"], "timeout": 10}, "channels[2].timeout"),
        ({"type": "command", "argv": ["notify"], "timeout": "2h"}, "channels[2].timeout"),
        ({"type": "webhook"}, "channels[2].url"),
        ({"type": "webhook", "url": "ftp://example.com/x"}, "channels[2].url"),
        ({"type": "webhook", "url": "example.com/hook"}, "channels[2].url"),
        ({"type": "webhook", "url": "https://"}, "channels[2].url"),
        ({"type": "webhook", "url": "https://example.com:99999/x"}, "channels[2].url"),
        ({"type": "webhook", "url": "https://example.com/a b"}, "channels[2].url"),
        ({"type": "webhook", "url": "https://x.org", "headers": {"X-N": 1}}, "channels[2].headers.X-N"),
        ({"type": "webhook", "url": "https://x.org", "headers": {"Bad Name": "v"}}, "channels[2].headers.Bad Name"),
        ({"type": "webhook", "url": "https://x.org", "headers": {"X": "a\r\nB: c"}}, "channels[2].headers.X"),
        ({"type": "webhook", "url": "https://x.org", "headers": ["X: y"]}, "channels[2].headers"),
        ({"type": "webhook", "url": "https://x.org", "argv": ["x"]}, "channels[2].argv"),
        ({"type": "webhook", "url": "https://x.org", "timeout": "0s"}, "channels[2].timeout"),
    ],
)
def test_bad_channels(channel, key):
    assert channel_error(channel).key == key


def test_channels_must_be_a_list_of_tables():
    assert error_for(edited("channels", {"type": "command"})).key == "channels"
    assert error_for(edited("channels", ["notify"])).key == "channels[1]"


def test_errors_from_toml_text_name_the_key():
    text = DEFAULT_POLICY_TOML.replace('resolve = "40h"', 'resolve = "5d"')
    err = error_for(text)
    assert str(err).startswith("priorities.medium.resolve: ")


# ------------------------------------------------------------------ secrets


def test_masked_hides_headers_url_secrets_and_arguments():
    doc = full_doc()
    before = copy.deepcopy(doc)
    shown = masked(doc)
    assert doc == before  # the input is not touched
    command, webhook = shown["channels"]
    assert command["argv"] == ["/usr/local/bin/notify-oncall", "****", "****"]
    assert webhook["url"] == "https://****@chat.example.com:8443/****?****#****"
    assert webhook["headers"] == {"Authorization": "****", "X-Team": "****"}
    assert shown["priorities"] == doc["priorities"]  # everything else is as it was


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://chat.example.com/hooks/T0KEN", "https://chat.example.com/****"),
        ("https://chat.example.com", "https://chat.example.com"),
        ("https://chat.example.com/", "https://chat.example.com/"),
        ("http://u@localhost:8080", "http://****@localhost:8080"),
        ("https://example.com?token=x", "https://example.com?****"),
        ("http://[::1]:9000/p", "http://[::1]:9000/****"),
    ],
)
def test_masked_urls_keep_scheme_host_and_port(url, shown):
    doc = {"channels": [{"type": "webhook", "url": url}]}
    assert masked(doc)["channels"][0]["url"] == shown


def test_masked_policy_raw_document_for_display():
    raw = policy_from_dict(full_doc()).raw()
    text = repr(masked(raw))
    for secret in ("hookpass", "T0KEN", "abc123", "s3cr3t", "--json", "support"):
        assert secret not in text
    assert "chat.example.com:8443" in text and "/usr/local/bin/notify-oncall" in text


def test_masked_without_channels():
    assert masked(default_doc()) == default_doc()


def test_mask_text_hides_every_secret_in_a_message():
    doc = full_doc()
    message = (
        "POST https://hookuser:hookpass@chat.example.com:8443/hooks/T0KEN?sig=abc123#frag failed; "
        "header Bearer T0KEN-HEADER rejected; token T0KEN; sig=abc123; "
        "command /usr/local/bin/notify-oncall --json --token=s3cr3t-arg exited 1"
    )
    out = mask_text(message, doc)
    for secret in ("hookpass", "hookuser", "T0KEN", "abc123", "s3cr3t", "--json"):
        assert secret not in out
    assert "https://****@chat.example.com:8443/****?****#****" in out
    assert "/usr/local/bin/notify-oncall" in out
    assert out.endswith("exited 1")


def test_mask_text_leaves_short_or_unrelated_text_alone():
    doc = {"channels": [{"type": "command", "argv": ["notify", "-v"]}]}
    assert mask_text("error: -v is not a valid flag", doc) == "error: -v is not a valid flag"
    assert mask_text("nothing secret", default_doc()) == "nothing secret"


# ------------------------------------------------------------------ tiers


def test_with_tier_adds_the_next_level():
    doc = default_doc()
    before = copy.deepcopy(doc)
    new = with_tier(doc, 5, "Executive", None)
    assert doc == before
    policy = policy_from_dict(new)
    assert policy.top_tier == 5
    assert policy.tiers[5] == Tier(5, "Executive", None)
    # the previous top tier keeps the value the user gave it
    assert policy.tiers[4].stale_after is None
    assert policy.tiers[1] == Tier(1, "Frontline", 4 * H)


def test_with_tier_refuses_a_gap():
    with pytest.raises(ValueError, match="gap"):
        with_tier(default_doc(), 6, "Board", None)
    with pytest.raises(ValueError):
        with_tier(default_doc(), 0, "Nobody", None)
    with pytest.raises(ValueError):
        with_tier(default_doc(), 2, "", None)


def test_with_tier_edits_a_level_and_keeps_the_others():
    new = with_tier(default_doc(), 2, "Experts", 90 * 60)
    assert new["tiers"]["2"] == {"name": "Experts", "stale_after": "1h30m"}
    policy = policy_from_dict(new)
    assert policy.tiers[2] == Tier(2, "Experts", 5400)
    assert [t.name for t in policy.tiers.values()] == ["Frontline", "Experts", "Manager", "Senior management"]
    assert with_tier(new, 4, "Senior management", 2 * D)["tiers"]["4"]["stale_after"] == "48h"


def test_a_tier_renamed_without_stale_after_keeps_its_own(esc):
    # `tier add 2 Specialists` renames tier 2; it used to turn its stale
    # re-escalation off as well (none), unlike every other key of the tier
    assert with_tier(default_doc(), 2, "Specialists")["tiers"]["2"]["stale_after"] == "4h"
    assert with_tier(default_doc(), 5, "Board")["tiers"]["5"]["stale_after"] == "none"
    esc.ok("tier", "add", "2", "Specialists")
    tiers = {t["level"]: t for t in esc.doc("tier", "list")}
    assert (tiers[2]["name"], tiers[2]["stale_after"]) == ("Specialists", "4h")
    esc.ok("tier", "add", "2", "Specialists", "--stale-after", "none")
    assert {t["level"]: t for t in esc.doc("tier", "list")}[2]["stale_after"] is None
    esc.ok("tier", "add", "5", "Board")
    assert {t["level"]: t for t in esc.doc("tier", "list")}[5]["stale_after"] is None


def test_with_tier_on_a_document_without_tiers_starts_from_the_defaults():
    doc = tomllib.loads(MINIMAL)
    new = with_tier(doc, 5, "Executive", 30 * 60)
    policy = policy_from_dict(new)
    assert [t.level for t in policy.tiers.values()] == [1, 2, 3, 4, 5]
    assert policy.tiers[5].stale_after == 1800
    assert parse_policy(dump_policy(new)) == policy


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=10 * 365 * D))
def test_with_tier_stale_after_survives_the_round_trip(seconds):
    new = with_tier(default_doc(), 2, "Specialist", seconds)
    assert parse_policy(dump_policy(new)).tiers[2].stale_after == seconds


def test_textwrap_policy_with_everything():
    """A hand-written policy using every feature loads as written."""
    text = textwrap.dedent(
        """
        timezone = "America/New_York"
        warn_at = 0.75
        close_after = "3d12h"
        categories = ["hardware", "software"]

        [calendars.ny]
        days = ["mon", "tue", "wed", "thu", "fri", "sat"]
        hours = ["08:00-12:00", "13:00-18:00"]
        holidays = [2026-07-03, "2026-12-24"]
        country = "US"

        [priorities.urgent]
        respond = "10m"
        update = "30m"
        resolve = "2h"
        calendar = "24x7"
        [priorities.high]
        respond = "30m"
        resolve = "1d"
        calendar = "24x7"
        [priorities.medium]
        respond = "2h"
        update = "none"
        resolve = "1h30m"
        calendar = "ny"
        [priorities.low]
        respond = "4h"
        resolve = "90h"
        calendar = "ny"

        [tiers.1]
        name = "L1"
        stale_after = "2h"
        [tiers.2]
        name = "L2"

        [[rules]]
        name = "hw"
        when = { category = "Hardware", channel = ["phone", "CHAT"], reopened_at_least = 2 }
        then = { tier = 2, team = "field" }
        """
    )
    policy = parse_policy(text)
    assert policy.close_after == 3 * D + 12 * H
    assert policy.calendar_specs["ny"]["timezone"] == "America/New_York"
    assert policy.calendar_specs["ny"]["holidays"] == ["2026-07-03", "2026-12-24"]
    assert policy.priorities["medium"].update is None
    assert policy.priorities["medium"].resolve == 90 * 60
    assert policy.tiers[2].stale_after is None
    assert policy.rules[0].when == {"category": ("hardware",), "channel": ("phone", "chat"), "reopened_at_least": 2}
    assert policy.calendar("ny").is_holiday(dt.date(2026, 11, 26))  # Thanksgiving
    assert parse_policy(dump_policy(policy.raw())) == policy
