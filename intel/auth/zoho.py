"""Zoho OAuth 2.0: data centers, the grant-code exchange, refresh, revoke.

Zoho runs separate data centers; a user's tokens are only valid at the accounts server of
theirs, and their mail at the matching Mail API host. `DATA_CENTERS` names them; a source
picks one by name (``data_center = "eu"``), and both URLs can be overridden (tests, proxies).

The flow (Zoho's "self client"): the user makes a grant code in the API console, and
`ZohoOAuth.exchange_code` trades it (``grant_type=authorization_code``) for a refresh token and
a first access token, which go into a token store. Access tokens live an hour; `access_token()`
refreshes (``grant_type=refresh_token``) shortly before expiry, and once more when an API call
is refused with 401 (`invalidate()`), holding the store's refresh lock so two processes never
both spend the refresh token at once. `revoke()` ends a refresh token at Zoho.

The token endpoint reports some errors with HTTP 200 and a body such as
``{"error": "invalid_code"}``: those are errors too. A refused refresh token (revoked, expired,
or from another data center) is an `AuthError` telling the user how to authorize again.
No token or secret ever appears in a message or a log line.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from intel.auth.stores import OAuthToken, TokenStore, refresh_lock
from intel.errors import AuthError, ConfigError, SourceError, TransientError

__all__ = [
    "DATA_CENTERS",
    "MAIL_SCOPES",
    "DataCenter",
    "ZohoOAuth",
    "auth_header",
    "data_center",
    "imap_token_provider",
    "oauth_for_source",
]

log = logging.getLogger(__name__)

# Scopes the mail source needs (read-only).
MAIL_SCOPES = ("ZohoMail.accounts.READ", "ZohoMail.folders.READ", "ZohoMail.messages.READ")
# Refresh this long before the access token's stated expiry.
REFRESH_MARGIN = 300.0


@dataclass(frozen=True)
class DataCenter:
    """One Zoho data center: where to authorize and where the Mail API answers."""

    name: str
    region: str
    accounts_url: str
    mail_url: str


DATA_CENTERS: dict[str, DataCenter] = {
    dc.name: dc
    for dc in (
        DataCenter("com", "United States", "https://accounts.zoho.com", "https://mail.zoho.com"),
        DataCenter("eu", "Europe", "https://accounts.zoho.eu", "https://mail.zoho.eu"),
        DataCenter("in", "India", "https://accounts.zoho.in", "https://mail.zoho.in"),
        DataCenter("com.au", "Australia", "https://accounts.zoho.com.au", "https://mail.zoho.com.au"),
        DataCenter("jp", "Japan", "https://accounts.zoho.jp", "https://mail.zoho.jp"),
        DataCenter("ca", "Canada", "https://accounts.zohocloud.ca", "https://mail.zohocloud.ca"),
        DataCenter("sa", "Saudi Arabia", "https://accounts.zoho.sa", "https://mail.zoho.sa"),
        DataCenter("com.cn", "China", "https://accounts.zoho.com.cn", "https://mail.zoho.com.cn"),
        DataCenter("uk", "United Kingdom", "https://accounts.zoho.uk", "https://mail.zoho.uk"),
    )
}
_ALIASES = {"us": "com", "au": "com.au", "cn": "com.cn", "zohocloud.ca": "ca"}

# Token endpoint errors (RFC 6749 codes and Zoho's own) that mean the grant or refresh token is dead.
_DEAD_GRANT = {"invalid_code", "invalid_grant", "invalid_token", "invalid_refresh_token"}
_BAD_CLIENT = {"invalid_client", "invalid_client_secret", "unauthorized_client"}


def data_center(name: str) -> DataCenter:
    """The data center called `name` (see `DATA_CENTERS`; ``us``, ``au``, ``cn`` are aliases)."""
    key = name.strip().lower().removeprefix(".")
    key = _ALIASES.get(key, key)
    found = DATA_CENTERS.get(key)
    if found is None:
        raise ConfigError(f'unknown Zoho data center "{name}"; use one of {", ".join(DATA_CENTERS)}')
    return found


def auth_header(token: str) -> dict[str, str]:
    """The header Zoho's APIs expect (not ``Bearer``)."""
    return {"Authorization": f"Zoho-oauthtoken {token}"}


