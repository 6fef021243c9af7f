"""Where output goes and in what form: Rich on a terminal, tab-separated text in a pipe,
one JSON document with --json. Untrusted text is cleaned here before any console sees it."""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from esc_cli.domain.model import parse_iso  # noqa: F401  (views read stored stamps with it)
from esc_cli.text import clean, json_escape


_VISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u2028\u2029]"
)


def visible(text: str) -> str:
    """Text whose bytes must stay what they are (an export, a policy file) made safe for a
    terminal without losing anything from sight: each control character, CR, escape and
    bidi override is shown as `\\xNN` or `\\uXXXX`; newline and tab stay."""
    if text.isascii() and text.replace("\n", "").replace("\t", "").isprintable():
        return text  # nothing to show differently: the common case
    return _VISIBLE.sub(
        lambda m: (
            f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )


class VisibleWriter:
    """A text stream that writes through `visible`: what a command that streams exact
    data writes when its stdout is a terminal."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(visible(text))

    def flush(self) -> None:
        self.stream.flush()


def duration(seconds: int) -> str:
    """`3h 5m`, `2d 4h`, `12m`, `40s`: the two largest units, as a lead reads them."""
    seconds = abs(int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, _ = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def relative(instant: int | None, now: int) -> str:
    if instant is None:
        return ""
    delta = instant - now
    if delta >= 0:
        return f"in {duration(delta)}" if delta >= 60 else "due now"
    return f"{duration(-delta)} overdue"


def local_time(instant: int | None, zone: str, with_zone: bool = False) -> str:
    if instant is None:
        return ""
    moment = datetime.fromtimestamp(instant, ZoneInfo(zone))
    text = moment.strftime("%a %d %b %Y %H:%M")
    return f"{text} {moment.tzname()}" if with_zone else text


def short_time(instant: int | None, zone: str, now: int) -> str:
    """`Mon 02 Nov 09:15` within the current year, `02 Nov 2025 09:15` outside it."""
    if instant is None:
        return ""
    tz = ZoneInfo(zone)
    moment = datetime.fromtimestamp(instant, tz)
    if moment.year == datetime.fromtimestamp(now, tz).year:
        return moment.strftime("%a %d %b %H:%M")
    return moment.strftime("%d %b %Y %H:%M")


class Output:
    """One per command: knows if stdout is a terminal, if colour is allowed, if --json."""

    def __init__(self, env, as_json: bool = False):
        self.env = env
        self.as_json = as_json
        self.tty = env.stdout_tty
        self._console = None

    @property
    def rich(self) -> bool:
        return self.tty and not self.as_json

    def console(self):
        if self._console is None:
            from rich.console import Console

            # NO_COLOR: Rich alone would drop colours but keep bold and dim; a user who
            # sets it wants plain text, so no escape sequences at all.
            extra = {"color_system": None} if self.env.no_color else {}
            self._console = Console(
                no_color=self.env.no_color, highlight=False, emoji=False, soft_wrap=False, **extra
            )
        return self._console

    def json(self, document) -> None:
        sys.stdout.write(json_escape(json.dumps(document, ensure_ascii=False, indent=2)) + "\n")

    def line(self, text: str = "") -> None:
        sys.stdout.write(text + "\n")

    def tsv(self, headers: list[str], rows: list[list]) -> None:
        """A pipe gets a header row and tab-separated rows, nothing else."""
        out = ["\t".join(headers)]
        for row in rows:
            out.append("\t".join(clean(v) if v is not None else "" for v in row))
        sys.stdout.write("\n".join(out) + "\n")


def note(env, text: str) -> None:
    """A hint or progress line: always stderr, never mixed with data."""
    sys.stderr.write(text + "\n")
