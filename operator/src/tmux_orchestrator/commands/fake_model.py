"""`tmux-orchestrator fake-model`: the scripted fake model server (Anthropic, OpenAI Responses and Chat)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: any free port)")
    parser.add_argument("--script", type=Path, help="YAML/JSON script of replies (default: answer OK)")
    parser.add_argument("--record", type=Path, help="append every request received to FILE (JSON lines)")
    parser.add_argument("--dump-dir", type=Path, help="write each request body to DIR (for finding out)")
    parser.add_argument("--port-file", type=Path, help="write the bound port to FILE once listening")


def run(args: argparse.Namespace) -> int:
    from tmux_orchestrator.fakemodel.script import Script, ScriptError, load_script
    from tmux_orchestrator.fakemodel.server import run_server

    try:
        script = load_script(str(args.script)) if args.script else Script()
    except (OSError, ScriptError) as error:
        print(f"fake-model: {args.script}: {error}", file=sys.stderr)
        return 2
    run_server(script, args.port, args.record, args.port_file, args.dump_dir)
    return 0
