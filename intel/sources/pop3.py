"""POP3: read a maildrop without ever deleting from it.

POP3 has one folder (stored as ``INBOX``) and no order, so its cursor is the set of UIDLs
already stored: the locations the store knows for the folder. A server without UIDL falls back
to content hashes: every message is downloaded and the ones whose ``sha256:<hex>`` location is
known are dropped. The session ends with QUIT and never sends DELE, so nothing is removed.

Messages are downloaded with ``TOP n <all lines>`` where the server has TOP, because some
servers (Dovecot among them) mark a message read when it is fetched with RETR.

Sync window (``since``): POP3 has no INTERNALDATE, so the ``Date`` header decides, read with
``TOP n 0`` before downloading. UIDLs found older than the window are remembered (scope
``pop3:older``, valid for that window start) so later runs do not ask again.

Each run also carries the complete UIDL listing, so stored messages that left the maildrop are
marked deleted (never removed).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import poplib
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from typing import Any

from intel.config import Pop3Source
from intel.errors import AuthError, IntelError, SourceError, TransientError
from intel.parse.folders import folder_role
from intel.sources.base import Batch, BatchBuilder, RawMessage, SourceState
from intel.sources.connect import (
    ServerReader,
    ServerSession,
    access_token,
    password_for,
    scrub,
    server_error,
    tls_context,
    window_start,
)
from intel.sources.tokens import AccessTokenProvider, token_provider_for, xoauth2_string

__all__ = ["FOLDER", "Pop3Reader", "Pop3Session", "header_date", "parse_uidl_listing"]

log = logging.getLogger(__name__)

FOLDER = "INBOX"
DEFAULT_PORTS = {"ssl": 995, "starttls": 110, "none": 110}
_OLDER_SCOPE = "pop3:older"
_MAX_LINE = 16 * 1024 * 1024
_ALL_LINES = (
    2**31 - 1
)  # TOP's line count that means "the whole body"  # poplib's 2 KB limit breaks on unwrapped HTML lines
# RFC 3206 response codes that say "try again later".
_TRANSIENT_CODES = (b"[IN-USE]", b"[SYS/TEMP]", b"-ERR EOF")


def parse_uidl_listing(lines: list[bytes]) -> list[tuple[int, str]]:
    """``[b"1 whqtswO00WBw418f9t5JxYwZ", ...]`` -> ``[(1, "whqtswO00WBw418f9t5JxYwZ"), ...]``."""
    listing: list[tuple[int, str]] = []
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            listing.append((int(parts[0]), parts[1].decode("ascii", "replace")))
    return listing


def header_date(headers: bytes) -> datetime | None:
    """The ``Date`` header of a message head as UTC (naive dates taken as UTC); None if absent or bad."""
    value = BytesHeaderParser().parsebytes(headers).get("Date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class _Pop3Extras:
    """Longer lines than poplib allows, and SASL XOAUTH2 (a one-line AUTH with initial response)."""

    file: Any

    def _getline(self) -> tuple[bytes, int]:
        line: bytes = self.file.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise poplib.error_proto("-ERR line too long")
        if not line:
            raise poplib.error_proto("-ERR EOF")
        octets = len(line)
        if line[-2:] == b"\r\n":
            return line[:-2], octets
        if line[:1] == b"\r":
            return line[1:-1], octets
        return line[:-1], octets

    def auth_xoauth2(self, initial: bytes) -> bytes:
        """``AUTH XOAUTH2 <base64>``; an error challenge is answered empty to get the final -ERR."""
        pop: Any = self
        response: bytes = pop._shortcmd("AUTH XOAUTH2 " + base64.b64encode(initial).decode("ascii"))
        if not response.startswith(b"+OK"):
            pop._putcmd("")
            response = pop._getresp()
        return response


class _POP3(_Pop3Extras, poplib.POP3):
    pass


class _POP3SSL(_Pop3Extras, poplib.POP3_SSL):
    pass


class Pop3Session(ServerSession["_POP3 | _POP3SSL"]):
    """One logged-in POP3 connection; failures leave as `IntelError` naming the source."""

    default_ports = DEFAULT_PORTS
    config: Pop3Source

    def __init__(self, config: Pop3Source, tokens: AccessTokenProvider | None = None) -> None:
        super().__init__(config, tokens)
        self._top_works = True

    def __enter__(self) -> Pop3Session:
        self.open()
        return self

    @property
    def pop(self) -> _POP3 | _POP3SSL:
        return self.connection

    def close(self, graceful: bool = True) -> None:
        """QUIT after success (no DELE was ever sent, so nothing is removed); else just close."""
        try:
            super().close(graceful)
        except poplib.error_proto as exc:  # a garbled goodbye; the socket is closed below anyway
            log.debug("%s: closing %s: %s", self._prefix, self.where, exc)

    def _quit(self, connection: _POP3 | _POP3SSL) -> None:
        try:
            connection.quit()
        except poplib.error_proto:
            connection.close()
            raise

    def _abort(self, connection: _POP3 | _POP3SSL) -> None:
        connection.close()

    def _connect(self) -> _POP3 | _POP3SSL:
        config = self.config
        context = tls_context(config.ca_file) if config.security != "none" else None
        pop: _POP3 | _POP3SSL
        try:
            if config.security == "ssl":
                return _POP3SSL(config.host, self.port, timeout=config.timeout, context=context)
            pop = _POP3(config.host, self.port, timeout=config.timeout)
        except (OSError, EOFError) as exc:
            raise server_error(config.name, self.where, exc, config.timeout) from None
        except poplib.error_proto as exc:
            raise self._error("connecting", exc) from None
        if config.security == "starttls":
            secured = False
            try:
                pop.stls(context=context)
                secured = True
            except (OSError, EOFError) as exc:
                raise server_error(config.name, self.where, exc, config.timeout) from None
            except poplib.error_proto as exc:
                raise self._error("STLS", exc) from None
            finally:
                if not secured:
                    pop.close()
        return pop

    def _login(self) -> None:
        config = self.config
        if config.auth == "xoauth2":
            self._login_xoauth2()
            return
        password = password_for(config)
        self._secret = password
        try:
            self.pop.user(config.username)
            self.pop.pass_(password)
        except poplib.error_proto as exc:
            if self._is_transient(exc):
                raise self._error("login", exc) from None
            raise AuthError(
                f"{self._prefix}: {self.where} refused the login of {config.username}: {self._message(exc)}"
            ) from None
        except (OSError, EOFError) as exc:
            raise server_error(config.name, self.where, exc, config.timeout) from None

    def _login_xoauth2(self) -> None:
        config = self.config
        tokens = self.tokens if self.tokens is not None else token_provider_for(config)
        for attempt in (1, 2):
            token = access_token(config.name, tokens)
            self._secret = token
            try:
                self.pop.auth_xoauth2(xoauth2_string(config.username, token))
                return
            except poplib.error_proto as exc:
                if self._is_transient(exc):
                    raise self._error("login", exc) from None
                if attempt == 1:
                    tokens.invalidate()
                    continue
                raise AuthError(
                    f"{self._prefix}: {self.where} refused the XOAUTH2 token of {config.username}: {self._message(exc)}"
                ) from None
            except (OSError, EOFError) as exc:
                raise server_error(config.name, self.where, exc, config.timeout) from None

    @staticmethod
    def _is_transient(exc: poplib.error_proto) -> bool:
        text = exc.args[0] if exc.args else b""
        data = text if isinstance(text, bytes) else str(text).encode()
        return any(code in data for code in _TRANSIENT_CODES)

    def _message(self, exc: BaseException) -> str:
        text = exc.args[0] if exc.args else str(exc)
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return scrub(str(text), self._secret)

    def _error(self, what: str, exc: BaseException) -> IntelError:
        if isinstance(exc, poplib.error_proto):
            if self._is_transient(exc):
                return TransientError(f"{self._prefix}: {self.where} failed during {what}: {self._message(exc)}")
            return SourceError(f"{self._prefix}: {what} failed on {self.where}: {self._message(exc)}")
        if isinstance(exc, OSError | EOFError):
            return server_error(self.config.name, self.where, exc, self.config.timeout)
        return SourceError(f"{self._prefix}: {what} failed on {self.where}: {self._message(exc)}")

    def _call(self, what: str, command: Callable[[], Any]) -> Any:
        try:
            return command()
        except (poplib.error_proto, OSError, EOFError) as exc:
            raise self._error(what, exc) from None

    def count(self) -> int:
        """How many messages the maildrop holds."""
        messages, _size = self._call("STAT", self.pop.stat)
        return int(messages)

    def uidl(self) -> list[tuple[int, str]] | None:
        """(message number, UIDL) of every message; None when the server has no UIDL."""
        try:
            _response, lines, _octets = self.pop.uidl()
        except poplib.error_proto as exc:
            if self._is_transient(exc):
                raise self._error("UIDL", exc) from None
            log.info("%s: %s has no UIDL (%s); using content hashes", self._prefix, self.where, self._message(exc))
            return None
        except (OSError, EOFError) as exc:
            raise server_error(self.config.name, self.where, exc, self.config.timeout) from None
        return parse_uidl_listing(lines)

    def headers(self, number: int) -> bytes:
        """The header block of message `number` (``TOP n 0``)."""
        _response, lines, _octets = self._call("TOP", lambda: self.pop.top(number, 0))
        return b"\r\n".join(lines) + b"\r\n"

    def retrieve(self, number: int) -> bytes:
        """Message `number` as the server has it (dot-unstuffed, CRLF line ends). Never deletes.

        ``TOP n <all lines>`` first: servers such as Dovecot mark messages read on RETR, not on
        TOP. A server without TOP gets RETR from then on.
        """
        if self._top_works:
            try:
                _response, lines, _octets = self.pop.top(number, _ALL_LINES)
                return b"\r\n".join(lines) + b"\r\n"
            except poplib.error_proto as exc:
                if self._is_transient(exc):
                    raise self._error("TOP", exc) from None
                log.info("%s: %s has no TOP (%s); using RETR", self._prefix, self.where, self._message(exc))
                self._top_works = False
            except (OSError, EOFError) as exc:
                raise server_error(self.config.name, self.where, exc, self.config.timeout) from None
        _response, lines, _octets = self._call("RETR", lambda: self.pop.retr(number))
        return b"\r\n".join(lines) + b"\r\n"


class Pop3Reader(ServerReader):
    """The POP3 `MailSource`."""

    config: Pop3Source

    def __init__(
        self, config: Pop3Source, *, today: date | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        super().__init__(config, today=today, sleep=sleep)
        self.role = folder_role(FOLDER, overrides=config.folder_roles)

    def _older(self) -> set[str]:
        """UIDLs found older than the current window by an earlier run (empty if the window changed)."""
        value = self._reached.get(_OLDER_SCOPE)
        if not isinstance(value, dict) or self.window is None:
            return set()
        if value.get("since") != self.window.isoformat():
            return set()
        return {str(u) for u in value.get("uidls", [])}

    def _run(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        with Pop3Session(self.config, self._tokens) as session:
            listing = session.uidl()
            builder = BatchBuilder(batch_size)
            if listing is None:
                yield from self._run_by_content(session, state, builder)
                return
            known = self._known(state, FOLDER)
            remembered = self._older()
            older: set[str] = set()
            start = window_start(self.window)
            new = [(n, uidl) for n, uidl in listing if uidl not in known]
            log.info("source %s: %d of %d messages not stored yet", self.name, len(new), len(listing))
            for number, uidl in new:
                if uidl in remembered:
                    older.add(uidl)
                    continue
                if start is not None:
                    sent = header_date(session.headers(number))
                    if sent is not None and sent < start:
                        older.add(uidl)
                        continue
                if builder.add(RawMessage(session.retrieve(number), FOLDER, self.role, uidl)):
                    yield from self._flush(builder)
            cursors = {
                _OLDER_SCOPE: {"since": self.window.isoformat() if self.window else None, "uidls": sorted(older)}
            }
            yield from self._flush(builder, cursors, {FOLDER: {uidl for _n, uidl in listing}})

    def _run_by_content(self, session: Pop3Session, state: SourceState, builder: BatchBuilder) -> Iterator[Batch]:
        """No UIDL: download everything, keep what is new by content hash."""
        known = self._known(state, FOLDER)
        present: set[str] = set()
        start = window_start(self.window)
        for number in range(1, session.count() + 1):
            data = session.retrieve(number)
            key = "sha256:" + hashlib.sha256(data).hexdigest()
            present.add(key)
            if key in known:
                continue
            if start is not None:
                sent = header_date(data.split(b"\r\n\r\n", 1)[0])
                if sent is not None and sent < start:
                    continue
            known.add(key)
            if builder.add(RawMessage(data, FOLDER, self.role, key)):
                yield from self._flush(builder)
        yield from self._flush(builder, None, {FOLDER: present})
