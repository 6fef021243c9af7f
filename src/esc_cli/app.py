"""The Typer root: global options, the Env in ctx.obj, sub-apps, and the one place that
turns exceptions into `error: ...` and an exit code."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from esc_cli import __version__

app = typer.Typer(
    name="esc",
    help="Terminal-first escalation manager for customer-support teams.\n\n"
    "The options below go before or after the command: esc queue --db team.db.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # `esc completion SHELL` prints the scripts; shell completion itself (_ESC_COMPLETE)
    # works either way
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"esc {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Optional[str],
        typer.Option(
            "--db",
            envvar="ESC_DB",
            metavar="PATH",
            help="Store file (default: esc.db in the user data dir)",
        ),
    ] = None,
    as_user: Annotated[
        Optional[str],
        typer.Option(
            "--as",
            envvar="ESC_USER",
            metavar="USER",
            help="Acting user recorded on events (default: OS login)",
        ),
    ] = None,
    now: Annotated[
        Optional[str],
        typer.Option(
            "--now",
            envvar="ESC_NOW",
            metavar="TIME",
            help="Act at this ISO-8601 instant (read in --tz without an offset)",
        ),
    ] = None,
    tz: Annotated[
        Optional[str],
        typer.Option(
            "--tz", envvar="ESC_TZ", metavar="ZONE", help="Display zone (default: system zone)"
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit"
        ),
    ] = False,
) -> None:
    from esc_cli.env import Env

    if ctx.resilient_parsing:
        # shell completion: build nothing that can fail
        ctx.obj = {"db": db}
        return
    ctx.obj = Env.build(db, as_user, now, tz)
    ctx.call_on_close(ctx.obj.close)


def _register() -> None:
    from esc_cli.commands import admin, cases, lists

    cases.register(app)
    lists.register(app)
    admin.register(app)
    for name in ("ops", "report", "data", "maint", "completion"):
        try:
            module = __import__(f"esc_cli.commands.{name}", fromlist=["register"])
        except ModuleNotFoundError as err:
            if err.name != f"esc_cli.commands.{name}":
                raise
            continue
        module.register(app)
    # each command's panel in `esc --help` and the examples its help ends with
    from esc_cli.commands import help as help_table

    help_table.apply(app)


_register()


# Global options that take a value (`--db PATH`); any other option before the command
# sends the run down the full app's path, which reports it as today.
_VALUED = frozenset({"--db", "--as", "--now", "--tz"})
_HELP = frozenset({"-h", "--help"})
_COMMANDS: dict = {}


def _invoked(args: list[str]) -> str | None:
    """The subcommand `args` run, or "" for the root help (`esc`, `esc --help`), or None
    when only the full app can say what they mean (an unknown option, `--version`,
    the completion options, `--`)."""
    position = 0
    while position < len(args):
        arg = args[position]
        if arg in _HELP:
            return ""
        if arg in _VALUED:
            position += 2
            continue
        if arg.startswith("-"):
            if arg.partition("=")[0] in _VALUED:
                position += 1
                continue
            return None
        return arg
    return "" if position == len(args) else None


def _click_command(args: list[str] | None = None):
    """The click command for one run, built once per process and kind (tests call main()
    many times). Building every command's parameters from its signature costs tens of
    ms, so a run builds only the command it invokes; the root help gets every command
    outlined (name and help only), which is all it prints. Shell completion and
    anything unusual get the whole app."""
    import os

    key = None
    if args is not None and "_ESC_COMPLETE" not in os.environ:  # shell completion: Click's protocol
        key = _invoked(args)
    elif "_ESC_COMPLETE" in os.environ:
        # Typer registers its shells' completion classes only for its completion options,
        # which esc leaves out of the root help (`esc completion` prints the scripts)
        from typer._completion_classes import completion_init

        completion_init()
        _complete_with_globals_first()
    command = _COMMANDS.get(key)
    if command is None:
        from esc_cli.commands.common import refuse_blank, strict_integers

        command = refuse_blank(strict_integers(_build(key)))
        _COMMANDS[key] = command
    return command


def _build(key: str | None):
    import typer.main

    if key is None:
        return _by_panel(typer.main.get_command(app))
    if key == "":
        return _by_panel(typer.main.get_command(_outline(app)))
    commands = [info for info in app.registered_commands if _name(info) == key]
    groups = [info for info in app.registered_groups if info.name == key]
    if not commands and not groups:  # unknown: the full app names it and suggests one
        return _click_command(None)
    return typer.main.get_command(_sub_app(app, commands, groups))


def _by_panel(group):
    """The root's commands in the order of help_table.PANELS (each panel's commands in the
    order they were registered), so `esc --help` lists the panels in that order."""
    from esc_cli.commands.help import PANELS

    def rank(item) -> int:
        panel = getattr(item[1], "rich_help_panel", None)
        return PANELS.index(panel) if panel in PANELS else len(PANELS)

    group.commands = dict(sorted(group.commands.items(), key=rank))
    return group


def _name(info) -> str:
    import typer.main

    return info.name or typer.main.get_command_name(info.callback.__name__)


def _sub_app(source: typer.Typer, commands: list, groups: list) -> typer.Typer:
    """`source` with the same root callback and settings, holding only these commands."""
    part = object.__new__(type(source))
    part.__dict__.update(source.__dict__)
    part.registered_commands = commands
    part.registered_groups = groups
    return part


def _outline(source: typer.Typer) -> typer.Typer:
    """`source` whose commands and groups keep their names and help but have no
    parameters: enough for the root help, at a fraction of the cost."""
    from copy import copy

    def stand_in(callback):
        def outline() -> None:
            raise AssertionError("an outlined command is only listed, never run")

        outline.__name__ = callback.__name__
        outline.__doc__ = callback.__doc__
        return outline

    commands: list = []
    groups: list = []
    for info in source.registered_commands:
        commands.append(copy(info))
        commands[-1].callback = stand_in(info.callback)
    for group in source.registered_groups:
        groups.append(copy(group))
        groups[-1].typer_instance = _sub_app(group.typer_instance, [], [])  # type: ignore[arg-type]  # a registered group has one
    return _sub_app(source, commands, groups)


def _error(message: str, code: int) -> int:
    from esc_cli.render.output import clean
    from esc_cli.store.pg_location import hide_passwords

    # a URI given where a file goes is quoted back as a path, its password with it
    sys.stderr.write(f"error: {clean(hide_passwords(message))}\n")
    return code


def main(argv: list[str] | None = None) -> None:
    from typer import exceptions as typer_errors
    from typer._click import exceptions as click_errors

    from esc_cli.errors import EscError

    code = 0
    args = sys.argv[1:] if argv is None else list(argv)
    if argv is not None:  # in-process (tests): leave the caller's Ctrl-C as we found it
        import signal

        caller_sigint = signal.getsignal(signal.SIGINT)
    from esc_cli.commands.lists import with_watch_default

    args = with_watch_default(args)  # `--watch` alone: its default interval
    command = _click_command(args)
    stdout = sys.stdout = _Stdout(sys.stdout)
    try:
        _check_arguments(args)
        _refuse_nul(args)
        args = _globals_first(command, args)
        result = command.main(args=args, prog_name="esc", standalone_mode=False)
        if isinstance(result, int):
            code = result
            if code == 130:  # typer turns Ctrl-C into a bare exit 130: say so, as below
                code = _error("interrupted", 130)
    except EscError as err:
        code = _error(err.line(), err.exit_code)
    except click_errors.NoArgsIsHelpError as err:
        sys.stdout.write(err.format_message())
    except click_errors.UsageError as err:
        code = _error(err.format_message(), 2)
    except click_errors.ClickException as err:
        code = _error(err.format_message(), 2)
    except typer_errors.Exit as err:
        code = err.exit_code
    except (typer_errors.Abort, KeyboardInterrupt):
        code = _error("interrupted", 130)
    except BrokenPipeError:
        _silence_stdout()
    except SystemExit as err:
        _silence_stdout()
        code = err.code if isinstance(err.code, int) else 1
        if isinstance(stdout.failure, BrokenPipeError):
            # Rich and Click exit 1 themselves on a broken pipe; a reader gone away
            # (`esc export | head`) is no error, whichever write it interrupted
            code = 0
    except Exception as err:
        if err is stdout.failure:  # stdout cannot take the output (`> /dev/full`)
            code = _output_failed(stdout.failure)
        elif isinstance(err, OSError):
            code = _system_refused(err)
        else:  # a bug: still one line, never a traceback
            code = _error(f"internal error: {type(err).__name__}: {err}", 1)
    # The work is done and its outcome decided: a Ctrl-C during interpreter shutdown
    # must not turn a committed command into a death by signal.
    # (An import defers Ctrl-C from its COMMIT on and leaves it deferred until here:
    # services/importing._commit_not_interrupted.)
    if argv is None:  # a real process, not a test calling main() in-process
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGINT, caller_sigint)
    sys.stdout = stdout.stream
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except OSError as err:
        failed = _output_failed(err)
        code = code or failed  # an error said already is the one to see
    sys.exit(code)


def _globals_first(command, args: list[str]) -> list[str]:
    """`esc queue --db team.db` as `esc --db team.db queue` (see esc_cli/argv.py)."""
    import os

    if "_ESC_COMPLETE" in os.environ or not _invoked(args):
        return args
    from esc_cli.argv import globals_first

    at = _command_position(args)
    return globals_first(command, args, at) if at is not None else args


def _complete_with_globals_first() -> None:
    """Shell completion reads the line as a run does: `esc queue --db team.db --owner <TAB>`
    offers team.db's owners. Click resolves the words to complete in one module-level
    function; it gets them with the global options moved first."""
    from typer._click import shell_completion

    resolve = shell_completion._resolve_context
    if getattr(resolve, "esc_globals_first", False):
        return

    def resolve_globals_first(cli, ctx_args, prog_name, args):
        from esc_cli.argv import globals_first
        from esc_cli.errors import EscError

        at = _command_position(args)
        if at is not None:
            try:
                args = globals_first(cli, args, at)
            except EscError:  # `esc queue --db <TAB>`: the value is the word being typed
                pass
        return resolve(cli, ctx_args, prog_name, args)

    resolve_globals_first.esc_globals_first = True  # type: ignore[attr-defined]  # a marker
    shell_completion._resolve_context = resolve_globals_first


def _command_position(args: list[str]) -> int | None:
    """Where the command name is in `args` (past the global options before it)."""
    position = 0
    while position < len(args):
        arg = args[position]
        if arg in _VALUED:
            position += 2
        elif arg.startswith("-") and arg.partition("=")[0] in _VALUED:
            position += 1
        elif arg.startswith("-"):
            return None
        else:
            return position
    return None


def _check_arguments(args: list[str]) -> None:
    """Python hands bytes that are not UTF-8 over as lone surrogates; they cannot be
    stored or printed, so refuse them here as a bad value."""
    from esc_cli.errors import UsageError

    for position, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(f"argument {position} is not valid UTF-8 text") from None


def _refuse_nul(args: list[str]) -> None:
    """PostgreSQL text cannot hold NUL (U+0000); SQLite's stores it as given. On a
    PostgreSQL store an argument holding one is a bad value, named here, rather than a
    driver error in the middle of a write. (An OS argv cannot carry NUL; main(argv) can.)"""
    if not any("\x00" in arg for arg in args):
        return
    import os

    db = os.environ.get("ESC_DB", "")
    for position, arg in enumerate(args):
        if arg == "--db" and position + 1 < len(args):
            db = args[position + 1]
        elif arg.startswith("--db="):
            db = arg[5:]
    if not db.lower().startswith(("postgresql://", "postgres://")):
        return
    from esc_cli.errors import UsageError

    for position, arg in enumerate(args, 1):
        if "\x00" in arg:
            option, equals, _ = arg.partition("=")
            if arg.startswith("--") and equals:
                name = option
            elif position > 1 and args[position - 2].startswith("-"):
                name = args[position - 2]
            else:
                name = f"argument {position}"
            raise UsageError(f"{name} holds a NUL character (\\x00), which PostgreSQL cannot store")


class _Stdout:
    """Standard output, remembering the error a write to it failed with: main() tells
    output that cannot be written (`esc export > /dev/full`) from any other OSError (a
    bug) by it, whether Python buffers stdout or (PYTHONUNBUFFERED) not."""

    def __init__(self, stream):
        self.stream = stream
        self.failure: OSError | None = None

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as err:
            self.failure = err
            raise

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as err:
            self.failure = err
            raise

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def _output_failed(err: OSError) -> int:
    """Standard output cannot take what was written (no space, an I/O error): one line
    and exit 5, an I/O problem like the store's. (A reader gone away, `esc queue | head`,
    is no error: BrokenPipeError is caught before this.)"""
    _silence_stdout()  # what stayed buffered goes nowhere, not to a failing flush at exit
    return _error(f"cannot write the output: {err.strerror or err}", 5)


def _system_refused(err: OSError) -> int:
    """The system refused a file or resource no command foresaw: a full /tmp under
    `import -`'s spool, an I/O error, out of file handles. One line naming the file, and
    exit 5 as for the store's own I/O: the machine, not the input, has a problem (issue
    20: no failure is "internal error", exit 1)."""
    import errno

    where = f": {err.filename}" if err.filename else ""
    if err.errno == errno.ENAMETOOLONG:
        # a name the user typed (export -o, backup, report -o), looked at before any
        # command's own check: the path is the problem, as outfile says for the others
        return _error(f"cannot use{where}: {err.strerror or err}", 2)
    return _error(f"the system refused{where}: {err.strerror or err}", 5)


def _silence_stdout() -> None:
    """The reader went away (`esc queue | head`): drop the rest quietly."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
