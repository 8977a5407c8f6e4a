"""The IMAP source against a real Dovecot: sync, increments, UIDVALIDITY, roles, window, errors, crashes."""

from __future__ import annotations

import imaplib
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from intel.errors import AuthError, SourceError, TransientError
from tests.integration.conftest import Mailbox, PausingProxy, SyncEnv, make_message

pytestmark = pytest.mark.slow


def _imap_flags(mailbox: Mailbox, folder: str) -> list[bytes]:
    """FLAGS of every message of a folder, read with EXAMINE (which changes nothing)."""
    imap = imaplib.IMAP4(
        "127.0.0.1", mailbox.server.port("imap", "none"), timeout=10
    )  # plain port: this is the test's own look
    try:
        imap.login(mailbox.user, mailbox.password)
        imap.select(folder, readonly=True)
        _typ, data = imap.fetch("1:*", "(FLAGS)")
        return [item for item in data if isinstance(item, bytes)]
    finally:
        imap.logout()


def test_full_sync_stores_each_message_once_with_folder_roles(mailbox: Mailbox, env: SyncEnv) -> None:
    for n in range(5):
        mailbox.add("INBOX", make_message(n))
    mailbox.add("Sent", make_message(10, sender="me@example.com", to="customer@example.org"))
    mailbox.add("Drafts", make_message(11, sender="me@example.com"))
    mailbox.add("Trash", make_message(12))
    mailbox.add("Junk", make_message(13))
    mailbox.add("Projects/Acme", make_message(14))
    mailbox.add("Archive", make_message(0))  # the same message as in INBOX

    result = env.sync(mailbox.source())

    assert result.error is None and result.new == 8
    folders = dict(env.rows("SELECT DISTINCT folder, folder_role FROM message_locations"))
    assert folders == {
        "INBOX": "inbox",
        "Sent": "sent",
        "Drafts": "drafts",
        "Archive": "archive",
        "Projects/Acme": "other",
    }
    assert env.value("SELECT count(*) FROM message_locations") == 9  # trash and spam are left out
    assert env.value("SELECT count(*) FROM raw_messages") == 8
    assert env.value("SELECT count(*) FROM message_locations WHERE sha256 = (SELECT message_key FROM messages"
                     " WHERE rfc_message_id = '<msg-0@test>')") == 2  # fmt: skip
    assert env.value("SELECT direction FROM messages WHERE rfc_message_id = '<msg-10@test>'") == "outbound"
    assert env.message_ids() == {f"<msg-{n}@test>" for n in (0, 1, 2, 3, 4, 10, 11, 14)}


def test_sync_leaves_flags_untouched(mailbox: Mailbox, env: SyncEnv) -> None:
    for n in range(3):
        mailbox.add("INBOX", make_message(n))
    mailbox.add("INBOX", make_message(3), seen=True)
    before = _imap_flags(mailbox, "INBOX")
    assert sum(b"\\Seen" in f for f in before) == 1

    env.sync(mailbox.source())

    assert _imap_flags(mailbox, "INBOX") == before
    names = [p.name for p in mailbox.files("INBOX")]
    assert sum(name.endswith(",S") for name in names) == 1  # still only the one that was read before


def test_incremental_sync_reads_only_new_mail(mailbox: Mailbox, env: SyncEnv) -> None:
    source = mailbox.source(batch_size=2)  # several UID FETCH commands per folder
    for n in range(5):
        mailbox.add("INBOX", make_message(n))
    assert env.sync(source).new == 5

    mailbox.add("INBOX", make_message(5))
    mailbox.add("INBOX", make_message(6))
    mailbox.add("Sent", make_message(7, sender="me@example.com"))
    second = env.sync(source)
    assert (second.seen, second.new) == (3, 3)

    third = env.sync(source)
    assert (third.seen, third.new) == (0, 0)
    cursor = env.value("SELECT value FROM source_cursors WHERE scope = 'imap:INBOX'")
    assert '"last_uid": 7' in cursor
    assert env.message_ids() == {f"<msg-{n}@test>" for n in range(8)}


