import pytest

from governance.quality import Checker, Finding, build_checker


@pytest.fixture(scope="session")
def checker() -> Checker:
    return build_checker()


def only(findings: list[Finding], category: str) -> list[Finding]:
    return [f for f in findings if f.category == category]
