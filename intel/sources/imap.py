"""IMAP: read every chosen folder of a mailbox, read-only and incrementally.

Read-only: folders are opened with EXAMINE and bodies fetched with ``BODY.PEEK[]``, so no flag
changes on the server (nothing is marked read).

Folders: LIST gives every folder with its SPECIAL-USE flags (RFC 6154); `folder_role` turns
flags, or else the name, into a role, with the source's ``folder_roles`` overriding both.
``folders`` (shell patterns) picks folders; without it every folder but trash and spam is read.
``exclude_folders`` removes folders from either.

Cursor, one per folder, scope ``imap:<folder>``: ``{"uidvalidity", "last_uid", "since"}``.
Every message with a UID up to ``last_uid`` whose INTERNALDATE is on or after ``since`` (all of
them when ``since`` is null) is stored. A run asks the server for ``UID last_uid+1:*`` and keeps
only UIDs above ``last_uid`` (the server always answers that range with its newest message).
Batches carry the cursor they reach, and the pipeline commits both in one transaction. A new
UIDVALIDITY means the UIDs changed meaning: the folder is read again from the start and the
pipeline's content hashes keep anything from being stored twice. A location is
``"<uidvalidity>:<uid>"``, so a message in two folders has two locations and one stored copy.

Sync window (``since``): SEARCH SINCE one day early (SINCE compares dates in the server's time
zone), then exact filtering on INTERNALDATE from midnight UTC. Moving the window back later
backfills what lies between the new and the old start; moving it forward hides the excess in
the ``v_messages`` view (scope ``window``) and deletes nothing.

After each folder the batch also carries the folder's complete UID listing, so stored messages
that are no longer on the server are marked deleted (never removed).
"""

from __future__ import annotations

import base64
import fnmatch
import imaplib
import logging
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from intel.config import ImapSource
from intel.errors import AuthError, IntelError, SourceError, TransientError
from intel.parse.folders import folder_role
from intel.sources.base import Batch, BatchBuilder, RawMessage, SourceState
from intel.sources.connect import (
    ServerReader,
    ServerSession,
    access_token,
    is_temporary_refusal,
    password_for,
    scrub,
    server_error,
    tls_context,
    window_cursor,
    window_start,
)
from intel.sources.tokens import AccessTokenProvider, token_provider_for, xoauth2_string

