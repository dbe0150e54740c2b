"""The node agent: keeps the tmux windows of this node's Agents matching their specs and reports the truth.

Edge package (Kubernetes + tmux I/O), one job per module:
  records       what it remembers (config, one record per Agent, message parsing)
  loop          supervise tmux and run the sync pass (observe → plan → apply)
  windows       apply planned window actions to tmux
  status        record exits and write Agent status
  messages      brief agents and deliver AgentMessages
  typing        type text into a pane and confirm it was taken
  watches       the Agent and AgentMessage watches
  registration  the TmuxNode and its Lease
Every decision is a pure function elsewhere: `plan_windows`/`supervisor_change` (converge), `plan_restart`
(restart), the detector profiles, `compute_agent_status`/`status_patch` (agent_status), `judge_message`
(delivery).
"""

from __future__ import annotations

from .loop import NodeAgent
from .records import AgentRecord, NodeAgentConfig, template_hash

__all__ = ["AgentRecord", "NodeAgent", "NodeAgentConfig", "template_hash"]
