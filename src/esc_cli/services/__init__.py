"""Use cases: each write is one BEGIN IMMEDIATE transaction that reads the rows, asks
the domain, writes the case and its events, and commits.

This package's face names every use case (`from esc_cli import services;
services.note(...)`) and imports the module that holds one only when it is first asked
for, so a command loads the use cases it runs and no others. Where they live:

- `policies.py`: `Policies`, the policy versions one transaction reads, parsed once
- `write_path.py`: what every write shares: load a case, let the domain move it, `_save`
- `cases.py`: working a case: open, acknowledge, assign, escalate, ..., show, queue
- `people.py`: the ladder and the people on it: tiers and owners
- `policy.py`: `esc init`, and showing and loading the policy

The other modules here (sweep, notify, report, importing, export, doctor, ...) are
imported by their own names.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

# name -> the module (in this package) that defines it
_HOMES = {
    "Policies": "policies",
    "parse_case_id": "write_path",
    "load_case": "write_path",
    "open_case": "cases",
    "acknowledge": "cases",
    "assign": "cases",
    "take": "cases",
    "note": "cases",
    "escalate": "cases",
    "deescalate": "cases",
    "pending": "cases",
    "resume": "cases",
    "resolve": "cases",
    "reopen": "cases",
    "close": "cases",
    "feedback": "cases",
    "set_fields": "cases",
    "show": "cases",
    "queue": "cases",
    "flag_unowned": "cases",
    "tier_list": "people",
    "tier_add": "people",
    "owner_add": "people",
    "owner_list": "people",
    "owner_deactivate": "people",
    "init_store": "policy",
    "policy_current": "policy",
    "policy_load": "policy",
}


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # asked once: later uses do not come back here
    return value


if TYPE_CHECKING:  # what the face names, for mypy and readers; nothing is imported at run time
    from esc_cli.services.policies import (
        Policies as Policies,
    )
    from esc_cli.services.write_path import (
        parse_case_id as parse_case_id,
        load_case as load_case,
    )
    from esc_cli.services.cases import (
        open_case as open_case,
        acknowledge as acknowledge,
        assign as assign,
        take as take,
        note as note,
        escalate as escalate,
        deescalate as deescalate,
        pending as pending,
        resume as resume,
        resolve as resolve,
        reopen as reopen,
        close as close,
        feedback as feedback,
        set_fields as set_fields,
        show as show,
        queue as queue,
        flag_unowned as flag_unowned,
    )
    from esc_cli.services.people import (
        tier_list as tier_list,
        tier_add as tier_add,
        owner_add as owner_add,
        owner_list as owner_list,
        owner_deactivate as owner_deactivate,
    )
    from esc_cli.services.policy import (
        init_store as init_store,
        policy_current as policy_current,
        policy_load as policy_load,
    )
