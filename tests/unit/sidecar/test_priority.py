"""plan_agent_priority: what an agent's processes get written so that they yield the CPU (pure)."""

from __future__ import annotations

import errno
from typing import Literal, NamedTuple

import pytest

from tmux_sidecar.priority import (
    PriorityPlan,
    PriorityStep,
    ProcEntry,
    check_agent_nice,
    failure_hint,
    in_root_cpu_cgroup,
    parse_autogroup,
    parse_session,
    plan_agent_priority,
)

V1_ROOT = "4:memory:/process_api/x\n2:cpuacct:/\n1:cpu:/\n0::/\n"
V1_POD = "2:cpu,cpuacct:/kubepods/burstable/pod1/c1\n1:memory:/kubepods/burstable/pod1/c1\n"
V2_ROOT = "0::/\n"
V2_POD = "0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-c1.scope\n"


def process(
    pid: int,
    threads: tuple[int, ...],
    autogroup: str | None,
    cgroups: str | None = V1_ROOT,
    session: int | Literal["own"] | None = "own",
) -> ProcEntry:
    """A process leading its own session unless `session` says otherwise (a pane's process, once started)."""
    return ProcEntry(pid, threads, autogroup, cgroups, pid if session == "own" else session)


class Case(NamedTuple):
    id: str
    nice: int
    processes: list[ProcEntry]
    autogroups: bool
    plan: PriorityPlan


AGENT = process(100, (100, 101, 102), "/autogroup-7 nice 0")
CASES = [
    Case("off-writes-nothing", 0, [AGENT], True, PriorityPlan(0)),
    Case("every-thread-and-its-session", 10, [AGENT], True, PriorityPlan(10, (100, 101, 102), (100,))),
    Case("autogroups-switched-off", 10, [AGENT], False, PriorityPlan(10, (100, 101, 102))),
    Case("kernel-without-autogroups", 10, [process(100, (100,), None)], True, PriorityPlan(10, (100,))),
    Case(
        "session-already-there",
        10,
        [process(100, (100,), "/autogroup-7 nice 10")],
        True,
        PriorityPlan(10, (100,)),
    ),
    Case(
        "children-in-one-session-write-it-once",
        5,
        [
            AGENT,
            process(200, (200,), "/autogroup-7 nice 0", session=100),
            process(300, (300,), "/autogroup-9 nice 0"),  # a child that started a session of its own
        ],
        True,
        PriorityPlan(5, (100, 101, 102, 200, 300), (100, 300)),
    ),
    Case(
        # tmux reported the pid before its child ran setsid: the autogroup is the tmux server's, never ours
        "pane-process-still-in-the-tmux-servers-session-waits",
        10,
        [process(100, (100,), "/autogroup-3 nice 0", session=40)],
        True,
        PriorityPlan(10, (100,), (), session_pending=True),
    ),
    Case(
        "still-in-the-tmux-servers-session-even-if-it-looks-done",
        10,
        [process(100, (100,), "/autogroup-3 nice 10", session=40)],
        True,
        PriorityPlan(10, (100,), (), session_pending=True),
    ),
    Case(
        "session-unreadable-is-not-written",
        10,
        [AGENT, process(200, (200,), "/autogroup-9 nice 0", session=None)],
        True,
        PriorityPlan(10, (100, 101, 102, 200), (100,)),
    ),
    Case(
        "no-session-to-wait-for-in-a-pod",
        10,
        [process(100, (100,), "/autogroup-3 nice 0", V2_POD, session=40)],
        True,
        PriorityPlan(10, (100,)),
    ),
    Case(
        "in-a-pod-v1-cpu-cgroup",
        10,
        [process(100, (100,), "/autogroup-7 nice 0", V1_POD)],
        True,
        PriorityPlan(10, (100,)),
    ),
    Case(
        "in-a-pod-v2",
        10,
        [process(100, (100,), "/autogroup-7 nice 0", V2_POD)],
        True,
        PriorityPlan(10, (100,)),
    ),
    Case(
        "v2-root",
        10,
        [process(100, (100,), "/autogroup-7 nice 0", V2_ROOT)],
        True,
        PriorityPlan(10, (100,), (100,)),
    ),
    Case(
        "cgroups-unreadable-still-tries",
        10,
        [process(100, (100,), "/autogroup-7 nice 0", None)],
        True,
        PriorityPlan(10, (100,), (100,)),
    ),
    Case("process-gone", 10, [], True, PriorityPlan(10)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_plan_agent_priority(case: Case) -> None:
    assert plan_agent_priority(case.nice, case.processes, case.autogroups) == case.plan


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("/autogroup-162757 nice 0\n", ("/autogroup-162757", 0)),
        ("/autogroup-3 nice -5", ("/autogroup-3", -5)),
        ("/autogroup-3 nice", ("/autogroup-3", None)),
        ("", ("", None)),
    ],
    ids=["zero", "negative", "truncated", "empty"],
)
def test_parse_autogroup(text: str, parsed: tuple[str, int | None]) -> None:
    assert parse_autogroup(text) == parsed


@pytest.mark.parametrize(
    ("cgroups", "root"),
    [(V1_ROOT, True), (V1_POD, False), (V2_ROOT, True), (V2_POD, False), (None, True)],
    ids=["v1-root", "v1-pod", "v2-root", "v2-pod", "unknown"],
)
def test_autogroups_apply_only_in_the_root_cpu_cgroup(cgroups: str | None, root: bool) -> None:
    assert in_root_cpu_cgroup(cgroups) is root


@pytest.mark.parametrize("nice", [0, 10, 19], ids=["off", "default", "lowest"])
def test_agent_nice_in_range_is_taken(nice: int) -> None:
    assert check_agent_nice(nice) == nice


@pytest.mark.parametrize("nice", [-1, -10, 20], ids=["ahead-of-supervision", "privileged", "beyond-19"])
def test_agent_nice_out_of_range_is_a_clear_error(nice: int) -> None:
    with pytest.raises(ValueError, match=r"between 0 \(off\) and 19"):
        check_agent_nice(nice)


@pytest.mark.parametrize(
    ("step", "code", "hint"),
    [
        (PriorityStep.AUTOGROUP_NICE, errno.EAGAIN, "one autogroup per 100 ms"),
        (PriorityStep.THREAD_NICE, errno.EACCES, "needs CAP_SYS_NICE"),
        (PriorityStep.AUTOGROUP_NICE, errno.EPERM, "needs CAP_SYS_NICE"),
        (PriorityStep.THREAD_NICE, errno.EIO, "unexpected"),
    ],
    ids=["rate-limited", "lowering-denied", "autogroup-denied", "other"],
)
def test_a_failure_says_why(step: PriorityStep, code: int, hint: str) -> None:
    assert hint in failure_hint(step, code)


@pytest.mark.parametrize(
    ("stat", "session"),
    [
        ("4242 (claude) S 4000 4242 4242 34816 4242 4194560 0 0", 4242),
        ("4243 (node) worker) R 4242 4243 4240 0", 4240),  # a ")" inside the command name
        ("4244 (x", None),
    ],
    ids=["leader", "paren-in-name", "truncated"],
)
def test_parse_session(stat: str, session: int | None) -> None:
    assert parse_session(stat) == session
