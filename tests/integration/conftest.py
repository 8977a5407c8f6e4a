"""A real Dovecot (IMAP + POP3) for the integration tests, one per test session.

The server runs from a self-contained config in a private directory: 127.0.0.1 only, free high
ports, a passwd-file of test users, Maildir++ mailboxes, TLS with a self-signed certificate made
by openssl (tests pass it as ``ca_file``). Each test gets its own user, so tests never see each
other's mail. Mail is seeded by writing Maildir files directly (fast; the file's mtime is the
INTERNALDATE), and UIDVALIDITY is changed with ``doveadm``.

Without Dovecot installed the tests are skipped with the reason, except under ``CI=true``, where
a missing Dovecot is a failure (``scripts/install-system-deps.sh`` installs it).
"""

from __future__ import annotations

import grp
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from intel.config import Settings
from intel.pipeline import SyncResult, sync_source

__all__ = ["DovecotServer", "Mailbox", "PausingProxy", "SyncEnv", "dovecot_binary", "make_message"]

_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])


def dovecot_binary() -> str | None:
    """Path of the `dovecot` master binary, or None."""
    return shutil.which("dovecot", path=_SEARCH_PATH)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def make_message(
    n: int,
    *,
    subject: str | None = None,
    sent: datetime | None = None,
    sender: str = "customer@example.org",
    to: str = "me@example.com",
    body_lines: int = 3,
) -> bytes:
    """A small, unique, well-formed message (Message-ID ``<msg-n@test>``)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject or f"Test message {n}"
    msg["Date"] = format_datetime(sent or datetime(2025, 1, 1, tzinfo=UTC))
    msg["Message-ID"] = f"<msg-{n}@test>"
    lines = [f"Line {i} of message {n}: the quick brown fox jumps over the lazy dog." for i in range(body_lines)]
    msg.set_content("Hello,\n\n" + "\n".join(lines) + "\n\nBest regards,\nA. Customer\n")
    return msg.as_bytes()


@dataclass
class Mailbox:
    """One test user's mailbox on the server."""

    server: DovecotServer
    user: str
    password: str
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def root(self) -> Path:
        return self.server.mail_root / self.user

    def folder_dir(self, folder: str) -> Path:
        """The Maildir++ directory of a folder (``Archive/2024`` -> ``.Archive.2024``)."""
        if folder == "INBOX":
            return self.root
        return self.root / ("." + folder.replace("/", "."))

    def create_folder(self, folder: str) -> Path:
        directory = self.folder_dir(folder)
        for sub in ("cur", "new", "tmp"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        if folder != "INBOX":
            (directory / "maildirfolder").touch()
        self.server.give_to_mail_user(self.root)
        return directory

    def add(self, folder: str, raw: bytes, *, received: datetime | None = None, seen: bool = False) -> Path:
        """Put a message in `folder` as the server would have delivered it; returns its file."""
        directory = self.create_folder(folder) if not self.folder_dir(folder).is_dir() else self.folder_dir(folder)
        when = (received or datetime(2025, 1, 1, 12, tzinfo=UTC)).timestamp()
        unique = f"{int(when)}.M{next(self._counter)}P{os.getpid()}Q{uuid.uuid4().hex[:8]}.test"
        path = directory / "cur" / f"{unique}:2,{'S' if seen else ''}"
        tmp = directory / "tmp" / unique
        tmp.write_bytes(raw)
        os.utime(tmp, (when, when))
        self.server.give_to_mail_user(tmp)
        tmp.rename(path)
        return path

    def add_many(self, folder: str, messages: list[bytes], received: datetime | None = None) -> None:
        for raw in messages:
            self.add(folder, raw, received=received)

    def files(self, folder: str) -> list[Path]:
        directory = self.folder_dir(folder)
        return sorted(p for sub in ("cur", "new") for p in (directory / sub).iterdir())

    def set_uidvalidity(self, folder: str, value: int) -> None:
        """Give a folder a new UIDVALIDITY (every UID changes meaning), as a server rebuild would."""
        self.server.doveadm("mailbox", "update", "-u", self.user, "--uid-validity", str(value), folder)

    def source(self, name: str = "mail", kind: str = "imap", **options: Any) -> dict[str, Any]:
        """A `[[source]]` table for this mailbox (over TLS with the test CA unless overridden)."""
        security = options.pop("security", "ssl")
        port = self.server.port(kind, security)
        config: dict[str, Any] = {
            "name": name,
            "type": kind,
            "host": "127.0.0.1",
            "port": port,
            "security": security,
            "ca_file": str(self.server.ca_file),
            "username": self.user,
            "password": f"env:{self.password_env}",
            "timeout": 10.0,
            "retries": 1,
            "retry_backoff": 0.1,
        }
        if security == "none":
            config["allow_insecure"] = True
        config.update(options)
        return config

    @property
    def password_env(self) -> str:
        return f"INTEL_TEST_PW_{self.user.upper()}"


class DovecotServer:
    """A private Dovecot instance: started once, stopped at the end of the session."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="intel-dovecot-"))
        # Mail processes must not run as root, so mail belongs to an unprivileged user who
        # needs to reach it: the directory is private to us but traversable.
        self.root.chmod(0o755)
        self.mail_root = self.root / "mail"
        self.config_file = self.root / "dovecot.conf"
        self.passwd_file = self.root / "passwd"
        self.ca_file = self.root / "cert.pem"
        self.log_file = self.root / "dovecot.log"
        self.ports = {
            ("imap", "ssl"): _free_port(),
            ("imap", "plain"): _free_port(),
            ("pop3", "ssl"): _free_port(),
            ("pop3", "plain"): _free_port(),
        }
        self._users = itertools.count(1)
        self._free_users: list[tuple[str, str]] = []
        self._process: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self.mail_uid, self.mail_gid, self.login_user = nobody.pw_uid, nobody.pw_gid, "nobody"
            self.internal_user = "root"
        else:
            me = pwd.getpwuid(os.geteuid())
            self.mail_uid, self.mail_gid = me.pw_uid, me.pw_gid
            self.login_user = self.internal_user = me.pw_name

    def port(self, kind: str, security: str) -> int:
        return self.ports[(kind, "ssl" if security == "ssl" else "plain")]

    def give_to_mail_user(self, path: Path) -> None:
        """Mail files and folders must belong to the mail user, who runs the IMAP processes."""
        if os.geteuid() != 0:
            return
        os.chown(path, self.mail_uid, self.mail_gid)
        if path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path):
                for name in dirnames + filenames:
                    os.chown(os.path.join(dirpath, name), self.mail_uid, self.mail_gid)

    def _certificate(self) -> None:
        key = self.root / "key.pem"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
                "-keyout", str(key), "-out", str(self.ca_file), "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        key.chmod(0o600)

    def _write_config(self) -> None:
        r = self.root
        p = self.ports
        chroot = ""  # no chroot for login processes: nothing to protect in a test server
        self.config_file.write_text(
            f"""
base_dir = {r}/run
state_dir = {r}/state
instance_name = intel-test-{os.getpid()}
log_path = {self.log_file}
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <{self.ca_file}
ssl_key = <{r}/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
auth_failure_delay = 0
default_internal_user = {self.internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(self.internal_user).pw_gid).gr_name}
default_login_user = {self.login_user}
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:{self.mail_root}/%u
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd_file}
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={r}/home/%u
}}
service imap-login {{
  chroot = {chroot}
  inet_listener imap {{
    port = {p[("imap", "plain")]}
  }}
  inet_listener imaps {{
    port = {p[("imap", "ssl")]}
    ssl = yes
  }}
}}
service pop3-login {{
  chroot = {chroot}
  inet_listener pop3 {{
    port = {p[("pop3", "plain")]}
  }}
  inet_listener pop3s {{
    port = {p[("pop3", "ssl")]}
    ssl = yes
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
  }}
  mailbox Drafts {{
    special_use = \\Drafts
  }}
  mailbox Trash {{
    special_use = \\Trash
  }}
  mailbox Junk {{
    special_use = \\Junk
  }}
  mailbox Archive {{
    special_use = \\Archive
  }}
}}
""",
            encoding="utf-8",
        )
        self.passwd_file.write_text("", encoding="utf-8")
        self._add_users(40)
        self.mail_root.mkdir()
        (r / "home").mkdir()
        self.give_to_mail_user(self.mail_root)
        self.give_to_mail_user(r / "home")

    def start(self) -> None:
        self._certificate()
        self._write_config()
        self._process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config_file)],
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "stderr.log").open("wb"),
        )
        deadline = time.monotonic() + 15
        for port in self.ports.values():
            if not _wait_for_port(port, deadline):
                self.stop()
                raise RuntimeError(f"dovecot did not start listening on port {port}: {self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        text = ""
        for path in (self.root / "stderr.log", self.log_file):
            if path.exists():
                text += path.read_text(errors="replace")
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        self._process = None
        if not os.environ.get("INTEL_KEEP_DOVECOT"):
            shutil.rmtree(self.root, ignore_errors=True)

    def doveadm(self, *args: str) -> str:
        doveadm = shutil.which("doveadm", path=_SEARCH_PATH) or "doveadm"
        done = subprocess.run([doveadm, "-c", str(self.config_file), *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def _add_users(self, count: int) -> None:
        # Dovecot looks at the passwd-file at most once a second, so users are made in advance.
        with self.passwd_file.open("a", encoding="utf-8") as handle:
            for _ in range(count):
                user, password = f"user{next(self._users)}", f"pw-{uuid.uuid4().hex[:12]}"
                handle.write(f"{user}:{{PLAIN}}{password}::::::\n")
                self._free_users.append((user, password))

    def new_mailbox(self) -> Mailbox:
        """A user of its own with an empty INBOX."""
        if not self._free_users:
            self._add_users(20)
            time.sleep(1.1)
        user, password = self._free_users.pop(0)
        mailbox = Mailbox(self, user, password)
        mailbox.create_folder("INBOX")
        return mailbox


class PausingProxy:
    """A TCP relay to a local port that stops passing server bytes after `budget` of them.

    With it a test can freeze a sync part-way deterministically (the client then waits for
    data), which is how the SIGKILL test knows some batches are committed and others not.
    With ``drop=True`` it instead cuts that connection (a dropped link) and lets later
    connections through untouched.
    """

    def __init__(self, target_port: int, budget: int, *, drop: bool = False) -> None:
        self.target_port = target_port
        self.budget = budget
        self.drop = drop
        self.connections = 0
        self.passed = 0
        self.paused = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.port = int(self._listener.getsockname()[1])
        self._closing = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            self._sockets += [client, server]
            self.connections += 1
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, counted: bool) -> None:
        while not self._closing.is_set():
            try:
                data = source.recv(16384)
            except OSError:
                return
            if not data:
                return
            if counted:
                allowed = max(0, self.budget - self.passed)
                if len(data) > allowed:
                    data = data[:allowed]
                    self.paused.set()
                self.passed += len(data)
            try:
                sink.sendall(data)
            except OSError:
                return
            if counted and self.paused.is_set():
                if self.drop:
                    self.budget = 1 << 62  # later connections pass untouched
                    self.paused.clear()
                    for sock in (source, sink):
                        sock.shutdown(socket.SHUT_RDWR)
                        sock.close()
                    return
                self._closing.wait()  # hold the connection open, passing nothing more
                return

    def close(self) -> None:
        self._closing.set()
        self._listener.close()
        for sock in self._sockets:
            sock.close()


class SyncEnv:
    """A database in a test's tmp dir, syncs into it, and queries on it."""

    def __init__(self, root: Path) -> None:
        self.database = root / "intel.duckdb"

    def settings(self, *sources: dict[str, Any], batch_size: int = 1000) -> Settings:
        return Settings(
            storage={"database": self.database, "batch_size": batch_size, "parse_workers": 1},
            identity={"addresses": ["me@example.com"]},
            source=list(sources),
        )

    def sync(self, source: dict[str, Any], batch_size: int = 1000) -> SyncResult:
        return sync_source(self.settings(source, batch_size=batch_size), source["name"])

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def value(self, sql: str, params: list[Any] | None = None) -> Any:
        return self.rows(sql, params)[0][0]

    def message_ids(self, table: str = "messages") -> set[str]:
        return {row[0] for row in self.rows(f"SELECT rfc_message_id FROM {table}")}

    def locations(self, source: str = "mail") -> dict[tuple[str, str], bool]:
        """(folder, location) -> deleted?"""
        rows = self.rows(
            "SELECT folder, location, deleted_at IS NOT NULL FROM message_locations WHERE source = ?", [source]
        )
        return {(folder, loc): deleted for folder, loc, deleted in rows}


@pytest.fixture
def env(tmp_path: Path) -> SyncEnv:
    return SyncEnv(tmp_path)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    binary = dovecot_binary()
    if binary is None or shutil.which("openssl") is None:
        reason = "needs dovecot (Debian dovecot-imapd, dovecot-pop3d) and openssl: run scripts/install-system-deps.sh"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI: {reason}", pytrace=False)
        pytest.skip(reason)
    server = DovecotServer(binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailbox(dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch) -> Mailbox:
    """A fresh user on the session's Dovecot, its password in the environment for `env:` references."""
    box = dovecot.new_mailbox()
    monkeypatch.setenv(box.password_env, box.password)
    return box
