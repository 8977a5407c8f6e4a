"""The POP3 source against a real Dovecot (and a tiny server without UIDL)."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from intel.errors import AuthError
from tests.integration.conftest import Mailbox, SyncEnv, make_message

pytestmark = pytest.mark.slow


def test_pop3s_full_then_incremental_and_nothing_deleted(mailbox: Mailbox, env: SyncEnv) -> None:
    for n in range(4):
        mailbox.add("INBOX", make_message(n))
    source = mailbox.source(kind="pop3")

    first = env.sync(source)
    assert (first.seen, first.new) == (4, 4)
    assert len(mailbox.files("INBOX")) == 4  # POP3 never deletes
    assert not [p.name for p in mailbox.files("INBOX") if p.name.endswith("S")]  # nor marks read

    mailbox.add("INBOX", make_message(4))
    second = env.sync(source)
    assert (second.seen, second.new) == (1, 1)
    assert env.sync(source).seen == 0
    assert len(mailbox.files("INBOX")) == 5
    assert env.message_ids() == {f"<msg-{n}@test>" for n in range(5)}
    assert set(env.rows("SELECT DISTINCT folder, folder_role FROM message_locations")) == {("INBOX", "inbox")}

    # The same mailbox over IMAP: the same bytes, so nothing is stored twice.
    imap = env.sync(mailbox.source(name="over-imap"))
    assert (imap.seen, imap.new) == (5, 0)


def test_pop3_stls_and_deleted_messages_are_marked(mailbox: Mailbox, env: SyncEnv) -> None:
    files = [mailbox.add("INBOX", make_message(n)) for n in range(3)]
    source = mailbox.source(kind="pop3", security="starttls")
    assert env.sync(source).new == 3

    files[0].unlink()  # read and deleted by another client
    env.sync(source)
    assert sorted(env.locations().values()) == [False, False, True]
    assert env.value("SELECT count(*) FROM messages") == 3


def test_pop3_xoauth2(mailbox: Mailbox, env: SyncEnv) -> None:
    mailbox.add("INBOX", make_message(1))
    # The test server checks an XOAUTH2 bearer token as it checks a password.
    assert env.sync(mailbox.source(kind="pop3", auth="xoauth2")).new == 1


def test_pop3_window_uses_the_date_header(mailbox: Mailbox, env: SyncEnv) -> None:
    old = datetime(2020, 1, 1, tzinfo=UTC)
    new = datetime(2025, 1, 1, tzinfo=UTC)
    mailbox.add("INBOX", make_message(1, sent=old))
    mailbox.add("INBOX", make_message(2, sent=new))

    assert env.sync(mailbox.source(kind="pop3", since="2024-01-01")).new == 1
    assert env.message_ids() == {"<msg-2@test>"}
    assert env.sync(mailbox.source(kind="pop3", since="2024-01-01")).seen == 0
    assert env.sync(mailbox.source(kind="pop3", since="all")).new == 1


def test_pop3_wrong_password_is_one_clear_line(mailbox: Mailbox, env: SyncEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(mailbox.password_env, "wrong-pop-password")
    with pytest.raises(AuthError) as exc:
        env.sync(mailbox.source(kind="pop3"))
    message = str(exc.value)
    assert message.startswith("source 'mail': ") and "refused the login" in message
    assert "\n" not in message and "wrong-pop-password" not in message


# -- a server without UIDL --------------------------------------------------------------------


class _NoUidlHandler(socketserver.StreamRequestHandler):
    """Just enough POP3 (RFC 1939 without UIDL) for the fallback to content hashes."""

    server: _NoUidlServer

    def _send(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")

    def handle(self) -> None:
        self._send(b"+OK tiny POP3 ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command, *args = line.decode().strip().split(" ")
            command = command.upper()
            self.server.commands.append(command)
            messages = self.server.messages
            if command in ("USER", "PASS", "NOOP"):
                self._send(b"+OK")
            elif command == "STAT":
                self._send(f"+OK {len(messages)} {sum(map(len, messages))}".encode())
            elif command == "RETR":
                raw = messages[int(args[0]) - 1]
                self._send(b"+OK message follows")
                for body_line in raw.split(b"\r\n")[:-1]:
                    self._send(b"." + body_line if body_line.startswith(b".") else body_line)
                self._send(b".")
            elif command == "QUIT":
                self._send(b"+OK bye")
                return
            else:  # UIDL, TOP, DELE, CAPA ...
                self._send(b"-ERR not supported here")


class _NoUidlServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, messages: list[bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _NoUidlHandler)
        self.messages = messages
        self.commands: list[str] = []


@pytest.fixture
def no_uidl_server() -> Iterator[_NoUidlServer]:
    server = _NoUidlServer([make_message(n).replace(b"\n", b"\r\n") for n in range(3)])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_pop3_without_uidl_falls_back_to_content_hashes(
    no_uidl_server: _NoUidlServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINY_POP_PASSWORD", "x")
    env = SyncEnv(tmp_path)
    source = {
        "name": "tiny",
        "type": "pop3",
        "host": "127.0.0.1",
        "port": no_uidl_server.server_address[1],
        "security": "none",
        "allow_insecure": True,
        "username": "u",
        "password": "env:TINY_POP_PASSWORD",
        "timeout": 5.0,
    }
    assert env.sync(source).new == 3
    no_uidl_server.messages.append(make_message(3).replace(b"\n", b"\r\n"))
    second = env.sync(source)
    assert (second.seen, second.new) == (1, 1)
    locations = [row[0] for row in env.rows("SELECT location FROM message_locations")]
    assert len(locations) == 4 and all(loc.startswith("sha256:") for loc in locations)
    assert "DELE" not in no_uidl_server.commands
