"""Each policy version keeps its parsed TOML as JSON (store/policies.py): every run reads
that copy, so it must say exactly what the TOML says, and doctor must catch a copy that
does not."""

from __future__ import annotations

import datetime as dt

import tomllib

from esc_cli.store.policies import decode_document, encode_document

TOML_WITH_EVERY_TYPE = """
title = "x"
count = 3
ratio = 0.8
flag = true
day = 2026-12-25
at = 2026-11-02T10:15:00Z
local = 2026-11-02T10:15:00.250
clock = 08:30:00
offset = 2026-11-02T10:15:00-05:00
nested = { list = [1979-05-27, "text", [2, 3.5]] }
[[tables]]
name = "a"
when = 07:32:00.999999
"""


def test_the_parsed_copy_reads_back_as_tomllib_parses_the_text():
    expected = tomllib.loads(TOML_WITH_EVERY_TYPE)
    decoded = decode_document(encode_document(TOML_WITH_EVERY_TYPE))
    assert decoded == expected
    assert type(decoded["day"]) is dt.date and type(decoded["at"]) is dt.datetime
    assert decoded["offset"].utcoffset() == dt.timedelta(hours=-5)


def test_text_that_is_not_toml_or_uses_the_tag_has_no_copy():
    assert encode_document("not = [toml") is None
    assert encode_document('x = { "\\u0000toml" = 1 }') is None


def test_a_store_holds_the_copy_and_runs_use_it(esc):
    toml, document = esc.rows("SELECT toml, document FROM policy_versions ORDER BY id DESC")[0]
    assert decode_document(document) == tomllib.loads(toml)
    # a copy that says something else is what a run acts on, so doctor must flag it
    changed = document.replace('"warn_at": 0.8', '"warn_at": 0.5')
    assert changed != document
    esc.sql(("UPDATE policy_versions SET document = ?", (changed,)))
    result = esc("doctor")
    assert result.code == 5 and "parsed copy differs" in result.out
    assert esc("doctor", "--repair").code == 0
    assert esc("doctor").code == 0


def test_a_damaged_copy_falls_back_to_the_toml_and_doctor_names_it(esc):
    esc.ok("open", "VPN down", "--customer", "Acme", "--priority", "high")
    esc.sql("UPDATE policy_versions SET document = '{bad'")
    shown = esc("show", "1")
    assert shown.code == 0 and "VPN down" in shown.out, shown.err
    checked = esc("doctor")
    assert checked.code == 5 and "parsed copy differs" in checked.out
    assert "due_times\tyes" in checked.out  # only the policy check is about the copy
