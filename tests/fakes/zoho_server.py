"""A fake Zoho (accounts server + Mail API) on 127.0.0.1, for tests that cannot reach Zoho.

It follows the documented shapes:

* ``POST /oauth/v2/token`` with ``grant_type=authorization_code`` (client id + secret + grant
  code) or ``grant_type=refresh_token``; parameters in the form body or the query string.
  Errors come as HTTP 200 with ``{"error": "invalid_code"}`` or ``{"error": "invalid_client"}``,
  as Zoho does. ``POST /oauth/v2/token/revoke`` with ``token=<refresh token>``.
* ``GET /api/accounts``, ``GET /api/accounts/{accountId}/folders``,
  ``GET /api/accounts/{accountId}/messages/view?folderId=&start=&limit=`` (newest first,
  ``start`` 1-based, ``limit`` 1..200, else HTTP 400) and
  ``GET /api/accounts/{accountId}[/folders/{folderId}]/messages/{messageId}/originalmessage``,
  answering ``{"status": {"code", "description"}, "data": ...}``. Ids are 64-bit: some go out
  as strings, ``originalmessage``'s ``messageId`` as a JSON number, as in Zoho's samples.
* Only ``Authorization: Zoho-oauthtoken <token>`` is accepted; an unknown, expired or revoked
  access token gets HTTP 401 with ``errorCode`` ``INVALID_OAUTHTOKEN``.

Tests steer it: `grant_code`, `expire_access_tokens` (now or after N more API calls),
`revoke_user`, `throttle` (HTTP 429 with Retry-After, or a rate-limit error code with HTTP
400 — the code name is this fake's assumption), `fail` (5xx or any status), and a delay on
refreshes to make races real. Counters say what happened.
"""

from __future__ import annotations

import itertools
import json
import secrets
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["FakeAccount", "FakeFolder", "FakeMessage", "FakeZoho"]

_FOLDER_TYPES = ("Inbox", "Drafts", "Templates", "Snoozed", "Sent", "Spam", "Trash", "Outbox")
_BASE_ID = 1_700_000_000_000_000_000  # beyond 2**53: a float would lose the last digits


@dataclass
class FakeMessage:
    id: str
    thread_id: str
    received: int  # ms
    raw: bytes
    folder_id: str


@dataclass
class FakeFolder:
    id: str
    name: str
    path: str
    type: str
    messages: list[FakeMessage] = field(default_factory=list)


@dataclass
class FakeAccount:
    id: str
    address: str
    user: str
    folders: dict[str, FakeFolder] = field(default_factory=dict)  # by path without "/"

    def folder(self, name: str) -> FakeFolder:
        return self.folders[name]


@dataclass
class _Fault:
    kind: str  # "throttle-429" | "throttle-code" | "status"
    remaining: int
    path: str | None
    status: int = 500
    retry_after: str | None = "0"


@dataclass
class _Access:
    user: str
    client_id: str
    refresh_token: str | None
    expires: float
    dead: bool = False


