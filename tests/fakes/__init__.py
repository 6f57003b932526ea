"""Fakes at the I/O boundary for tests: a local feed server (no internet, 127.0.0.1 only)."""

from tests.fakes.dns import FakeResolver
from tests.fakes.feeds import FakeFeed, FakeItem, FeedServer, RecordedRequest, default_items

__all__ = ["FakeFeed", "FakeItem", "FakeResolver", "FeedServer", "RecordedRequest", "default_items"]
