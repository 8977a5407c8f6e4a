"""The Zoho source end to end against the fake Zoho on 127.0.0.1, through `intel.pipeline.sync_source`.

Two users, alice (two mail accounts) and bob (one), each a configured source with a token in
an encrypted file store. Full and incremental syncs store every message once; an access token
that dies mid-sync is refreshed; throttling slows a sync but loses nothing; a revoked refresh
token fails that source alone, with the command that fixes it; no secret shows up anywhere.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from intel import pipeline
from intel.auth.stores import generate_key
from intel.auth.zoho import oauth_for_source
from intel.cli import app
from intel.config import Settings, ZohoSource
from intel.errors import AuthError
from tests.fakes.zoho_server import FakeAccount, FakeZoho
from tests.integration.conftest import make_message

START = datetime(2025, 3, 3, 8, tzinfo=UTC)


@dataclass
class World:
    """The fake server, its users' accounts, and settings pointing at both."""

    fake: FakeZoho
    root: Path
    client: tuple[str, str]
    key: str
    accounts: dict[str, FakeAccount]
    messages: dict[str, int] = field(default_factory=dict)  # account -> messages put in chosen folders
    serial: int = 0

    def source(self, name: str, user: str) -> dict[str, Any]:
        return {
            "name": name,
            "type": "zoho",
            "data_center": "eu",
            "client_id": self.client[0],
            "client_secret": "env:ZOHO_TEST_SECRET",
            "user": user,
            "accounts_url": self.fake.url,
            "mail_url": self.fake.url,
            "page_size": 4,
            "overlap_minutes": 60,
            "retries": 5,
            "retry_backoff": 0.01,
            "timeout": 10,
        }

    def settings(self) -> Settings:
        return Settings(
            storage={"database": self.root / "intel.duckdb", "batch_size": 5, "parse_workers": 1},
            identity={"addresses": ["alice@example.com", "sales@example.com", "bob@example.com"]},
            source=[self.source("alice", "alice@example.com"), self.source("bob", "bob@example.com")],
            token_store={"type": "file", "path": self.root / "tokens.json", "encryption_key": "env:ZOHO_TEST_KEY"},
        )

    def put(self, account: str, folder: str, hours: float, *, counted: bool = True, **options: Any) -> bytes:
        """A new message `hours` after START in a folder of an account."""
        self.serial += 1
        raw = make_message(self.serial, subject=f"{account} {folder} {self.serial}", **options)
        self.fake.add_message(self.accounts[account], folder, raw, START + timedelta(hours=hours))
        if counted:
            self.messages[account] = self.messages.get(account, 0) + 1
        return raw

    def authorize(self, name: str) -> None:
        config = self.settings().source(name)
        assert isinstance(config, ZohoSource)
        with oauth_for_source(config) as oauth:
            oauth.exchange_code(self.fake.grant_code(self.client[0], config.user))

    def sync(self, name: str) -> pipeline.SyncResult:
        return pipeline.sync_source(self.settings(), name)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.root / "intel.duckdb"), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def value(self, sql: str, params: list[Any] | None = None) -> Any:
        return self.rows(sql, params)[0][0]

    def secrets(self) -> list[str]:
        return [*self.fake.issued_secrets(), self.client[1], self.key]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with FakeZoho() as fake:
        client = fake.add_client()
        key = generate_key()
        monkeypatch.setenv("ZOHO_TEST_SECRET", client[1])
        monkeypatch.setenv("ZOHO_TEST_KEY", key)
        accounts = {
            "alice": fake.add_account("alice@example.com"),
            "sales": fake.add_account("alice@example.com", "sales@example.com"),
            "bob": fake.add_account("bob@example.com"),
        }
        w = World(fake, tmp_path, client, key, accounts)
        for account in accounts.values():
            fake.add_folder(account, "Projects/Acme")
            fake.add_folder(account, "Archive")
        hour = 0.0
        for name in ("alice", "sales", "bob"):
            for _ in range(9):
                hour += 1
                w.put(name, "Inbox", hour)
            w.put(name, "Sent", hour + 0.5, sender=accounts[name].address, to="customer@example.org")
            w.put(name, "Projects/Acme", hour + 0.6)
            w.put(name, "Trash", hour + 0.7, counted=False)
            w.put(name, "Templates", hour + 0.8, counted=False)
        # One message in two folders: two locations, one stored copy.
        shared = make_message(999, subject="filed twice")
        fake.add_message(accounts["alice"], "Inbox", shared, START + timedelta(hours=50))
        fake.add_message(accounts["alice"], "Archive", shared, START + timedelta(hours=50))
        w.messages["alice"] += 2
        w.authorize("alice")
        w.authorize("bob")
        yield w