def test_uidvalidity_change_relists_the_folder_without_duplicates(mailbox: Mailbox, env: SyncEnv) -> None:
    for n in range(4):
        mailbox.add("INBOX", make_message(n))
    env.sync(mailbox.source())
    old = set(env.locations())

    mailbox.set_uidvalidity("INBOX", 424242)
    mailbox.add("INBOX", make_message(4))
    result = env.sync(mailbox.source())

    assert (result.seen, result.new) == (5, 1)  # the folder was read again; only one message is new
    locations = env.locations()
    assert all(locations[key] for key in old)  # the old UIDs are gone from the server: marked
    assert sorted(loc for (_f, loc), deleted in locations.items() if not deleted) == [
        f"424242:{n}" for n in range(1, 6)
    ]
    assert env.value("SELECT count(*) FROM messages") == 5
    assert env.value("SELECT count(*) FROM raw_messages") == 5


def test_messages_deleted_on_the_server_are_marked_not_removed(mailbox: Mailbox, env: SyncEnv) -> None:
    files = [mailbox.add("INBOX", make_message(n)) for n in range(3)]
    mailbox.add("Projects", make_message(9))
    env.sync(mailbox.source())

    files[1].unlink()
    (mailbox.folder_dir("Projects") / "cur").joinpath(mailbox.files("Projects")[0].name).unlink()
    env.sync(mailbox.source())

    deleted = {key for key, gone in env.locations().items() if gone}
    assert len(deleted) == 2 and {folder for folder, _ in deleted} == {"INBOX", "Projects"}
    assert env.value("SELECT count(*) FROM messages") == 4  # nothing removed
    assert env.value("SELECT count(*) FROM raw_messages") == 4


def test_folder_include_exclude_and_role_overrides(mailbox: Mailbox, env: SyncEnv) -> None:
    mailbox.add("INBOX", make_message(1))
    mailbox.add("Trash", make_message(2))
    mailbox.add("Outgoing", make_message(3, sender="me@example.com"))
    mailbox.add("Lists/Python", make_message(4))
    mailbox.add("Lists/Rust", make_message(5))

    source = mailbox.source(
        folders=["INBOX", "Trash", "Outgoing", "Lists/*"],
        exclude_folders=["Lists/Rust"],
        folder_roles={"Outgoing": "sent"},
    )
    env.sync(source)

    folders = dict(env.rows("SELECT DISTINCT folder, folder_role FROM message_locations"))
    assert folders == {"INBOX": "inbox", "Trash": "trash", "Outgoing": "sent", "Lists/Python": "other"}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_sync_window_filters_exactly_backfills_and_hides(mailbox: Mailbox, env: SyncEnv) -> None:
    received = {
        "a": "2020-06-01T12:00:00",
        "b": "2023-06-01T12:00:00",
        "d": "2023-12-31T23:00:00",  # inside the one-day SEARCH margin, outside the window
        "e": "2024-01-01T00:00:00",  # the window's first instant
        "c": "2024-06-01T12:00:00",
    }
    numbers = {key: n for n, key in enumerate(received)}
    for key, when in received.items():
        mailbox.add("INBOX", make_message(numbers[key], sent=_at(when)), received=_at(when))

    def ids(*keys: str) -> set[str]:
        return {f"<msg-{numbers[k]}@test>" for k in keys}

    first = env.sync(mailbox.source(since="2024-01-01"))
    assert first.new == 2 and env.message_ids() == ids("e", "c")

    # New mail arrives and the window moves back a year: only the older range is read again.
    mailbox.add("INBOX", make_message(99, sent=_at("2024-07-01T00:00:00")), received=_at("2024-07-01T00:00:00"))
    numbers["f"] = 99
    second = env.sync(mailbox.source(since="2023-01-01"))
    assert (second.seen, second.new) == (3, 3)
    assert env.message_ids() == ids("b", "d", "e", "c", "f")
    assert env.message_ids("v_messages") == ids("b", "d", "e", "c", "f")

    # Moving it forward reads nothing and hides the excess from the view; nothing is deleted.
    third = env.sync(mailbox.source(since="2024-01-01"))
    assert third.seen == 0
    assert env.message_ids("v_messages") == ids("e", "c", "f")
    assert env.message_ids() == ids("b", "d", "e", "c", "f")
    assert env.value("SELECT count(*) FROM raw_messages") == 5

    # All mail: only the oldest one is left to read.
    fourth = env.sync(mailbox.source(since="all"))
    assert (fourth.seen, fourth.new) == (1, 1)
    assert env.message_ids("v_messages") == ids("a", "b", "d", "e", "c", "f")


def test_starttls_and_xoauth2(mailbox: Mailbox, env: SyncEnv) -> None:
    mailbox.add("INBOX", make_message(1))
    # The test server checks an XOAUTH2 bearer token as it checks a password.
    result = env.sync(mailbox.source(security="starttls", auth="xoauth2"))
    assert result.new == 1


