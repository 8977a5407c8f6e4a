"""Token stores: where OAuth tokens live between runs, behind one small interface.

The interface has the shape of Zoho's own SDKs' token stores: `find_token`, `save_token`,
`delete_token`, `get_tokens`, `delete_tokens` and `find_token_by_id`. A token is identified by
its *key*, ``(user, client_id, data_center)``; `save_token` replaces the token with the same id
or key. Implementations:

* `FileTokenStore`: one JSON file, created 0600, rewritten atomically (temp file + rename).
* `DuckDBTokenStore`: a DuckDB file of its own (never the pipeline's database, whose writer
  holds it for whole runs); opened per operation under a lock file, so processes share it.
* `SQLiteTokenStore`: the stdlib ``sqlite3``; SQLite's own locking serializes writers.
* `MemoryTokenStore`: this process only (tests, one-off runs).
* a custom store: ``factory = "package.module.Name"`` is called with ``options``.

All SQL is parameterized: a user called ``O'Brien`` works, and an injection payload as a name
or token is just a string that matches nothing.

Encryption at rest: `EncryptedTokenStore` wraps any store and keeps the access and refresh
tokens as Fernet ciphertext (``fernet:...``); the key comes from a secret reference
(``encryption_key = "env:INTEL_TOKEN_KEY"``). Without a key, a store holding ciphertext is
refused with a clear message rather than sending ciphertext to Zoho.

Refreshing: a refresh token must not be spent by two processes at once, so every store offers
`refresh_lock(token)`, an inter-process lock per token key (a lock file, ``flock``). Whoever
holds it reads the store again before refreshing: a token refreshed meanwhile is simply used.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import importlib
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from intel.errors import AuthError, ConfigError, StoreError, TransientError
from intel.locks import exclusive_lock

__all__ = [
    "DuckDBTokenStore",
    "EncryptedTokenStore",
    "FileTokenStore",
    "MemoryTokenStore",
    "OAuthToken",
    "SQLiteTokenStore",
    "TokenCipher",
    "TokenStore",
    "default_token_path",
    "file_lock",
    "generate_key",
    "load_custom_store",
    "open_token_store",
    "refresh_lock",
]

log = logging.getLogger(__name__)

_DEFAULT_PATHS = {"file": "data/tokens.json", "duckdb": "data/tokens.duckdb", "sqlite": "data/tokens.sqlite"}
_CIPHER_PREFIX = "fernet:"
_FILE_FORMAT = "intel-oauth-tokens"


@dataclass
class OAuthToken:
    """One user's OAuth tokens for one client at one data center. Secrets stay out of `repr`."""

    user: str
    client_id: str
    data_center: str
    refresh_token: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None  # epoch seconds when the access token stops working
    api_domain: str | None = None
    scopes: str | None = None
    id: str | None = None
    created_at: float | None = None
    updated_at: float | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.user, self.client_id, self.data_center)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> OAuthToken:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in value.items() if k in names})

    def describe(self) -> str:
        """How messages name the token: never a secret."""
        return f"{self.user} (client {self.client_id}, data center {self.data_center})"


@runtime_checkable
class TokenStore(Protocol):
    """What the OAuth client needs from a store (the operations of Zoho's SDK token stores)."""

    def find_token(self, token: OAuthToken) -> OAuthToken | None:
        """The stored token with `token`'s key; if `token` has a refresh token, it must match too."""
        ...

    def save_token(self, token: OAuthToken) -> OAuthToken:
        """Insert or replace (same id, else same key); returns the token as stored, with its id."""
        ...

    def delete_token(self, id: str) -> bool:
        """Remove the token with this id; False if there was none."""
        ...

    def get_tokens(self) -> list[OAuthToken]:
        """Every stored token, ordered by user."""
        ...

    def delete_tokens(self) -> None:
        """Remove every token."""
        ...

    def find_token_by_id(self, id: str) -> OAuthToken | None:
        """The token with this id, or None."""
        ...


