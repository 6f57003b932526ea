"""Notices about the group-robot channels themselves."""

from __future__ import annotations

from workflows.notices.base import Notice, notice


@notice("robot.test")
class RobotTest(Notice):
    """The test message an admin asks for with 测试 in /channels (every press is a new one)."""

    channel_name: str
    requested_by: str
