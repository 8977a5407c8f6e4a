"""One contract for every token store: file, DuckDB, SQLite, memory, custom, and encrypted ones.

Each test runs against every store, built the way configuration builds it
(`open_token_store(TokenStoreSettings(...))`). Names with quotes and SQL-injection payloads are
plain data; files are 0600; encrypted stores keep no token in clear; two processes sharing a
store spend a refresh token once.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from intel.auth.stores import (
    EncryptedTokenStore,
    OAuthToken,
    file_lock,
    generate_key,
    open_token_store,
    refresh_lock,
)
from intel.auth.zoho import ZohoOAuth, data_center
from intel.config import TokenStoreSettings
from intel.errors import AuthError, ConfigError, TransientError
from tests.fakes.zoho_server import FakeZoho

KEY_ENV = "INTEL_TEST_TOKEN_KEY"

INJECTIONS = [
    "' OR '1'='1",
    "x'); DROP TABLE oauth_tokens; --",
    "Robert'); DELETE FROM oauth_tokens WHERE ('a'='a",
    '" OR ""="',
    "%",
    "_",
    "*",
    "\\",
    "1; SELECT * FROM oauth_tokens",
    "Ünïcødé 😀 ' \"",
]


class DirectoryTokenStore:
    """A custom store (loaded by dotted path in the tests): one JSON file per token in a directory."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _locked(self) -> AbstractContextManager[None]:
        return file_lock(self.directory / ".lock", 30, f"token directory {self.directory}")

    def _all(self) -> list[OAuthToken]:
        return [OAuthToken.from_json(json.loads(p.read_text())) for p in sorted(self.directory.glob("*.json"))]

    def _write(self, token: OAuthToken) -> None:
        tmp = self.directory / f".{token.id}.tmp"
        tmp.write_text(json.dumps(token.to_json()))
        tmp.chmod(0o600)
        tmp.replace(self.directory / f"{token.id}.json")

    def find_token(self, token: OAuthToken) -> OAuthToken | None:
        with self._locked():
            for stored in self._all():
                if stored.key == token.key and token.refresh_token in (None, stored.refresh_token):
                    return stored
        return None

    def save_token(self, token: OAuthToken) -> OAuthToken:
        with self._locked():
            tokens = self._all()
            current = next((t for t in tokens if t.id == token.id), None) or next(
                (t for t in tokens if t.key == token.key), None
            )
            now = time.time()
            saved = dataclasses.replace(
                token,
                id=current.id if current else token.id or os.urandom(8).hex(),
                created_at=current.created_at if current else now,
                updated_at=now,
            )
            for other in tokens:
                if other.key == saved.key and other.id != saved.id:
                    (self.directory / f"{other.id}.json").unlink()
            self._write(saved)
            return saved

    def delete_token(self, id: str) -> bool:
        with self._locked():
            for stored in self._all():
                if stored.id == id:
                    (self.directory / f"{stored.id}.json").unlink()
                    return True
        return False

    def get_tokens(self) -> list[OAuthToken]:
        with self._locked():
            return sorted(self._all(), key=lambda t: t.key)

    def delete_tokens(self) -> None:
        with self._locked():
            for path in self.directory.glob("*.json"):
                path.unlink()

    def find_token_by_id(self, id: str) -> OAuthToken | None:
        with self._locked():
            return next((t for t in self._all() if t.id == id), None)


STORES = ["memory", "file", "duckdb", "sqlite", "custom", "file-encrypted", "duckdb-encrypted", "sqlite-encrypted"]
SHARED = [s for s in STORES if s != "memory"]


def store_settings(kind: str, root: Path) -> TokenStoreSettings:
    base, _, encrypted = kind.partition("-")
    options: dict[str, Any] = {"type": base}
    if base == "custom":
        options |= {"factory": f"{__name__}.DirectoryTokenStore", "options": {"directory": str(root / "tokens.d")}}
    elif base != "memory":
        options["path"] = root / f"tokens.{base}"
    if encrypted:
        options["encryption_key"] = f"env:{KEY_ENV}"
    return TokenStoreSettings(**options)


