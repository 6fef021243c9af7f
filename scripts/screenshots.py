#!/usr/bin/env python3
"""Write docs/img/queue.svg and docs/img/report.svg: the demo desk's queue and report
dashboard as a terminal shows them, drawn by Rich's own `Console.export_svg`.

The demo is built at a fixed instant (NOW, in ZONE) into a temporary directory and the
two real commands run in this process with stdout taken for a terminal WIDTH columns
wide, so the pictures are exactly what `esc queue` and `esc report` print there and the
same bytes on every machine. tests/test_screenshots.py re-renders them and fails when
the committed files are stale:

    python scripts/screenshots.py          # rewrite both pictures
    python scripts/screenshots.py --check  # exit 1 if either is out of date
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"
NOW = "2026-12-07T10:30:00"
ZONE = "America/New_York"
WIDTH = 120
PICTURES = {
    "queue.svg": ("esc queue", ["queue", "--limit", "15"]),
    "report.svg": ("esc report", ["report"]),
}


class _Terminal(io.StringIO):
    """stdout as esc sees it on a terminal (so it draws its Rich views, not TSV)."""

    def isatty(self) -> bool:
        return True


def _run(db: Path, args: list[str]):
    """Run one esc command in-process; return the recording console it printed to."""
    import rich.console

    from esc_cli.app import main

    made = []
    real = rich.console.Console

    class Recording(real):
        # Every console esc makes for the terminal records, at a fixed size and palette,
        # so the SVG does not depend on the terminal this script runs in.
        def __init__(self, *a, **kw):
            kw.update(record=True, width=WIDTH, height=60, force_terminal=True,
                      color_system="truecolor", file=io.StringIO(), no_color=False)
            super().__init__(*a, **kw)
            made.append(self)

    saved = sys.stdout, rich.console.Console, os.environ.pop("NO_COLOR", None)
    sys.stdout, rich.console.Console = _Terminal(), Recording
    try:
        main(["--db", str(db), "--now", NOW, "--tz", ZONE, "--as", "alice", *args])
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise RuntimeError(f"esc {' '.join(args)} exited {exit_.code}") from None
    finally:
        sys.stdout, rich.console.Console = saved[0], saved[1]
        if saved[2] is not None:
            os.environ["NO_COLOR"] = saved[2]
    if len(made) != 1:
        raise RuntimeError(f"esc {' '.join(args)} drew on {len(made)} consoles, expected 1")
    return made[0]


def render() -> dict[str, str]:
    """The SVG text of each picture, by file name."""
    sys.path.insert(0, str(ROOT / "src"))
    from esc_cli.app import main

    with tempfile.TemporaryDirectory(prefix="esc-shots-") as tmp:
        db = Path(tmp) / "demo.db"
        out, saved = io.StringIO(), sys.stdout
        sys.stdout = out  # the demo's own screens are not the pictures
        try:
            main(["--now", NOW, "--tz", ZONE, "demo", "--into", str(db), "--json"])
        except SystemExit as exit_:
            if exit_.code not in (0, None):
                raise RuntimeError(f"esc demo exited {exit_.code}") from None
        finally:
            sys.stdout = saved
        pictures = {}
        for name, (title, args) in PICTURES.items():
            console = _run(db, args)
            pictures[name] = console.export_svg(title=title)
    return pictures


def main(argv: list[str]) -> int:
    pictures = render()
    stale = [name for name, svg in pictures.items()
             if not (OUT / name).exists() or (OUT / name).read_text() != svg]
    if "--check" in argv:
        for name in stale:
            print(f"docs/img/{name} is stale: run python scripts/screenshots.py", file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, svg in pictures.items():
        (OUT / name).write_text(svg)
    print(f"wrote {', '.join('docs/img/' + n for n in pictures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
