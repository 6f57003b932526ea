"""The fetch layer's fixtures (the local feed server, a loopback-only guarded session) are
shared with the poller's tests in ``tests/jobs``."""

from tests.jobs.conftest import LOOPBACK_ONLY, feed_server, policy, session

__all__ = ["LOOPBACK_ONLY", "feed_server", "policy", "session"]
