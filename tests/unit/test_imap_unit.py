"""Pure logic of the server sources: folders and roles, windows, cursors, parsing, retries, errors."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from intel.config import ImapSource, Pop3Source, SecretRef
from intel.errors import AuthError, ConfigError, SourceError, TransientError
from intel.sources.base import Batch
from intel.sources.connect import (
    RetryPolicy,
    access_token,
    is_temporary_refusal,
    naming,
    password_for,
    resumable,
    scrub,
    server_error,
)
from intel.sources.imap import (
    FolderCursor,
    choose_folders,
    decode_modified_utf7,
    imap_date,
    in_window,
    make_folders,
    parse_fetch,
    parse_internaldate,
    parse_list_item,
    plan_folder,
    search_window,
    uid_set,
    window_cursor,
)
from intel.sources.pop3 import header_date, parse_uidl_listing
from intel.sources.tokens import SecretTokenProvider, load_token_provider, token_provider_for, xoauth2_string

# -- folders ----------------------------------------------------------------------------------


def test_modified_utf7_names_decode() -> None:
    assert decode_modified_utf7("Entw&APw-rfe") == "Entwürfe"
    assert decode_modified_utf7("&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-") == "Отправленные"
    assert decode_modified_utf7("Tom &- Jerry") == "Tom & Jerry"
    assert decode_modified_utf7("Plain") == "Plain"
    assert decode_modified_utf7("Broken &AP") == "Broken &AP"  # malformed: kept as is


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (b'(\\HasNoChildren \\Sent) "/" Sent', (("\\HasNoChildren", "\\Sent"), "/", "Sent")),
        (b'(\\HasNoChildren) "." "Sent Items"', (("\\HasNoChildren",), ".", "Sent Items")),
        (b'() "/" "say \\"hi\\""', ((), "/", 'say "hi"')),
        (b"(\\Noselect) NIL Root", (("\\Noselect",), None, "Root")),
        ((b'(\\HasNoChildren) "/" {9}', b"[Gmail]/X"), (("\\HasNoChildren",), "/", "[Gmail]/X")),
        (b"garbage", None),
    ],
)
def test_list_answers_parse(item: Any, expected: Any) -> None:
    assert parse_list_item(item) == expected


def _folders() -> list[Any]:
    entries = [
        (("\\HasNoChildren",), "/", "INBOX"),
        (("\\HasNoChildren", "\\Sent"), "/", "Sent"),
        (("\\HasNoChildren", "\\Trash"), "/", "Trash"),
        (("\\HasNoChildren", "\\Junk"), "/", "Junk"),
        (("\\HasChildren", "\\Archive"), "/", "Archive"),
        (("\\HasNoChildren",), "/", "Archive/2024"),
        (("\\HasNoChildren",), "/", "Trash/Old"),
        (("\\HasNoChildren",), "/", "INBOX/Customers"),
        (("\\HasNoChildren",), "/", "Sent Items"),
        (("\\Noselect", "\\HasChildren"), "/", "[Gmail]"),
        (("\\HasNoChildren", "\\All"), "/", "[Gmail]/All Mail"),
        (("\\HasNoChildren",), "/", "Projects/Acme"),
    ]
    return make_folders(entries, {"Projects/Acme": "sent"})


def test_roles_from_special_use_names_parents_and_overrides() -> None:
    roles = {f.name: f.role for f in _folders()}
    assert roles == {
        "INBOX": "inbox",
        "Sent": "sent",
        "Trash": "trash",
        "Junk": "spam",
        "Archive": "archive",
        "Archive/2024": "archive",  # inherited from its \\Archive parent
        "Trash/Old": "trash",
        "INBOX/Customers": "other",  # INBOX's subfolders are the user's own filing
        "Sent Items": "sent",  # by name
        "[Gmail]": "other",
        "[Gmail]/All Mail": "archive",
        "Projects/Acme": "sent",  # override
    }


def test_default_folders_are_all_but_trash_spam_and_unselectable() -> None:
    names = [f.name for f in choose_folders(_folders(), None)]
    assert names == [
        "INBOX",
        "Archive",
        "Archive/2024",
        "INBOX/Customers",
        "Projects/Acme",
        "Sent",
        "Sent Items",
        "[Gmail]/All Mail",
    ]


def test_include_and_exclude_patterns() -> None:
    chosen = choose_folders(_folders(), ["inbox", "Trash", "Archive*"], ["Archive/2024"])
    assert [f.name for f in chosen] == ["INBOX", "Archive", "Trash"]


# -- window -----------------------------------------------------------------------------------


def test_imap_dates_do_not_depend_on_locale() -> None:
    assert imap_date(date(2025, 2, 1)) == "1-Feb-2025"
    assert search_window(date(2025, 3, 1)) == ["SINCE", "28-Feb-2025"]
    assert search_window(date(2025, 3, 1), date(2025, 6, 30)) == ["SINCE", "28-Feb-2025", "BEFORE", "1-Jul-2025"]
    assert search_window(None) == []


def test_window_filter_is_exact_from_midnight_utc() -> None:
    start = date(2025, 3, 1)
    assert in_window(datetime(2025, 3, 1, 0, 0, tzinfo=UTC), start)
    assert not in_window(datetime(2025, 2, 28, 23, 59, 59, tzinfo=UTC), start)
    assert in_window(None, start)  # no date: kept
    assert in_window(datetime(1990, 1, 1, tzinfo=UTC), None)
    assert window_cursor(start) == {"since": "2025-03-01"}
    assert window_cursor(None) == {"since": None}


def test_internaldate_parses_to_utc() -> None:
    assert parse_internaldate(b"17-Jul-1996 02:44:25 -0700") == datetime(1996, 7, 17, 9, 44, 25, tzinfo=UTC)
    assert parse_internaldate(" 1-Feb-2025 00:30:00 +0100") == datetime(2025, 1, 31, 23, 30, tzinfo=UTC)
    assert parse_internaldate("not a date") is None
    assert parse_internaldate("31-Feb-2025 00:00:00 +0000") is None


# -- cursors ----------------------------------------------------------------------------------


def test_cursor_round_trips_and_tolerates_junk() -> None:
    cursor = FolderCursor(7, 42, date(2025, 1, 1))
    assert FolderCursor.from_json(cursor.to_json()) == cursor
    assert FolderCursor.from_json({"uidvalidity": 7, "last_uid": 1, "since": None}) == FolderCursor(7, 1, None)
    assert FolderCursor.from_json(None) is None
    assert FolderCursor.from_json({"uidvalidity": "x"}) is None


def test_plan_first_sync_reads_everything_in_the_window() -> None:
    plan = plan_folder(None, 5, date(2025, 1, 1))
    assert plan.cursor == FolderCursor(5, 0, date(2025, 1, 1))
    assert not plan.reset and plan.backfill is None


def test_plan_same_window_continues_after_last_uid() -> None:
    previous = FolderCursor(5, 100, date(2025, 1, 1))
    assert plan_folder(previous, 5, date(2025, 1, 1)).cursor == previous


def test_plan_new_uidvalidity_starts_over() -> None:
    plan = plan_folder(FolderCursor(5, 100, None), 6, None)
    assert plan.reset and plan.cursor == FolderCursor(6, 0, None) and plan.backfill is None


def test_plan_window_moved_back_backfills_only_the_older_range() -> None:
    previous = FolderCursor(5, 100, date(2025, 1, 1))
    plan = plan_folder(previous, 5, date(2024, 1, 1))
    assert plan.backfill == (date(2024, 1, 1), date(2025, 1, 1))
    assert plan.cursor == previous  # `since` moves only once the backfill is stored
    assert plan_folder(previous, 5, None).backfill == (None, date(2025, 1, 1))


def test_plan_window_moved_forward_needs_no_reading() -> None:
    plan = plan_folder(FolderCursor(5, 100, date(2024, 1, 1)), 5, date(2025, 1, 1))
    assert plan.backfill is None and plan.cursor == FolderCursor(5, 100, date(2025, 1, 1))
    # from "all" to a date: also forward
    assert plan_folder(FolderCursor(5, 100, None), 5, date(2025, 1, 1)).backfill is None


# -- fetch parsing ----------------------------------------------------------------------------


def test_uid_sets_are_compact() -> None:
    assert uid_set([3, 1, 2, 7, 9, 10, 10]) == "1:3,7,9:10"
    assert uid_set([5]) == "5"


def test_fetch_answers_parse_in_uid_order_and_skip_flag_updates() -> None:
    data = [
        (b'2 (UID 12 INTERNALDATE "01-Feb-2025 10:00:00 +0000" BODY[] {5}', b"hello"),
        b")",
        b"3 (FLAGS (\\Seen))",  # unsolicited, from another client
        (b'1 (INTERNALDATE "01-Jan-2025 10:00:00 +0000" BODY[] {3}', b"abc"),
        b" UID 11)",  # attributes after the literal
    ]
    fetched = parse_fetch(data)
    assert [(f.uid, f.data) for f in fetched] == [(11, b"abc"), (12, b"hello")]
    assert fetched[0].internal_date == datetime(2025, 1, 1, 10, tzinfo=UTC)


# -- POP3 -------------------------------------------------------------------------------------


def test_uidl_listing_and_header_dates() -> None:
    assert parse_uidl_listing([b"1 abc", b"2 d-e_f", b"junk"]) == [(1, "abc"), (2, "d-e_f")]
    assert header_date(b"Date: Tue, 04 Mar 2025 10:00:00 +0100\r\n") == datetime(2025, 3, 4, 9, tzinfo=UTC)
    assert header_date(b"Subject: no date\r\n") is None
    assert header_date(b"Date: yesterday\r\n") is None


# -- retries ----------------------------------------------------------------------------------


def _run_factory(plan: list[list[Any]]) -> Any:
    """Each call of the returned function yields the next plan's batches; an exception item is raised."""
    calls = iter(plan)

    def run() -> Iterator[Batch]:
        for step in next(calls):
            if isinstance(step, BaseException):
                raise step
            yield Batch([], {"n": step})

    return run


