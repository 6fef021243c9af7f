"""docs/routing.md's walkthrough runs as written: its ```sh blocks, in order, in bash
against the installed esc, and say what the page says they say."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from tests.conftest import ESC

ROOT = Path(__file__).resolve().parent.parent


def test_the_walkthrough_runs_and_routes_as_the_page_says(bare_esc, tmp_path):
    text = (ROOT / "docs" / "routing.md").read_text()
    walk = text[text.index("## Walkthrough"):text.index("## How the report counts it")]
    script = "\n".join(re.findall(r"^```sh\n(.*?)^```", walk, re.S | re.M))
    # the page's store: its file, or (PostgreSQL) an empty database in its place
    assert "ESC_DB=$PWD/routing-demo.db" in script
    if bare_esc.is_pg:
        script = script.replace("ESC_DB=$PWD/routing-demo.db", f"ESC_DB={shlex.quote(str(bare_esc.db))}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    env["PATH"] = f"{Path(ESC).parent}{os.pathsep}{env.get('PATH', '')}"
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "tier:3\terin\terin\t\t2026-12-14T08:00:00Z\tdana" in out  # esc oncall
    assert "routing\tassigned\towner\t\tbob\tleast-loaded in tier 2: bob (1 of 8)" in out
    assert "routing\tassigned\towner\t\terin\ton call in tier 3: erin" in out
    assert re.search(r"\t3\tescalation\towner:bob\t", out) and re.search(r"\t3\tescalation\towner:erin\t", out)
    assert "least-loaded in tier 2: carol (1 of 4)" in out
    assert "time_to_owner_p50\t0" in out and "unowned\t0\t0" in out
