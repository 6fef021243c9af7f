#!/usr/bin/env python3
"""Times whole processes, one after another, as the yardstick pbench.py does: each
run is started with posix_spawn, its wall time taken on a monotonic clock around
spawn..wait4, its CPU time and peak RSS from wait4's rusage.

Reads a JSON list of steps on stdin, writes a JSON list of results on stdout:

  step:   {"argv": [...], "env": {...} (added to this process's), "prepare": [[argv], ...]
           (run first, untimed), "timeout": seconds}
  result: {"wall": s, "cpu": s, "rss_mib": MiB, "code": exit code, "out_bytes": n,
           "err": last 400 bytes of stderr, "rss_floor": bool}

stdout and stderr of the timed process are pipes (read by threads here), so the
command runs "in a pipe" as a script would. This is a separate, small process on
purpose: a spawned child's ru_maxrss starts at its parent's peak (the kernel
carries the parent's high-water mark across vfork+exec), so timing from the
runner, which has read manifests and case lists, would inflate every figure.
`rss_floor` marks a figure that may be this process's own peak rather than the
child's; the runner then asks GNU time for the real one.
Stdlib only.
"""

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time


def _drain(fd, keep_tail, sink):
    total, tail = 0, b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        total += len(chunk)
        if keep_tail:
            tail = (tail + chunk)[-400:]
    os.close(fd)
    sink.append((total, tail))


_CHILD = None


def _stop(signum, frame):
    """Stopped from outside: take the command being timed down too."""
    if _CHILD is not None:
        try:
            os.kill(_CHILD, signal.SIGKILL)
        except OSError:
            pass
    sys.exit(128 + signum)


def run(step):
    global _CHILD
    env = dict(os.environ)
    env.update(step.get("env") or {})
    for argv in step.get("prepare") or []:
        subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2),
               (os.POSIX_SPAWN_CLOSE, out_r), (os.POSIX_SPAWN_CLOSE, err_r)]
    outs, errs = [], []
    readers = [threading.Thread(target=_drain, args=(out_r, False, outs)),
               threading.Thread(target=_drain, args=(err_r, True, errs))]
    for reader in readers:
        reader.start()
    started = time.perf_counter()
    pid = _CHILD = os.posix_spawnp(step["argv"][0], step["argv"], env, file_actions=actions)
    os.close(out_w)
    os.close(err_w)
    timer = threading.Timer(step.get("timeout", 600), lambda: os.kill(pid, signal.SIGKILL))
    timer.start()
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    _CHILD = None
    timer.cancel()
    for reader in readers:
        reader.join()
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
    else:
        code = -os.WTERMSIG(status)
    rss = usage.ru_maxrss / 1024.0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": round(rss, 1),
            "code": code, "out_bytes": outs[0][0], "err": errs[0][1].decode("utf-8", "replace"),
            "rss_floor": rss <= own * 1.1 + 1}


def gnu_time_rss(step):
    """Peak RSS of one more (untimed) run under GNU time, which spawns from a tiny
    process; None without /usr/bin/time."""
    if not os.path.exists("/usr/bin/time"):
        return None
    import tempfile

    env = dict(os.environ)
    env.update(step.get("env") or {})
    for argv in step.get("prepare") or []:
        subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    with tempfile.NamedTemporaryFile("r") as report:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *step["argv"]], env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=step.get("timeout", 600), check=False)
        try:
            return round(int(report.read().split()[-1]) / 1024.0, 1)
        except (ValueError, IndexError):
            return None


def main():
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    steps = json.load(sys.stdin)
    results = []
    for step in steps:
        if step.get("gnu_time"):
            results.append({"rss_mib": gnu_time_rss(step)})
        else:
            results.append(run(step))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
