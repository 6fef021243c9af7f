"""What `esc --help` and each command's help teach: the panel a command is listed in,
a short line for that list, and the examples its own help ends with.

A new command adds one entry to COMMANDS (its path as typed: "queue", "tier add"):
its panel (top-level commands and groups only) and two or three example command lines
that really run. A command may instead pass `rich_help_panel=` / `epilog=examples(...)`
to its decorator; a value given there wins. tests/test_help.py fails for a command
with no panel or no examples, and for an example that does not parse.

Plain strings only: this module is imported on every run, so it imports nothing.
"""

from __future__ import annotations

WORK = "Work a case"
QUEUES = "Queues and search"
REPORTS = "Reports"
SETUP = "Policy, tiers and people"
DATA = "Data"
MAINTENANCE = "Maintenance"
# The order the panels appear in `esc --help`.
PANELS = (WORK, QUEUES, REPORTS, SETUP, DATA, MAINTENANCE)


def examples(*lines: str) -> str:
    """An epilog of example command lines, one a line, as Rich and plain click both keep
    them: the leading \\b line stops click re-wrapping the paragraph (Rich drops it),
    and a heading at the left margin keeps the examples' indent through cleandoc."""
    return "\b\nExamples:\n" + "\n".join(f"  $ {line}" for line in lines)


