"""Access tokens for XOAUTH2 logins (IMAP and POP3).

A server source that logs in with ``auth = "xoauth2"`` asks an `AccessTokenProvider` for a
bearer token on every connection. When the server refuses a token the source calls
`invalidate()` and asks once more, so a provider that caches tokens (an OAuth 2.0 refresh
flow, for example Zoho's) gets the chance to refresh.

Configuration: ``token_provider = "package.module:factory"``; the factory is called with the
source's config and returns the provider. Without it, the token is read from the source's
``password`` reference (``env:NAME`` / ``file:PATH``) on every call, which suits tokens that
something else keeps fresh.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from intel.config import SecretRef
from intel.errors import AuthError, ConfigError

__all__ = ["AccessTokenProvider", "SecretTokenProvider", "load_token_provider", "token_provider_for", "xoauth2_string"]


@runtime_checkable
class AccessTokenProvider(Protocol):
    """Gives a current OAuth 2.0 access token; forgets it when the server refused it."""

    def access_token(self) -> str:
        """A bearer token valid now (refreshing it first if needed). Raises AuthError if it cannot."""
        ...

    def invalidate(self) -> None:
        """The last token was refused: the next `access_token()` must not return it again."""
        ...


class SecretTokenProvider:
    """A token kept in a secret reference, read again on every call (so outside refreshes are seen)."""

    def __init__(self, reference: SecretRef) -> None:
        self.reference = reference

    def access_token(self) -> str:
        return self.reference.resolve().get_secret_value()

    def invalidate(self) -> None:
        """Nothing cached: the next call reads the reference again."""


def load_token_provider(spec: str, config: Any) -> AccessTokenProvider:
    """Import ``package.module:factory`` and call it with `config` to get a provider."""
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"token_provider {spec}: cannot import {module_name}: {exc}") from None
    factory: Callable[[Any], Any] | None = getattr(module, attribute, None)
    if factory is None or not callable(factory):
        raise ConfigError(f"token_provider {spec}: {module_name} has no callable {attribute}")
    provider = factory(config)
    if not isinstance(provider, AccessTokenProvider):
        raise ConfigError(f"token_provider {spec}: the object it returned has no access_token() and invalidate()")
    return provider


def token_provider_for(config: Any) -> AccessTokenProvider:
    """The provider a server source with ``auth = "xoauth2"`` uses."""
    if config.token_provider:
        return load_token_provider(config.token_provider, config)
    if config.password is None:
        raise AuthError(f"source '{config.name}': auth = \"xoauth2\" needs token_provider or password (the token)")
    return SecretTokenProvider(config.password)


def xoauth2_string(username: str, token: str) -> bytes:
    """The SASL XOAUTH2 initial response (before base64), as Google and Microsoft document it."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01".encode()
