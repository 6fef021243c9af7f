"""Global options after the command, as kubectl takes them: `esc queue --db team.db` and
`esc sweep --now=2026-11-02T10:00` run as `esc --db team.db queue` and `esc
--now=2026-11-02T10:00 sweep`.

Click reads the root's options only before the command name, so the arguments are
reordered before click sees them. The walk follows click's own reading of the command's
arguments: an option that takes a value takes the next argument whatever it looks like,
so `esc open T --customer --db` keeps `--db` as the customer; `--` ends the options,
so `esc note 42 -- --now` keeps `--now` as the note; and a command's own option of the
same name (should one ever exist) stays the command's.
"""

from __future__ import annotations

GLOBAL_VALUED = frozenset({"--db", "--as", "--now", "--tz"})


def globals_first(root, args: list[str], at: int) -> list[str]:
    """`args` with every global option found after the command (at `args[at]`) moved to
    just before it, where click reads it; later ones win, as on click's own line."""
    from esc_cli.errors import UsageError

    command = root.commands.get(args[at]) if hasattr(root, "commands") else None
    if command is None:
        return args
    moved: list[str] = []
    kept: list[str] = []
    takes_value = _valued_options(command)
    position = at + 1
    while position < len(args):
        arg = args[position]
        position += 1
        if arg == "--":
            kept.extend(args[position - 1 :])
            break
        sub = getattr(command, "commands", None)
        if sub is not None and not arg.startswith("-") and arg in sub:
            command = sub[arg]  # `esc tier --db x list`: on to the group's command
            takes_value = _valued_options(command)
            kept.append(arg)
            continue
        name, equals, _ = arg.partition("=")
        if arg.startswith("--") and name in takes_value:
            kept.append(arg)
            if takes_value[name] and not equals and position < len(args):
                kept.append(args[position])  # its value, whatever it looks like
                position += 1
            continue
        if name in GLOBAL_VALUED:
            if equals:
                moved.append(arg)
                continue
            if position >= len(args):
                raise UsageError(f"{arg} needs a value")
            moved.extend((arg, args[position]))
            position += 1
            continue
        if len(arg) == 2 and arg[0] == "-" and takes_value.get(arg):
            kept.append(arg)  # `-p urgent`: a short option and its value
            if position < len(args):
                kept.append(args[position])
                position += 1
            continue
        kept.append(arg)
    if not moved:
        return args
    return args[:at] + moved + args[at : at + 1] + kept


def _valued_options(command) -> dict[str, bool]:
    """Each option string of `command` -> whether it takes a value."""
    options: dict[str, bool] = {}
    for param in getattr(command, "params", ()):
        if getattr(param, "param_type_name", "") != "option":
            continue
        valued = not getattr(param, "is_flag", False) and not getattr(param, "count", False)
        for opt in (*param.opts, *param.secondary_opts):
            options[opt] = valued
    return options