def _now() -> float:
    return time.time()


def _stamped(token: OAuthToken, id: str, created_at: float | None) -> OAuthToken:
    now = _now()
    return dataclasses.replace(token, id=id, created_at=created_at or token.created_at or now, updated_at=now)


def _matches(stored: OAuthToken, query: OAuthToken) -> bool:
    return stored.key == query.key and (query.refresh_token is None or stored.refresh_token == query.refresh_token)


# -- locks ----------------------------------------------------------------------------------


def _private_dir(path: Path) -> None:
    """Create `path` (and parents) as a directory only its owner can enter."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)


def _default_lock_dir() -> Path:
    """A private directory for refresh locks of stores that bring none (same host only)."""
    path = Path(tempfile.gettempdir()) / f"intel-token-locks-{os.getuid()}"
    _private_dir(path)
    status = path.stat()
    if status.st_uid != os.getuid() or status.st_mode & 0o077:
        raise StoreError(f"{path} must be a directory of your own, mode 0700; remove it and try again")
    return path


@contextmanager
def file_lock(path: Path, timeout: float, what: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on `path` (created 0600), waiting up to `timeout` seconds.

    ``flock`` locks belong to an open file, so this excludes other threads of this process as
    well as other processes. Raises TransientError naming `what` when the wait runs out.
    """
    _private_dir(path.parent)
    with exclusive_lock(
        path, timeout, lambda: TransientError(f"{what} is locked by another process (waited {timeout:g} s)")
    ):
        yield


def _key_digest(token: OAuthToken) -> str:
    return hashlib.sha256("\x00".join(token.key).encode("utf-8")).hexdigest()[:24]


def refresh_lock(store: Any, token: OAuthToken, timeout: float = 60.0) -> AbstractContextManager[None]:
    """The inter-process lock to hold while refreshing `token`'s access token.

    A store may provide its own (``refresh_lock(token, timeout)``); otherwise a lock file in a
    private directory under the system's temporary directory is used (same host only).
    """
    own: Callable[[OAuthToken, float], AbstractContextManager[None]] | None = getattr(store, "refresh_lock", None)
    if own is not None:
        return own(token, timeout)
    path = _default_lock_dir() / f"{_key_digest(token)}.lock"
    return file_lock(path, timeout, f"the token of {token.describe()}")


class _LockDirMixin:
    """A store kept in one file: per-operation lock ``<file>.lock``, refresh locks in ``<file>.locks/``."""

    def __init__(self, path: Path | str, lock_timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.lock_dir = self.path.with_name(self.path.name + ".locks")
        self._op_lock = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def refresh_lock(self, token: OAuthToken, timeout: float = 60.0) -> AbstractContextManager[None]:
        return file_lock(self.lock_dir / f"{_key_digest(token)}.lock", timeout, f"the token of {token.describe()}")


# -- memory ---------------------------------------------------------------------------------


class MemoryTokenStore:
    """Tokens in this process's memory: gone when it exits. Copies go in and out."""

    def __init__(self) -> None:
        self._tokens: dict[str, OAuthToken] = {}
        self._mutex = threading.Lock()
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}

    def find_token(self, token: OAuthToken) -> OAuthToken | None:
        with self._mutex:
            for stored in self._tokens.values():
                if _matches(stored, token):
                    return copy.copy(stored)
        return None

    def save_token(self, token: OAuthToken) -> OAuthToken:
        with self._mutex:
            current = self._tokens.get(token.id) if token.id else None
            same_key = [t for t in self._tokens.values() if t.key == token.key and t.id != token.id]
            if current is None and same_key:
                current = same_key.pop(0)
            for other in same_key:
                del self._tokens[str(other.id)]
            saved = _stamped(
                token,
                current.id if current and current.id else token.id or uuid.uuid4().hex,
                current.created_at if current else None,
            )
            self._tokens[str(saved.id)] = saved
            return copy.copy(saved)

    def delete_token(self, id: str) -> bool:
        with self._mutex:
            return self._tokens.pop(id, None) is not None

    def get_tokens(self) -> list[OAuthToken]:
        with self._mutex:
            return sorted((copy.copy(t) for t in self._tokens.values()), key=lambda t: t.key)

    def delete_tokens(self) -> None:
        with self._mutex:
            self._tokens.clear()

    def find_token_by_id(self, id: str) -> OAuthToken | None:
        with self._mutex:
            found = self._tokens.get(id)
            return copy.copy(found) if found else None

    @contextmanager
    def _held(self, lock: threading.Lock, timeout: float, token: OAuthToken) -> Iterator[None]:
        if not lock.acquire(timeout=timeout):
            raise TransientError(f"the token of {token.describe()} is being refreshed by another thread")
        try:
            yield
        finally:
            lock.release()

    def refresh_lock(self, token: OAuthToken, timeout: float = 60.0) -> AbstractContextManager[None]:
        """A lock for this process only: a memory store is not shared with other processes."""
        with self._mutex:
            lock = self._locks.setdefault(token.key, threading.Lock())
        return self._held(lock, timeout, token)


