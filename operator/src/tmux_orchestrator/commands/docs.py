"""`tmux-orchestrator docs`: print the API reference generated from the models, or write it (docs/api.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tmux_orchestrator import docgen


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, help="write the Markdown here (e.g. docs/api.md)")
    parser.add_argument(
        "--check", action="store_true", help="with -o: exit 1 if the file there differs from the models"
    )


def run(args: argparse.Namespace) -> int:
    text = docgen.render_api_reference()
    out: Path | None = args.output
    if out is None:
        sys.stdout.write(text)
        return 0
    current = out.read_text() if out.exists() else None
    if args.check:
        if current != text:
            print(f"docs: {out} differs from the models; run `make docs`", file=sys.stderr)
            return 1
        return 0
    if current != text:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    return 0