class FlakyTokens:
    """Hands out a stale token first; after `invalidate()` the right one."""

    instances: ClassVar[list[FlakyTokens]] = []

    def __init__(self, config: Any) -> None:
        self.good = os.environ[config.password.removeprefix("env:")]
        self.stale = True
        self.invalidations = 0
        FlakyTokens.instances.append(self)

    def access_token(self) -> str:
        return "expired-token" if self.stale else self.good

    def invalidate(self) -> None:
        self.invalidations += 1
        self.stale = False


def test_xoauth2_token_provider_is_refreshed_once_after_a_refusal(mailbox: Mailbox, env: SyncEnv) -> None:
    mailbox.add("INBOX", make_message(1))
    source = mailbox.source(auth="xoauth2", token_provider=f"{__name__}:FlakyTokens")
    assert env.sync(source).new == 1
    assert FlakyTokens.instances[-1].invalidations == 1


def test_plain_connection_only_when_allowed(mailbox: Mailbox, env: SyncEnv) -> None:
    mailbox.add("INBOX", make_message(1))
    assert env.sync(mailbox.source(security="none")).new == 1


def _one_line_error(exc: pytest.ExceptionInfo[BaseException], mailbox: Mailbox) -> str:
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith("source 'mail': ")
    assert mailbox.password not in message
    return message


