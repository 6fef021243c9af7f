#!/usr/bin/env python3
"""Where one esc command spends its time, in CPU seconds (steady on a busy machine).

  .venv/bin/python benchmarks/cpuprofile.py [--top 25] -- --db STORE --now T show 42
  .venv/bin/python benchmarks/cpuprofile.py --stages 7 [--floor-db F] -- --db STORE show 42

--stages N runs the command N times, each in a fresh process, and prints the median
CPU milliseconds of each stage: interpreter start-up, `import typer`, `import
esc_cli.app` (which registers every command), `typer.main.get_command` (Typer
turning the registered functions into Click commands: esc only the one it runs), the modules the command
imports when it runs, and the work itself; then the same stages of the floor app
(`FLOOR_MODE=lazy floor_app.py show 1`) for comparison.

Runs the command in-process under cProfile with a CPU clock, the import of esc
included, and prints: the CPU time of the whole run, the share spent importing
(and the heaviest modules, from `python -X importtime` in a second process), and
the functions with the most cumulative CPU time outside the import machinery.
Output of the command itself goes to /dev/null. For a wall-clock tree use
pyinstrument (not a project dependency): `pyinstrument -m esc_cli ARGS`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import time


def importtime(argv: list[str], top: int) -> list[tuple[float, float, str]]:
    """(self ms, cumulative ms, module) of the heaviest imports, from -X importtime."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "esc_cli", *argv],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, self_us, cumulative, name = (part.strip() for part in line.replace("import time:", "|", 1).split("|"))
        rows.append((int(self_us) / 1000, int(cumulative) / 1000, name))
    return rows


STAGES_CHILD = r"""
import json, os, sys, time
t0 = time.process_time()
argv, mode, preload = json.loads(sys.argv[1])
import typer
t1 = time.process_time()
if mode == "esc":
    from esc_cli import app as appmod
    app = appmod.app
else:
    import importlib.util
    spec = importlib.util.spec_from_file_location("floor_app", mode)
    appmod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(appmod)
    app = appmod.app
t2 = time.process_time()
# esc builds only the command a run invokes (app._click_command); the floor builds all
command = appmod._click_command(argv) if mode == "esc" else typer.main.get_command(app)
t3 = time.process_time()
before = set(sys.modules)
for name in preload:
    __import__(name)
t4 = time.process_time()
sys.stdout = open(os.devnull, "w")
try:
    command.main(args=argv, prog_name="esc", standalone_mode=False)
except SystemExit:
    pass
t5 = time.process_time()
sys.stdout = sys.__stdout__
print(json.dumps({"stages": [t0, t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4],
                  "imported": sorted(set(sys.modules) - before)}))
"""
STAGE_NAMES = ("start-up", "import typer", "import app", "get_command", "lazy imports", "work")


def stages(argv: list[str], runs: int, floor_app: str | None, floor_db: str | None) -> None:
    import json
    import statistics

    def child(args, mode, preload, env=None):
        done = subprocess.run([sys.executable, "-c", STAGES_CHILD, json.dumps([args, mode, preload])],
                              capture_output=True, text=True, env=dict(os.environ, **(env or {})))
        if done.returncode:
            raise SystemExit(done.stderr[-2000:])
        return json.loads(done.stdout.strip().splitlines()[-1])

    def table(label, args, mode, env=None):
        first = child(args, mode, [], env)  # learns what the command imports as it runs
        preload = [m for m in first["imported"] if not m.startswith("_") or m.startswith("_sqlite3")]
        samples = [child(args, mode, preload, env)["stages"] for _ in range(runs)]
        medians = [statistics.median(s[i] for s in samples) * 1000 for i in range(len(STAGE_NAMES))]
        total = statistics.median(sum(s) for s in samples) * 1000
        cells = "  ".join(f"{name} {ms:6.1f}" for name, ms in zip(STAGE_NAMES, medians))
        print(f"{label:14} total {total:6.1f} ms CPU:  {cells}")
        return medians

    print(f"median CPU ms of {runs} fresh processes per stage")
    table("esc", argv, "esc")
    if floor_app:
        env = {"FLOOR_MODE": "lazy"}
        if floor_db:
            env["FLOOR_DB"] = floor_db
        table("floor show 1", ["show", "1"], floor_app, env)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--stages", type=int, default=0, help="per-stage CPU medians over N fresh processes")
    ap.add_argument("--floor-db", help="FLOOR_DB for the floor app's stages")
    ap.add_argument("argv", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    argv = a.argv[1:] if a.argv and a.argv[0] == "--" else a.argv
    if a.stages:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from run import yardstick

        stages(argv, a.stages, str(yardstick("floor_app.py", None)), a.floor_db)
        return 0
    profile = cProfile.Profile(time.process_time)
    saved = sys.stdout
    sys.stdout = open(os.devnull, "w")
    started = time.process_time()
    code = 0
    profile.enable()
    try:
        from esc_cli.app import main as esc_main

        esc_main(argv)
    except SystemExit as exit_:
        code = exit_.code
    finally:
        profile.disable()
        sys.stdout.close()
        sys.stdout = saved
    total = time.process_time() - started
    print(f"esc {' '.join(argv)}: exit {code}, {total * 1000:.1f} ms CPU in-process "
          "(plus the interpreter's own start-up)")

    imports = importtime(argv, a.top)
    top_level = {}
    for self_ms, _, name in imports:
        root = name.split(".")[0]
        top_level[root] = top_level.get(root, 0.0) + self_ms
    whole = sum(top_level.values())
    print(f"\nimports ({len(imports)} modules, {whole:.1f} ms wall by -X importtime), by top-level package:")
    for root, ms in sorted(top_level.items(), key=lambda kv: -kv[1])[:a.top]:
        print(f"  {ms:8.1f} ms  {root}")

    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(a.top * 4)
    print("\nCPU by function (cumulative), import machinery left out:")
    shown = 0
    for line in out.getvalue().splitlines():
        if shown >= a.top:
            break
        if "importlib" in line or "{built-in method builtins.exec}" in line or "<frozen" in line:
            continue
        if line.strip() and line.strip()[0].isdigit():
            print("  " + line.strip())
            shown += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
