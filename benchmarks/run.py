"""`make bench`: every benchmark, one after the other (they share 2 cores; running them together would
measure each other). Results land in benchmarks/results/*.json; docs/benchmarks.md records a run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS = [
    ["screens.py"],
    ["sidecar_observe.py"],
    ["crash_to_status.py", "--agents", "50", "--kills", "100"],
    ["operator_scale.py", "--teams", "100", "--agents-per-team", "10", "--nodes", "10"],
    ["node_cost.py", "--agents", "100", "--seconds", "30"],
    ["delivery.py", "--messages", "50", "--ignored", "10"],
    ["workspaces.py", "--agents", "20", "--files", "2000", "--steady", "30"],
    ["dashboard.py", "--agents", "20", "--pages", "50", "--rounds", "40"],
    ["hook_latency.py", "--rounds", "40"],
]


def main() -> int:
    failed = 0
    for argv in BENCHMARKS:
        print(f"\n=== {' '.join(argv)}", flush=True)
        failed += (
            subprocess.run([sys.executable, str(HERE / argv[0]), *argv[1:]], check=False).returncode != 0
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
