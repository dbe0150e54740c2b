"""How busy this machine's cores were during a measurement: the floor under any latency measured here.

`SchedulingDelay` runs a small process beside a benchmark that sleeps 5 ms at a time, records how much later
than asked it woke up, and each time how many processes were ready to run (/proc/loadavg). On 2 cores shared
with other work, a process with work to do waits its turn behind the others ready to run (a sleeper that
wakes is favoured, so its delay is the least of it); a crash report passes through four processes (the node
agent, the API server, etcd, the watching client), each of which can wait like that.
"""

from __future__ import annotations

import json
import subprocess
import sys
from types import TracebackType
from typing import Any

_PROBE = r"""
import json, sys, time, select
late, running = [], []
while not select.select([sys.stdin], [], [], 0)[0]:
    asked = time.perf_counter()
    time.sleep(0.005)
    late.append((time.perf_counter() - asked - 0.005) * 1000)
    with open("/proc/loadavg") as loadavg:  # "0.5 0.4 0.3 RUNNING/TOTAL LASTPID"
        running.append(int(loadavg.read().split()[3].split("/")[0]))
def pick(values, q):
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)
print(json.dumps({"samples": len(late), "p50_ms": pick(late, 0.5), "p99_ms": pick(late, 0.99),
                  "max_ms": pick(late, 1), "runnable_p50": pick(running, 0.5),
                  "runnable_p90": pick(running, 0.9), "runnable_max": pick(running, 1)}))
"""


class SchedulingDelay:
    """`with SchedulingDelay() as probe: …`, then `probe.result`: how late 5 ms sleeps woke up meanwhile."""

    def __init__(self) -> None:
        self.result: dict[str, Any] = {}
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> SchedulingDelay:
        self._process = subprocess.Popen(
            [sys.executable, "-c", _PROBE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._process is not None
        output, _ = self._process.communicate("stop\n", timeout=30)
        self.result = json.loads(output) if output.strip() else {}
