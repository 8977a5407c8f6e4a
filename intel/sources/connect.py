"""What the server sources (IMAP, POP3) share: TLS, error mapping, retries, listings.

* `tls_context` verifies certificates and host names by default; ``ca_file`` adds a private CA.
* `server_error` turns a socket, TLS or DNS failure into one `IntelError` whose one-line
  message names the source and the server: transient faults (refused or dropped connections,
  timeouts) become `TransientError`, the rest (unknown host, untrusted certificate, TLS on a
  plain port) `SourceError`.
* `resumable` re-runs a source's batch generator after a transient fault, with exponential
  backoff and a bounded number of attempts. The generator resumes from the cursors of the
  batches already committed, so nothing is lost or stored twice.
* `ListingBatch` is a batch that also tells which locations a folder still has on the server,
  so the pipeline can mark the others deleted (rows are never removed).
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from intel.errors import AuthError, IntelError, SourceError, TransientError
from intel.sources.base import Batch, BatchBuilder, SourceState

__all__ = [
    "ListingBatch",
    "RetryPolicy",
    "access_token",
    "is_temporary_refusal",
    "naming",
    "password_for",
    "resumable",
    "scrub",
    "server_error",
    "tls_context",
]

log = logging.getLogger(__name__)

_MAX_DELAY = 60.0


def tls_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """A client context that verifies the server's certificate and host name.

    `ca_file` (PEM) is trusted in addition to nothing else: a private CA or a self-signed
    certificate. Without it the system's trust store is used.
    """
    try:
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
        raise SourceError(f"cannot use ca_file {ca_file}: {reason}") from None


def password_for(config: Any) -> str:
    """Resolve the source's password reference now (never logged, never in an error)."""
    if config.password is None:
        raise AuthError(f'source \'{config.name}\': no password configured (password = "env:NAME" or "file:PATH")')
    try:
        value: str = config.password.resolve().get_secret_value()
    except IntelError as exc:
        raise naming(config.name, exc) from None
    return value


def access_token(name: str, tokens: Any) -> str:
    """A token from an `AccessTokenProvider`; its errors are made to name the source."""
    try:
        token: str = tokens.access_token()
    except IntelError as exc:
        raise naming(name, exc) from None
    return token


def naming(source: str, exc: IntelError) -> IntelError:
    """`exc` as the same kind of error, its message starting with the source's name."""
    message = str(exc)
    prefix = f"source '{source}'"
    return exc if message.startswith(prefix) else type(exc)(f"{prefix}: {message}")


def is_temporary_refusal(message: str) -> bool:
    """A login refused for now, not for bad credentials (RFC 5530 codes, RFC 3206 for POP3)."""
    return any(code in message for code in ("[UNAVAILABLE]", "[INUSE]", "[IN-USE]", "[SYS/TEMP]"))


def scrub(message: str, *secrets: str | None) -> str:
    """`message` on one line with every secret replaced: a last guard for server replies."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return " ".join(message.split())


def server_error(source: str, where: str, exc: BaseException, timeout: float | None = None) -> IntelError:
    """The one error to raise for a network, DNS or TLS failure talking to `where` (host:port)."""
    prefix = f"source '{source}'"
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or exc.reason or "verification failed"
        return SourceError(
            f"{prefix}: the TLS certificate of {where} is not trusted ({detail}); "
            "set ca_file to the certificate of the CA that signed it"
        )
    if isinstance(exc, ssl.SSLZeroReturnError | ssl.SSLEOFError):
        return TransientError(f"{prefix}: {where} closed the TLS connection")
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or str(exc)
        return SourceError(f"{prefix}: TLS with {where} failed ({reason}); check the port and security setting")
    if isinstance(exc, socket.gaierror):
        if exc.errno == socket.EAI_AGAIN:
            return TransientError(f"{prefix}: cannot resolve {where} right now (temporary DNS failure)")
        return SourceError(f"{prefix}: unknown host in {where} ({exc.strerror})")
    if isinstance(exc, ConnectionRefusedError):
        return TransientError(f"{prefix}: connection to {where} refused (is the server running on that port?)")
    if isinstance(exc, TimeoutError):
        after = f" within {timeout:g} s" if timeout else ""
        return TransientError(f"{prefix}: {where} did not answer{after} (timeout)")
    if isinstance(exc, ConnectionError | EOFError):
        return TransientError(f"{prefix}: the connection to {where} was dropped")
    if isinstance(exc, OSError):
        return TransientError(f"{prefix}: network error with {where}: {exc.strerror or exc}")
    return SourceError(f"{prefix}: {where}: {exc}")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry transient faults within one sync."""

    retries: int = 3
    backoff: float = 2.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1-based): backoff, doubled each time."""
        return min(self.backoff * 2 ** (attempt - 1), _MAX_DELAY)


def resumable(
    run: Callable[[], Iterator[Batch]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Batch]:
    """Yield from `run()`, calling it again after a `TransientError`.

    `run` must resume from what was committed: each call starts from the cursors of the
    batches yielded so far (the caller commits a batch before asking for the next one). The
    attempt counter resets whenever a batch gets through, so a long sync over a flaky link
    keeps going while a server that stays down fails after `policy.retries` retries.
    """
    failures = 0
    while True:
        try:
            for batch in run():
                yield batch
                failures = 0
            return
        except TransientError as exc:
            failures += 1
            if failures > policy.retries:
                raise
            delay = policy.delay(failures)
            log.warning("%s; retry %d of %d in %.1f s", exc, failures, policy.retries, delay)
            sleep(delay)


@dataclass
class ListingBatch(Batch):
    """A batch that also carries, per folder, every location the server has there now.

    Stored locations of that folder missing from the set are marked deleted (``deleted_at``);
    ones present again lose their mark. Apply it after the batch's messages are written.
    """

    listings: dict[str, set[str]] = field(default_factory=dict)


def window_start(day: date | None) -> datetime | None:
    """The instant a window starts: midnight UTC of its first day (None: no window)."""
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)


def window_cursor(window: date | None) -> dict[str, Any]:
    """The ``window`` scope's value, which the ``v_messages`` view applies."""
    return {"since": window.isoformat() if window else None}