def test_wrong_password_is_one_clear_line(mailbox: Mailbox, env: SyncEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(mailbox.password_env, "not-the-password")
    with pytest.raises(AuthError) as exc:
        env.sync(mailbox.source())
    message = _one_line_error(exc, mailbox)
    assert "refused the login" in message and mailbox.user in message and "not-the-password" not in message


def test_untrusted_certificate_is_one_clear_line(mailbox: Mailbox, env: SyncEnv) -> None:
    with pytest.raises(SourceError) as exc:
        env.sync(mailbox.source(ca_file=None))  # the system trust store does not know the test CA
    assert "not trusted" in _one_line_error(exc, mailbox)


def test_refused_connection_and_unknown_host(mailbox: Mailbox, env: SyncEnv) -> None:
    with pytest.raises(TransientError) as refused:
        env.sync(mailbox.source(port=1, retries=1, retry_backoff=0.01))
    assert "refused" in _one_line_error(refused, mailbox)
    with pytest.raises(SourceError) as unknown:
        env.sync(mailbox.source(host="no-such-host.invalid"))
    assert "unknown host" in _one_line_error(unknown, mailbox)


def test_a_server_that_stops_answering_times_out(mailbox: Mailbox, env: SyncEnv) -> None:
    proxy = PausingProxy(mailbox.server.port("imap", "ssl"), budget=0)  # not even the TLS handshake
    try:
        began = time.monotonic()
        with pytest.raises(TransientError) as exc:
            env.sync(mailbox.source(port=proxy.port, timeout=0.5, retries=1, retry_backoff=0.01))
        assert time.monotonic() - began < 5
    finally:
        proxy.close()
    assert "did not answer within 0.5 s" in _one_line_error(exc, mailbox)
    assert proxy.connections == 2  # tried, then retried once


def test_dropped_connection_is_retried_and_resumes(
    mailbox: Mailbox, env: SyncEnv, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(60):
        mailbox.add("INBOX", make_message(n, body_lines=40))
    proxy = PausingProxy(mailbox.server.port("imap", "ssl"), budget=80_000, drop=True)
    try:
        with caplog.at_level(logging.WARNING, logger="intel.sources.connect"):
            result = env.sync(mailbox.source(port=proxy.port, batch_size=5, retries=2), batch_size=10)
    finally:
        proxy.close()
    assert proxy.connections == 2
    assert any("retry 1 of 2" in r.getMessage() for r in caplog.records)
    assert result.new == 60
    assert env.value("SELECT count(*) FROM message_locations") == 60
    assert env.value("SELECT count(*) FROM message_addresses") == 120  # no batch written twice


def _write_config(path: Path, database: Path, source: dict[str, Any], batch_size: int) -> Path:
    lines = [
        "[storage]",
        f'database = "{database}"',
        f"batch_size = {batch_size}",
        "parse_workers = 1",
        "[identity]",
        'addresses = ["me@example.com"]',
        "[[source]]",
    ]
    for key, value in source.items():
        if value is None:
            continue
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f'{key} = "{value}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _intel(config: Path, mailbox: Mailbox, *args: str) -> subprocess.Popen[str]:
    environ = {**os.environ, mailbox.password_env: mailbox.password}
    return subprocess.Popen(
        [sys.executable, "-m", "intel.cli", "--config", str(config), "sync", *args],
        cwd=config.parent,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until_quiet(paths: list[Path], quiet: float = 1.0, limit: float = 30.0) -> None:
    """Until none of `paths` changed size or time for `quiet` seconds."""

    def stamp() -> list[tuple[float, int]]:
        return [(p.stat().st_mtime, p.stat().st_size) if p.exists() else (0.0, 0) for p in paths]

    deadline = time.monotonic() + limit
    last, since = stamp(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = stamp()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


def test_sigkill_mid_sync_then_rerun_ends_with_exactly_the_right_messages(mailbox: Mailbox, tmp_path: Path) -> None:
    expected = set()
    for n in range(240):
        mailbox.add("INBOX", make_message(n, body_lines=20))
        expected.add(f"<msg-{n}@test>")
    for n in range(240, 300):
        mailbox.add("Sent", make_message(n, sender="me@example.com", body_lines=20))
        expected.add(f"<msg-{n}@test>")
    mailbox.add("Archive", make_message(5, body_lines=20))  # a second location of one message
    database = tmp_path / "killed.duckdb"

    proxy = PausingProxy(mailbox.server.port("imap", "ssl"), budget=200_000)
    killed_config = _write_config(
        tmp_path / "killed.toml", database, mailbox.source(port=proxy.port, batch_size=10), 20
    )
    process = _intel(killed_config, mailbox)
    try:
        assert proxy.paused.wait(60), "the sync never got far enough"
        _wait_until_quiet([database, database.with_name(database.name + ".wal")])
        assert process.poll() is None, process.communicate()[1]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        proxy.close()
        if process.poll() is None:
            process.kill()

    partial = SyncEnv(tmp_path)
    partial.database = database
    stored = partial.value("SELECT count(*) FROM message_locations")
    assert 0 < stored < 301, stored  # killed part-way, with batches committed

    config = _write_config(tmp_path / "direct.toml", database, mailbox.source(batch_size=10), 20)
    rerun = _intel(config, mailbox)
    _out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err

    clean = SyncEnv(tmp_path)
    clean.database = tmp_path / "clean.duckdb"
    clean_run = _intel(_write_config(tmp_path / "clean.toml", clean.database, mailbox.source(), 20), mailbox)
    assert clean_run.wait(120) == 0

    for env in (partial, clean):
        assert env.message_ids() == expected
        assert env.value("SELECT count(*) FROM message_locations") == 301
        assert env.value("SELECT count(*) FROM raw_messages") == 300
        assert env.value("SELECT count(*) FROM message_addresses") == 600  # from + to, once each
    partial_keys = {r[0] for r in partial.rows("SELECT folder || location || sha256 FROM message_locations")}
    clean_keys = {r[0] for r in clean.rows("SELECT folder || location || sha256 FROM message_locations")}
    assert partial_keys == clean_keys


def test_a_failing_source_does_not_stop_the_others(mailbox: Mailbox, tmp_path: Path) -> None:
    mailbox.add("INBOX", make_message(1))
    database = tmp_path / "two.duckdb"
    good = mailbox.source(name="good")
    bad = mailbox.source(name="bad", password="env:INTEL_TEST_WRONG_PASSWORD")
    config = _write_config(tmp_path / "two.toml", database, bad, 100)
    with config.open("a", encoding="utf-8") as handle:
        handle.write("[[source]]\n")
        for key, value in good.items():
            rendered = value if isinstance(value, int | float) and not isinstance(value, bool) else f'"{value}"'
            handle.write(f"{key} = {str(rendered).lower() if isinstance(value, bool) else rendered}\n")
    environ = {**os.environ, mailbox.password_env: mailbox.password, "INTEL_TEST_WRONG_PASSWORD": "nope-wrong"}
    done = subprocess.run(
        [sys.executable, "-m", "intel.cli", "--config", str(config), "sync"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("intel: error:")]
    assert len(errors) == 1 and "source 'bad'" in errors[0] and "refused the login" in errors[0]
    assert "nope-wrong" not in done.stderr + done.stdout
    assert "source good: 1 messages read, 1 new" in done.stdout
