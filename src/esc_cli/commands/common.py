"""Option types and helpers every command module shares."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def _completer(kind: str):
    """A shell-completion callback that reads candidates from the store (lazily: the
    store code is imported only when a shell asks)."""

    def complete(ctx: typer.Context, incomplete: str):
        from esc_cli.services.completion import completions

        return completions(ctx, kind, incomplete)

    complete.__name__ = f"complete_{kind}"
    return complete


complete_case_id = _completer("case")
complete_owner = _completer("owner")
complete_owner_or_me = _completer("owner_or_me")
complete_tier = _completer("tier")
complete_team = _completer("team")
complete_priority = _completer("priority")
complete_category = _completer("category")
complete_state = _completer("state")

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document")]
CaseId = Annotated[
    str, typer.Argument(metavar="ID", help="Case id (42 or #42)", autocompletion=complete_case_id)
]

# The case filters `queue` and `search` share (see case_filters below).
TierFilter = Annotated[
    Optional[int], typer.Option(help="Only this tier", autocompletion=complete_tier)
]
OwnerFilter = Annotated[
    Optional[str],
    typer.Option(help="Only this owner ('me' for yourself)", autocompletion=complete_owner_or_me),
]
UnassignedFilter = Annotated[bool, typer.Option("--unassigned", help="Only cases with no owner")]
TeamFilter = Annotated[
    Optional[str], typer.Option(help="Only this team", autocompletion=complete_team)
]
AtRiskFilter = Annotated[bool, typer.Option("--at-risk", help="Only cases with a clock at risk")]
BreachedFilter = Annotated[
    bool, typer.Option("--breached", help="Only cases with a clock breached")
]
PriorityFilter = Annotated[
    Optional[str],
    typer.Option("--priority", "-p", help="Only this priority", autocompletion=complete_priority),
]
CategoryFilter = Annotated[
    Optional[str], typer.Option(help="Only this category", autocompletion=complete_category)
]
Limit = Annotated[int, typer.Option(help="At most N cases (0: all)")]


def output(ctx: typer.Context, as_json: bool):
    from esc_cli.render.output import Output

    return Output(ctx.obj, as_json)


def case_filters(
    *, tier, owner, unassigned, team, priority, category, state, at_risk, breached
) -> dict:
    """The filters `queue` and `search` share, with `--state` taken repeatable or
    comma-separated."""
    states = [s.lower() for item in (state or []) for s in item.split(",") if s]
    for item in state or []:
        if not item.replace(",", ""):  # `--state ,` would list the default states
            from esc_cli.errors import UsageError

            raise UsageError(f"--state {item!r} names no state")
    return {
        "tier": tier,
        "owner": owner,
        "unassigned": unassigned,
        "team": team,
        "priority": priority,
        "category": category,
        "state": states,
        "at_risk": at_risk,
        "breached": breached,
    }


def strict_integers(command):
    """`command` (a click command or group, as Typer builds it) with every integer
    parameter read exactly: click reads `int(text)`, which takes ` 7`, `+7`, `7_0` and
    other scripts' digits; SPEC §4 wants anything else than a plain number refused, and
    a number past the store's integers said to be too large. Done once per built
    command, so every int option of every module is covered, present and future."""
    from typer._click import types

    class Integer(types.IntParamType):
        def convert(self, value, param, ctx):
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            text = str(value)
            digits = text[1:] if text.startswith("-") else text
            if not (digits.isascii() and digits.isdigit()):
                self.fail(f"{value!r} is not a whole number", param, ctx)
            if len(digits.lstrip("0")) > 19:  # int() refuses past 4300 digits
                self.fail(f"{value!r} is too large", param, ctx)
            number = int(text)
            if abs(number) >= 2**63:
                self.fail(f"{value!r} is too large", param, ctx)
            return number

    exact = Integer()
    stack = [command]
    while stack:
        current = stack.pop()
        for param in current.params:
            if param.type is types.INT:
                param.type = exact
        stack.extend(getattr(current, "commands", {}).values())
    return command


# Options whose empty value is documented to mean something (docs/agents.md): `open
# --team ""` and `set --team ""` mean no team, and a tag that trimming leaves empty is
# dropped, as tags are trimmed and folded.
BLANK_MEANS_NONE = frozenset({"open --team", "set --team", "open --tag", "set --tag"})


# Parameters that name an owner: a handle is exact (issue 20), so one with a space or a
# control character cannot name anyone. Read as given, `queue --owner $'ali\x1bce'`
# listed nothing and `assign 7 $'ali\x1bce'` said "no owner 'alice'" (the control
# character cleaned from the message) while alice exists.
HANDLE_PARAMETERS = frozenset({"owner", "handle"})


def _exact_handles(name: str, given) -> None:
    from esc_cli.domain.owner_records import valid_handle
    from esc_cli.errors import UsageError

    for value in given:
        if isinstance(value, str) and not valid_handle(value):
            raise UsageError(
                f"{name}: {value!r} is not a valid handle (no spaces or control characters)"
            )


def refuse_blank(command):
    """`command` (a click command or group, as Typer builds it) with every option that
    takes a value refusing "" or blanks given on the command line: exit 2, naming the
    option. Read as left out, an empty value answers another question than the one
    asked: `--now "$UNSET"` acted at the real clock and wrote history no backfill could
    precede, `queue --priority ""` listed nothing, `overdue --team ""` everything,
    `report --format ""` took the default, `export --output " "` wrote a file named
    " ". An empty environment variable (`ESC_NOW=`) is still "not given", as in a
    crontab: click reads it as unset, so its source is never the command line. Done
    once per built command, as strict_integers, so every option of every module is
    covered, present and future."""
    from typer._click.core import ParameterSource

    from esc_cli.errors import UsageError

    def refusing(param, name: str, process):
        handle = param.name in HANDLE_PARAMETERS

        def process_value(ctx, value):
            if ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE:
                given = value if isinstance(value, (list, tuple)) else (value,)
                if any(isinstance(v, str) and not v.strip() for v in given):
                    raise UsageError(f"{name} must not be empty")
                if handle:
                    _exact_handles(name, given)
            return process(ctx, value)

        process_value.refuses_blank = True  # type: ignore[attr-defined]  # a marker
        return process_value

    stack: list = [("", command)]
    while stack:
        path, current = stack.pop()
        for param in current.params:
            if param.param_type_name == "argument" and param.name in HANDLE_PARAMETERS:
                pass  # a handle given as an argument (assign CASE OWNER) is checked too
            elif param.param_type_name != "option" or param.is_flag or param.count:
                continue
            if getattr(param.process_value, "refuses_blank", False):
                continue  # a command built once and reached again (an unknown name)
            name = next((o for o in param.opts if o.startswith("--")), param.opts[0])
            if param.param_type_name == "argument":
                name = param.name.upper()
            if f"{path} {name}".strip() in BLANK_MEANS_NONE:
                continue
            param.process_value = refusing(param, name, param.process_value)
        for sub, child in getattr(current, "commands", {}).items():
            stack.append((f"{path} {sub}".strip(), child))
    return command