def originals(w: World) -> int:
    return w.fake.count("/originalmessage")


def test_full_then_incremental_sync_of_two_users_stores_every_message_once(world: World) -> None:
    w = world
    alice, bob = w.sync("alice"), w.sync("bob")
    expected = w.messages["alice"] + w.messages["sales"] + w.messages["bob"]
    assert alice.error is None and bob.error is None
    assert alice.seen == w.messages["alice"] + w.messages["sales"] and bob.seen == w.messages["bob"]
    assert alice.new + bob.new == expected - 1  # the message filed twice is stored once
    assert originals(w) == expected
    assert w.value("SELECT count(*) FROM raw_messages") == expected - 1
    assert w.value("SELECT count(*) FROM message_locations") == expected
    folders = dict(w.rows("SELECT DISTINCT folder, folder_role FROM message_locations"))
    assert folders == {"Inbox": "inbox", "Sent": "sent", "Projects/Acme": "other", "Archive": "archive"}
    # Zoho's 64-bit ids are kept exactly, as strings; locations say which account.
    ids = w.rows("SELECT location, provider_message_id, provider_thread_id FROM message_locations")
    for location, message_id, thread_id in ids:
        assert location.endswith(":" + message_id) and len(message_id) == 19 and thread_id.isdigit()
    stored = {(a, m) for loc, m, _t in ids for a in [loc.split(":")[0]]}
    listed = {(acc.id, m.id) for acc in w.accounts.values() for f in acc.folders.values() for m in f.messages}
    assert stored <= listed
    assert w.value("SELECT min(internal_date) FROM message_locations") == START + timedelta(hours=1)
    assert w.value("SELECT count(*) FROM messages WHERE direction = 'outbound'") == 3

    # Incremental: new mail, and one that shows up late with an earlier time inside the overlap.
    before = originals(w)
    w.put("alice", "Inbox", 60)
    w.put("alice", "Inbox", 61)
    w.put("sales", "Projects/Acme", 50.6)  # after the cursor of that folder (hour 40.6) it is new anyway
    w.put("alice", "Inbox", 49.8)  # older than the Inbox cursor (hour 50) but inside the hour of overlap
    w.put("bob", "Sent", 70, sender="bob@example.com")
    views_before = w.fake.count("/messages/view")
    alice, bob = w.sync("alice"), w.sync("bob")
    assert (alice.new, bob.new) == (4, 1)
    assert originals(w) - before == 5  # nothing stored before was fetched again
    # Newest first down to the cursor less the overlap: one page per folder (6 chosen folders: Inbox, Snoozed,
    # Drafts, Sent, Projects/Acme, Archive; x 3 accounts), and a second one for alice's Inbox, whose first
    # page holds only messages inside that range.
    assert w.fake.count("/messages/view") - views_before == 6 * 3 + 1
    assert w.value("SELECT count(*) FROM raw_messages") == expected - 1 + 5

    # Nothing new: nothing fetched.
    before = originals(w)
    assert (w.sync("alice").new, w.sync("bob").new) == (0, 0)
    assert originals(w) == before


def test_an_access_token_that_dies_mid_sync_is_refreshed(world: World) -> None:
    w = world
    w.fake.expire_access_tokens(after_requests=9)
    result = w.sync("alice")
    assert result.error is None and result.seen == w.messages["alice"] + w.messages["sales"]
    assert w.fake.unauthorized == 1 and sum(w.fake.refreshes.values()) == 1


def test_throttling_slows_the_sync_but_loses_nothing(world: World, caplog: pytest.LogCaptureFixture) -> None:
    w = world
    caplog.set_level(logging.WARNING, logger="intel")
    w.fake.throttle(4, path="/originalmessage")
    w.fake.throttle(3, path="/messages/view", code=True)
    w.fake.fail(2, status=502, path="/folders")
    result = w.sync("bob")
    assert result.error is None and result.new == w.messages["bob"]
    assert w.fake.throttled == 7 and w.fake.failed == 2
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 9
    assert all(m.startswith("source 'bob': account bob@example.com (") for m in retries)