def test_transient_faults_are_retried_with_backoff_and_resume() -> None:
    delays: list[float] = []
    run = _run_factory([[1, TransientError("dropped")], [2, TransientError("dropped")], [3]])
    batches = list(resumable(run, RetryPolicy(retries=1, backoff=0.5), sleep=delays.append))
    # Each success resets the count, so two faults with progress between them pass with retries=1.
    assert [b.cursors["n"] for b in batches] == [1, 2, 3]
    assert delays == [0.5, 0.5]


def test_retries_are_bounded() -> None:
    delays: list[float] = []
    run = _run_factory([[TransientError("down")]] * 4)
    with pytest.raises(TransientError, match="down"):
        list(resumable(run, RetryPolicy(retries=3, backoff=1.0), sleep=delays.append))
    assert delays == [1.0, 2.0, 4.0]


def test_permanent_errors_are_not_retried() -> None:
    delays: list[float] = []
    run = _run_factory([[AuthError("bad password")], [1]])
    with pytest.raises(AuthError):
        list(resumable(run, RetryPolicy(retries=3, backoff=1.0), sleep=delays.append))
    assert delays == []


# -- errors -----------------------------------------------------------------------------------


def test_network_errors_map_to_one_line_naming_the_source() -> None:
    where = "mail.example.com:993"
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cert.verify_message = "self-signed certificate"
    cases = [
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), SourceError, "unknown host"),
        (socket.gaierror(socket.EAI_AGAIN, "Temporary failure"), TransientError, "temporary DNS"),
        (ConnectionRefusedError(111, "Connection refused"), TransientError, "refused"),
        (TimeoutError("timed out"), TransientError, "within 5 s"),
        (ConnectionResetError(104, "reset"), TransientError, "dropped"),
        (cert, SourceError, "not trusted (self-signed certificate)"),
    ]
    for exc, kind, text in cases:
        error = server_error("support", where, exc, timeout=5)
        assert isinstance(error, kind), exc
        message = str(error)
        assert message.startswith("source 'support': ") and where in message and text in message
        assert "\n" not in message


