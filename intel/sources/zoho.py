"""Zoho Mail through its REST API: every chosen folder of every chosen account, incrementally.

Requests (``Authorization: Zoho-oauthtoken <token>``, answers shaped
``{"status": {"code", "description"}, "data": ...}``):

* ``GET /api/accounts``: the user's mail accounts (a source may pick some by id or address);
* ``GET /api/accounts/{accountId}/folders``: folders with their ``folderType`` (the role);
* ``GET /api/accounts/{accountId}/messages/view?folderId=&start=&limit=``: a folder's messages,
  newest first, ``limit`` at most 200, ``start`` 1-based;
* ``GET /api/accounts/{accountId}/messages/{messageId}/originalmessage``:
  the message as raw MIME, so the one parser handles mail from every source.

Incremental by received time. Cursor, one per folder, scope ``zoho:<accountId>:<folderId>``:
``{"received": <ms>, "since": <window start or null>}``; every message of the folder received
up to ``received`` (and on or after ``since``) is stored. A run lists the folder newest first
down to ``received`` minus ``overlap_minutes`` (mail can show up late with an earlier time),
skips what is stored already (location ``<accountId>:<messageId>``), and fetches the rest
oldest first, so each batch's cursor covers exactly what was handed out. Moving the window
back lists down to the new start. Zoho's ids are 64-bit and are kept as strings.

Errors: HTTP 429, Zoho's rate-limit error codes, 5xx and network faults are retried with
exponential backoff (``Retry-After`` honoured), at most ``retries`` times per request and
``retry_budget`` times per sync; other 4xx are not retried. A 401 refreshes the access token
once. Every message names the source, the account and the endpoint, never a token. A
permanent failure in one account does not stop the others; the sync then fails at the end.
"""

from __future__ import annotations

import email.utils
import fnmatch
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx

from intel.auth.stores import TokenStore
from intel.auth.zoho import MAIL_SCOPES, ZohoOAuth, auth_header, data_center, oauth_for_source
from intel.config import ZohoSource, parse_since
from intel.errors import AuthError, IntelError, PermanentError, SourceError, TransientError
from intel.parse.folders import folder_role
from intel.sources.base import Batch, BatchBuilder, RawMessage, SourceState
from intel.sources.tokens import AccessTokenProvider

__all__ = [
    "DEFAULT_EXCLUDED_TYPES",
    "RATE_LIMIT_CODES",
    "FolderCursor",
    "RetryBudget",
    "ZohoAccount",
    "ZohoFolder",
    "ZohoMailClient",
    "ZohoMessage",
    "ZohoReader",
    "choose_accounts",
    "choose_folders",
    "listing_floor",
    "zoho_folder_role",
]

log = logging.getLogger(__name__)

MAX_PAGE = 200  # Zoho's largest `limit` for messages/view
_PAGE_OVERLAP = 5  # at most this many messages shared by consecutive pages
_MAX_DELAY = 60.0
# Zoho folder types and their roles; Templates and Outbox hold no correspondence.
_TYPE_ROLES = {
    "inbox": "inbox",
    "sent": "sent",
    "drafts": "drafts",
    "trash": "trash",
    "spam": "spam",
    "snoozed": "inbox",
}
DEFAULT_EXCLUDED_TYPES = ("templates", "outbox")
DEFAULT_EXCLUDED_ROLES = ("trash", "spam")
# Error codes in Zoho answers that mean "slow down" (besides HTTP 429).
RATE_LIMIT_CODES = frozenset(
    {"TOO_MANY_REQUESTS", "THROTTLE_LIMIT_EXCEEDED", "RATE_LIMIT_EXCEEDED", "URL_ROLLING_THROTTLES_LIMIT_EXCEEDED"}
)
_AUTH_CODES = frozenset({"INVALID_OAUTHTOKEN", "OAUTHTOKEN_EXPIRED", "INVALID_TICKET"})


# -- pure helpers ---------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)  # ids arrive as strings or as (exact, 64-bit) JSON integers


@dataclass(frozen=True)
class ZohoAccount:
    id: str
    address: str | None
    addresses: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"account {self.address} ({self.id})" if self.address else f"account {self.id}"

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> ZohoAccount | None:
        account_id = _text(item.get("accountId"))
        if account_id is None:
            return None
        primary = _text(item.get("primaryEmailAddress")) or _text(item.get("mailboxAddress"))
        others = [_text(e.get("mailId")) for e in item.get("emailAddress") or [] if isinstance(e, dict)]
        names = [primary, _text(item.get("mailboxAddress")), _text(item.get("incomingUserName")), *others]
        addresses = tuple(dict.fromkeys(n.lower() for n in names if n))
        return cls(account_id, primary or (addresses[0] if addresses else None), addresses)