class FakeZoho:
    """The fake server; use as a context manager or call `start` / `stop`."""

    def __init__(self, *, token_lifetime: float = 3600.0, refresh_delay: float = 0.0) -> None:
        self.token_lifetime = token_lifetime
        self.refresh_delay = refresh_delay
        self.lock = threading.RLock()
        self.clients: dict[str, str] = {}
        self.accounts: dict[str, FakeAccount] = {}
        self.codes: dict[str, tuple[str, str, float, str]] = {}  # code -> client, user, expiry, scope
        self.refresh_tokens: dict[str, tuple[str, str, bool]] = {}  # token -> client, user, revoked
        self.access_tokens: dict[str, _Access] = {}
        self.faults: list[_Fault] = []
        self.expire_after: int | None = None
        self.requests: list[tuple[str, str]] = []
        self.refreshes: Counter[str] = Counter()
        self.auth_headers: Counter[str] = Counter()  # scheme of each Authorization header seen
        self.unauthorized = 0
        self.throttled = 0
        self.failed = 0
        self.page_limits: list[int] = []
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeZoho:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeZoho:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- set-up ---------------------------------------------------------------------------------

    def _id(self) -> str:
        return str(_BASE_ID + next(self._ids) * 1000 + 7)

    def add_client(self, client_id: str | None = None, secret: str | None = None) -> tuple[str, str]:
        client_id = client_id or f"1000.{secrets.token_hex(10).upper()}"
        secret = secret or secrets.token_hex(21)
        with self.lock:
            self.clients[client_id] = secret
        return client_id, secret

    def add_account(self, user: str, address: str | None = None) -> FakeAccount:
        """A mail account of `user` (a Zoho login) with Zoho's standard folders."""
        account = FakeAccount(self._id(), address or user, user)
        for kind in _FOLDER_TYPES:
            self.add_folder(account, kind, kind)
        with self.lock:
            self.accounts[account.id] = account
        return account

    def add_folder(self, account: FakeAccount, name: str, kind: str = "Normal") -> FakeFolder:
        folder = FakeFolder(self._id(), name.split("/")[-1], "/" + name, kind)
        with self.lock:
            account.folders[name] = folder
        return folder

    def add_message(
        self, account: FakeAccount, folder: str, raw: bytes, received: datetime | int, thread_id: str | None = None
    ) -> FakeMessage:
        stamp = received if isinstance(received, int) else int(received.timestamp() * 1000)
        target = account.folders[folder]
        message = FakeMessage(self._id(), thread_id or self._id(), stamp, raw, target.id)
        with self.lock:
            target.messages.append(message)
        return message

    def delete_message(self, account: FakeAccount, folder: str, message: FakeMessage) -> None:
        with self.lock:
            account.folders[folder].messages.remove(message)

    def grant_code(
        self, client_id: str, user: str, scope: str = "ZohoMail.messages.READ", lifetime: float = 120
    ) -> str:
        code = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        with self.lock:
            self.codes[code] = (client_id, user, time.monotonic() + lifetime, scope)
        return code

    # -- steering -------------------------------------------------------------------------------

    def expire_access_tokens(self, after_requests: int | None = None) -> None:
        """Expire every access token issued so far, now or after that many more API requests."""
        with self.lock:
            if after_requests is None:
                for access in self.access_tokens.values():
                    access.dead = True
            else:
                self.expire_after = after_requests

    def revoke_user(self, user: str) -> None:
        """Revoke every refresh and access token of `user` (as if they revoked the app)."""
        with self.lock:
            for token, (client, owner, _revoked) in list(self.refresh_tokens.items()):
                if owner == user:
                    self.refresh_tokens[token] = (client, owner, True)
            for access in self.access_tokens.values():
                if access.user == user:
                    access.dead = True

    def throttle(
        self, count: int, *, path: str | None = None, code: bool = False, retry_after: str | None = "0"
    ) -> None:
        """The next `count` API requests (whose path contains `path`) are throttled."""
        with self.lock:
            self.faults.append(_Fault("throttle-code" if code else "throttle-429", count, path, 429, retry_after))

    def fail(self, count: int, *, status: int = 500, path: str | None = None) -> None:
        with self.lock:
            self.faults.append(_Fault("status", count, path, status))

    def issued_secrets(self) -> list[str]:
        """Every secret this server handed out or knows: for scanning logs and errors."""
        with self.lock:
            return [*self.clients.values(), *self.codes, *self.refresh_tokens, *self.access_tokens]

    def count(self, fragment: str) -> int:
        with self.lock:
            return sum(1 for _method, path in self.requests if fragment in path)

    # -- the protocol ---------------------------------------------------------------------------

    def _new_access(self, client_id: str, user: str, refresh_token: str | None) -> str:
        token = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        self.access_tokens[token] = _Access(user, client_id, refresh_token, time.monotonic() + self.token_lifetime)
        return token

    def token_endpoint(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = params.get("grant_type")
        client_id = params.get("client_id", "")
        with self.lock:
            if grant not in ("authorization_code", "refresh_token"):
                return 400, {"error": "unsupported_grant_type"}
            if self.clients.get(client_id) != params.get("client_secret") or client_id not in self.clients:
                return 200, {"error": "invalid_client"}
            if grant == "authorization_code":
                found = self.codes.pop(params.get("code", ""), None)
                if found is None or found[0] != client_id or found[2] < time.monotonic():
                    return 200, {"error": "invalid_code"}
                _client, user, _expiry, scope = found
                refresh = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
                self.refresh_tokens[refresh] = (client_id, user, False)
                access = self._new_access(client_id, user, refresh)
                return 200, {
                    "access_token": access,
                    "refresh_token": refresh,
                    "scope": scope,
                    "api_domain": "https://www.zohoapis.com",
                    "token_type": "Bearer",
                    "expires_in": int(self.token_lifetime),
                }
            refresh = params.get("refresh_token", "")
            known = self.refresh_tokens.get(refresh)
            self.refreshes[refresh] += 1
        if self.refresh_delay:
            time.sleep(self.refresh_delay)
        with self.lock:
            if known is None or known[0] != client_id or known[2]:
                return 200, {"error": "invalid_code"}
            access = self._new_access(client_id, known[1], refresh)
            return 200, {
                "access_token": access,
                "api_domain": "https://www.zohoapis.com",
                "token_type": "Bearer",
                "expires_in": int(self.token_lifetime),
            }

    def revoke_endpoint(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        token = params.get("token", "")
        with self.lock:
            known = self.refresh_tokens.get(token)
            if known is None:
                return 200, {"error": "invalid_token"}
            self.refresh_tokens[token] = (known[0], known[1], True)
            for access in self.access_tokens.values():
                if access.refresh_token == token:
                    access.dead = True
        return 200, {"status": "success"}

    def _fault(self, path: str) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        for fault in self.faults:
            if fault.remaining > 0 and (fault.path is None or fault.path in path):
                fault.remaining -= 1
                if fault.kind == "status":
                    self.failed += 1
                    return fault.status, _status(fault.status, "Internal Error", "INTERNAL_ERROR"), {}
                self.throttled += 1
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                if fault.kind == "throttle-code":
                    return 400, _status(400, "Too many requests", "THROTTLE_LIMIT_EXCEEDED"), headers
                return 429, _status(429, "Too many requests", "TOO_MANY_REQUESTS"), headers
        return None

    def api(self, path: str, query: dict[str, str], authorization: str | None) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            fault = self._fault(path)
            if fault is not None:
                return fault
            scheme, _, token = (authorization or "").partition(" ")
            self.auth_headers[scheme] += 1
            access = self.access_tokens.get(token.strip()) if scheme == "Zoho-oauthtoken" else None
            if access is None or access.dead or access.expires < time.monotonic():
                self.unauthorized += 1
                return 401, _status(401, "Invalid Input", "INVALID_OAUTHTOKEN"), {}
            if self.expire_after is not None:
                self.expire_after -= 1
                if self.expire_after <= 0:
                    self.expire_after = None
                    for other in self.access_tokens.values():
                        other.dead = True
            return self._route(path, query, access.user)

    def _route(self, path: str, query: dict[str, str], user: str) -> tuple[int, Any, dict[str, str]]:
        parts = path.strip("/").split("/")
        if parts == ["api", "accounts"]:
            mine = [a for a in self.accounts.values() if a.user == user]
            return 200, {"status": {"code": 200, "description": "success"}, "data": [_account(a) for a in mine]}, {}
        if len(parts) < 4 or parts[:2] != ["api", "accounts"]:
            return 404, _status(404, "Not Found", "URL_NOT_FOUND"), {}
        account = self.accounts.get(parts[2])
        if account is None or account.user != user:
            return 400, _status(400, "Invalid Input", "INVALID_ACCOUNT_ID"), {}
        rest = parts[3:]
        if rest == ["folders"]:
            data = [_folder(account, f) for f in account.folders.values()]
            return 200, {"status": {"code": 200, "description": "success"}, "data": data}, {}
        if rest == ["messages", "view"]:
            return self._view(account, query)
        if rest[-1] == "originalmessage" and (len(rest) == 3 or (len(rest) == 5 and rest[0] == "folders")):
            message_id = rest[-2]
            for folder in account.folders.values():
                if len(rest) == 5 and folder.id != rest[1]:
                    continue
                for message in folder.messages:
                    if message.id == message_id:
                        content = message.raw.decode("utf-8", "surrogateescape")
                        data = {"messageId": int(message.id), "content": content}
                        return 200, {"status": {"code": 200, "description": "success"}, "data": data}, {}
            return 404, _status(404, "Not Found", "MESSAGE_NOT_FOUND"), {}
        return 404, _status(404, "Not Found", "URL_NOT_FOUND"), {}

    def _view(self, account: FakeAccount, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        try:
            start = int(query.get("start", "1"))
            limit = int(query.get("limit", "10"))
        except ValueError:
            return 400, _status(400, "Invalid Input", "PATTERN_NOT_MATCHED"), {}
        if not 1 <= limit <= 200 or start < 1:
            return 400, _status(400, "Invalid Input", "PATTERN_NOT_MATCHED"), {}
        self.page_limits.append(limit)
        folder_id = query.get("folderId")
        folders = [f for f in account.folders.values() if folder_id is None or f.id == folder_id]
        if folder_id is not None and not folders:
            return 400, _status(400, "Invalid Input", "INVALID_FOLDER_ID"), {}
        if folder_id is None:
            folders = [f for f in folders if f.type == "Inbox"]
        messages = [m for f in folders for m in f.messages]
        ascending = query.get("sortorder", "false").lower() == "true"
        messages.sort(key=lambda m: (m.received, int(m.id)), reverse=not ascending)
        page = messages[start - 1 : start - 1 + limit]
        data = [_listed(m) for m in page]
        return 200, {"status": {"code": 200, "description": "success"}, "data": data}, {}


def _status(code: int, description: str, error_code: str) -> dict[str, Any]:
    return {"status": {"code": code, "description": description}, "data": {"errorCode": error_code}}


def _account(account: FakeAccount) -> dict[str, Any]:
    return {
        "accountId": account.id,
        "accountName": account.address.split("@")[-1],
        "primaryEmailAddress": account.address,
        "mailboxAddress": account.address,
        "incomingUserName": account.address,
        "emailAddress": [{"isAlias": False, "isPrimary": True, "mailId": account.address, "isConfirmed": True}],
        "type": "ZOHO_ACCOUNT",
        "URI": f"https://mail.zoho.com/api/accounts/{account.id}",
    }


def _folder(account: FakeAccount, folder: FakeFolder) -> dict[str, Any]:
    return {
        "path": folder.path,
        "isArchived": 0,
        "folderName": folder.name,
        "imapAccess": True,
        "folderType": folder.type,
        "URI": f"https://mail.zoho.com/api/accounts/{account.id}/folders/{folder.id}",
        "folderId": folder.id,
    }


def _listed(message: FakeMessage) -> dict[str, Any]:
    return {
        "summary": "",
        "sentDateInGMT": str(message.received),
        "subject": "",
        "messageId": message.id,
        "folderId": message.folder_id,
        "threadId": message.thread_id,
        "receivedTime": str(message.received),
        "fromAddress": "",
        "status": "1",
        "hasAttachment": "0",
        "flagid": "flag_not_set",
    }


def _handler(fake: FakeZoho) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms a request.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read the counters instead."""

        def _params(self) -> tuple[str, dict[str, str]]:
            parts = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                body = self.rfile.read(length).decode("utf-8", "replace")
                params.update({k: v[-1] for k, v in parse_qs(body).items()})
            return parts.path, params

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            payload = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            path, params = self._params()
            with fake.lock:
                fake.requests.append(("POST", path))
            if path == "/oauth/v2/token":
                self._send(*fake.token_endpoint(params))
            elif path == "/oauth/v2/token/revoke":
                self._send(*fake.revoke_endpoint(params))
            else:
                self._send(404, _status(404, "Not Found", "URL_NOT_FOUND"))

        def do_GET(self) -> None:
            path, params = self._params()
            with fake.lock:
                fake.requests.append(("GET", path))
            self._send(*fake.api(path, params, self.headers.get("Authorization")))

    return Handler