def test_scrub_removes_secrets_and_newlines() -> None:
    assert scrub("NO bad password hunter2\r\nmore", "hunter2") == "NO bad password *** more"


# -- config and tokens ------------------------------------------------------------------------


def _imap(**extra: Any) -> dict[str, Any]:
    return {"name": "box", "type": "imap", "host": "h", "username": "u", "password": "env:PW", **extra}


def test_insecure_needs_allow_insecure() -> None:
    with pytest.raises(ValidationError, match="allow_insecure"):
        ImapSource(**_imap(security="none"))
    assert ImapSource(**_imap(security="none", allow_insecure=True)).security == "none"


def test_token_provider_must_be_a_dotted_path_and_xoauth2_only() -> None:
    with pytest.raises(ValidationError, match=r"package\.module:factory"):
        ImapSource(**_imap(auth="xoauth2", token_provider="not a path"))
    with pytest.raises(ValidationError, match="only used with"):
        ImapSource(**_imap(token_provider="a.b:c"))
    assert Pop3Source(**{**_imap(auth="xoauth2", token_provider="a.b:c"), "type": "pop3"}).token_provider == "a.b:c"


class _Provider:
    def __init__(self, config: Any) -> None:
        self.config = config

    def access_token(self) -> str:
        return "token"

    def invalidate(self) -> None:
        pass


def make_provider(config: Any) -> _Provider:
    return _Provider(config)


def make_nothing(config: Any) -> object:
    return object()


def test_token_providers_load_from_config(monkeypatch: pytest.MonkeyPatch) -> None:
    config = ImapSource(**_imap(auth="xoauth2", token_provider=f"{__name__}:make_provider"))
    provider = token_provider_for(config)
    assert isinstance(provider, _Provider) and provider.config is config
    with pytest.raises(ConfigError, match="no callable"):
        load_token_provider(f"{__name__}:missing", config)
    with pytest.raises(ConfigError, match="access_token"):
        load_token_provider(f"{__name__}:make_nothing", config)
    with pytest.raises(ConfigError, match="cannot import"):
        load_token_provider("no_such_module_xyz:make", config)

    monkeypatch.setenv("PW", "secret-token")
    plain = token_provider_for(ImapSource(**_imap(auth="xoauth2")))
    assert isinstance(plain, SecretTokenProvider) and plain.access_token() == "secret-token"
    assert SecretTokenProvider(SecretRef("env:PW")).access_token() == "secret-token"
    assert xoauth2_string("me@x", "t") == b"user=me@x\x01auth=Bearer t\x01\x01"


def test_missing_secrets_name_the_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PW", raising=False)
    with pytest.raises(ConfigError, match=r"^source 'box': secret env:PW: environment variable PW is not set$"):
        password_for(ImapSource(**_imap()))
    with pytest.raises(ConfigError, match=r"^source 'box': "):
        access_token("box", SecretTokenProvider(SecretRef("env:PW")))
    already = AuthError("source 'box': refused")
    assert naming("box", already) is already
    assert is_temporary_refusal("[UNAVAILABLE] Temporary authentication failure") and not is_temporary_refusal(
        "[AUTHENTICATIONFAILED]"
    )
