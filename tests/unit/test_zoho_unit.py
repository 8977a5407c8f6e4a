"""Zoho: data centers, config, cursors and folder choice, and the OAuth and Mail API clients over HTTP.

The clients talk to the fake Zoho on 127.0.0.1 (`tests.fakes.zoho_server`), with a recorded
`sleep` so backoff is checked without waiting.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from intel.auth.stores import MemoryTokenStore, OAuthToken
from intel.auth.zoho import DATA_CENTERS, REFRESH_MARGIN, ZohoOAuth, auth_header, data_center
from intel.config import Settings, ZohoSource, load_settings
from intel.errors import AuthError, ConfigError, IntelError, SourceError, TransientError
from intel.sources.tokens import AccessTokenProvider
from intel.sources.zoho import (
    FolderCursor,
    RetryBudget,
    ZohoAccount,
    ZohoFolder,
    ZohoMailClient,
    ZohoMessage,
    choose_accounts,
    choose_folders,
    listing_floor,
    make_folder,
    zoho_folder_role,
)
from tests.fakes.zoho_server import FakeAccount, FakeZoho

USER = "alice@example.com"


# -- data centers and config ----------------------------------------------------------------


def test_every_data_center_has_its_accounts_server_and_mail_host() -> None:
    expected = {
        "com": ("https://accounts.zoho.com", "https://mail.zoho.com"),
        "eu": ("https://accounts.zoho.eu", "https://mail.zoho.eu"),
        "in": ("https://accounts.zoho.in", "https://mail.zoho.in"),
        "com.au": ("https://accounts.zoho.com.au", "https://mail.zoho.com.au"),
        "jp": ("https://accounts.zoho.jp", "https://mail.zoho.jp"),
        "ca": ("https://accounts.zohocloud.ca", "https://mail.zohocloud.ca"),
        "sa": ("https://accounts.zoho.sa", "https://mail.zoho.sa"),
        "com.cn": ("https://accounts.zoho.com.cn", "https://mail.zoho.com.cn"),
    }
    for name, (accounts, mail) in expected.items():
        assert (DATA_CENTERS[name].accounts_url, DATA_CENTERS[name].mail_url) == (accounts, mail)
    assert data_center("AU").name == "com.au" and data_center(".eu").name == "eu" and data_center("us").name == "com"
    assert data_center("zohocloud.ca").name == "ca"
    with pytest.raises(ConfigError, match="unknown Zoho data center"):
        data_center("mars")


def zoho_config(**changes: Any) -> dict[str, Any]:
    return {
        "name": "zoho-a",
        "type": "zoho",
        "client_id": "1000.CLIENT",
        "client_secret": "env:ZOHO_SECRET",
        "user": USER,
        **changes,
    }


def test_zoho_source_config_is_validated() -> None:
    settings = Settings(source=[zoho_config(data_center="au")], token_store={"type": "sqlite", "path": "t.sqlite"})
    source = settings.sources[0]
    assert isinstance(source, ZohoSource)
    assert source.data_center == "com.au"
    assert source.token_store is not None and source.token_store.type == "sqlite"  # inherited from [token_store]
    with pytest.raises(ValidationError, match="literal secret is not allowed"):
        ZohoSource(**zoho_config(client_secret="s3cr3t-value"))
    with pytest.raises(ValidationError):
        ZohoSource(**zoho_config(page_size=201))
    with pytest.raises(ValidationError, match="unknown Zoho data center"):
        ZohoSource(**zoho_config(data_center="mars"))
    with pytest.raises(ValidationError, match="factory"):
        Settings(token_store={"type": "custom"})


def test_config_file_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "intel.toml"
    path.write_text('[[source]]\nname = "z"\ntype = "zoho"\nclient_id = "x"\nclient_secret = "env:S"\n')
    with pytest.raises(ConfigError, match=r"missing required key 'source\[0\]\.user'"):
        load_settings(path)
    path.write_text('[[source]]\nname = "z"\ntype = "gmail"\n')
    with pytest.raises(ConfigError, match="imap, pop3, zoho"):
        load_settings(path)


# -- pure logic -----------------------------------------------------------------------------


def test_folder_roles_come_from_the_zoho_folder_type() -> None:
    assert zoho_folder_role("Inbox", "Inbox") == "inbox"
    assert zoho_folder_role("Sent", "Gesendet") == "sent"
    assert zoho_folder_role("Spam", "Spam") == "spam"
    assert zoho_folder_role("Snoozed", "Snoozed") == "inbox"
    assert zoho_folder_role("Normal", "Archive") == "archive"  # a user folder: by name
    assert zoho_folder_role("Normal", "Projects/Acme") == "other"
    assert zoho_folder_role("Normal", "Projects/Acme", {"Projects/Acme": "archive"}) == "archive"
    folder = make_folder({"folderId": 9_007_199_254_740_993, "path": "/Projects/Acme", "folderType": "Normal"})
    assert folder == ZohoFolder("9007199254740993", "Projects/Acme", "Normal", "other")  # 2**53 + 1, exact


def test_default_folders_leave_out_trash_spam_templates_and_outbox() -> None:
    folders = [
        ZohoFolder(str(n), name, kind, zoho_folder_role(kind, name))
        for n, (name, kind) in enumerate(
            [("Sent", "Sent"), ("Inbox", "Inbox"), ("Trash", "Trash"), ("Spam", "Spam"), ("Templates", "Templates"),
             ("Outbox", "Outbox"), ("Drafts", "Drafts"), ("Projects/Acme", "Normal")]
        )
    ]  # fmt: skip
    assert [f.name for f in choose_folders(folders, None)] == ["Inbox", "Drafts", "Projects/Acme", "Sent"]
    assert [f.name for f in choose_folders(folders, ["projects/*", "Trash"])] == ["Projects/Acme", "Trash"]
    assert [f.name for f in choose_folders(folders, None, ["Drafts"])] == ["Inbox", "Projects/Acme", "Sent"]


def test_accounts_are_chosen_by_id_or_any_address() -> None:
    a = ZohoAccount.from_json(
        {"accountId": 1_700_000_000_000_000_123, "primaryEmailAddress": "Alice@Example.com",
         "emailAddress": [{"mailId": "sales@example.com"}]}
    )  # fmt: skip
    b = ZohoAccount.from_json({"accountId": "42", "mailboxAddress": "bob@example.com"})
    assert a is not None and b is not None
    assert a.id == "1700000000000000123" and a.address == "Alice@Example.com"
    assert choose_accounts([a, b], None) == [a, b]
    assert choose_accounts([a, b], ["SALES@example.com", "42"]) == [a, b]
    with pytest.raises(SourceError, match=r"carol@example.com is not one of"):
        choose_accounts([a, b], ["carol@example.com"])


def test_listing_floor_is_the_cursor_less_the_overlap_or_the_window() -> None:
    hour = 3_600_000
    day = int(datetime(2025, 3, 1, tzinfo=UTC).timestamp() * 1000)
    assert listing_floor(None, None, hour) == 0
    assert listing_floor(None, date(2025, 3, 1), hour) == day
    assert listing_floor(FolderCursor(day + 5 * hour, None), None, hour) == day + 4 * hour
    # The overlap never reaches before the window.
    assert listing_floor(FolderCursor(day + 1000, date(2025, 3, 1)), date(2025, 3, 1), hour) == day
    # The window moved back: list down to the new start.
    assert listing_floor(FolderCursor(day + 5 * hour, date(2025, 3, 1)), date(2025, 2, 1), hour) == int(
        datetime(2025, 2, 1, tzinfo=UTC).timestamp() * 1000
    )
    assert FolderCursor.from_json({"received": "12", "since": "2025-03-01"}) == FolderCursor(12, date(2025, 3, 1))
    assert FolderCursor.from_json({"uid": 3}) is None


def test_message_ids_stay_exact_strings() -> None:
    message = ZohoMessage.from_json(
        {"messageId": 1_711_540_357_880_100_001, "threadId": "17115", "receivedTime": "1711"}
    )
    assert message == ZohoMessage("1711540357880100001", "17115", 1711)
    assert auth_header("t") == {"Authorization": "Zoho-oauthtoken t"}


# -- OAuth against the fake server -------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeZoho]:
    with FakeZoho() as server:
        yield server


@pytest.fixture
def client(fake: FakeZoho) -> tuple[str, str]:
    return fake.add_client()


@pytest.fixture
def account(fake: FakeZoho) -> FakeAccount:
    return fake.add_account(USER)


def make_oauth(fake: FakeZoho, client: tuple[str, str], store: Any = None, **options: Any) -> ZohoOAuth:
    return ZohoOAuth(
        store=store if store is not None else MemoryTokenStore(),
        user=USER,
        client_id=client[0],
        client_secret=lambda: client[1],
        data_center=data_center("eu"),
        accounts_url=fake.url,
        context="source 'zoho-a'",
        reauthorize="intel auth zoho --source zoho-a",
        **options,
    )


def test_grant_code_exchange_stores_the_tokens(fake: FakeZoho, client: tuple[str, str], account: FakeAccount) -> None:
    oauth = make_oauth(fake, client)
    saved = oauth.exchange_code(fake.grant_code(client[0], USER))
    assert saved.refresh_token and saved.access_token and saved.expires_at
    assert oauth.store.find_token(OAuthToken(USER, client[0], "eu")) == saved
    assert oauth.access_token() == saved.access_token  # no refresh needed
    assert sum(fake.refreshes.values()) == 0


def test_token_endpoint_errors_with_http_200_are_errors(fake: FakeZoho, client: tuple[str, str]) -> None:
    oauth = make_oauth(fake, client)
    with pytest.raises(AuthError, match=r"invalid_code.*grant code is wrong, used already or expired"):
        oauth.exchange_code("1000.not-a-code")
    code = fake.grant_code(client[0], USER)
    wrong_secret = make_oauth(fake, (client[0], "wrong"))
    with pytest.raises(AuthError, match=r"invalid_client.*client id and secret"):
        wrong_secret.exchange_code(code)
    with pytest.raises(AuthError, match=r"no Zoho token for alice@example.com.*intel auth zoho --source zoho-a"):
        oauth.access_token()


def test_access_token_is_refreshed_before_it_expires(
    fake: FakeZoho, client: tuple[str, str], account: FakeAccount
) -> None:
    clock = Clock()
    oauth = make_oauth(fake, client, clock=clock)
    first = oauth.exchange_code(fake.grant_code(client[0], USER))
    clock.now += 3600 - REFRESH_MARGIN - 1
    assert oauth.access_token() == first.access_token
    clock.now += 2  # now inside the margin: refreshed before Zoho would refuse it
    second = oauth.access_token()
    assert second != first.access_token
    assert fake.refreshes[str(first.refresh_token)] == 1 and fake.unauthorized == 0
    stored = oauth.store.find_token(oauth.query)
    assert stored is not None and stored.access_token == second and stored.refresh_token == first.refresh_token


def test_a_refused_token_is_refreshed_once_then_auth_fails_clearly(
    fake: FakeZoho, client: tuple[str, str], account: FakeAccount
) -> None:
    oauth = make_oauth(fake, client)
    token = oauth.exchange_code(fake.grant_code(client[0], USER))
    with httpx.Client() as http:
        mail = ZohoMailClient("zoho-a", fake.url, oauth, http=http, secrets=oauth.secrets)
        fake.expire_access_tokens()
        assert [a.id for a in mail.accounts()] == [account.id]
        assert fake.unauthorized == 1 and fake.refreshes[str(token.refresh_token)] == 1
        fake.revoke_user(USER)
        with pytest.raises(AuthError) as caught:
            mail.accounts()
    message = str(caught.value)
    assert message.startswith("source 'zoho-a': ")
    assert "refused the refresh token of alice@example.com" in message
    assert "authorize again with: intel auth zoho --source zoho-a" in message
    assert "\n" not in message
    assert not [s for s in fake.issued_secrets() if s in message]
    assert set(fake.auth_headers) == {"Zoho-oauthtoken"}


def test_revoke_ends_the_token_at_zoho_and_here(fake: FakeZoho, client: tuple[str, str], account: FakeAccount) -> None:
    oauth = make_oauth(fake, client)
    token = oauth.exchange_code(fake.grant_code(client[0], USER))
    assert oauth.revoke() is True
    assert fake.refresh_tokens[str(token.refresh_token)][2] is True  # revoked at Zoho
    assert oauth.store.get_tokens() == []
    assert oauth.revoke() is False


# -- the Mail API client: retries, errors ------------------------------------------------------


@pytest.fixture
def mail(fake: FakeZoho, client: tuple[str, str], account: FakeAccount) -> Iterator[ZohoMailClient]:
    oauth = make_oauth(fake, client)
    oauth.exchange_code(fake.grant_code(client[0], USER))
    with httpx.Client() as http:
        yield ZohoMailClient(
            "zoho-a", fake.url, oauth, http=http, retries=3, backoff=0.5, budget=RetryBudget(5),
            sleep=SLEEPS.append, secrets=oauth.secrets,
        )  # fmt: skip


SLEEPS: list[float] = []


@pytest.fixture(autouse=True)
def _clear_sleeps() -> None:
    SLEEPS.clear()


def zoho_account(account: FakeAccount) -> ZohoAccount:
    return ZohoAccount(account.id, account.address, (account.address,))


def test_throttling_and_5xx_are_retried_with_backoff(fake: FakeZoho, mail: ZohoMailClient) -> None:
    fake.throttle(1, retry_after="3")
    fake.throttle(1, code=True, retry_after=None)
    fake.fail(1, status=503)
    assert len(mail.accounts()) == 1
    assert SLEEPS == [3.0, 1.0, 2.0]  # Retry-After wins over a shorter backoff; then 0.5 doubled per retry
    assert mail.retried == 3 and fake.throttled == 2 and fake.failed == 1


def test_retries_stop_at_the_limit_and_at_the_budget(
    fake: FakeZoho, mail: ZohoMailClient, account: FakeAccount
) -> None:
    fake.throttle(10)
    with pytest.raises(TransientError, match=r"GET /api/accounts: throttled by Zoho \(TOO_MANY_REQUESTS\); gave up"):
        mail.accounts()
    assert len(SLEEPS) == 3
    with pytest.raises(TransientError, match=r"retry budget \(5\) is spent") as caught:
        mail.folders(zoho_account(account))
    assert f"account {USER} ({account.id}): GET /api/accounts/{account.id}/folders" in str(caught.value)


def test_client_errors_are_not_retried_and_name_account_and_endpoint(
    fake: FakeZoho, mail: ZohoMailClient, account: FakeAccount
) -> None:
    folder = ZohoFolder("123", "Inbox", "Inbox", "inbox")
    with pytest.raises(SourceError) as caught:
        mail.original(zoho_account(account), folder, ZohoMessage("999", None, 1))
    assert str(caught.value) == (
        f"source 'zoho-a': account {USER} ({account.id}): GET /api/accounts/{account.id}/messages/999"
        "/originalmessage: HTTP 404 (MESSAGE_NOT_FOUND, Not Found)"
    )
    fake.fail(1, status=403)
    with pytest.raises(AuthError, match=r"lacks a scope.*ZohoMail.folders.READ"):
        mail.folders(zoho_account(account))
    assert SLEEPS == [] and [path for _method, path in fake.requests if path.endswith("/folders")] == [
        f"/api/accounts/{account.id}/folders"
    ]  # neither the 404 nor the 403 was retried


def test_pages_never_ask_for_more_than_200(fake: FakeZoho, mail: ZohoMailClient, account: FakeAccount) -> None:
    inbox = account.folder("Inbox")
    for n in range(3):
        fake.add_message(account, "Inbox", f"Subject: {n}\r\n\r\nx\r\n".encode(), 1_700_000_000_000 + n)
    folder = ZohoFolder(inbox.id, "Inbox", "Inbox", "inbox")
    page = mail.message_page(zoho_account(account), folder, 1, 500)
    assert [m.received for m in page] == [1_700_000_000_002, 1_700_000_000_001, 1_700_000_000_000]  # newest first
    assert fake.page_limits == [200]
    raw = mail.original(zoho_account(account), folder, page[0])
    assert raw == b"Subject: 2\r\n\r\nx\r\n"


def test_no_secret_in_logs_or_errors(
    fake: FakeZoho, client: tuple[str, str], account: FakeAccount, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    oauth = make_oauth(fake, client)
    for attempt in (lambda: oauth.exchange_code("1000.bogus"), lambda: oauth.access_token()):
        try:
            attempt()
        except IntelError as exc:
            errors.append(str(exc))
    oauth.exchange_code(fake.grant_code(client[0], USER))
    with httpx.Client() as http:
        mail = ZohoMailClient("zoho-a", fake.url, oauth, http=http, retries=1, backoff=0, secrets=oauth.secrets)
        fake.throttle(1)
        fake.expire_access_tokens()
        mail.accounts()
        fake.revoke_user(USER)
        try:
            mail.accounts()
        except IntelError as exc:
            errors.append(str(exc))
    assert len(errors) == 3
    text = "\n".join(errors + [r.getMessage() for r in caplog.records] + [repr(t) for t in oauth.store.get_tokens()])
    assert "HTTP Request" in text  # httpx logged its requests, and they are part of the scan
    leaked = [s for s in [*fake.issued_secrets(), client[1]] if s in text]
    assert leaked == []


def test_provider_protocol_is_implemented(fake: FakeZoho, client: tuple[str, str]) -> None:
    assert isinstance(make_oauth(fake, client), AccessTokenProvider)


def test_tokens_are_saved_with_the_new_expiry(fake: FakeZoho, client: tuple[str, str], account: FakeAccount) -> None:
    clock = Clock()
    oauth = make_oauth(fake, client, clock=clock)
    saved = oauth.exchange_code(fake.grant_code(client[0], USER))
    assert saved.expires_at == clock.now + 3600
    oauth.store.save_token(dataclasses.replace(saved, expires_at=clock.now - 1))
    oauth.invalidate()
    oauth.access_token()
    refreshed = oauth.store.find_token(oauth.query)
    assert refreshed is not None and refreshed.expires_at == clock.now + 3600


def test_imap_can_log_in_with_the_zoho_token_of_the_same_user(
    fake: FakeZoho, client: tuple[str, str], account: FakeAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intel.auth.zoho import imap_token_provider
    from intel.config import ImapSource

    config = tmp_path / "intel.toml"
    config.write_text(
        f'[token_store]\ntype = "sqlite"\npath = "{tmp_path / "t.sqlite"}"\n'
        f'[[source]]\nname = "z"\ntype = "zoho"\nclient_id = "{client[0]}"\nclient_secret = "env:ZOHO_SECRET"\n'
        f'user = "{USER}"\naccounts_url = "{fake.url}"\n'
    )
    monkeypatch.setenv("INTEL_CONFIG", str(config))
    monkeypatch.setenv("ZOHO_SECRET", client[1])
    imap = ImapSource(
        name="box", type="imap", host="imap.zoho.eu", username=USER.upper(), auth="xoauth2",
        token_provider="intel.auth.zoho:imap_token_provider",
    )  # fmt: skip
    provider = imap_token_provider(imap)
    assert isinstance(provider, AccessTokenProvider)
    token = provider.exchange_code(fake.grant_code(client[0], USER))
    assert provider.access_token() == token.access_token
    with pytest.raises(ConfigError, match="needs a zoho source with user"):
        imap_token_provider(imap.model_copy(update={"username": "nobody@example.com"}))