def data_file(kind: str, root: Path) -> list[Path]:
    base = kind.partition("-")[0]
    if base == "custom":
        return sorted((root / "tokens.d").glob("*.json"))
    return [root / f"tokens.{base}"] if base != "memory" else []


@pytest.fixture(scope="module")
def key() -> str:
    return generate_key()


@pytest.fixture(params=STORES)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str) -> EncryptedTokenStore:
    monkeypatch.setenv(KEY_ENV, key)
    return open_token_store(store_settings(kind, tmp_path))


def token(user: str = "alice@example.com", n: int = 1, **changes: Any) -> OAuthToken:
    base = OAuthToken(
        user=user,
        client_id="1000.CLIENT",
        data_center="eu",
        refresh_token=f"1000.refresh-{n}-{user}",
        access_token=f"1000.access-{n}-{user}",
        expires_at=1_900_000_000.25,
        api_domain="https://www.zohoapis.eu",
        scopes="ZohoMail.messages.READ",
    )
    return dataclasses.replace(base, **changes)


# -- the contract -----------------------------------------------------------------------------


def test_save_then_find_by_key_and_id(store: EncryptedTokenStore) -> None:
    saved = store.save_token(token())
    assert saved.id and saved.created_at and saved.updated_at
    by_key = store.find_token(OAuthToken("alice@example.com", "1000.CLIENT", "eu"))
    assert by_key is not None and by_key.id == saved.id
    assert by_key.refresh_token == "1000.refresh-1-alice@example.com"
    assert by_key.access_token == "1000.access-1-alice@example.com"
    assert by_key.expires_at == 1_900_000_000.25 and by_key.scopes == "ZohoMail.messages.READ"
    assert store.find_token_by_id(saved.id) == by_key
    assert store.get_tokens() == [by_key]


def test_find_needs_the_whole_key_and_a_matching_refresh_token(store: EncryptedTokenStore) -> None:
    store.save_token(token())
    assert store.find_token(OAuthToken("alice@example.com", "1000.CLIENT", "com")) is None
    assert store.find_token(OAuthToken("alice@example.com", "1000.OTHER", "eu")) is None
    assert store.find_token(OAuthToken("bob@example.com", "1000.CLIENT", "eu")) is None
    good = OAuthToken("alice@example.com", "1000.CLIENT", "eu", refresh_token="1000.refresh-1-alice@example.com")
    assert store.find_token(good) is not None
    assert store.find_token(dataclasses.replace(good, refresh_token="1000.refresh-2")) is None


def test_save_with_the_same_key_replaces_and_keeps_the_id(store: EncryptedTokenStore) -> None:
    first = store.save_token(token())
    second = store.save_token(token(n=2))
    assert second.id == first.id and second.created_at == first.created_at
    assert [t.access_token for t in store.get_tokens()] == ["1000.access-2-alice@example.com"]
    third = store.save_token(dataclasses.replace(second, access_token="1000.access-3", expires_at=None))
    assert third.id == first.id
    found = store.find_token_by_id(str(first.id))
    assert found is not None and found.access_token == "1000.access-3" and found.expires_at is None


def test_delete_one_and_all(store: EncryptedTokenStore) -> None:
    a = store.save_token(token("a@example.com"))
    store.save_token(token("b@example.com"))
    assert [t.user for t in store.get_tokens()] == ["a@example.com", "b@example.com"]
    assert store.delete_token(str(a.id)) is True
    assert store.delete_token(str(a.id)) is False
    assert store.find_token_by_id(str(a.id)) is None
    assert [t.user for t in store.get_tokens()] == ["b@example.com"]
    store.delete_tokens()
    assert store.get_tokens() == []


def test_quotes_in_names_just_work(store: EncryptedTokenStore) -> None:
    saved = store.save_token(token("O'Brien", client_id="1000.O'NEIL\"X"))
    found = store.find_token(OAuthToken("O'Brien", "1000.O'NEIL\"X", "eu"))
    assert found is not None and found.id == saved.id and found.user == "O'Brien"