class ServerReader:
    """What the server readers share: resuming after transient faults from the cursors handed out.

    Subclasses implement `_run(state, batch_size)`, which connects and yields batches through
    `_flush`. A transient fault ends `_run`; `batches` then starts it again, and `_run` goes on
    from `self._reached` (the cursors of every batch handed out, which the pipeline commits,
    perhaps one batch later, unless the whole sync fails) and skips what `_known` lists.
    """

    def __init__(self, config: Any, *, today: date | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        from intel.config import parse_since  # config imports nothing from here; keep it that way

        self.name: str = config.name
        self.config = config
        self.window = parse_since(config.since, today)
        self._sleep = sleep
        self._reached: dict[str, Any] = {}
        self._yielded: dict[str, set[str]] = {}
        self._tokens: Any = None

    def batches(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        """Read what is not stored yet; after a transient fault, reconnect and go on from the cursors reached."""
        from intel.sources.tokens import token_provider_for

        self._reached = dict(state.cursors)
        self._yielded = {}
        if self.config.auth == "xoauth2":
            self._tokens = token_provider_for(self.config)
        policy = RetryPolicy(self.config.retries, self.config.retry_backoff)
        yield from resumable(lambda: self._run(state, batch_size), policy, sleep=self._sleep)

    def _run(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        raise NotImplementedError

    def _emit(self, batch: Batch) -> Iterator[Batch]:
        self._reached.update(batch.cursors)
        for message in batch.messages:
            self._yielded.setdefault(message.folder, set()).add(message.location)
        yield batch

    def _known(self, state: SourceState, folder: str) -> set[str]:
        """Locations stored, or handed out in this sync (a retry must not hand them out again)."""
        return state.known_locations(folder) | self._yielded.get(folder, set())

    def _flush(
        self, builder: BatchBuilder, cursors: dict[str, Any] | None = None, listings: dict[str, set[str]] | None = None
    ) -> Iterator[Batch]:
        taken = builder.take({**(cursors or {}), "window": window_cursor(self.window)})
        yield from self._emit(ListingBatch(taken.messages, taken.cursors, listings or {}))


Connection = TypeVar("Connection")


class ServerSession(Generic[Connection]):
    """One logged-in server connection; every failure leaves as an `IntelError` naming the source.

    Subclasses set `default_ports` and implement `_connect` (connect and secure), `_login`,
    `_quit` (the polite goodbye after success) and `_abort` (just close, after an error: a
    goodbye to a server that stopped answering would wait for another timeout).
    """

    default_ports: ClassVar[dict[str, int]] = {}

    def __init__(self, config: Any, tokens: Any = None) -> None:
        self.config = config
        self.tokens = tokens
        self.port: int = config.port or self.default_ports[config.security]
        self.where = f"{config.host}:{self.port}"
        self._connection: Connection | None = None
        self._secret: str | None = None

    @property
    def _prefix(self) -> str:
        return f"source '{self.config.name}'"

    def __enter__(self) -> Any:
        self.open()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close(graceful=exc_type is None)

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise SourceError(f"{self._prefix}: not connected")
        return self._connection

    def open(self) -> None:
        """Connect, secure the connection as configured, and log in."""
        self._connection = self._connect()
        opened = False
        try:
            self._login()
            opened = True
        finally:
            if not opened:
                self.close(graceful=False)

    def close(self, graceful: bool = True) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if graceful:
                self._quit(connection)
            else:
                self._abort(connection)
        except (OSError, EOFError) as exc:
            log.debug("%s: closing %s: %s", self._prefix, self.where, exc)
            self._abort(connection)

    def _connect(self) -> Connection:
        raise NotImplementedError

    def _login(self) -> None:
        raise NotImplementedError

    def _quit(self, connection: Connection) -> None:
        raise NotImplementedError

    def _abort(self, connection: Connection) -> None:
        raise NotImplementedError