# -- JSON file ------------------------------------------------------------------------------


class FileTokenStore(_LockDirMixin):
    """Tokens in one JSON file, mode 0600, replaced atomically on every change.

    Every operation holds ``<file>.lock`` so processes never lose each other's writes; refresh
    locks live in ``<file>.locks/``.
    """

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with file_lock(self._op_lock, self.lock_timeout, f"token file {self.path}"):
            yield

    def _read(self) -> list[OAuthToken]:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(f"token file {self.path}: cannot read: {exc.strerror}") from None
        if status.st_mode & 0o077:
            log.warning(
                "token file %s was readable by others (mode %o); made it 0600", self.path, status.st_mode & 0o777
            )
            with contextlib.suppress(OSError):
                os.chmod(self.path, 0o600)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise StoreError(f"token file {self.path}: cannot read it ({reason})") from None
        if not isinstance(data, dict) or data.get("format") != _FILE_FORMAT or not isinstance(data.get("tokens"), list):
            raise StoreError(f"token file {self.path}: not a token file of this program")
        try:
            return [OAuthToken.from_json(item) for item in data["tokens"]]
        except TypeError:
            raise StoreError(f"token file {self.path}: a token entry is incomplete") from None

    def _write(self, tokens: list[OAuthToken]) -> None:
        _private_dir(self.path.parent)
        payload = {
            "format": _FILE_FORMAT,
            "version": 1,
            "tokens": [t.to_json() for t in sorted(tokens, key=lambda t: t.key)],
        }
        # mkstemp creates the file 0600; it replaces the old one in a single rename.
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise StoreError(f"token file {self.path}: cannot write: {exc.strerror}") from None
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def find_token(self, token: OAuthToken) -> OAuthToken | None:
        with self._locked():
            return next((t for t in self._read() if _matches(t, token)), None)

    def save_token(self, token: OAuthToken) -> OAuthToken:
        with self._locked():
            tokens = self._read()
            current = next((t for t in tokens if token.id and t.id == token.id), None)
            if current is None:
                current = next((t for t in tokens if t.key == token.key), None)
            saved = _stamped(token, current.id if current and current.id else token.id or uuid.uuid4().hex,
                             current.created_at if current else None)  # fmt: skip
            kept = [t for t in tokens if t.id != saved.id and t.key != saved.key]
            self._write([*kept, saved])
            return saved

    def delete_token(self, id: str) -> bool:
        with self._locked():
            tokens = self._read()
            kept = [t for t in tokens if t.id != id]
            if len(kept) == len(tokens):
                return False
            self._write(kept)
            return True

    def get_tokens(self) -> list[OAuthToken]:
        with self._locked():
            return sorted(self._read(), key=lambda t: t.key)

    def delete_tokens(self) -> None:
        with self._locked():
            if self.path.exists():
                self._write([])

    def find_token_by_id(self, id: str) -> OAuthToken | None:
        with self._locked():
            return next((t for t in self._read() if t.id == id), None)