# path: (panel, examples). Examples use ids and names from `esc demo`'s desk where
# they can; '#42' is quoted because the shell, too, reads an unquoted # as a comment.
# Each fits 74 characters, so that the help shows it on one line at 80 columns (its
# margins and "$ " take 6): a command broken mid-line is copied broken.
COMMANDS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "": (
        None,
        (
            "esc demo                            # a sample desk to try everything on",
            "esc queue --owner me --db team.db   # global options: before or after it",
            'esc open "VPN drops every hour" --customer Acme --priority high',
        ),
    ),
    # -- work a case
    "open": (
        WORK,
        (
            'esc open "Checkout returns 500" --customer Globex --priority urgent',
            'esc open "Wrong invoice currency" -c Initech -p medium --category billing',
            'esc open "App crashes on login" -c Acme -p high --tag mobile --json',
        ),
    ),
    "ack": (
        WORK,
        (
            "esc ack 42",
            "esc ack '#42' --json",
        ),
    ),
    "assign": (
        WORK,
        (
            "esc assign 42 bob",
            "esc assign 42 bob --force         # past bob's capacity",
        ),
    ),
    "take": (
        WORK,
        (
            "esc take 42",
            "esc take 42 --as carol            # as someone else (or ESC_USER)",
        ),
    ),
    "note": (
        WORK,
        (
            'esc note 42 "Asked for the HAR file"',
            'esc note 42 --customer "A fix ships tonight; we will confirm by 18:00"',
            'esc note 42 -- "--force did not help"  # -- ends the options',
        ),
    ),
    "escalate": (
        WORK,
        (
            'esc escalate 42 --reason "needs a specialist"          # up one tier',
            'esc escalate 42 --to 3 --reason "customer threatens to churn"',
            'esc escalate 42 --team billing --owner ines -r "refund over the limit"',
        ),
    ),
    "deescalate": (
        WORK,
        (
            'esc deescalate 42 --reason "workaround in place"',
            'esc deescalate 42 --to 1 -r "back to the frontline"',
        ),
    ),
    "pending": (
        WORK,
        (
            'esc pending 42 --reason "waiting for the customer\'s logs"',
            'esc pending 42 -r "customer away until Monday"',
        ),
    ),
    "resume": (
        WORK,
        (
            "esc resume 42",
            "esc resume 42 --json",
        ),
    ),
    "resolve": (
        WORK,
        (
            'esc resolve 42 --resolution "cleared the CDN cache"',
            'esc resolve 42 -r "duplicate of #40"',
        ),
    ),
    "reopen": (
        WORK,
        (
            'esc reopen 42 --reason "the 500s are back"',
            'esc reopen 42 -r "customer could not log in after the fix" --json',
        ),
    ),
    "close": (
        WORK,
        (
            "esc close 42",
            "esc close 42 --json",
        ),
    ),
    "feedback": (
        WORK,
        (
            "esc feedback 42 --csat 5",
            'esc feedback 42 --csat 2 --comment "took three days"',
        ),
    ),
    "set": (
        WORK,
        (
            "esc set 42 --priority high",
            "esc set 42 --tag vip --untag triage",
            'esc set 42 --title "Checkout 500s in the EU only" --team network',
        ),
    ),
    "show": (
        WORK,
        (
            "esc show 42",
            "esc show 42 --all                 # every event of the timeline",
            "esc show '#42' --json",
        ),
    ),
    "explain": (
        WORK,
        (
            "esc explain 42",
            "esc explain 42 --json",
        ),
    ),
    # -- queues and search
    "queue": (
        QUEUES,
        (
            "esc queue",
            "esc queue --owner me --at-risk",
            "esc queue --tier 2 --state pending --sort age --limit 0",
        ),
    ),
    "overdue": (
        QUEUES,
        (
            "esc overdue",
            "esc overdue --within 2h           # and what falls due in the next 2h",
            "esc overdue --team network --json",
        ),
    ),
    "search": (
        QUEUES,
        (
            "esc search refund",
            'esc search "vpn timeout" --state open,pending',
            "esc search 'check*' --priority urgent --owner me",
        ),
    ),
    # -- reports
    "report": (
        REPORTS,
        (
            "esc report",
            'esc report --since "last week" --by team',
            "esc report --since 2026-10 --until 2026-10 --format html -o october.html",
        ),
    ),
    # -- policy, tiers and people
    "tier": (
        SETUP,
        (
            "esc tier list",
            "esc tier add 5 Executive --stale-after none",
        ),
    ),
    "tier list": (
        None,
        (
            "esc tier list",
            "esc tier list --json",
        ),
    ),
    "tier add": (
        None,
        (
            "esc tier add 5 Executive --stale-after none",
            "esc tier add 2 Specialist --stale-after 6h    # rename or retime a tier",
        ),
    ),
    "oncall": (
        SETUP,
        (
            "esc oncall",
            "esc oncall --at 2026-12-24T12:00 --json",
        ),
    ),
    "owner": (
        SETUP,
        (
            "esc owner list",
            'esc owner add alice --name "Alice Archer" --tier 1 --team billing',
        ),
    ),
    "owner add": (
        None,
        (
            'esc owner add alice --name "Alice Archer" --email alice@example.com',
            "esc owner add alice --tier 1 --team billing --capacity 12",
            "esc owner add bob --tier 2 --team technical --team network",
        ),
    ),
    "owner list": (
        None,
        (
            "esc owner list",
            "esc owner list --json",
        ),
    ),
    "owner away": (
        None,
        (
            'esc owner away olaf --until 2026-12-14T09:00 --reason "parental leave"',
            "esc owner away olaf --until 3d",
        ),
    ),
    "owner back": (
        None,
        (
            "esc owner back olaf",
            "esc owner back olaf --json",
        ),
    ),
    "owner deactivate": (
        None,
        (
            "esc owner deactivate olaf",
            "esc owner deactivate olaf --json",
        ),
    ),
    "policy": (
        SETUP,
        (
            "esc policy show",
            "esc policy export > policy.toml",
            "esc policy load policy.toml --recompute",
        ),
    ),
    "policy show": (
        None,
        (
            "esc policy show",
            "esc policy show --json",
        ),
    ),
    "policy export": (
        None,
        (
            "esc policy export > policy.toml",
            "esc policy export --db team.db | diff - policy.toml",
        ),
    ),
    "policy load": (
        None,
        (
            "esc policy load policy.toml",
            "esc policy load policy.toml --recompute   # open cases get the new targets",
        ),
    ),
    "policy try": (
        None,
        (
            "esc policy try new.toml                   # the last 30 days, by priority",
            "esc policy try new.toml --since 90d --by team",
            "esc policy try new.toml --format markdown > change-request.md",
        ),
    ),
    # -- data
    "init": (
        DATA,
        (
            "esc init",
            "esc init --policy policy.toml",
            "esc init --db team.db",
        ),
    ),
    "import": (
        DATA,
        (
            "esc import owners.csv",
            "esc import cases.json --dry-run",
            "esc import export.json            # a whole export, into an empty store",
        ),
    ),
    "export": (
        DATA,
        (
            "esc export -o export.json",
            "esc export --format csv > cases.csv",
        ),
    ),
    "demo": (
        DATA,
        (
            "esc demo",
            "esc demo --into ~/esc-demo.db",
            "esc demo --now 2026-12-07T09:00 --tz America/New_York",
        ),
    ),
    "backup": (
        DATA,
        (
            "esc backup ~/backups/             # named esc-<UTC time>.db",
            "esc backup esc-monday.db --force",
        ),
    ),
    # -- maintenance
    "sweep": (
        MAINTENANCE,
        (
            "esc sweep                         # from cron, every five minutes",
            "esc sweep --dry-run",
            "esc sweep --now 2026-11-02T10:00 --json",
        ),
    ),
    "notify": (
        MAINTENANCE,
        (
            "esc notify list --pending",
            "esc notify retry",
        ),
    ),
    "notify list": (
        None,
        (
            "esc notify list --pending",
            "esc notify list --case 42 --json",
        ),
    ),
    "notify retry": (
        None,
        (
            "esc notify retry",
            "esc notify retry --json",
        ),
    ),
    "doctor": (
        MAINTENANCE,
        (
            "esc doctor",
            "esc doctor --repair",
            "esc doctor --json",
        ),
    ),
    "completion": (
        MAINTENANCE,
        (
            "esc completion bash > ~/.local/share/bash-completion/completions/esc",
            "esc completion zsh > ~/.zfunc/_esc",
            "esc completion fish > ~/.config/fish/completions/esc.fish",
        ),
    ),
}

