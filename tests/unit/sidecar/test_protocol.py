"""The control-mode line parser (pure)."""

from __future__ import annotations

import pytest

from tmux_sidecar.tmux.protocol import ControlParser, Notification, Reply, parse_notification, unescape_output


def feed_all(lines: list[str]) -> list[Reply | Notification]:
    parser = ControlParser()
    return [item for line in lines if (item := parser.feed(line)) is not None]


def test_reply_block_collects_output_lines() -> None:
    items = feed_all(["%begin 1700000000 12 1", "one", "two", "%end 1700000000 12 1"])
    assert items == [Reply(12, ("one", "two"), failed=False, from_this_client=True)]


def test_error_block_is_a_failed_reply() -> None:
    items = feed_all(["%begin 1 7 1", "unknown command: x", "%error 1 7 1"])
    assert items == [Reply(7, ("unknown command: x",), failed=True, from_this_client=True)]


def test_blocks_of_other_origin_are_marked() -> None:
    (reply,) = feed_all(["%begin 1 3 0", "%end 1 3 0"])
    assert isinstance(reply, Reply) and not reply.from_this_client


def test_only_the_matching_end_closes_a_block() -> None:
    # A captured screen line that looks like an end marker (other number or time) is output.
    lines = ["%begin 5 40 1", "%end 5 39 1", "%end 6 40 1", "%error 5 41 1", "%begin 5 41 1", "%end 5 40 1"]
    (reply,) = feed_all(lines)
    assert reply == Reply(40, ("%end 5 39 1", "%end 6 40 1", "%error 5 41 1", "%begin 5 41 1"), False, True)


def test_notifications_between_blocks() -> None:
    items = feed_all(["%window-close @4", "%begin 1 2 1", "%end 1 2 1", "%exit server exited"])
    assert items[0] == Notification("window-close", ("@4",))
    assert items[2] == Notification("exit", ("server exited",))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param("%exit", Notification("exit", ()), id="exit-without-reason"),
        pytest.param(
            "%window-renamed @3 my  name", Notification("window-renamed", ("@3", "my  name")), id="renamed"
        ),
        pytest.param(
            "%unlinked-window-close @12", Notification("unlinked-window-close", ("@12",)), id="unlinked-close"
        ),
        pytest.param("%output %1 a b\\015", Notification("output", ("%1", "a b\\015")), id="output"),
        pytest.param("%sessions-changed", Notification("sessions-changed", ()), id="sessions-changed"),
        pytest.param("%future-thing a b c", Notification("future-thing", ("a", "b", "c")), id="unknown-name"),
    ],
)
def test_parse_notification(line: str, expected: Notification) -> None:
    assert parse_notification(line) == expected


def test_unescape_output() -> None:
    assert unescape_output("a\\033[1m\\134x\\015\\012é") == b"a\x1b[1m\\x\r\n" + "é".encode()


def test_stray_lines_outside_blocks_are_ignored() -> None:
    assert feed_all(["hello", ""]) == []


def test_feed_lines_equals_feeding_one_by_one() -> None:
    lines = [
        "%begin 1 2 1",
        "a",
        "%end 1 3 1",
        "%end 1 2 1",
        "%window-close @1",
        "x",
        "%begin 1 4 0",
        "%end 1 4 0",
    ]
    one_by_one = feed_all(lines)
    assert ControlParser().feed_lines(lines) == one_by_one
    assert len(one_by_one) == 3
