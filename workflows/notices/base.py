"""A notice is a typed message to someone else, queued in the outbox and rendered when sent.

Each kind is a frozen dataclass registered under its ``kind`` string (the strings stored in the
outbox since the first release, so rows queued before an upgrade still render). The outbox keeps
``kind`` plus the fields as JSON; :func:`load` turns a row back into its dataclass, ignoring keys
a newer release no longer uses. A renamed field fails in the test that renders every kind, not
in production.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field
from functools import cache
from typing import Any, ClassVar, TypeVar, dataclass_transform

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

N = TypeVar("N", bound="Notice")

_KINDS: dict[str, type[Notice]] = {}
_CONFIG = ConfigDict(extra="ignore")


class UnknownNotice(LookupError):
    """An outbox row whose kind no release knows, or whose fields do not fit its kind."""


class Notice:
    """Base of every notice kind; subclasses are made with :func:`notice`."""

    kind: ClassVar[str]

    def dedup_key(self) -> str | None:
        """What makes two notices the same event; the recipient's chat is appended.

        ``None`` means every notice is new (nothing to deduplicate).
        """
        return None

    def params(self) -> dict[str, Any]:
        """The fields as JSON-ready values, as stored in the outbox."""
        dumped: dict[str, Any] = _adapter(type(self)).dump_python(self, mode="json")
        return dumped


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(field, Field))
def part(cls: type[N]) -> type[N]:
    """A group of fields shared by several kinds (a base class, not a kind of its own)."""
    return dataclass(frozen=True, kw_only=True, config=_CONFIG)(cls)


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(field, Field))
def notice(kind: str) -> Callable[[type[N]], type[N]]:
    """Register ``cls`` as the dataclass of notices of ``kind``."""

    def register(cls: type[N]) -> type[N]:
        if kind in _KINDS:
            raise TypeError(f"notice kind {kind!r} is registered twice")
        made = dataclass(frozen=True, kw_only=True, config=_CONFIG)(cls)
        made.kind = kind
        _KINDS[kind] = made
        return made

    return register


@cache
def _adapter(cls: type[Notice]) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


def load(kind: str, params: Mapping[str, Any]) -> Notice:
    """The notice an outbox row holds; :class:`UnknownNotice` when it cannot be read."""
    cls = _KINDS.get(kind)
    if cls is None:
        raise UnknownNotice(f"no notice kind {kind!r}")
    try:
        loaded: Notice = _adapter(cls).validate_python(dict(params))
    except ValidationError as exc:
        raise UnknownNotice(f"{kind}: {exc.error_count()} field error(s): {exc}") from exc
    return loaded


def kinds() -> Mapping[str, type[Notice]]:
    """Every registered kind (the test renders each one)."""
    return dict(_KINDS)