# Lines for the list in `esc --help` where a command's help is longer than one line.
SHORT = {
    "sweep": "The cron job: warn, record breaches, escalate, close, notify.",
    "report": "The metrics dashboard: volumes, SLA, FCR, CSAT, backlog, trends.",
    "import": "Import cases, owners, or a whole export (CSV or JSON).",
    "export": "Write the whole store out as JSON or CSV.",
    "demo": "A sample desk in a new store, to try everything on.",
    "search": "Full-text search over titles, descriptions and notes.",
    "backup": "Copy the store while esc keeps running.",
    "doctor": "Check the store: integrity, schema, policy, histories, due times.",
}


def apply(app) -> None:
    """Give every registered command and group its panel, short line and examples (a
    value its decorator set wins)."""
    root = COMMANDS.get("")
    if root and not isinstance(app.info.epilog, str):
        app.info.epilog = examples(*root[1])
    for info in app.registered_commands:
        _fill(info, _command_name(info))
    for group in app.registered_groups:
        _fill(group, group.name)
        for info in group.typer_instance.registered_commands:
            _fill(info, f"{group.name} {_command_name(info)}")


def _fill(info, path: str) -> None:
    entry = COMMANDS.get(path)
    if entry is None:
        return  # tests/test_help.py names it
    panel, lines = entry
    # a group's TyperInfo holds Default placeholders until a value is set
    if panel and not isinstance(info.rich_help_panel, str):
        info.rich_help_panel = panel
    if lines and not isinstance(info.epilog, str):
        info.epilog = examples(*lines)
    if path in SHORT and hasattr(info, "short_help") and not isinstance(info.short_help, str):
        info.short_help = SHORT[path]


def _command_name(info) -> str:
    if info.name:
        return info.name
    return info.callback.__name__.replace("_", "-").strip("-")
