"""The project's one error hierarchy.

::

    GovernanceError                 base of everything we raise on purpose
    ├── UserFacingError             a person did something we refuse; the message is shown to them
    │   ├── PermissionDenied        the person lacks the role or scope for this action
    │   ├── NotFound                the object named does not exist (or is not visible to them)
    │   ├── InvalidInput            a value failed validation (length, format, range)
    │   ├── Conflict                the action collides with existing state (duplicate, taken)
    │   └── StaleAction             the object changed since the button was drawn (已处理)
    └── ConfigurationError          settings are missing or malformed; start-up stops

A :class:`UserFacingError` carries a gettext message id (marked with ``N_``) and named
parameters; the bot translates it for the reader and rolls back the transaction, so a refused
action changes nothing. Anything that is not a ``GovernanceError`` is a bug: it is logged with a
reference number and the person gets an apology.
"""

from __future__ import annotations

from typing import Any


class GovernanceError(Exception):
    """Base class for errors raised deliberately by this project."""


class UserFacingError(GovernanceError):
    """An action refused for a reason the person can understand and act on."""

    def __init__(self, message: str, /, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def __str__(self) -> str:
        try:
            return self.message.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return self.message


class PermissionDenied(UserFacingError):
    """The person may not do this."""


class NotFound(UserFacingError):
    """The object does not exist or is outside the person's scope."""


class InvalidInput(UserFacingError):
    """A value failed validation."""


class Conflict(UserFacingError):
    """The action collides with existing state."""


class StaleAction(UserFacingError):
    """The button refers to a state that has moved on."""


class ConfigurationError(GovernanceError):
    """Settings are missing or malformed."""