@dataclass(frozen=True)
class ZohoFolder:
    id: str
    name: str  # the path without its leading slash: "Inbox", "Projects/Acme"
    type: str
    role: str


@dataclass(frozen=True)
class ZohoMessage:
    id: str
    thread_id: str | None
    received: int  # ms since the epoch, as Zoho counts

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> ZohoMessage | None:
        message_id = _text(item.get("messageId"))
        try:
            received = int(str(item.get("receivedTime") or item.get("receivedtime") or 0))
        except ValueError:
            received = 0
        if message_id is None:
            return None
        return cls(message_id, _text(item.get("threadId")), received)

    @property
    def received_at(self) -> datetime | None:
        return datetime.fromtimestamp(self.received / 1000, UTC) if self.received > 0 else None


def zoho_folder_role(folder_type: str, name: str, overrides: dict[str, str] | None = None) -> str:
    """A folder's role: an override by name, else its Zoho folder type, else its name."""
    if overrides and name in overrides:
        return overrides[name]
    return _TYPE_ROLES.get(folder_type.lower()) or folder_role(name)


def make_folder(item: dict[str, Any], overrides: dict[str, str] | None = None) -> ZohoFolder | None:
    folder_id = _text(item.get("folderId"))
    if folder_id is None:
        return None
    name = (_text(item.get("path")) or _text(item.get("folderName")) or folder_id).strip("/") or folder_id
    kind = _text(item.get("folderType")) or "Normal"
    return ZohoFolder(folder_id, name, kind, zoho_folder_role(kind, name, overrides))


def choose_accounts(accounts: Sequence[ZohoAccount], wanted: Sequence[str] | None) -> list[ZohoAccount]:
    """The accounts to read: all, or those named by id or address (each name must match)."""
    if not wanted:
        return list(accounts)
    chosen: list[ZohoAccount] = []
    for name in wanted:
        key = name.strip().lower()
        match = next((a for a in accounts if a.id == name.strip() or key in a.addresses), None)
        if match is None:
            known = ", ".join(a.address or a.id for a in accounts) or "none"
            raise SourceError(f"account {name} is not one of this user's Zoho accounts ({known})")
        if match not in chosen:
            chosen.append(match)
    return chosen


def choose_folders(
    folders: Sequence[ZohoFolder], include: Sequence[str] | None, exclude: Sequence[str] = ()
) -> list[ZohoFolder]:
    """`include` patterns (default: every folder but trash, spam, templates, outbox), less `exclude`."""

    def matches(name: str, patterns: Sequence[str]) -> bool:
        return any(fnmatch.fnmatchcase(name.lower(), p.lower()) for p in patterns)

    chosen = []
    for folder in folders:
        if include:
            wanted = matches(folder.name, include)
        else:
            wanted = folder.role not in DEFAULT_EXCLUDED_ROLES and folder.type.lower() not in DEFAULT_EXCLUDED_TYPES
        if wanted and not matches(folder.name, exclude):
            chosen.append(folder)
    return sorted(chosen, key=lambda f: (f.role != "inbox", f.name))


def _day_ms(day: date | None) -> int:
    if day is None:
        return 0
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True)
class FolderCursor:
    """Every message received up to `received` (ms) and on or after `since` is stored."""

    received: int
    since: date | None

    def to_json(self) -> dict[str, Any]:
        return {"received": self.received, "since": self.since.isoformat() if self.since else None}

    @classmethod
    def from_json(cls, value: Any) -> FolderCursor | None:
        if not isinstance(value, dict):
            return None
        try:
            since = value.get("since")
            return cls(int(value["received"]), date.fromisoformat(since) if since else None)
        except (KeyError, TypeError, ValueError):
            return None


def listing_floor(previous: FolderCursor | None, window: date | None, overlap_ms: int) -> int:
    """How far back (ms) a run lists a folder: the cursor less the overlap, or the window's start.

    Without a cursor, or when the window moved back before the cursor's start, everything in
    the window is listed (what is stored already is skipped by location).
    """
    start = _day_ms(window)
    if previous is None or previous.received <= 0:
        return start
    if previous.since is not None and (window is None or window < previous.since):
        return start  # backfill
    return max(start, previous.received - overlap_ms)


