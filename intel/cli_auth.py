"""``intel auth``: obtain, list and revoke OAuth tokens (Zoho Mail), and make an encryption key.

Registered in `intel.cli` as a sub-command group. Secrets are taken only by reference
(``env:NAME`` / ``file:PATH``) or typed at a hidden prompt, and are never printed.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from typing import Annotated

import httpx
import typer

from intel.auth.stores import EncryptedTokenStore, MemoryTokenStore, OAuthToken, open_token_store, refresh_lock
from intel.auth.zoho import DATA_CENTERS, ZohoOAuth, data_center
from intel.config import SecretRef, Settings, TokenStoreSettings, ZohoSource
from intel.errors import AuthError, BadInputError, ConfigError

__all__ = ["auth_app"]

auth_app = typer.Typer(
    name="auth",
    help="Obtain, list and revoke OAuth tokens (Zoho Mail).",
    no_args_is_help=True,
    add_completion=False,
)


def _settings() -> Settings:
    from intel.cli import _settings as load  # imported late: intel.cli imports this module

    return load()


def _reference(value: str, option: str) -> str:
    """Resolve an ``env:NAME`` / ``file:PATH`` reference; anything else is refused (never echoed)."""
    kind, sep, target = value.partition(":")
    if not (sep and kind in ("env", "file") and target):
        raise BadInputError(f"{option} takes a reference, env:NAME or file:PATH, not the secret itself")
    return SecretRef(value).resolve().get_secret_value()


def _zoho_source(settings: Settings, name: str) -> ZohoSource:
    source = settings.source(name)
    if not isinstance(source, ZohoSource):
        raise ConfigError(f"source '{name}' is of type {source.type}, not zoho")
    return source


def _store_settings(settings: Settings, source: ZohoSource | None) -> TokenStoreSettings:
    if source is not None and source.token_store is not None:
        return source.token_store
    return settings.token_store


def _describe_store(store_settings: TokenStoreSettings) -> str:
    if store_settings.type == "custom":
        return f"custom token store {store_settings.factory}"
    if store_settings.type == "memory":
        return "memory token store (this process only)"
    from intel.auth.stores import default_token_path

    path = store_settings.path or default_token_path(store_settings.type)
    encrypted = ", encrypted" if store_settings.encryption_key else ""
    return f"{store_settings.type} token store {path}{encrypted}"


def _primary_address(mail_url: str, token: str, http: httpx.Client) -> str | None:
    """The primary address of the first mail account the token can read (to name the token)."""
    from intel.sources.zoho import ZohoMailClient

    class _Fixed:
        def access_token(self) -> str:
            return token

        def invalidate(self) -> None:
            """A fresh token: nothing to refresh."""

    client = ZohoMailClient("auth", mail_url, _Fixed(), http=http, retries=2, backoff=1.0, secrets=lambda: [token])
    accounts = client.accounts()
    return accounts[0].address if accounts else None


@auth_app.command("zoho")
def zoho(
    source: Annotated[
        str | None, typer.Option("--source", "-s", help="Take client, data center and user from this zoho source.")
    ] = None,
    data_center_name: Annotated[
        str | None, typer.Option("--data-center", help=f"One of {', '.join(DATA_CENTERS)} (default com).")
    ] = None,
    client_id: Annotated[str | None, typer.Option("--client-id", help="The client id from the API console.")] = None,
    client_secret: Annotated[
        str | None, typer.Option("--client-secret", help="The client secret as env:NAME or file:PATH.")
    ] = None,
    code: Annotated[
        str | None,
        typer.Option("--code", help="The grant code (or env:NAME / file:PATH); asked for, hidden, if left out."),
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Store the token under this name (default: the account's address).")
    ] = None,
    accounts_url: Annotated[str | None, typer.Option("--accounts-url", help="Override the accounts server.")] = None,
    mail_url: Annotated[str | None, typer.Option("--mail-url", help="Override the Mail API host.")] = None,
) -> None:
    """Trade a Zoho grant code (self client) for tokens and keep them in the token store."""
    settings = _settings()
    configured = _zoho_source(settings, source) if source else None
    if configured is not None:
        data_center_name = data_center_name or configured.data_center
        client_id = client_id or configured.client_id
        client_secret = client_secret or configured.client_secret
        user = user or configured.user
        accounts_url = accounts_url or configured.accounts_url
        mail_url = mail_url or configured.mail_url
    if not client_id:
        raise BadInputError("intel auth zoho needs --client-id (or --source NAME)")
    if not client_secret:
        raise BadInputError("intel auth zoho needs --client-secret env:NAME (or --source NAME)")
    secret = _reference(client_secret, "--client-secret")
    center = data_center(data_center_name or "com")
    if code is None:
        code = typer.prompt("Grant code from the Zoho API console (self client)", hide_input=True)
    elif code.partition(":")[0] in ("env", "file") and ":" in code:
        code = _reference(code, "--code")
    if not code.strip():
        raise BadInputError("the grant code is empty")

    store_settings = _store_settings(settings, configured)
    store = open_token_store(store_settings)
    with httpx.Client(timeout=30.0) as http:
        # Exchange into memory first: the token's name may come from the account it opens.
        scratch = ZohoOAuth(
            store=MemoryTokenStore(),
            user=user or "(pending)",
            client_id=client_id,
            client_secret=lambda: secret,
            data_center=center,
            accounts_url=accounts_url,
            http=http,
            context="intel auth zoho",
        )
        token = scratch.exchange_code(code)
        assert token.access_token is not None
        if not user:
            user = _primary_address(mail_url or center.mail_url, token.access_token, http)
            if not user:
                raise AuthError("intel auth zoho: the token opens no mail account; pass --user NAME to store it anyway")
    final = dataclasses.replace(token, user=user, id=None, created_at=None)
    with refresh_lock(store, final, store_settings.lock_timeout):
        saved = store.save_token(final)
    typer.echo(f"Stored the Zoho token of {saved.describe()} in the {_describe_store(store_settings)}.")
    if configured is None:
        typer.echo("Use it from intel.toml with:")
        typer.echo(
            f'[[source]]\nname = "zoho"\ntype = "zoho"\ndata_center = "{center.name}"\nclient_id = "{client_id}"\n'
            f'client_secret = "{client_secret}"\nuser = "{user}"'
        )


def _stores(settings: Settings) -> list[tuple[TokenStoreSettings, EncryptedTokenStore]]:
    """The top-level token store and every other one a zoho source names, each once."""
    seen: list[TokenStoreSettings] = []
    for candidate in [settings.token_store] + [
        s.token_store for s in settings.sources if isinstance(s, ZohoSource) and s.token_store is not None
    ]:
        if candidate not in seen:
            seen.append(candidate)
    return [(s, open_token_store(s)) for s in seen]


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _sources_using(settings: Settings, store_settings: TokenStoreSettings, token: OAuthToken) -> list[str]:
    return [
        s.name
        for s in settings.sources
        if isinstance(s, ZohoSource)
        and (s.token_store or settings.token_store) == store_settings
        and (s.user, s.client_id, s.data_center) == token.key
    ]


@auth_app.command("list")
def list_tokens() -> None:
    """Show the stored tokens: whose, where, until when. Never the tokens themselves."""
    settings = _settings()
    now = time.time()
    for store_settings, store in _stores(settings):
        tokens = store.get_tokens()
        typer.echo(f"{_describe_store(store_settings)}: {len(tokens)} token(s)")
        for token in tokens:
            if not token.access_token or token.expires_at is None:
                access = "no access token"
            elif token.expires_at > now:
                access = f"access token valid until {_when(token.expires_at)}"
            else:
                access = f"access token expired {_when(token.expires_at)} (refreshed when needed)"
            refresh = "refresh token stored" if token.refresh_token else "NO refresh token"
            used = ", ".join(_sources_using(settings, store_settings, token)) or "no source"
            typer.echo(
                f"  {token.user}  data center {token.data_center}  client {token.client_id}  {refresh}; {access}; "
                f"updated {_when(token.updated_at)}; used by {used}"
            )


@auth_app.command("revoke")
def revoke(
    source: Annotated[str | None, typer.Option("--source", "-s", help="The token of this zoho source.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Every token stored under this name.")] = None,
    local: Annotated[bool, typer.Option("--local", help="Only delete it here; do not ask Zoho to revoke it.")] = False,
    accounts_url: Annotated[str | None, typer.Option("--accounts-url", help="Override the accounts server.")] = None,
) -> None:
    """Revoke a refresh token at Zoho and delete it from the token store."""
    if (source is None) == (user is None):
        raise BadInputError("intel auth revoke needs either --source NAME or --user NAME")
    settings = _settings()
    configured = _zoho_source(settings, source) if source else None
    store_settings = _store_settings(settings, configured)
    store = open_token_store(store_settings)
    if configured is not None:
        targets = [OAuthToken(configured.user, configured.client_id, configured.data_center)]
        accounts_url = accounts_url or configured.accounts_url
    else:
        targets = [t for t in store.get_tokens() if t.user == user]
    done = 0
    with httpx.Client(timeout=30.0) as http:
        for target in targets:
            if local:
                found = store.find_token(target)
                if found is not None and found.id:
                    done += store.delete_token(found.id)
                continue
            oauth = ZohoOAuth(
                store=store,
                user=target.user,
                client_id=target.client_id,
                client_secret=lambda: "",  # revoking needs only the token
                data_center=data_center(target.data_center),
                accounts_url=accounts_url,
                http=http,
                context="intel auth revoke",
            )
            done += oauth.revoke()
    who = f"source {source}" if source else f"user {user}"
    if not done:
        raise BadInputError(f"no stored token for {who} in the {_describe_store(store_settings)}")
    verb = "Deleted" if local else "Revoked and deleted"
    typer.echo(f"{verb} {done} token(s) of {who}.")


@auth_app.command("keygen")
def keygen() -> None:
    """Print a new key for token_store.encryption_key (keep it in the environment, not in intel.toml)."""
    from intel.auth.stores import generate_key

    typer.echo(generate_key())