def test_a_revoked_refresh_token_fails_that_source_only(world: World, caplog: pytest.LogCaptureFixture) -> None:
    w = world
    caplog.set_level(logging.DEBUG)
    w.fake.revoke_user("bob@example.com")
    w.fake.expire_access_tokens()
    assert w.sync("alice").error is None
    with pytest.raises(AuthError) as caught:
        w.sync("bob")
    message = str(caught.value)
    assert message.startswith("source 'bob': ")
    assert "refused the refresh token of bob@example.com" in message
    assert message.endswith("authorize again with: intel auth zoho --source bob")
    failed = w.rows("SELECT source, status, error FROM loads WHERE stage = 'sync' ORDER BY load_id")
    assert [(s, st) for s, st, _e in failed] == [("alice", "ok"), ("bob", "failed")]
    assert failed[1][2] == message
    # Nothing secret in any log line, error or stored row, nor anywhere in the database files.
    text = "\n".join([message] + [r.getMessage() for r in caplog.records])
    database = (w.root / "intel.duckdb").read_bytes()
    tokens = (w.root / "tokens.json").read_bytes()
    for secret in w.secrets():
        assert secret not in text
        assert secret.encode() not in database
        assert secret.encode() not in tokens


def test_cli_authorizes_lists_syncs_and_revokes_without_showing_a_secret(world: World) -> None:
    w = world
    config = w.root / "intel.toml"
    settings = w.settings()
    lines = [
        "[storage]",
        f'database = "{w.root / "intel.duckdb"}"',
        "parse_workers = 1",
        "[token_store]",
        'type = "file"',
        f'path = "{w.root / "tokens.json"}"',
        'encryption_key = "env:ZOHO_TEST_KEY"',
    ]
    for source in settings.sources:
        lines.append("[[source]]")
        for key, value in w.source(source.name, source.user).items():
            lines.append(f"{key} = {value!r}".replace("'", '"'))
    config.write_text("\n".join(lines) + "\n")
    env = {"ZOHO_TEST_CODE": w.fake.grant_code(w.client[0], "bob@example.com")}
    w.fake.revoke_user("bob@example.com")
    runner = CliRunner()
    outputs: list[str] = []

    def intel(*args: str) -> Any:
        result = runner.invoke(app, ["--config", str(config), *args], env=env)
        outputs.append(result.output)
        return result

    # Re-authorize bob (his old token was revoked), by source.
    result = intel("auth", "zoho", "--source", "bob", "--code", "env:ZOHO_TEST_CODE")
    assert result.exit_code == 0, result.output
    assert "Stored the Zoho token of bob@example.com (client" in result.output
    listing = intel("auth", "list")
    assert listing.exit_code == 0
    assert "2 token(s)" in listing.output and "used by alice" in listing.output and "used by bob" in listing.output
    # A new user named from the account Zoho reports.
    carol = w.fake.add_account("carol@example.com")
    env["ZOHO_TEST_CODE"] = w.fake.grant_code(w.client[0], "carol@example.com")
    result = intel(
        "auth", "zoho", "--data-center", "eu", "--client-id", w.client[0], "--client-secret", "env:ZOHO_TEST_SECRET",
        "--code", "env:ZOHO_TEST_CODE", "--accounts-url", w.fake.url, "--mail-url", w.fake.url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        f"Stored the Zoho token of {carol.address}" in result.output and 'user = "carol@example.com"' in result.output
    )
    local = intel("auth", "revoke", "--user", "carol@example.com", "--local")
    assert local.exit_code == 0 and "Deleted 1 token(s) of user carol@example.com" in local.output
    carols = [revoked for _client, user, revoked in w.fake.refresh_tokens.values() if user == carol.user]
    assert carols == [False]  # --local: deleted here, still valid at Zoho
    refused = intel("auth", "zoho", "--source", "bob", "--client-secret", w.client[1], "--code", "x")
    assert refused.exit_code != 0 and isinstance(refused.exception, Exception)
    assert w.client[1] not in str(refused.exception)

    # The real command in a subprocess: alice syncs, bob's revoked token fails alone, in one line.
    revoked = intel("auth", "revoke", "--source", "bob")
    assert revoked.exit_code == 0 and "Revoked and deleted 1 token(s) of source bob" in revoked.output
    done = subprocess.run(
        [sys.executable, "-m", "intel.cli", "--config", str(config), "sync"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"},
    )
    outputs += [done.stdout, done.stderr]
    assert done.returncode == 1
    seen = w.messages["alice"] + w.messages["sales"]
    assert f"source alice: {seen} messages read, {seen - 1} new" in done.stdout
    assert done.stderr.strip().splitlines() == [
        "intel: error: source 'bob': no Zoho token for bob@example.com (client "
        f"{w.client[0]}, data center eu); authorize first with: intel auth zoho --source bob"
    ]
    text = "\n".join(outputs)
    for secret in w.secrets():
        assert secret not in text