def test_injection_payloads_find_nothing_and_break_nothing(store: EncryptedTokenStore) -> None:
    store.save_token(token("alice@example.com"))
    store.save_token(token("O'Brien"))
    for payload in INJECTIONS:
        assert store.find_token(OAuthToken(payload, "1000.CLIENT", "eu")) is None, payload
        assert store.find_token(OAuthToken("alice@example.com", payload, payload)) is None, payload
        assert store.find_token(OAuthToken("alice@example.com", "1000.CLIENT", "eu", refresh_token=payload)) is None
        assert store.find_token_by_id(payload) is None, payload
        assert store.delete_token(payload) is False, payload
    assert [t.user for t in store.get_tokens()] == ["O'Brien", "alice@example.com"]
    # As data, each payload is stored and found exactly, and nothing else changes.
    for payload in INJECTIONS:
        store.save_token(token(payload, refresh_token=payload, access_token=payload))
        found = store.find_token(OAuthToken(payload, "1000.CLIENT", "eu", refresh_token=payload))
        assert found is not None and found.user == payload and found.access_token == payload, payload
    users = [t.user for t in store.get_tokens()]
    assert sorted(users) == sorted(["O'Brien", "alice@example.com", *INJECTIONS])


def test_repr_shows_no_token() -> None:
    text = repr(token())
    assert "alice@example.com" in text and "1000.refresh" not in text and "1000.access" not in text


@pytest.mark.parametrize("kind", SHARED)
def test_files_are_private_and_encrypted_stores_keep_no_token_in_clear(
    kind: str, store: EncryptedTokenStore, tmp_path: Path
) -> None:
    store.save_token(token())
    store.save_token(token("bob@example.com"))
    files = data_file(kind, tmp_path)
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    if kind.endswith("-encrypted"):
        content = b"".join(p.read_bytes() for p in files)
        for secret in ("1000.refresh-1-alice@example.com", "1000.access-1-alice@example.com", "refresh-1-bob"):
            assert secret.encode() not in content
        assert b"alice@example.com" in content or kind.startswith("duckdb")  # names stay searchable


def test_file_store_replaces_atomically_and_repairs_a_loose_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "tokens.json"
    store = open_token_store(TokenStoreSettings(type="file", path=path))
    store.save_token(token())
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.chmod(0o644)
    assert store.get_tokens()[0].user == "alice@example.com"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_encryption_needs_the_right_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    path = tmp_path / "tokens.sqlite"
    monkeypatch.setenv(KEY_ENV, key)
    encrypted = TokenStoreSettings(type="sqlite", path=path, encryption_key=f"env:{KEY_ENV}")
    open_token_store(encrypted).save_token(token())
    with pytest.raises(AuthError, match=r"encrypted; set token_store\.encryption_key"):
        open_token_store(TokenStoreSettings(type="sqlite", path=path)).get_tokens()
    monkeypatch.setenv(KEY_ENV, generate_key())
    with pytest.raises(AuthError, match=r"wrong token_store\.encryption_key") as caught:
        open_token_store(encrypted).get_tokens()
    assert "1000.refresh" not in str(caught.value)
    monkeypatch.setenv(KEY_ENV, "not a key")
    with pytest.raises(ConfigError, match="intel auth keygen"):
        open_token_store(encrypted)


def test_plain_tokens_are_encrypted_once_a_key_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    path = tmp_path / "tokens.json"
    open_token_store(TokenStoreSettings(type="file", path=path)).save_token(token())
    assert b"1000.refresh-1" in path.read_bytes()
    monkeypatch.setenv(KEY_ENV, key)
    store = open_token_store(TokenStoreSettings(type="file", path=path, encryption_key=f"env:{KEY_ENV}"))
    found = store.find_token(OAuthToken("alice@example.com", "1000.CLIENT", "eu"))
    assert found is not None and found.refresh_token == "1000.refresh-1-alice@example.com"
    store.save_token(found)
    assert b"1000.refresh-1" not in path.read_bytes()


def test_custom_store_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot import"):
        open_token_store(TokenStoreSettings(type="custom", factory="no_such_module.Store"))
    with pytest.raises(ConfigError, match="lacks find_token"):
        open_token_store(TokenStoreSettings(type="custom", factory="pathlib.PurePath", options={}))


# -- the refresh lock across processes -------------------------------------------------------