# -- SQL (SQLite and DuckDB share the statements) ------------------------------------------

_COLUMNS = (
    "id",
    "user_name",
    "client_id",
    "data_center",
    "refresh_token",
    "access_token",
    "expires_at",
    "api_domain",
    "scopes",
    "created_at",
    "updated_at",
)
_SELECT = "SELECT " + ", ".join(_COLUMNS) + " FROM oauth_tokens"  # noqa: S608 (constant column names)
CREATE_TOKENS_TABLE = (
    "CREATE TABLE IF NOT EXISTS oauth_tokens ("
    " id VARCHAR PRIMARY KEY, user_name VARCHAR NOT NULL, client_id VARCHAR NOT NULL,"
    " data_center VARCHAR NOT NULL, refresh_token VARCHAR, access_token VARCHAR, expires_at DOUBLE,"
    " api_domain VARCHAR, scopes VARCHAR, created_at DOUBLE NOT NULL, updated_at DOUBLE NOT NULL)"
)


def _from_row(row: tuple[Any, ...]) -> OAuthToken:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["user"] = values.pop("user_name")
    return OAuthToken(**values)


def _row(token: OAuthToken) -> list[Any]:
    return [
        token.id,
        token.user,
        token.client_id,
        token.data_center,
        token.refresh_token,
        token.access_token,
        token.expires_at,
        token.api_domain,
        token.scopes,
        token.created_at,
        token.updated_at,
    ]


class _SqlTokenStore(_LockDirMixin):
    """The token operations in parameterized SQL over a connection from `_connect()`."""

    def _connect(self, write: bool) -> AbstractContextManager[Any]:
        """A connection (``execute(sql, params)`` with ``fetchall()``); commits on success when `write`."""
        raise NotImplementedError

    def _by_key(self, con: Any, token: OAuthToken) -> list[OAuthToken]:
        rows = con.execute(
            _SELECT + " WHERE user_name = ? AND client_id = ? AND data_center = ? ORDER BY created_at",
            [token.user, token.client_id, token.data_center],
        ).fetchall()
        return [_from_row(r) for r in rows]

    def find_token(self, token: OAuthToken) -> OAuthToken | None:
        with self._connect(write=False) as con:
            return next((t for t in self._by_key(con, token) if _matches(t, token)), None)

    def save_token(self, token: OAuthToken) -> OAuthToken:
        with self._connect(write=True) as con:
            current = None
            if token.id:
                rows = con.execute(_SELECT + " WHERE id = ?", [token.id]).fetchall()
                current = _from_row(rows[0]) if rows else None
            same_key = self._by_key(con, token)
            if current is None and same_key:
                current = same_key[0]
            saved = _stamped(token, current.id if current and current.id else token.id or uuid.uuid4().hex,
                             current.created_at if current else None)  # fmt: skip
            for other in same_key:
                if other.id != saved.id:
                    con.execute("DELETE FROM oauth_tokens WHERE id = ?", [other.id])
            if current is not None:
                assignments = ", ".join(f"{c} = ?" for c in _COLUMNS[1:])
                # The column names are constants of ours; every value is a parameter.
                con.execute(f"UPDATE oauth_tokens SET {assignments} WHERE id = ?", [*_row(saved)[1:], saved.id])  # noqa: S608
            else:
                marks = ", ".join("?" for _ in _COLUMNS)
                con.execute(f"INSERT INTO oauth_tokens ({', '.join(_COLUMNS)}) VALUES ({marks})", _row(saved))  # noqa: S608
            return saved

    def delete_token(self, id: str) -> bool:
        with self._connect(write=True) as con:
            found = con.execute("SELECT id FROM oauth_tokens WHERE id = ?", [id]).fetchall()
            if not found:
                return False
            con.execute("DELETE FROM oauth_tokens WHERE id = ?", [id])
            return True

    def get_tokens(self) -> list[OAuthToken]:
        with self._connect(write=False) as con:
            rows = con.execute(_SELECT + " ORDER BY user_name, client_id, data_center").fetchall()
            return [_from_row(r) for r in rows]

    def delete_tokens(self) -> None:
        with self._connect(write=True) as con:
            con.execute("DELETE FROM oauth_tokens")

    def find_token_by_id(self, id: str) -> OAuthToken | None:
        with self._connect(write=False) as con:
            rows = con.execute(_SELECT + " WHERE id = ?", [id]).fetchall()
            return _from_row(rows[0]) if rows else None