__all__ = [
    "DEFAULT_EXCLUDED_ROLES",
    "Fetched",
    "FolderCursor",
    "FolderPlan",
    "ImapFolder",
    "ImapReader",
    "ImapSession",
    "choose_folders",
    "decode_modified_utf7",
    "imap_date",
    "in_window",
    "make_folders",
    "parse_fetch",
    "parse_internaldate",
    "parse_list_item",
    "plan_folder",
    "search_window",
    "uid_set",
    "window_cursor",
]

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
DEFAULT_EXCLUDED_ROLES = ("trash", "spam")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# imaplib refuses lines over 1 MB; a SEARCH answer for a 200,000-message folder is longer.
_MAX_LINE = 64 * 1024 * 1024
_FETCH_ITEMS = "(UID INTERNALDATE BODY.PEEK[])"
_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<delimiter>NIL|"(?:\\.|[^"\\])*") ?(?P<name>.*)$', re.DOTALL)
_UID = re.compile(rb"(?:^|[( ])UID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_DATE = re.compile(r"^\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$")


# -- pure helpers (unit-tested without a server) ------------------------------------------


def decode_modified_utf7(name: str) -> str:
    """Decode an IMAP mailbox name from modified UTF-7 (RFC 3501 5.1.3); malformed names stay as is."""
    if "&" not in name:
        return name
    out: list[str] = []
    i = 0
    while i < len(name):
        if name[i] != "&":
            out.append(name[i])
            i += 1
            continue
        end = name.find("-", i)
        if end < 0:
            return name
        chunk = name[i + 1 : end]
        if not chunk:
            out.append("&")
        else:
            padded = chunk.replace(",", "/") + "=" * (-len(chunk) % 4)
            try:
                out.append(base64.b64decode(padded, validate=True).decode("utf-16-be"))
            except (ValueError, UnicodeDecodeError):
                return name
        i = end + 1
    return "".join(out)


def _unquote(value: bytes) -> str:
    text = value.decode("utf-8", "replace")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def quote(value: str) -> str:
    """An IMAP quoted string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_list_item(item: bytes | tuple[bytes, bytes]) -> tuple[tuple[str, ...], str | None, str] | None:
    """(flags, delimiter, raw name) of one LIST answer as imaplib returns it, or None if it is not one.

    The name comes quoted, as an atom, or as a literal (imaplib then gives a tuple).
    """
    if isinstance(item, tuple):
        line, literal = item[0], item[1]
    else:
        line, literal = item, None
    match = _LIST_LINE.match(line)
    if match is None:
        return None
    flags = tuple(match.group("flags").decode("ascii", "replace").split())
    delimiter = None if match.group("delimiter") == b"NIL" else _unquote(match.group("delimiter"))
    if literal is not None:
        raw = literal.decode("utf-8", "replace")
    else:
        raw = _unquote(match.group("name").strip())
    return flags, delimiter, raw


@dataclass(frozen=True)
class ImapFolder:
    """A folder as LIST reported it: `name` decoded (stored, matched by config), `raw` for commands."""

    name: str
    raw: str
    flags: tuple[str, ...]
    role: str

    @property
    def selectable(self) -> bool:
        return not {f.lower() for f in self.flags} & {"\\noselect", "\\nonexistent"}


# Roles a subfolder takes from its parent when neither flags nor its name say anything
# (``Archive/2024`` is archive, ``Trash/Old`` is trash). Not inbox: INBOX's subfolders are
# the user's own filing.
_INHERITED_ROLES = ("sent", "drafts", "trash", "spam", "archive")


def make_folders(
    entries: Sequence[tuple[tuple[str, ...], str | None, str]], overrides: dict[str, str] | None = None
) -> list[ImapFolder]:
    """Folders from LIST entries ``(flags, delimiter, raw name)``, each with its role.

    A role comes from an override, else SPECIAL-USE flags, else the name (`folder_role`); a
    folder left with ``other`` takes the role of its nearest ancestor that has one of
    `_INHERITED_ROLES`.
    """
    overrides = overrides or {}
    named: list[tuple[tuple[str, ...], str | None, str, str]] = []
    for flags, delimiter, raw in entries:
        name = "INBOX" if raw.upper() == "INBOX" else decode_modified_utf7(raw)
        named.append((flags, delimiter, raw, name))
    own = {name: folder_role(name, flags, overrides) for flags, _d, _r, name in named}
    folders: list[ImapFolder] = []
    for flags, delimiter, raw, name in named:
        role = own[name]
        if role == "other" and name not in overrides and delimiter:
            parts = name.split(delimiter)
            for cut in range(len(parts) - 1, 0, -1):
                parent = own.get(delimiter.join(parts[:cut]))
                if parent in _INHERITED_ROLES:
                    role = parent
                    break
        folders.append(ImapFolder(name, raw, flags, role))
    return folders


def _matches(name: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        if pattern.upper() == "INBOX" and name == "INBOX":
            return True
        if fnmatch.fnmatchcase(name, pattern):
            return True
    return False


def choose_folders(
    folders: Sequence[ImapFolder],
    include: Sequence[str] | None,
    exclude: Sequence[str] = (),
    excluded_roles: Sequence[str] = DEFAULT_EXCLUDED_ROLES,
) -> list[ImapFolder]:
    """The folders to read: `include` patterns (default: every role but `excluded_roles`), less `exclude`.

    INBOX comes first, then the rest by name.
    """
    chosen: list[ImapFolder] = []
    for folder in folders:
        if not folder.selectable:
            continue
        wanted = _matches(folder.name, include) if include else folder.role not in excluded_roles
        if wanted and not _matches(folder.name, exclude):
            chosen.append(folder)
    return sorted(chosen, key=lambda f: (f.name != "INBOX", f.name))


def imap_date(day: date) -> str:
    """A date as IMAP SEARCH wants it (``1-Feb-2025``), independent of the locale."""
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"


def search_window(start: date | None, end: date | None = None) -> list[str]:
    """SEARCH criteria for INTERNALDATE in [start, end), one day wider on each side for time zones."""
    criteria: list[str] = []
    if start is not None:
        criteria += ["SINCE", imap_date(start - timedelta(days=1))]
    if end is not None:
        criteria += ["BEFORE", imap_date(end + timedelta(days=1))]
    return criteria


def in_window(internal_date: datetime | None, start: date | None) -> bool:
    """Exact window filter; a message without a date is kept (we cannot tell)."""
    first = window_start(start)
    return first is None or internal_date is None or internal_date >= first


def starts_before(a: date | None, b: date | None) -> bool:
    """Whether window start `a` is earlier than `b` (None is the beginning of time)."""
    if b is None:
        return False
    return a is None or a < b


def parse_internaldate(value: bytes | str) -> datetime | None:
    """INTERNALDATE (``17-Jul-1996 02:44:25 -0700``) as an aware UTC datetime, None if malformed."""
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    match = _DATE.match(text)
    if match is None:
        return None
    day, month_name, year, hour, minute, second, sign, off_h, off_m = match.groups()
    try:
        month = _MONTHS.index(month_name.capitalize()) + 1
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
        local = datetime(int(year), month, int(day), int(hour), int(minute), int(second), tzinfo=timezone(offset))
    except ValueError:
        return None
    return local.astimezone(UTC)


def uid_set(uids: Sequence[int]) -> str:
    """A compact UID set: ``[1, 2, 3, 7, 9, 10]`` -> ``1:3,7,9:10``."""
    parts: list[str] = []
    ordered = sorted(set(uids))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}:{ordered[j]}")
        i = j + 1
    return ",".join(parts)


@dataclass(frozen=True, slots=True)
class Fetched:
    """One message from a UID FETCH."""

    uid: int
    internal_date: datetime | None
    data: bytes


def parse_fetch(data: Sequence[Any]) -> list[Fetched]:
    """The messages in an imaplib FETCH answer, by UID; unsolicited flag updates are skipped.

    imaplib gives ``(b'1 (UID 5 INTERNALDATE "..." BODY[] {123}', body)`` followed by ``b')'``
    (or by ``b' UID 5)'`` when a server puts attributes after the literal).
    """
    found: list[Fetched] = []
    for i, item in enumerate(data):
        if not isinstance(item, tuple) or b"BODY[]" not in item[0]:
            continue
        meta = item[0]
        following = data[i + 1] if i + 1 < len(data) else None
        if isinstance(following, bytes):
            meta += b" " + following
        uid = _UID.search(meta)
        if uid is None:
            continue
        stamp = _INTERNALDATE.search(meta)
        found.append(Fetched(int(uid.group(1)), parse_internaldate(stamp.group(1)) if stamp else None, item[1]))
    found.sort(key=lambda f: f.uid)
    return found


@dataclass(frozen=True)
class FolderCursor:
    """Every message with UID <= `last_uid` dated on or after `since` (None: all) is stored."""

    uidvalidity: int
    last_uid: int
    since: date | None

    def to_json(self) -> dict[str, Any]:
        return {
            "uidvalidity": self.uidvalidity,
            "last_uid": self.last_uid,
            "since": self.since.isoformat() if self.since else None,
        }

    @classmethod
    def from_json(cls, value: Any) -> FolderCursor | None:
        """The cursor from its stored JSON; None when absent or not understood (read the folder again)."""
        if not isinstance(value, dict):
            return None
        try:
            since = value.get("since")
            return cls(int(value["uidvalidity"]), int(value["last_uid"]), date.fromisoformat(since) if since else None)
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class FolderPlan:
    """What a run does in one folder.

    `cursor` is where reading new mail starts; `reset` says UIDVALIDITY changed; `backfill`
    is ``(new start, old start)`` when the window moved back: messages with UIDs up to the
    cursor's `last_uid` dated in that range are read first, and only then does the cursor's
    `since` become the new start.
    """

    cursor: FolderCursor
    reset: bool = False
    backfill: tuple[date | None, date] | None = None


def plan_folder(previous: FolderCursor | None, uidvalidity: int, window: date | None) -> FolderPlan:
    """Decide how to bring a folder up to date from its last cursor and the current window."""
    if previous is None or previous.uidvalidity != uidvalidity:
        return FolderPlan(FolderCursor(uidvalidity, 0, window), reset=previous is not None)
    if previous.last_uid > 0 and previous.since is not None and starts_before(window, previous.since):
        return FolderPlan(previous, backfill=(window, previous.since))
    # Same or later window: what is stored covers it (later mail is only read from `window` on).
    return FolderPlan(replace(previous, since=window))


def location(uidvalidity: int, uid: int) -> str:
    """Where a message is within its folder: unique for as long as the folder exists."""
    return f"{uidvalidity}:{uid}"


# -- the connection -------------------------------------------------------------------------


class _LongLines:
    """imaplib's line reader without its 1 MB limit (SEARCH answers of big folders are longer)."""

    file: Any

    def readline(self) -> bytes:
        line: bytes = self.file.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise imaplib.IMAP4.error(f"server sent a line longer than {_MAX_LINE} bytes")
        return line


class _IMAP4(_LongLines, imaplib.IMAP4):
    pass


class _IMAP4SSL(_LongLines, imaplib.IMAP4_SSL):
    pass


@dataclass(frozen=True)
class Mailbox:
    """What EXAMINE says about a folder."""

    uidvalidity: int
    uidnext: int | None
    exists: int


class ImapSession(ServerSession[imaplib.IMAP4]):
    """One logged-in IMAP connection. Every failure leaves as an `IntelError` naming the source.

    Use as a context manager: the connection is logged out on success and just closed after an
    error (a LOGOUT to a server that stopped answering would wait for another timeout).
    """

    default_ports = DEFAULT_PORTS
    config: ImapSource

    def __init__(self, config: ImapSource, tokens: AccessTokenProvider | None = None) -> None:
        super().__init__(config, tokens)

    def __enter__(self) -> ImapSession:
        self.open()
        return self

    @property
    def imap(self) -> imaplib.IMAP4:
        return self.connection

    def _quit(self, connection: imaplib.IMAP4) -> None:
        connection.logout()  # imaplib closes the socket after LOGOUT

    def _abort(self, connection: imaplib.IMAP4) -> None:
        connection.shutdown()

    def _connect(self) -> imaplib.IMAP4:
        config = self.config
        context = tls_context(config.ca_file) if config.security != "none" else None
        try:
            if config.security == "ssl":
                return _IMAP4SSL(config.host, self.port, ssl_context=context, timeout=config.timeout)
            imap = _IMAP4(config.host, self.port, timeout=config.timeout)
        except (OSError, EOFError) as exc:
            raise server_error(config.name, self.where, exc, config.timeout) from None
        except imaplib.IMAP4.error as exc:
            raise self._error("connecting", exc) from None
        if config.security == "starttls":
            secured = False
            try:
                imap.starttls(ssl_context=context)
                secured = True
            except (OSError, EOFError) as exc:
                raise server_error(config.name, self.where, exc, config.timeout) from None
            except imaplib.IMAP4.error as exc:
                raise self._error("STARTTLS", exc) from None
            finally:
                if not secured:
                    imap.shutdown()
        return imap

    def _login(self) -> None:
        config = self.config
        imap = self.imap
        if config.auth == "xoauth2":
            self._login_xoauth2()
            return
        password = password_for(config)
        self._secret = password
        try:
            if "AUTH=PLAIN" in imap.capabilities:
                response = b"\0" + config.username.encode() + b"\0" + password.encode()
                imap.authenticate("PLAIN", lambda _challenge: response)
            else:
                imap.login(quote(config.username), password)
        except imaplib.IMAP4.abort as exc:
            raise self._error("login", exc) from None
        except imaplib.IMAP4.error as exc:
            message = self._message(exc)
            if is_temporary_refusal(message):
                raise TransientError(f"{self._prefix}: {self.where} cannot log in now: {message}") from None
            raise AuthError(f"{self._prefix}: {self.where} refused the login of {config.username}: {message}") from None
        except (OSError, EOFError) as exc:
            raise server_error(config.name, self.where, exc, config.timeout) from None

    def _login_xoauth2(self) -> None:
        config = self.config
        tokens = self.tokens if self.tokens is not None else token_provider_for(config)
        for attempt in (1, 2):
            token = access_token(config.name, tokens)
            self._secret = token
            answered = False

            def respond(_challenge: bytes, token: str = token) -> bytes:
                nonlocal answered
                if answered:
                    return b""  # the server sent an error challenge; an empty answer ends the exchange
                answered = True
                return xoauth2_string(config.username, token)

            try:
                self.imap.authenticate("XOAUTH2", respond)
                return
            except imaplib.IMAP4.abort as exc:
                raise self._error("login", exc) from None
            except imaplib.IMAP4.error as exc:
                if attempt == 1:
                    tokens.invalidate()  # maybe expired: one more try with a fresh token
                    continue
                raise AuthError(
                    f"{self._prefix}: {self.where} refused the XOAUTH2 token of {config.username}: {self._message(exc)}"
                ) from None
            except (OSError, EOFError) as exc:
                raise server_error(config.name, self.where, exc, config.timeout) from None

    def _message(self, exc: BaseException) -> str:
        text = exc.args[0] if exc.args else str(exc)
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return scrub(str(text), self._secret)

    def _error(self, what: str, exc: BaseException) -> IntelError:
        """The error for an imaplib failure: BYE and dropped connections are transient."""
        if isinstance(exc, imaplib.IMAP4.abort):
            return TransientError(
                f"{self._prefix}: {self.where} ended the connection during {what}: {self._message(exc)}"
            )
        if isinstance(exc, OSError | EOFError):
            return server_error(self.config.name, self.where, exc, self.config.timeout)
        return SourceError(f"{self._prefix}: {what} failed on {self.where}: {self._message(exc)}")

    def _call(self, what: str, command: Callable[[], tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
        try:
            return command()
        except (imaplib.IMAP4.error, OSError, EOFError) as exc:
            raise self._error(what, exc) from None

    def list_folders(self, overrides: dict[str, str] | None = None) -> list[ImapFolder]:
        """Every folder, with flags and role."""
        typ, data = self._call("LIST", lambda: self.imap.list())
        if typ != "OK":
            raise SourceError(f"{self._prefix}: LIST failed on {self.where}: {self._reply(data)}")
        entries = [parsed for parsed in (parse_list_item(item) for item in data if item) if parsed is not None]
        return make_folders(entries, overrides)

    def examine(self, folder: ImapFolder) -> Mailbox:
        """Open `folder` read-only."""
        imap = self.imap
        typ, data = self._call(f"EXAMINE {folder.name}", lambda: imap.select(quote(folder.raw), readonly=True))
        if typ != "OK":
            raise SourceError(f"{self._prefix}: cannot open folder {folder.name} on {self.where}: {self._reply(data)}")
        uidvalidity = self._number("UIDVALIDITY")
        if uidvalidity is None:
            raise SourceError(f"{self._prefix}: {self.where} gave no UIDVALIDITY for folder {folder.name}")
        exists = int(data[0]) if data and data[0] else 0
        return Mailbox(uidvalidity, self._number("UIDNEXT"), exists)

    def _number(self, key: str) -> int | None:
        values = self.imap.untagged_responses.get(key) or []
        value = values[-1] if values else None
        return int(value) if isinstance(value, bytes) and value.strip().isdigit() else None

    def search(self, *criteria: str) -> list[int]:
        """UIDs matching `criteria` in the open folder, ascending."""
        typ, data = self._call("UID SEARCH", lambda: self.imap.uid("SEARCH", *criteria))
        if typ != "OK":
            raise SourceError(f"{self._prefix}: UID SEARCH failed on {self.where}: {self._reply(data)}")
        return sorted(int(n) for n in b" ".join(d for d in data if isinstance(d, bytes)).split())

    def fetch(self, uids: Sequence[int]) -> list[Fetched]:
        """The messages with these UIDs (body, INTERNALDATE), without setting \\Seen."""
        if not uids:
            return []
        typ, data = self._call("UID FETCH", lambda: self.imap.uid("FETCH", uid_set(uids), _FETCH_ITEMS))
        if typ == "NO":  # some were expunged meanwhile: the rest is still good
            log.warning("%s: UID FETCH on %s: %s", self._prefix, self.where, self._reply(data))
        elif typ != "OK":
            raise SourceError(f"{self._prefix}: UID FETCH failed on {self.where}: {self._reply(data)}")
        return parse_fetch(data)

    def _reply(self, data: list[Any]) -> str:
        last = data[-1] if data else b""
        text = last.decode("utf-8", "replace") if isinstance(last, bytes) else str(last)
        return scrub(text, self._secret)


# -- the source -----------------------------------------------------------------------------


def _chunks(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class ImapReader(ServerReader):
    """The IMAP `MailSource`: yields batches of new messages with the folder cursors they reach."""

    config: ImapSource

    def _run(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        with ImapSession(self.config, self._tokens) as session:
            folders = session.list_folders(self.config.folder_roles)
            chosen = choose_folders(folders, self.config.folders, self.config.exclude_folders)
            log.info("source %s: reading %d of %d folders", self.name, len(chosen), len(folders))
            builder = BatchBuilder(batch_size)
            for folder in chosen:
                yield from self._sync_folder(session, folder, builder, state)
            gone = self._vanished(folders)
            yield from self._flush(builder, {}, {name: set() for name in gone})

    def _vanished(self, folders: Sequence[ImapFolder]) -> list[str]:
        """Folders synced before that the server no longer lists: all their messages are gone."""
        names = {f.name for f in folders}
        return sorted(
            scope.removeprefix("imap:")
            for scope in self._reached
            if scope.startswith("imap:") and scope.removeprefix("imap:") not in names
        )

    def _raw(self, folder: ImapFolder, uidvalidity: int, message: Fetched) -> RawMessage:
        return RawMessage(
            data=message.data,
            folder=folder.name,
            folder_role=folder.role,
            location=location(uidvalidity, message.uid),
            internal_date=message.internal_date,
        )

    def _sync_folder(
        self, session: ImapSession, folder: ImapFolder, builder: BatchBuilder, state: SourceState
    ) -> Iterator[Batch]:
        """Backfill (if the window moved back), read new mail, then hand over the folder's listing."""
        scope = f"imap:{folder.name}"
        box = session.examine(folder)
        plan = plan_folder(FolderCursor.from_json(self._reached.get(scope)), box.uidvalidity, self.window)
        if plan.reset:
            log.warning("source %s: folder %s has a new UIDVALIDITY; reading it again", self.name, folder.name)
        cursor = plan.cursor
        if plan.backfill is not None:
            cursor = yield from self._backfill(session, folder, box, cursor, plan.backfill, builder, state)
        cursor = yield from self._read_new(session, folder, box, cursor, builder)
        present = {location(box.uidvalidity, uid) for uid in session.search("ALL")}
        yield from self._flush(builder, {scope: cursor.to_json()}, {folder.name: present})

    def _backfill(
        self,
        session: ImapSession,
        folder: ImapFolder,
        box: Mailbox,
        cursor: FolderCursor,
        span: tuple[date | None, date],
        builder: BatchBuilder,
        state: SourceState,
    ) -> Generator[Batch, None, FolderCursor]:
        """Messages up to the cursor's UID dated in `span`; returns the cursor covering the new window."""
        scope = f"imap:{folder.name}"
        known = self._known(state, folder.name)
        candidates = session.search("UID", f"1:{cursor.last_uid}", *search_window(*span))
        wanted = [u for u in candidates if u <= cursor.last_uid and location(box.uidvalidity, u) not in known]
        log.info("source %s: folder %s: backfilling up to %d older messages", self.name, folder.name, len(wanted))
        for chunk in _chunks(wanted, self.config.batch_size):
            for message in session.fetch(chunk):
                if in_window(message.internal_date, self.window) and builder.add(
                    self._raw(folder, box.uidvalidity, message)
                ):
                    # The cursor keeps its old `since` until the whole range is handed out.
                    yield from self._flush(builder, {scope: cursor.to_json()})
        return replace(cursor, since=self.window)

    def _read_new(
        self, session: ImapSession, folder: ImapFolder, box: Mailbox, cursor: FolderCursor, builder: BatchBuilder
    ) -> Generator[Batch, None, FolderCursor]:
        """Messages above the cursor's UID inside the window; returns the cursor after the last UID."""
        scope = f"imap:{folder.name}"
        candidates = session.search("UID", f"{cursor.last_uid + 1}:*", *search_window(self.window))
        wanted = [u for u in candidates if u > cursor.last_uid]  # `n:*` always matches the newest UID
        log.info("source %s: folder %s: %d new messages", self.name, folder.name, len(wanted))
        for chunk in _chunks(wanted, self.config.batch_size):
            for message in session.fetch(chunk):
                full = in_window(message.internal_date, self.window) and builder.add(
                    self._raw(folder, box.uidvalidity, message)
                )
                cursor = replace(cursor, last_uid=max(cursor.last_uid, message.uid))
                if full:
                    yield from self._flush(builder, {scope: cursor.to_json()})
            cursor = replace(cursor, last_uid=max(cursor.last_uid, chunk[-1]))
        if box.uidnext:
            # Every UID below UIDNEXT existed when the folder was opened, so the search saw it.
            cursor = replace(cursor, last_uid=max(cursor.last_uid, box.uidnext - 1))
        return cursor
