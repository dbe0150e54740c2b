"""`tmux-orchestrator crds`: print the CRDs generated from the API models, or write one file per CRD."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tmux_orchestrator import crdgen


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output-dir", type=Path, help="write <plural>.<group>.yaml files here")
    parser.add_argument(
        "--check", action="store_true", help="with -o: exit 1 if the files there differ from the models"
    )


def run(args: argparse.Namespace) -> int:
    files = crdgen.crd_files()
    if args.output_dir is None:
        sys.stdout.write("---\n".join(files.values()))
        return 0
    out: Path = args.output_dir
    drifted = [name for name, text in files.items() if _read(out / name) != text]
    stale = sorted(p.name for p in out.glob("*.yaml") if p.name not in files) if out.is_dir() else []
    if args.check:
        for name in drifted + stale:
            print(f"crds: {out / name} differs from the models; run `make crds`", file=sys.stderr)
        return 1 if drifted or stale else 0
    out.mkdir(parents=True, exist_ok=True)
    for name in drifted:
        (out / name).write_text(files[name])
    for name in stale:
        (out / name).unlink()
    return 0


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None
