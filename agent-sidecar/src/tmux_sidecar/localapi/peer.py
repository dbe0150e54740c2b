"""Who is on the other end of the local API socket: the peer's pid (SO_PEERCRED) and its parent chain.

The kernel fills in the peer credentials when the client connects; a client cannot choose them. Together
with the pane pids tmux reports, they tell which agent pane a caller runs in (see `identity`).
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
_MAX_DEPTH = 64


def peer_pid(sock: socket.socket) -> int:
    """The pid of the process that connected to `sock` (Linux SO_PEERCRED)."""
    pid, _uid, _gid = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    return int(pid)


def ancestry(pid: int, proc: Path = Path("/proc")) -> list[int]:
    """`pid`, its parent, its parent's parent, … up to (not including) init; stops where /proc ends."""
    chain: list[int] = []
    while pid > 1 and len(chain) < _MAX_DEPTH:
        chain.append(pid)
        try:
            stat = (proc / str(pid) / "stat").read_text()
        except OSError:
            break
        # Field 2 (comm) may hold spaces and parentheses; the parent pid is the 2nd field after the last ')'.
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return chain
