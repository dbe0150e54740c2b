"""Classification of the real CLIs' captured screens: per CLI and version, how many each profile reads
right. `python benchmarks/screens.py` (screens from `tmux-orchestrator dev capture`)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from support.screens import captured_screens  # noqa: E402
from tmux_sidecar.classification import PaneSnapshot, ProcessFacts  # noqa: E402
from tmux_sidecar.profiles import load_profile  # noqa: E402


def main() -> int:
    right: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    wrong = []
    for screen in captured_screens():
        process = ProcessFacts(dead=False, current_command=screen.cli, pid=100)
        verdict = load_profile(screen.cli).classify(PaneSnapshot(screen.lines(), process))
        key = (screen.cli, screen.version)
        total[key] += 1
        if verdict.activity is screen.activity:
            right[key] += 1
        else:
            wrong.append(
                f"{screen.file.name}: {verdict.activity} ({verdict.detail}), expected {screen.activity}"
            )
    print("| CLI | version | right / total |\n| --- | --- | --- |")
    for key in sorted(total):
        print(f"| {key[0]} | {key[1]} | {right[key]} / {total[key]} |")
    for line in wrong:
        print(f"wrong: {line}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "screens.json").write_text(
        json.dumps(
            {f"{c} {v}": {"right": right[(c, v)], "total": n} for (c, v), n in total.items()}, indent=1
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
