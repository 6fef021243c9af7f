"""`esc completion bash|zsh|fish`: print the shell's completion script (as `gh
completion` does). scripts/gen_completions.py writes the same scripts to completions/."""

from __future__ import annotations

from typing import Annotated

import typer

SHELLS = ("bash", "zsh", "fish")

INSTALL = {
    "bash": [
        "Install: esc completion bash > ~/.local/share/bash-completion/completions/esc",
        "(loaded on demand by bash-completion), or add to ~/.bashrc:",
        '  eval "$(esc completion bash)"',
    ],
    "zsh": [
        "Install: esc completion zsh > ~/.zfunc/_esc, with `fpath+=~/.zfunc` before",
        "`compinit` in ~/.zshrc (any directory on $fpath will do), or after compinit:",
        "  source <(esc completion zsh)",
    ],
    "fish": ["Install: esc completion fish > ~/.config/fish/completions/esc.fish"],
}

# Typer's zsh script only registers itself: loaded from $fpath it would complete
# nothing on the first TAB. Call the function when autoloaded, register it when sourced.
ZSH_REGISTER = "compdef _esc_completion esc"
ZSH_EITHER = """if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _esc_completion "$@"
else
  compdef _esc_completion esc
fi"""


def body(shell: str) -> str:
    """The script that hands each TAB back to esc: Typer's, as `_ESC_COMPLETE=source_<shell>
    esc` prints it, with zsh's made to work from $fpath too. No trailing newline; for zsh
    without its `#compdef` first line (the caller puts that first)."""
    from typer._completion_shared import get_completion_script

    script = get_completion_script(prog_name="esc", complete_var="_ESC_COMPLETE", shell=shell)
    if shell != "zsh":
        return script
    lines = script.splitlines()
    if lines[0] != "#compdef esc" or ZSH_REGISTER not in lines:
        raise RuntimeError(
            "Typer's zsh script changed shape: update esc_cli/commands/completion.py"
        )
    return "\n".join(lines[1:]).replace(ZSH_REGISTER, ZSH_EITHER).strip("\n")


def script(shell: str, header: list[str]) -> str:
    """The whole file for `shell`: comment lines from `header`, then the script."""
    comments = "\n".join(f"# {line}".rstrip() for line in header)
    if shell == "zsh":
        # `#compdef` must stay the first line for compinit to find the file.
        return f"#compdef esc\n{comments}\n\n{body(shell)}\n"
    return f"{comments}\n\n{body(shell)}\n"


def _shells(incomplete: str):
    return [shell for shell in SHELLS if shell.startswith(incomplete)]


def register(app: typer.Typer) -> None:
    @app.command(
        help="Print the shell completion script for bash, zsh or fish.\n\n"
        "Every TAB asks esc itself: commands and options, and case ids, "
        "owners, tiers and teams from the store (--db, ESC_DB or the default)."
    )
    def completion(
        shell: Annotated[
            str, typer.Argument(metavar="SHELL", help="bash, zsh or fish", autocompletion=_shells)
        ],
    ) -> None:
        import sys

        from esc_cli.errors import UsageError

        name = shell.lower()  # exact, as every enumerated value (issue 20): " bash" is not a shell
        if name not in SHELLS:
            raise UsageError(f"unknown shell '{shell}' (use bash, zsh or fish)")
        header = [f"{name} completion for esc (esc completion {name}).", *INSTALL[name]]
        sys.stdout.write(script(name, header))
