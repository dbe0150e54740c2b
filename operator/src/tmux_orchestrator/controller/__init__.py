"""The operator's I/O layer (an edge package): kopf and list+watch caches in, the pure core's plans out.

observe (cache, observe) → plan (core.plan_team) → apply (apply); triggers and per-team serialization in
controller; message routing in routing (pure); metrics in metrics; the process and kopf settings in app.
"""

from __future__ import annotations