def _scrub(text: str, *secrets: str | None) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return " ".join(text.split())


class ZohoOAuth:
    """OAuth 2.0 with Zoho for one user and client; an `AccessTokenProvider` for the mail source and IMAP.

    Args:
        store: where the tokens are kept.
        user: the name the token is stored under (usually the Zoho login).
        client_id: the client's id from the API console (not secret).
        client_secret: a callable returning the client secret, called only when needed.
        data_center: the user's data center.
        accounts_url: overrides the data center's accounts server.
        context: how messages start, e.g. ``source 'support'``.
        reauthorize: the command that authorizes again, for messages.
    """

    def __init__(
        self,
        *,
        store: TokenStore,
        user: str,
        client_id: str,
        client_secret: Callable[[], str],
        data_center: DataCenter,
        accounts_url: str | None = None,
        http: httpx.Client | None = None,
        timeout: float = 30.0,
        lock_timeout: float = 60.0,
        clock: Callable[[], float] = time.time,
        context: str = "zoho",
        reauthorize: str | None = None,
    ) -> None:
        self.store = store
        self.user = user
        self.client_id = client_id
        self._client_secret = client_secret
        self.data_center = data_center
        self.accounts_url = (accounts_url or data_center.accounts_url).rstrip("/")
        self._http = http or httpx.Client(timeout=timeout)
        self._own_http = http is None
        self.lock_timeout = lock_timeout
        self._clock = clock
        self.context = context
        self.reauthorize = reauthorize or (
            f"intel auth zoho --data-center {data_center.name} --client-id {client_id} --user {user} "
            "--client-secret env:NAME"
        )
        self._token: OAuthToken | None = None
        self._refused: str | None = None
        self._mutex = threading.Lock()
        self._secrets: set[str] = set()

    # -- helpers ------------------------------------------------------------------------------

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> ZohoOAuth:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def query(self) -> OAuthToken:
        """The store key of this user's token."""
        return OAuthToken(self.user, self.client_id, self.data_center.name)

    def secrets(self) -> list[str]:
        """Every secret this client has handled: for scrubbing text before it is shown."""
        return sorted(self._secrets)

    def _remember(self, *values: str | None) -> None:
        self._secrets.update(v for v in values if v)

    def _valid(self, token: OAuthToken | None, margin: float = REFRESH_MARGIN) -> bool:
        if token is None or not token.access_token or token.access_token == self._refused:
            return False
        return token.expires_at is None or token.expires_at - margin > self._clock()

    def _not_authorized(self) -> AuthError:
        return AuthError(
            f"{self.context}: no Zoho token for {self.query.describe()}; authorize first with: {self.reauthorize}"
        )

    def _token_call(self, what: str, data: dict[str, str], path: str = "/oauth/v2/token") -> dict[str, Any]:
        """POST to the accounts server; any error becomes one clean IntelError."""
        url = self.accounts_url + path
        where = f"{self.context}: Zoho token endpoint {url} ({what})"
        secret_values = [v for k, v in data.items() if k in ("client_secret", "refresh_token", "code", "token")]
        self._remember(*secret_values)
        try:
            response = self._http.post(url, data=data, headers={"Accept": "application/json"})
        except httpx.TimeoutException:
            raise TransientError(f"{where}: no answer in time") from None
        except httpx.HTTPError as exc:
            raise TransientError(f"{where}: {_scrub(str(exc), *secret_values) or type(exc).__name__}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"{where}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SourceError(f"{where}: HTTP {response.status_code} with an answer that is not a JSON object")
        error = body.get("error")
        if error or response.status_code >= 400:
            code = _scrub(str(error or f"HTTP {response.status_code}"), *secret_values)
            described = _scrub(str(body.get("error_description") or ""), *secret_values)
            detail = f"{code}: {described}" if described else code
            if "too many requests" in described.lower() or "access denied" in code.lower():
                raise TransientError(f"{where}: Zoho refused for now ({detail}); try again in a few minutes")
            raise _TokenEndpointError(str(error or ""), f"{where}: {detail}")
        return body

    # -- the grant code -----------------------------------------------------------------------

    def exchange_code(self, code: str, redirect_uri: str | None = None) -> OAuthToken:
        """Trade a grant code for refresh + access tokens and save them; returns the stored token."""
        data = {
            "grant_type": "authorization_code",
            "client_id": self.client_id,
            "client_secret": self._secret(),
            "code": code.strip(),
        }
        if redirect_uri:
            data["redirect_uri"] = redirect_uri
        try:
            body = self._token_call("grant code", data)
        except _TokenEndpointError as exc:
            if exc.code == "invalid_code":
                raise AuthError(
                    f"{exc}: the grant code is wrong, used already or expired (codes live a few minutes), "
                    f"or belongs to another data center than {self.data_center.name}; generate a new one"
                ) from None
            if exc.code in _BAD_CLIENT:
                raise AuthError(f"{exc}: check the client id and secret, and the data center") from None
            raise AuthError(str(exc)) from None
        refresh = body.get("refresh_token")
        access = body.get("access_token")
        if not refresh or not access:
            raise AuthError(
                f"{self.context}: Zoho gave no refresh token for the grant code; "
                "make the code with access type offline (the API console's self client does)"
            )
        self._remember(refresh, access)
        token = dataclasses.replace(
            self.query,
            refresh_token=str(refresh),
            access_token=str(access),
            expires_at=self._expiry(body),
            api_domain=body.get("api_domain"),
            scopes=body.get("scope"),
        )
        with refresh_lock(self.store, token, self.lock_timeout):
            saved = self.store.save_token(token)
        with self._mutex:
            self._token, self._refused = saved, None
        log.info("%s: stored a new Zoho token for %s", self.context, saved.describe())
        return saved

    def _secret(self) -> str:
        secret = self._client_secret()
        self._remember(secret)
        return secret

    def _expiry(self, body: dict[str, Any]) -> float:
        try:
            seconds = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            seconds = 3600.0
        if seconds > 86_400:  # some Zoho services give milliseconds here
            seconds /= 1000.0
        return self._clock() + seconds

    # -- AccessTokenProvider --------------------------------------------------------------------

    def access_token(self) -> str:
        """A valid access token, refreshed first when it expires within `REFRESH_MARGIN` or was refused."""
        with self._mutex:
            if self._valid(self._token):
                assert self._token is not None and self._token.access_token
                return self._token.access_token
            refused = self._refused
        with refresh_lock(self.store, self.query, self.lock_timeout):
            stored = self.store.find_token(self.query)
            if stored is None or not stored.refresh_token:
                raise self._not_authorized()
            self._remember(stored.refresh_token, stored.access_token)
            # Another process may have refreshed while we waited for the lock: then use its token.
            if not (self._valid(stored) and stored.access_token != refused):
                stored = self._refresh(stored)
        with self._mutex:
            self._token, self._refused = stored, None
        assert stored.access_token
        return stored.access_token

    def invalidate(self) -> None:
        """The API refused the current access token (401): the next call refreshes it."""
        with self._mutex:
            if self._token is not None and self._token.access_token:
                self._refused = self._token.access_token
            self._token = None

    def _refresh(self, stored: OAuthToken) -> OAuthToken:
        """Spend the refresh token (the caller holds the refresh lock) and save the new access token."""
        assert stored.refresh_token
        data = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self._secret(),
            "refresh_token": stored.refresh_token,
        }
        try:
            body = self._token_call("refresh", data)
        except _TokenEndpointError as exc:
            if exc.code in _DEAD_GRANT:
                raise AuthError(
                    f"{exc}: Zoho refused the refresh token of {self.user} (revoked, expired or replaced); "
                    f"authorize again with: {self.reauthorize}"
                ) from None
            if exc.code in _BAD_CLIENT:
                raise AuthError(f"{exc}: check client_id, client_secret and data_center") from None
            raise AuthError(str(exc)) from None
        access = body.get("access_token")
        if not access:
            raise SourceError(f"{self.context}: Zoho token endpoint answered a refresh without an access token")
        self._remember(str(access))
        refreshed = dataclasses.replace(
            stored,
            access_token=str(access),
            # Zoho keeps the refresh token; should it ever rotate one, keep the new one.
            refresh_token=str(body.get("refresh_token") or stored.refresh_token),
            expires_at=self._expiry(body),
            api_domain=body.get("api_domain") or stored.api_domain,
        )
        saved = self.store.save_token(refreshed)
        log.info("%s: refreshed the Zoho access token of %s", self.context, self.user)
        return saved

    # -- revoke -------------------------------------------------------------------------------

    def revoke(self, *, forget: bool = True) -> bool:
        """Revoke the stored refresh token at Zoho and (with `forget`) delete it from the store.

        Returns False when there was no token. A token Zoho no longer knows counts as revoked.
        """
        stored = self.store.find_token(self.query)
        if stored is None:
            return False
        if stored.refresh_token:
            self._remember(stored.refresh_token)
            try:
                self._token_call("revoke", {"token": stored.refresh_token}, path="/oauth/v2/token/revoke")
            except _TokenEndpointError as exc:
                if exc.code not in _DEAD_GRANT:
                    raise AuthError(str(exc)) from None
        if forget and stored.id:
            self.store.delete_token(stored.id)
        with self._mutex:
            self._token = None
        return True