def _refresh_in_child(
    settings: dict[str, Any], key: str, url: str, client: tuple[str, str], go: Any, results: Any, saves: int
) -> None:
    """Runs in a child process: wait for the start signal, then get an access token (and save some tokens)."""
    # A forkserver started earlier (the parser's pool uses one) has an older environment: set the key here.
    os.environ[KEY_ENV] = key
    store = open_token_store(TokenStoreSettings(**settings))
    oauth = ZohoOAuth(
        store=store,
        user="alice@example.com",
        client_id=client[0],
        client_secret=lambda: client[1],
        data_center=data_center("eu"),
        accounts_url=url,
    )
    go.wait(30)
    try:
        results.put(("token", oauth.access_token()))
        for n in range(saves):
            store.save_token(token(f"p{os.getpid()}-{n}@example.com"))
        results.put(("done", None))
    except Exception as exc:  # reported to the parent, which fails the test with it
        results.put(("error", f"{type(exc).__name__}: {exc}"))


@pytest.fixture
def fake() -> Iterator[FakeZoho]:
    with FakeZoho(refresh_delay=0.2) as server:
        yield server


def _expired_token(fake: FakeZoho, store: EncryptedTokenStore, client: tuple[str, str]) -> OAuthToken:
    oauth = ZohoOAuth(
        store=store,
        user="alice@example.com",
        client_id=client[0],
        client_secret=lambda: client[1],
        data_center=data_center("eu"),
        accounts_url=fake.url,
    )
    fake.add_account("alice@example.com")
    saved = oauth.exchange_code(fake.grant_code(client[0], "alice@example.com"))
    return store.save_token(dataclasses.replace(saved, expires_at=1.0))  # long expired


@pytest.mark.parametrize("kind", SHARED)
def test_two_processes_spend_the_refresh_token_once(
    kind: str, tmp_path: Path, fake: FakeZoho, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv(KEY_ENV, key)
    settings = store_settings(kind, tmp_path)
    client = fake.add_client()
    stored = _expired_token(fake, open_token_store(settings), client)
    # forkserver: children fork from a clean single-threaded server that has imported this module once
    # (the parser's pool shares that server, hence its module in the list too).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["intel.parse.message", __name__])
    go, results = context.Event(), context.Queue()
    children = [
        context.Process(
            target=_refresh_in_child,
            args=(settings.model_dump(), key, fake.url, client, go, results, 8),
        )
        for _ in range(2)
    ]
    for child in children:
        child.start()
    go.set()
    answers = [results.get(timeout=60) for _ in range(4)]
    for child in children:
        child.join(30)
    errors = [value for what, value in answers if what == "error"]
    assert not errors, errors
    tokens = {value for what, value in answers if what == "token"}
    assert len(tokens) == 1 and stored.access_token not in tokens  # both use the one new token
    assert fake.refreshes[str(stored.refresh_token)] == 1
    # Concurrent saves from both processes all arrived.
    assert len(open_token_store(settings).get_tokens()) == 1 + 2 * 8


def test_threads_of_one_process_refresh_once_with_the_memory_store(fake: FakeZoho) -> None:
    store = open_token_store(TokenStoreSettings(type="memory"))
    client = fake.add_client()
    stored = _expired_token(fake, store, client)
    got: list[str] = []

    def work() -> None:
        oauth = ZohoOAuth(
            store=store,
            user="alice@example.com",
            client_id=client[0],
            client_secret=lambda: client[1],
            data_center=data_center("eu"),
            accounts_url=fake.url,
        )
        got.append(oauth.access_token())

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(got) == 3 and len(set(got)) == 1
    assert fake.refreshes[str(stored.refresh_token)] == 1


def test_refresh_lock_excludes_a_second_holder_even_for_a_store_without_one(tmp_path: Path) -> None:
    class Bare:
        """A store that brings no refresh_lock: a lock file in the temporary directory is used."""

    with refresh_lock(Bare(), token(), timeout=5):
        with (
            pytest.raises(TransientError, match="locked by another process"),
            refresh_lock(Bare(), token(), timeout=0.2),
        ):
            pass
        with refresh_lock(Bare(), token("someone-else@example.com"), timeout=0.2):
            pass  # another token's lock is free
    with refresh_lock(Bare(), token(), timeout=0.2):
        pass  # released
