"""Child processes: wall time and peak RSS measured the same way for every generator and every scale run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_child(cmd: list[str], timeout_s: float, log_prefix: Path) -> dict:
    """Run `cmd`; wall seconds, the child's peak RSS (MiB, ru_maxrss of wait4) and its last stdout JSON line."""
    out_path, err_path = Path(str(log_prefix) + ".out"), Path(str(log_prefix) + ".err")
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    with open(out_path, "w") as out, open(err_path, "w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT, env=env, start_new_session=True)
        status, rusage, timed_out = None, None, False
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout_s:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, rusage = os.wait4(proc.pid, 0)
                timed_out = True
                break
            time.sleep(0.05)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = {"wall_s": round(wall, 2), "peak_rss_mb": round(rusage.ru_maxrss / 1024, 1)}
    if timed_out:
        return result | {"status": "timeout", "error": f"killed after the {timeout_s:.0f} s wall-clock cap"}
    lines = [ln for ln in out_path.read_text().splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = [ln for ln in err_path.read_text().splitlines() if ln.strip()]
        return result | {"status": "error", "error": (tail[-1] if tail else f"exit code {proc.returncode}")[:500]}
    return result | {"status": "ok", "child": json.loads(lines[-1])}
