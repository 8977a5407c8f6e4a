"""One exception hierarchy for the whole library.

Callers decide what to do from the class alone: a `TransientError` is worth retrying, a
`PermanentError` is not, an `AuthError` needs the user to fix credentials and `BadInputError`
means what we were given (config, a file, a command-line value) is wrong. Every message is one
line that a user can act on, and never contains a secret.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "BadInputError",
    "ConfigError",
    "IntelError",
    "PermanentError",
    "SourceError",
    "StoreError",
    "TransientError",
]


class IntelError(Exception):
    """Base class of every error this library raises on purpose."""


class BadInputError(IntelError):
    """Input we were given is wrong: a file, a command-line value, a JSONL line."""


class ConfigError(BadInputError):
    """`intel.toml` or an `INTEL_*` variable is wrong; the message names the key."""


class PermanentError(IntelError):
    """A failure that will happen again if retried (404, bad request, unsupported server)."""


class TransientError(IntelError):
    """A failure that may pass: dropped connection, timeout, throttling, 5xx."""


class AuthError(PermanentError):
    """Credentials were refused or are missing; the user has to act."""


class SourceError(PermanentError):
    """A mail source cannot be read; the message names the source."""


class StoreError(IntelError):
    """The database cannot be opened, migrated or written."""
