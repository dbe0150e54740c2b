"""How late this machine runs a process that asked to wake up: the floor under any latency measured here.

`SchedulingDelay` runs a small process beside a benchmark that sleeps 5 ms at a time and records how much
later than asked it woke up. On a machine shared with other work (2 cores, load average 10), a process that
is ready to run may wait tens of milliseconds for a core; a crash report passes through four processes (the
node agent, the API server, etcd, the watching client), each of which can wait like that.
"""

from __future__ import annotations

import json
import subprocess
import sys
from types import TracebackType
from typing import Any

_PROBE = r"""
import json, sys, time, select
late = []
while not select.select([sys.stdin], [], [], 0)[0]:
    asked = time.perf_counter()
    time.sleep(0.005)
    late.append((time.perf_counter() - asked - 0.005) * 1000)
late.sort()
pick = lambda q: round(late[min(len(late) - 1, round(q * (len(late) - 1)))], 1)
print(json.dumps({"samples": len(late), "p50_ms": pick(0.5), "p99_ms": pick(0.99),
                  "p999_ms": pick(0.999), "max_ms": round(late[-1], 1)}))
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
