"""The node agent's local API: agents in this node's panes message, see and schedule their team (DESIGN §8).

`protocol` (names, wire format) and `client` are standard library only; `server` and `handlers` run inside
the node agent; `roster`, `messages` and `identity` are the pure decisions.
"""

from __future__ import annotations