def _create_private_file(path: Path) -> None:
    """Create `path` empty and 0600 unless it exists (so the database never starts world-readable)."""
    _private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class SQLiteTokenStore(_SqlTokenStore):
    """Tokens in a SQLite database (stdlib ``sqlite3``), file mode 0600."""

    def __init__(self, path: Path | str, lock_timeout: float = 60.0) -> None:
        super().__init__(path, lock_timeout)
        self._ready = False

    @contextmanager
    def _connect(self, write: bool) -> Iterator[sqlite3.Connection]:
        _create_private_file(self.path)
        try:
            con = sqlite3.connect(self.path, timeout=self.lock_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"token database {self.path}: cannot open: {exc}") from None
        try:
            if not self._ready:
                con.execute(CREATE_TOKENS_TABLE)
                self._ready = True
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc):
                raise TransientError(f"token database {self.path} is locked by another process") from None
            raise StoreError(f"token database {self.path}: {exc}") from None
        except sqlite3.Error as exc:
            raise StoreError(f"token database {self.path}: {exc}") from None
        finally:
            con.close()


class DuckDBTokenStore(_SqlTokenStore):
    """Tokens in a DuckDB file of their own (default ``data/tokens.duckdb``).

    DuckDB lets one process hold a file at a time, so every operation opens the file under a
    lock file (``<file>.lock``) and closes it again: processes take turns, none waits long.
    """

    @contextmanager
    def _connect(self, write: bool) -> Iterator[Any]:
        from intel.store.tokens import open_token_database

        with (
            file_lock(self._op_lock, self.lock_timeout, f"token database {self.path}"),
            open_token_database(self.path, CREATE_TOKENS_TABLE, write=write) as con,
        ):
            yield con


# -- encryption -----------------------------------------------------------------------------