class _TokenEndpointError(Exception):
    """An error answer of the token endpoint; `code` is Zoho's ``error`` value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def oauth_for_source(config: Any, store: TokenStore | None = None, **options: Any) -> ZohoOAuth:
    """The OAuth client of a configured Zoho source (`intel.config.ZohoSource`).

    `store` defaults to the source's token store; `options` go to `ZohoOAuth` (http, clock...).
    """
    from intel.auth.stores import open_token_store
    from intel.config import TokenStoreSettings

    settings = config.token_store or TokenStoreSettings()
    if store is None:
        store = open_token_store(settings)
    options.setdefault("timeout", config.timeout)
    options.setdefault("lock_timeout", settings.lock_timeout)
    return ZohoOAuth(
        store=store,
        user=config.user,
        client_id=config.client_id,
        client_secret=lambda: config.client_secret.resolve().get_secret_value(),
        data_center=data_center(config.data_center),
        accounts_url=config.accounts_url,
        context=f"source '{config.name}'",
        reauthorize=f"intel auth zoho --source {config.name}",
        **options,
    )


def imap_token_provider(config: Any) -> ZohoOAuth:
    """``token_provider = "intel.auth.zoho:imap_token_provider"`` for an IMAP/POP3 source on Zoho.

    Uses the Zoho source of the same configuration whose ``user`` is the IMAP ``username``: its
    client, data center and token store (the token needs a scope that allows IMAP access).
    """
    from intel.config import ZohoSource, load_settings

    settings = load_settings()
    for source in settings.sources:
        if isinstance(source, ZohoSource) and source.user.lower() == config.username.lower():
            return oauth_for_source(source)
    raise ConfigError(
        f"source '{config.name}': token_provider needs a zoho source with user = \"{config.username}\" "
        f"in {settings.origin} (it names the client, data center and token store)"
    )