class RetryBudget:
    """How many retries one sync may still spend, over all its requests."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.spent = 0

    def take(self) -> bool:
        if self.spent >= self.total:
            return False
        self.spent += 1
        return True


# -- the HTTP client ------------------------------------------------------------------------


class ZohoMailClient:
    """The Mail API calls a sync needs, with retries, token refresh and clear errors."""

    def __init__(
        self,
        source: str,
        mail_url: str,
        tokens: AccessTokenProvider,
        *,
        http: httpx.Client,
        retries: int = 5,
        backoff: float = 2.0,
        budget: RetryBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        secrets: Callable[[], Sequence[str]] = list,
    ) -> None:
        self.source = source
        self.mail_url = mail_url.rstrip("/")
        self.tokens = tokens
        self.http = http
        self.retries = retries
        self.backoff = backoff
        self.budget = budget or RetryBudget(retries * 10)
        self.sleep = sleep
        self._secrets = secrets
        self.requests = 0
        self.retried = 0

    def _prefix(self, account: ZohoAccount | None, endpoint: str) -> str:
        where = f"{account.label}: " if account else ""
        return f"source '{self.source}': {where}GET {endpoint}"

    def _clean(self, text: str) -> str:
        for secret in self._secrets():
            if secret:
                text = text.replace(secret, "***")
        return " ".join(text.split())[:300]

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        delay = self.backoff * 2 ** (attempt - 1)
        if response is not None:
            after = response.headers.get("Retry-After")
            if after:
                try:
                    delay = max(delay, float(after))
                except ValueError:
                    try:
                        when = email.utils.parsedate_to_datetime(after)
                        delay = max(delay, (when - datetime.now(UTC)).total_seconds())
                    except (TypeError, ValueError):
                        pass
        return max(0.0, min(delay, _MAX_DELAY))

    def _token(self, account: ZohoAccount | None, endpoint: str) -> str:
        try:
            return self.tokens.access_token()
        except IntelError as exc:
            message = str(exc)
            prefix = f"source '{self.source}'"
            if not message.startswith(prefix):
                message = f"{prefix}: {message}"
            raise type(exc)(self._clean(message)) from None

    def get(self, account: ZohoAccount | None, endpoint: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET `endpoint` (a path under the Mail API host); the successful response.

        Throttling, 5xx and network faults are retried; a 401 refreshes the token once.
        """
        prefix = self._prefix(account, endpoint)
        attempt = 0
        refreshed = False
        while True:
            token = self._token(account, endpoint)
            self.requests += 1
            response: httpx.Response | None = None
            problem: str
            try:
                response = self.http.get(self.mail_url + endpoint, params=params, headers=auth_header(token))
            except httpx.TimeoutException:
                problem = "no answer in time"
            except httpx.HTTPError as exc:
                problem = f"network error: {self._clean(str(exc)) or type(exc).__name__}"
            else:
                status, code, description = _status(response)
                if status == 401 or code in _AUTH_CODES:
                    if not refreshed:
                        refreshed = True
                        self.tokens.invalidate()  # expired or revoked early: refresh once and try again
                        continue
                    raise AuthError(
                        f"{prefix}: Zoho refused the access token right after a refresh ({code or 'HTTP 401'}); "
                        f"authorize again with: intel auth zoho --source {self.source}"
                    )
                if status == 429 or code in RATE_LIMIT_CODES:
                    problem = f"throttled by Zoho ({code or 'HTTP 429'})"
                elif status >= 500:
                    problem = f"HTTP {status}" + (f" ({self._clean(description)})" if description else "")
                elif status == 403:
                    raise AuthError(
                        f"{prefix}: HTTP 403 ({self._clean(code or description or 'forbidden')}); the token lacks a "
                        f"scope: authorize again with the scopes {','.join(MAIL_SCOPES)}"
                    )
                elif status >= 400:
                    detail = ", ".join(self._clean(x) for x in (code, description) if x)
                    raise SourceError(f"{prefix}: HTTP {status}" + (f" ({detail})" if detail else ""))
                else:
                    return response
            attempt += 1
            if attempt > self.retries:
                raise TransientError(f"{prefix}: {problem}; gave up after {self.retries} retries")
            if not self.budget.take():
                raise TransientError(
                    f"{prefix}: {problem}; the sync's retry budget ({self.budget.total}) is spent, try again later"
                )
            delay = self._delay(attempt, response)
            self.retried += 1
            log.warning("%s: %s; retry %d of %d in %.1f s", prefix, problem, attempt, self.retries, delay)
            self.sleep(delay)

    def data(self, account: ZohoAccount | None, endpoint: str, params: dict[str, Any] | None = None) -> Any:
        """The ``data`` member of a JSON answer."""
        response = self.get(account, endpoint, params)
        try:
            body = response.json()
        except ValueError:
            raise SourceError(f"{self._prefix(account, endpoint)}: the answer is not JSON") from None
        if not isinstance(body, dict) or "data" not in body:
            raise SourceError(f"{self._prefix(account, endpoint)}: the answer has no data member")
        return body["data"]

    # -- the calls ------------------------------------------------------------------------------

    def accounts(self) -> list[ZohoAccount]:
        data = self.data(None, "/api/accounts")
        items = data if isinstance(data, list) else [data]
        return [a for a in (ZohoAccount.from_json(i) for i in items if isinstance(i, dict)) if a is not None]

    def folders(self, account: ZohoAccount, overrides: dict[str, str] | None = None) -> list[ZohoFolder]:
        data = self.data(account, f"/api/accounts/{account.id}/folders")
        items = data if isinstance(data, list) else []
        return [f for f in (make_folder(i, overrides) for i in items if isinstance(i, dict)) if f is not None]

    def message_page(self, account: ZohoAccount, folder: ZohoFolder, start: int, limit: int) -> list[ZohoMessage]:
        """Messages `start` .. `start + limit - 1` (1-based) of a folder, newest first."""
        params = {
            "folderId": folder.id,
            "start": start,
            "limit": min(limit, MAX_PAGE),
            "sortBy": "date",
            "sortorder": "false",
            "includearchive": "true",
        }
        data = self.data(account, f"/api/accounts/{account.id}/messages/view", params)
        items = data if isinstance(data, list) else []
        return [m for m in (ZohoMessage.from_json(i) for i in items if isinstance(i, dict)) if m is not None]

    def original(self, account: ZohoAccount, folder: ZohoFolder, message: ZohoMessage) -> bytes:
        """The message as raw MIME."""
        endpoint = f"/api/accounts/{account.id}/messages/{message.id}/originalmessage"
        response = self.get(account, endpoint)
        if "json" not in response.headers.get("Content-Type", "").lower():
            return response.content  # served as the message itself
        try:
            body = response.json()
            content = body["data"]["content"]
        except (ValueError, KeyError, TypeError):
            raise SourceError(f"{self._prefix(account, endpoint)}: the answer has no data.content") from None
        if not isinstance(content, str):
            raise SourceError(f"{self._prefix(account, endpoint)}: data.content is not text")
        try:
            return content.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return content.encode("utf-8", "replace")