def generate_key() -> str:
    """A new random encryption key (Fernet: 32 bytes, url-safe base64)."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


class TokenCipher:
    """Encrypts token values with Fernet (AES-128-CBC + HMAC-SHA256) under one key."""

    def __init__(self, key: str) -> None:
        from cryptography.fernet import Fernet

        try:
            self._fernet = Fernet(key.strip().encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise ConfigError(
                "token_store.encryption_key: not a valid key (32 url-safe base64-encoded bytes); "
                "make one with `intel auth keygen`"
            ) from None

    def encrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        return _CIPHER_PREFIX + self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, value: str | None, where: str) -> str | None:
        from cryptography.fernet import InvalidToken

        if value is None or not value.startswith(_CIPHER_PREFIX):
            return value  # stored before encryption was turned on: encrypted on the next save
        try:
            return self._fernet.decrypt(value[len(_CIPHER_PREFIX) :].encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise AuthError(f"{where}: cannot decrypt the stored tokens: wrong token_store.encryption_key") from None


class EncryptedTokenStore:
    """Wraps a store so access and refresh tokens are kept encrypted (or, without a cipher, checks they are not).

    Lookups by refresh token compare after decryption (Fernet ciphertext differs every time).
    """

    def __init__(self, inner: TokenStore, cipher: TokenCipher | None, where: str) -> None:
        self.inner = inner
        self.cipher = cipher
        self.where = where

    def __repr__(self) -> str:
        return f"EncryptedTokenStore({self.inner!r}, encrypted={self.cipher is not None})"

    def _open(self, token: OAuthToken | None) -> OAuthToken | None:
        if token is None:
            return None
        if self.cipher is None:
            if any(v and v.startswith(_CIPHER_PREFIX) for v in (token.refresh_token, token.access_token)):
                raise AuthError(
                    f"{self.where}: the tokens are encrypted; "
                    "set token_store.encryption_key to the key they were saved with"
                )
            return token
        return dataclasses.replace(
            token,
            refresh_token=self.cipher.decrypt(token.refresh_token, self.where),
            access_token=self.cipher.decrypt(token.access_token, self.where),
        )

    def _seal(self, token: OAuthToken) -> OAuthToken:
        if self.cipher is None:
            return token
        return dataclasses.replace(
            token,
            refresh_token=self.cipher.encrypt(token.refresh_token),
            access_token=self.cipher.encrypt(token.access_token),
        )

    def find_token(self, token: OAuthToken) -> OAuthToken | None:
        found = self._open(self.inner.find_token(dataclasses.replace(token, refresh_token=None)))
        return found if found is not None and _matches(found, token) else None

    def save_token(self, token: OAuthToken) -> OAuthToken:
        saved = self.inner.save_token(self._seal(token))
        return dataclasses.replace(saved, refresh_token=token.refresh_token, access_token=token.access_token)

    def delete_token(self, id: str) -> bool:
        return self.inner.delete_token(id)

    def get_tokens(self) -> list[OAuthToken]:
        return [t for t in (self._open(t) for t in self.inner.get_tokens()) if t is not None]

    def delete_tokens(self) -> None:
        self.inner.delete_tokens()

    def find_token_by_id(self, id: str) -> OAuthToken | None:
        return self._open(self.inner.find_token_by_id(id))

    def refresh_lock(self, token: OAuthToken, timeout: float = 60.0) -> AbstractContextManager[None]:
        return refresh_lock(self.inner, token, timeout)


# -- opening the configured store -----------------------------------------------------------


def default_token_path(kind: str) -> Path:
    return Path(_DEFAULT_PATHS[kind])


def load_custom_store(factory: str, options: dict[str, Any]) -> TokenStore:
    """Import ``package.module.Name`` (or ``package.module:Name``) and call it with `options`."""
    module_name, _, attribute = factory.replace(":", ".").rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"token_store.factory {factory}: cannot import {module_name}: {exc}") from None
    make = getattr(module, attribute, None)
    if make is None or not callable(make):
        raise ConfigError(f"token_store.factory {factory}: {module_name} has no callable {attribute}")
    try:
        store = make(**options)
    except TypeError as exc:
        raise ConfigError(f"token_store.factory {factory}: bad options: {exc}") from None
    missing = [
        name
        for name in ("find_token", "save_token", "delete_token", "get_tokens", "delete_tokens", "find_token_by_id")
        if not callable(getattr(store, name, None))
    ]
    if missing:
        raise ConfigError(f"token_store.factory {factory}: the store it made lacks {', '.join(missing)}")
    return store


def open_token_store(settings: Any) -> EncryptedTokenStore:
    """The store described by a `TokenStoreSettings`, wrapped for encryption (or its check)."""
    kind = settings.type
    path = Path(settings.path) if settings.path is not None else None
    inner: TokenStore
    if kind == "memory":
        inner = MemoryTokenStore()
        where = "memory token store"
    elif kind == "custom":
        inner = load_custom_store(settings.factory, dict(settings.options))
        where = f"token store {settings.factory}"
    else:
        path = path or default_token_path(kind)
        stores: dict[str, Callable[[Path, float], TokenStore]] = {
            "file": FileTokenStore,
            "duckdb": DuckDBTokenStore,
            "sqlite": SQLiteTokenStore,
        }
        inner = stores[kind](path, settings.lock_timeout)
        where = f"token store {path}"
    cipher = TokenCipher(settings.encryption_key.resolve().get_secret_value()) if settings.encryption_key else None
    return EncryptedTokenStore(inner, cipher, where)