def _status(response: httpx.Response) -> tuple[int, str | None, str | None]:
    """(status, Zoho error code, description): the body's status wins when it says more than HTTP."""
    status = response.status_code
    code: str | None = None
    description: str | None = None
    if "json" in response.headers.get("Content-Type", "").lower():
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            block = body.get("status")
            if isinstance(block, dict):
                description = _text(block.get("description"))
                try:
                    inner = int(str(block.get("code")))
                except ValueError:
                    inner = status
                if status < 400 <= inner:
                    status = inner  # an error reported with HTTP 200
            data = body.get("data")
            if isinstance(data, dict):
                code = _text(data.get("errorCode"))
    return status, code, description


# -- the source -----------------------------------------------------------------------------


class ZohoReader:
    """The Zoho `MailSource`: batches of new messages with the folder cursors they reach."""

    def __init__(
        self,
        config: ZohoSource,
        *,
        store: TokenStore | None = None,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        today: date | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        self.window = parse_since(config.since, today)
        self._store = store
        self._http = http
        self._sleep = sleep
        self._clock = clock
        self._reached: dict[str, Any] = {}
        self._yielded: dict[str, set[str]] = {}
        self._pending: dict[str, Any] = {}
        self.client: ZohoMailClient | None = None

    def batches(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        config = self.config
        self._reached = dict(state.cursors)
        self._yielded = {}
        self._pending = {}
        http = self._http or httpx.Client(timeout=config.timeout)
        oauth: ZohoOAuth = oauth_for_source(config, self._store, http=http, clock=self._clock)
        mail_url = config.mail_url or data_center(config.data_center).mail_url
        client = ZohoMailClient(
            config.name,
            mail_url,
            oauth,
            http=http,
            retries=config.retries,
            backoff=config.retry_backoff,
            budget=RetryBudget(config.retry_budget),
            sleep=self._sleep,
            secrets=oauth.secrets,
        )
        self.client = client
        try:
            yield from self._run(client, state, batch_size)
        finally:
            if self._http is None:
                http.close()

    def _run(self, client: ZohoMailClient, state: SourceState, batch_size: int) -> Iterator[Batch]:
        accounts = choose_accounts_named(self.name, client.accounts(), self.config.accounts)
        builder = BatchBuilder(batch_size)
        failures: list[IntelError] = []
        for account in accounts:
            try:
                yield from self._sync_account(client, account, state, builder)
            except AuthError:
                raise  # one token for every account: nothing else can work
            except PermanentError as exc:
                log.error("%s", exc)
                failures.append(exc)
        yield from self._flush(builder)
        if failures:
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            raise type(failures[0])(f"{failures[0]}{more}")

    def _flush(self, builder: BatchBuilder) -> Iterator[Batch]:
        if not builder.messages and not self._pending:
            return
        batch = builder.take(self._pending)
        self._pending = {}
        self._reached.update(batch.cursors)
        for message in batch.messages:
            self._yielded.setdefault(message.folder, set()).add(message.location)
        yield batch

    def _sync_account(
        self, client: ZohoMailClient, account: ZohoAccount, state: SourceState, builder: BatchBuilder
    ) -> Iterator[Batch]:
        folders = client.folders(account, self.config.folder_roles)
        chosen = choose_folders(folders, self.config.folders, self.config.exclude_folders)
        log.info("source %s: %s: reading %d of %d folders", self.name, account.label, len(chosen), len(folders))
        for folder in chosen:
            yield from self._sync_folder(client, account, folder, state, builder)

    def _list_new(
        self, client: ZohoMailClient, account: ZohoAccount, folder: ZohoFolder, floor: int, known: set[str]
    ) -> list[ZohoMessage]:
        """Messages received at or after `floor` (ms) not stored yet, oldest first."""
        page_size = self.config.page_size
        window_start = _day_ms(self.window)
        found: dict[str, ZohoMessage] = {}
        start = 1
        previous_last: str | None = None
        restarts = 0
        # Pages overlap a little, so a message deleted meanwhile (shifting the rest up) cannot slip
        # between two pages: the next page must still show the last message of this one.
        overlap = min(_PAGE_OVERLAP, max(1, page_size // 4)) if page_size > 1 else 0
        while True:
            page = client.message_page(account, folder, start, page_size)
            if overlap and previous_last is not None and page and previous_last not in {m.id for m in page}:
                # Messages above were deleted meanwhile, so the pages no longer meet: list again from the top.
                restarts += 1
                if restarts > 3:
                    raise TransientError(
                        f"source '{self.name}': {account.label}: folder {folder.name} keeps changing while it is listed"
                    )
                start, previous_last = 1, None
                continue
            for message in page:
                recent = message.received >= max(floor, window_start) or message.received <= 0
                if recent and f"{account.id}:{message.id}" not in known:
                    found.setdefault(message.id, message)
            if len(page) < page_size or not page or page[-1].received < floor:
                break
            previous_last = page[-1].id
            start += page_size - overlap
        return sorted(found.values(), key=lambda m: (m.received, int(m.id) if m.id.isdigit() else 0, m.id))

    def _sync_folder(
        self,
        client: ZohoMailClient,
        account: ZohoAccount,
        folder: ZohoFolder,
        state: SourceState,
        builder: BatchBuilder,
    ) -> Iterator[Batch]:
        scope = f"zoho:{account.id}:{folder.id}"
        previous = FolderCursor.from_json(self._reached.get(scope))
        floor = listing_floor(previous, self.window, self.config.overlap_minutes * 60_000)
        known = state.known_locations(folder.name) | self._yielded.get(folder.name, set())
        wanted = self._list_new(client, account, folder, floor, known)
        log.info("source %s: %s: folder %s: %d new messages", self.name, account.label, folder.name, len(wanted))
        received = previous.received if previous else 0
        # Until the folder is done the cursor keeps its old start (a backfill may be half-way).
        since = previous.since if previous else self.window
        for message in wanted:
            data = client.original(account, folder, message)
            received = max(received, message.received)
            raw = RawMessage(
                data=data,
                folder=folder.name,
                folder_role=folder.role,
                location=f"{account.id}:{message.id}",
                internal_date=message.received_at,
                provider_message_id=message.id,
                provider_thread_id=message.thread_id,
            )
            full = builder.add(raw)
            self._pending[scope] = FolderCursor(received, since).to_json()
            if full:
                yield from self._flush(builder)
        self._pending[scope] = FolderCursor(received, self.window).to_json()


def choose_accounts_named(
    source: str, accounts: Sequence[ZohoAccount], wanted: Sequence[str] | None
) -> list[ZohoAccount]:
    """`choose_accounts`, its errors naming the source."""
    try:
        return choose_accounts(accounts, wanted)
    except SourceError as exc:
        raise SourceError(f"source '{source}': {exc}") from None
